"""`raad bench --ray` and `raad experiment --ray` on a local Ray instance (`ray.init(num_cpus=2)`), tiny preset, fixture data under the
real sets' names: the merged results equal the serial path's, a resubmitted grid runs nothing, a task that fails once is retried,
one that always fails is reported in ray_report.json and the other rows are kept."""
import json, os, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
FAIL_ONCE = 'mvtec_ad/bottle/seed1'

def test_missing_ray_is_one_line(monkeypatch, capsys):
    from raad.cli import main
    monkeypatch.setitem(sys.modules, 'ray', None)  # as if Ray were not installed
    assert main(['bench', '--ray', '--data-root', '/nonexistent', '--preset', 'tiny', '--sets', 'bottle', '--out', '/tmp/x']) == 2
    err = capsys.readouterr().err
    assert err.startswith('raad: error:') and "pip install 'raad[ray]'" in err and len(err.strip().splitlines()) == 1

@pytest.fixture(scope='module')
def ray_local():
    ray = pytest.importorskip('ray')
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get('PYTHONPATH')) if p)  # workers import this checkout's raad
    os.environ.setdefault('RAY_agent_register_timeout_ms', '300000')  # the raylet gives up on slow-starting agents after 30 s
    for attempt in range(3):  # a crowded machine can miss Ray's 30 s start-up deadline: try again
        try:
            ray.init(num_cpus=2, include_dashboard=False,
                     runtime_env={'env_vars': {'PYTHONPATH': path, 'RAAD_RAY_FAIL': f'{FAIL_ONCE}=1', 'OMP_NUM_THREADS': '1'}})
            break
        except Exception:
            ray.shutdown()
            if attempt == 2: raise
    yield ray
    ray.shutdown()

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    from raad.data import make_mvtec_fixture
    root = tmp_path_factory.mktemp('sets')
    make_mvtec_fixture(root/'mvtec_ad', 'bottle', size=256, n_train=4, n_good=2, n_bad=2, seed=1)
    make_mvtec_fixture(root/'mpdd', 'metal_plate', size=256, n_train=4, n_good=2, n_bad=2, seed=2)
    return root  # no magnetic_tile: a run on it fails every time

def bench(*args):
    from raad.cli import main
    return main(['bench', '--ray', *map(str, args), '--preset', 'tiny', '--quiet'])

def same(a, b, rel=1e-6):
    "Equal rows, floats within `rel` (the serial path re-evaluates with another thread count)."
    if isinstance(a, dict): return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k], rel) for k in a)
    if isinstance(a, list): return isinstance(b, list) and len(a) == len(b) and all(same(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, (int, float)): return b == pytest.approx(a, rel=rel, abs=1e-9)
    return a == b

def report(out): return json.loads((Path(out)/'ray_report.json').read_text())
def runs(out): return {r['key']: r for r in report(out)['runs']}

def test_bench_on_ray_retries_reports_equals_serial_and_resubmission_skips(ray_local, data, random_teacher, tmp_path, capsys):
    """One grid through the command line: bottle fails once (injected) and is retried, metal plate runs, magnetic tile (absent)
    fails on every attempt and is reported in one line; the serial path then gives the very same rows, and a resubmission runs nothing."""
    from raad.bench import run_benchmark, BENCHMARK_SETS
    from raad.scale import run_benchmark_ray
    out = tmp_path/'b'
    code = bench('--data-root', data, '--out', out, '--sets', 'bottle', 'metal_plate', 'tile', '--seeds', 1, '--ray-retries', 1, '--teacher', random_teacher)
    said = [l for l in capsys.readouterr().err.splitlines() if l.startswith('raad:')]  # Ray's own log lines may come along on stderr
    assert code == 2 and len(said) == 1 and said[0].startswith('raad: error: 1 of 3 runs failed') and 'magnetic_tile/tile/seed1' in said[0]
    r = runs(out)
    assert r[FAIL_ONCE]['status'] == 'done' and r[FAIL_ONCE]['attempts'] == 2 and 'injected failure' in r[FAIL_ONCE]['errors'][0]
    assert r['mpdd/metal_plate/seed1']['status'] == 'done' and r['mpdd/metal_plate/seed1']['attempts'] == 1
    tile = r['magnetic_tile/tile/seed1']
    assert tile['status'] == 'failed' and tile['attempts'] == 2 and 'magnetic_tile' in tile['error']
    ray_json = json.loads((out/'results.json').read_text())  # the good runs are kept
    assert [(row['dataset'], row['category'], row['seed']) for row in ray_json] == [('mvtec_ad', 'bottle', 1), ('mpdd', 'metal_plate', 1)]
    assert (out/'results.md').read_text().count('| tiny |') == 2
    # the serial path on the same folder reuses the models Ray trained and writes the very same rows
    sets = [s for s in BENCHMARK_SETS if s[1] in ('bottle', 'metal_plate')]
    assert same(run_benchmark(data, out, preset='tiny', seeds=[1], sets=sets, teacher=random_teacher, progress=False), ray_json)
    # resubmitted: nothing runs, the same results
    rows, rep = run_benchmark_ray(data, out, preset='tiny', seeds=[1], sets=sets, teacher=random_teacher, log=lambda *a: None)
    assert rep['counts'] == {'done': 0, 'skipped': 2, 'failed': 0} and same(rows, ray_json)
    assert same(json.loads((out/'results.json').read_text()), ray_json)

def test_experiment_on_ray_equals_serial(ray_local, data, random_teacher, tmp_path):
    from raad.pipeline import run_experiments
    from raad.scale import run_experiments_ray
    kw = dict(preset='tiny', seeds=[2], sets=[('mpdd', 'metal_plate')], variants=['control'], bench_dir=tmp_path/'bench')
    rows, rep = run_experiments_ray(data, tmp_path/'x', teacher=random_teacher, log=lambda *a: None, **kw)
    assert [r['key'] for r in rep['runs']] == ['mpdd/metal_plate/seed2/baseline', 'mpdd/metal_plate/seed2/control']
    assert rep['counts'] == {'done': 2, 'skipped': 0, 'failed': 0}  # the control ran after its baseline, as a task of its own
    assert [r['variant'] for r in rows] == ['baseline', 'control'] and (tmp_path/'x'/'figure7.png').exists()
    ray_json = json.loads((tmp_path/'x'/'results.json').read_text())
    assert same(run_experiments(data, tmp_path/'x', teacher=random_teacher, progress=False, log=lambda *a: None, **kw), ray_json)
    _, rep = run_experiments_ray(data, tmp_path/'x', teacher=random_teacher, log=lambda *a: None, **kw)
    assert rep['counts'] == {'done': 0, 'skipped': 2, 'failed': 0}
