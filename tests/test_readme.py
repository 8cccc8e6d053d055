"Every benchmark number in README.md is the one its results file holds (no hand-typed numbers)."
import json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
METRICS = ('image_auroc', 'image_ap', 'pixel_auroc', 'au_pro')

def readme_rows():
    "Rows of README tables that start with `| dataset/category | preset | seed | steps | lr |` (not the learning-curve table, which has no preset column)."
    rows = []
    for line in (ROOT/'README.md').read_text().splitlines():
        m = re.match(r'\|\s*(\w+)/(\w+)\s*\|\s*(tiny|cpu|paper)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\d.e-]+)\s*\|[^|]*\|' + r'\s*([\d.]+)\s*\|' * 4, line)
        if m: rows.append(m.groups())
    return rows

def test_readme_numbers_match_results_files():
    results = [r for f in sorted((ROOT/'benchmarks').rglob('baseline_*.json')) for r in json.loads(f.read_text())]  # history/ too
    rows = readme_rows()
    if not results: pytest.skip('no benchmark results committed yet')
    assert rows, 'README has no results table'
    for dataset, category, preset, seed, steps, lr, *values in rows:
        match = [r for r in results if (r['dataset'], r['category'], r['preset'], str(r['seed']), r['steps']) == (dataset, category, preset, seed, int(steps))
                 and r['lr'] == pytest.approx(float(lr))]
        assert match, f'README row {dataset}/{category} {preset} seed {seed}, {steps} steps, lr {lr} has no results file entry'
        r = match[0]
        for k, v in zip(METRICS, values): assert float(v) == pytest.approx(100 * r[k], abs=0.051), (dataset, k)

def test_readme_raad_tables_match_results_file():
    "The RAAD tables in README are exactly what `experiment_tables` makes of benchmarks/raad_cpu.json, raad_t3001_cpu.json, raad_lr2e4_cpu.json and the history files."
    files = [f for f in (ROOT/'benchmarks'/'raad_cpu.json', ROOT/'benchmarks'/'raad_t3001_cpu.json', ROOT/'benchmarks'/'raad_lr2e4_cpu.json', ROOT/'benchmarks'/'history'/'raad_cpu_700_steps.json',
                         ROOT/'benchmarks'/'history'/'raad_cpu_xeon_791_steps.json') if f.exists()]
    if not files: pytest.skip('no RAAD experiment results committed yet')
    from raad.pipeline import experiment_tables
    readme = (ROOT/'README.md').read_text()
    for f in files:
        for block in experiment_tables(json.loads(f.read_text())).strip().split('\n\n'): assert block.strip() in readme, (f.name, block[:200])

def test_readme_speed_table_matches_results_file():
    "README's int8 speed table is what `speed_table` makes of benchmarks/speed_cpu.json, and its accuracy table is benchmarks/int8_accuracy.json."
    readme = (ROOT/'README.md').read_text()
    f = ROOT/'benchmarks'/'speed_cpu.json'
    if not f.exists(): pytest.skip('no speed results committed yet')
    from raad.bench import speed_table
    table = speed_table(json.loads(f.read_text()))
    for line in table.strip().splitlines(): assert line.strip() in readme, line
    f = ROOT/'benchmarks'/'int8_accuracy.json'
    if not f.exists(): return
    for name, m in json.loads(f.read_text())['models'].items():
        row = next((l for l in readme.splitlines() if l.startswith('|') and f'`{name}`' in l), None)
        assert row, f'README has no accuracy row naming `{name}`'
        values = [float(v) for v in re.findall(r'\|\s*([\d.]+)\s*(?=\|)', row)]
        assert values == pytest.approx([100 * m[k] for k in METRICS], abs=0.051), (name, row)

def test_readme_gpu_figures_match_results_files():
    "The GPU session's tables (benchmarks/gpu_h200) and the 9,000-step bottle metrics quoted in README come from its files."
    d = ROOT/'benchmarks'/'gpu_h200'
    if not d.exists(): pytest.skip('no GPU results committed')
    from raad.bench import speed_table
    readme = (ROOT/'README.md').read_text()
    for f in ('speed_cuda.json', 'speed_cpu_2threads.json', 'speed_cpu_all.json'):
        for line in speed_table(json.loads((d/f).read_text())).strip().splitlines(): assert line.strip() in readme, (f, line)
    m = json.loads((d/'metrics_baseline_9000steps.json').read_text())
    assert ' / '.join(f'{100 * m[k]:.1f}' for k in METRICS) in readme
    for f, label in (('metrics_raad_int8_w7.json', '7-bit weights'), ('metrics_raad_int8_w8.json', '8-bit weights')):
        m = json.loads((d/f).read_text())
        row = next(l for l in readme.splitlines() if l.startswith('| its int8 export') and label in l)
        assert [float(v) for v in re.findall(r'\|\s*([\d.]+)\s*(?=\|)', row)] == pytest.approx([100 * m[k] for k in METRICS], abs=0.051), row
