"""Write README.md from nbs/index.ipynb (markdown cells verbatim, code cells as python blocks); `--check` fails if it is stale.

Result tables are not typed into the notebook: a line `{{table:NAME}}` is replaced by the table that raad's own table
functions make of the benchmark file behind NAME (see TABLES), and `{{num:FILE:SELECT:PATH:FMT}}` in prose by one number of
a benchmark file (see `number`), so README numbers are always what those files hold.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT/'benchmarks'

def _json(name): return json.loads((BENCH/name).read_text())

def _baseline(name='baseline_cpu.json'):
    from raad.bench import results_table
    return results_table(_json(name))

def _curves(name='curves_cpu.json'):
    from raad.curves import curve_table
    return curve_table(_json(name))  # minutes as each run recorded them

def _raad(name='raad_cpu.json'):
    from raad.pipeline import experiment_tables
    return experiment_tables(_json(name))

def _speed_onnx():
    from raad.bench import speed_table
    return speed_table(_json('speed_onnx_cpu.json'))

def _step_profile():
    p = _json('step_profile_cpu.json'); names = list(p['ms'])
    parts = [k for k in p['ms'][names[0]] if isinstance(p['ms'][names[0]], dict)]
    head = '| part of a training step (ms) | ' + ' | '.join(names) + ' |\n|---|' + '---|' * len(names) + '\n'
    rows = [f'| {k} | ' + ' | '.join(str(p['ms'][n][k]) if isinstance(p['ms'][n], dict) else '–' for n in names) + ' |' for k in parts]
    return head + '\n'.join(rows) + f"\n\n{p['cpu']}; torch {p['torch']}; median of {p['n']} steps after 2 warm-up.\n"

def _ptq_granularity():
    g = _json('ptq_granularity_cpu.json')
    head = ('| bits | blocks | PTQ (s) | I-AUROC | AU-PRO | output MSE teacher / student / autoencoder (validation) |\n'
            '|---|---|---|---|---|---|\n')
    name = {'nearest': 'none (nearest rounding)', '1': 'one convolution', '2': 'two convolutions', 'whole': 'whole sub-network'}
    rows = [f"| {r['allocation']} | {name[r['block_size']]} | {r['ptq_wall_s']:.0f} | {100 * r['image_auroc']:.1f} | {100 * r['au_pro']:.1f} | "
            + ' / '.join(f"{e['mse']:.3f}" for e in r['final_output_error']['validation'].values()) + ' |'
            for r in sorted(g['settings'].values(), key=lambda r: (r['allocation'], list(name).index(r['block_size'])))]
    return head + '\n'.join(rows) + f"\n\n{g['cpu']}; seed {g['seed']}; `{g['command']}`.\n"

def _fisher_weights():
    d = _json('fisher_weights_bottle.json'); L = d['layers']
    head = ('| layer | share on the top 0.1 % / 1 % of outputs, Eq. 3 as written | with floor 1 (default) | autoencoder half, as written / floor 1 |\n'
            '|---|---|---|---|\n')
    pct = lambda v: f'{100 * v:.1f} %'
    row = lambda n, r: (f"| {n} | {pct(r['floor 0']['top_0.1%'])} / {pct(r['floor 0']['top_1%'])} | {pct(r['floor 1']['top_0.1%'])} / {pct(r['floor 1']['top_1%'])} | "
                        + (f"{pct(r['floor 0']['second_half'])} / {pct(r['floor 1']['second_half'])}" if 'second_half' in r['floor 0'] else '') + ' |')
    rows = [row(n, r) for n, r in L.items() if not n.startswith('autoencoder')]
    ae = [r for n, r in L.items() if n.startswith('autoencoder')]
    rows.append(f"| autoencoder ({len(ae)} layers), largest | {pct(max(r['floor 0']['top_0.1%'] for r in ae))} / {pct(max(r['floor 0']['top_1%'] for r in ae))} | "
                f"{pct(max(r['floor 1']['top_0.1%'] for r in ae))} / {pct(max(r['floor 1']['top_1%'] for r in ae))} | |")
    return head + '\n'.join(rows) + f"\n\n{d['baseline']} ({d['baseline_steps']:,} steps), {d['calib_images']} calibration images, seed {d['seed']}; `{d['command']}`.\n"

def _compare(step_file: str, other_file: str, names, seed: int | None = 1):
    "Seed `seed` (None: every seed) of the curves in `step_file` against the curves of `other_file`, point by point (`raad.curves.compare_curves`)."
    from raad.curves import compare_curves
    base = [c for c in _json(step_file) if seed is None or c['seed'] == seed]
    return compare_curves(base, _json(other_file), names=names, metrics=('image_auroc', 'pixel_auroc', 'au_pro'))

def _tool(name: str):
    "A script of tools/ as a module (for the table functions of the diagnostic scripts)."
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, ROOT/'tools'/f'{name}.py'); mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod); return mod

TABLES = {'baseline': _baseline, 'curves': _curves, 'raad': _raad, 'step_profile': _step_profile,
          'baseline_t3001': lambda: _baseline('baseline_t3001_cpu.json'),
          'curves_t3001': lambda: _curves('teacher_steps_bottle.json'),
          'curves_tile_t3001': lambda: _curves('curves_tile_t3001_cpu.json'),
          'lr_tile': lambda: _compare('curves_tile_t3001_cpu.json', 'curves_tile_lr2e4_cpu.json', ('lr 1e-4', 'lr 2e-4'), seed=0),
          'branches_tile': lambda: _tool('branch_report').branch_table(_json('branches_tile.json')),
          'branches_bottle': lambda: _tool('branch_report').branch_table(_json('branches_bottle.json')),
          'teacher_features': lambda: _tool('teacher_feature_stats').stats_table(_json('teacher_features.json')),
          'schedule_bottle': lambda: _compare('teacher_steps_bottle.json', 'curves_cosine_bottle.json', ('step', 'cosine')),
          'lr_bottle': lambda: _compare('teacher_steps_bottle.json', 'curves_lr2e4_bottle.json', ('lr 1e-4', 'lr 2e-4'), seed=None),
          'baseline_lr2e4': lambda: _baseline('baseline_lr2e4_cpu.json'),
          'curves_lr2e4': lambda: _curves('curves_lr2e4_bottle.json'),
          'raad_t3001': lambda: _raad('raad_t3001_cpu.json'),
          'raad_lr2e4': lambda: _raad('raad_lr2e4_cpu.json'),
          'baseline_700': lambda: _baseline('history/baseline_cpu_700_steps.json'),
          'baseline_791': lambda: _baseline('history/baseline_cpu_xeon_791_steps.json'),
          'curves_791': lambda: _curves('history/curves_cpu_xeon_791_steps.json'),
          'curves_metal_plate': lambda: _curves('curves_metal_plate_cpu.json'),
          'raad_700': lambda: _raad('history/raad_cpu_700_steps.json'),
          'raad_791': lambda: _raad('history/raad_cpu_xeon_791_steps.json'),
          'speed_onnx': _speed_onnx, 'ptq_granularity': _ptq_granularity, 'fisher_weights': _fisher_weights}

def number(file: str, select: str, path: str, fmt: str) -> str:
    """One number of `benchmarks/FILE`: in a list of rows the first whose fields match SELECT (`k=v,k2=v2`; `-`: the file itself),
    then PATH (dotted keys and list indices, e.g. `points.-1.image_auroc`), written as FMT: `pct` (x100, one decimal), `pct2` (x100, two decimals), `int` (thousands
    separators) or a format spec such as `.3f`."""
    v = _json(file)
    if select != '-':
        want = dict(kv.split('=', 1) for kv in select.split(','))
        v = next((r for r in v if all(str(r.get(k)) == x for k, x in want.items())), None)
        if v is None: raise KeyError(f"{file}: no row with {select}")
    for k in path.split('.'): v = v[int(k)] if isinstance(v, list) else v[k]
    if fmt == 'pct': return f'{100 * v:.1f}'
    if fmt == 'pct2': return f'{100 * v:.2f}'
    if fmt == 'int': return f'{int(v):,}'
    return format(v, fmt)

def fill(text: str) -> str:
    "Replace each `{{table:NAME}}` line of `text` by its generated table, each `{{num:...}}` by its number."
    def table(m):
        if m.group(1) not in TABLES: raise KeyError(f"unknown README table {m.group(1)!r}; known: {', '.join(TABLES)}")
        return TABLES[m.group(1)]().strip()
    text = re.sub(r'^\{\{table:(\w+)\}\}$', table, text, flags=re.M)
    return re.sub(r'\{\{num:([^:}]+):([^:}]+):([^:}]+):([^:}]+)\}\}', lambda m: number(*m.groups()), text)

def render() -> str:
    nb = json.loads((ROOT/'nbs/index.ipynb').read_text())
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip()
        if not src or src.startswith('#| hide'): continue
        parts.append(fill(src) if c['cell_type'] == 'markdown' else f'```python\n{src}\n```')
    head = '<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n'
    return head + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit('README.md is out of date with nbs/index.ipynb or benchmarks/: run `python tools/make_readme.py`')
    else: readme.write_text(text)
