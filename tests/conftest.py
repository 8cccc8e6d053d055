"""Shared fixtures and helpers: a tiny synthetic data set, a random (undistilled) teacher, random-weight app checkpoints,
a quantized model of the fixture data, the shipped checkpoints, `python -m raad.cli` in a subprocess, and the real shared data."""
import os, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent/'shared'/'data'
SHIPPED = ROOT/'checkpoints'                     # the shipped bottle models (bottle_baseline, bottle_raad) and the teacher

# tools/test.sh runs pytest on two workers (pytest-xdist, `--dist loadgroup`). Each test file runs whole on one worker, so a
# module fixture is built once; files that share an expensive session fixture are one group, so it is built once too.
SHARED_FIXTURE_GROUPS = {'test_train.py': 'tiny_run', 'test_cli.py': 'tiny_run', 'test_interrupt.py': 'tiny_run',  # one tiny training
                         'test_app.py': 'served_app', 'test_browser.py': 'served_app'}   # one served `python app.py`

# The longest groups go first (about 100-150 s each on the idle 2-core machine), so that no long one starts last and runs alone.
LONGEST_FIRST = ('test_ray.py', 'tiny_run', 'test_onnx.py', 'test_packaging.py', 'served_app', 'test_load.py', 'test_distributed.py')

def pytest_configure(config):  # pytest-xdist registers the mark itself; this keeps `-p no:xdist` runs free of warnings
    config.addinivalue_line('markers', 'xdist_group(name): run the tests of one group on one worker')

@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the marks into the node ids on each worker
def pytest_collection_modifyitems(items):
    group = lambda item: SHARED_FIXTURE_GROUPS.get(item.path.name, item.path.name)
    for item in items: item.add_marker(pytest.mark.xdist_group(group(item)))
    rank = lambda item: LONGEST_FIRST.index(group(item)) if group(item) in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)  # stable: file order within a rank

@pytest.fixture(scope='session')
def fixture_data(tmp_path_factory):
    from raad.data import make_mvtec_fixture
    return make_mvtec_fixture(tmp_path_factory.mktemp('data'), size=256, n_train=4, n_good=2, n_bad=2)

@pytest.fixture(scope='session')
def random_teacher(tmp_path_factory):
    import torch
    from raad.pdn import pdn_small
    from raad.runtime import save_tensors
    d = tmp_path_factory.mktemp('teacher'); torch.manual_seed(0)
    save_tensors(d/'teacher.safetensors', pdn_small(padding=True).state_dict())
    return d

TINY_RUN = dict(preset='tiny', progress=False, bf16=False, log=lambda *a: None, seed=3, snapshots=[1, 3])

@pytest.fixture(scope='session')
def tiny_run(fixture_data, random_teacher, tmp_path_factory):
    "Folder of one tiny training run on the fixture (`TINY_RUN`: 4 steps, seed 3, snapshots after steps 1 and 3); read, never changed."
    from raad.train import train_efficientad
    out = tmp_path_factory.mktemp('tiny_run')/'run'
    train_efficientad(fixture_data, 'widget', out, teacher=random_teacher, **TINY_RUN)
    return out

def make_checkpoints(folder) -> Path:
    "A checkpoints folder with random-weight `bottle_baseline` (quantiles 0..1) and `bottle_raad` (with bits and a threshold)."
    import torch
    from raad.pdn import EfficientAD
    from raad.checkpoint import save_model
    from raad.quant import quantize_model, uniform_bits, get_bits
    torch.manual_seed(0)
    m = EfficientAD(); m.quantiles.copy_(torch.tensor([0.0, 1.0, 0.0, 1.0]))
    save_model(Path(folder)/'bottle_baseline', m, {'method': 'baseline', 'category': 'bottle', 'image_size': 256})
    q = quantize_model(EfficientAD(), uniform_bits(EfficientAD(), 4, 4), calib=torch.randn(1, 3, 256, 256))
    q.quantiles.copy_(torch.tensor([0.0, 1.0, 0.0, 1.0]))
    save_model(Path(folder)/'bottle_raad', q, {'method': 'raad', 'category': 'bottle', 'image_size': 256, 'bits': get_bits(q), 'threshold': 0.5})
    return Path(folder)

@pytest.fixture(scope='session')
def app_checkpoints(tmp_path_factory):
    "Random-weight checkpoints for the app (one folder for the whole run; tests must not change it)."
    return make_checkpoints(tmp_path_factory.mktemp('app_checkpoints'))

@pytest.fixture(scope='session')
def served_app_url(app_checkpoints, tmp_path_factory):
    "URL of `python app.py` serving `app_checkpoints`, started once for the run (the gradio_client and browser tests)."
    sys.path.insert(0, str(ROOT/'tools'))
    from app_harness import served_app
    with served_app(app_checkpoints, timeout=600, log_dir=tmp_path_factory.mktemp('app_log')) as url: yield url  # generous: a crowded machine

@pytest.fixture(scope='session')
def quantized_fixture_model(fixture_data):
    "(4-bit quantized EfficientAD with the teacher normalisation of the fixture's training images, those images (4, 3, 256, 256))."
    import torch
    from raad.data import samples
    from raad.quant import uniform_bits
    from raad.recalibrate import quantize_efficientad
    from raad.data import load_tensors
    from raad.train import fit_teacher_normalization
    from raad.pdn import EfficientAD
    xs = load_tensors(samples(fixture_data, 'widget', 'train'))
    torch.manual_seed(0)
    m = EfficientAD(); fit_teacher_normalization(m, xs)
    mq, _ = quantize_efficientad(m, xs[:1], bits=uniform_bits(m, 4))
    return mq, xs

def shipped(name: str) -> Path:
    "Path of a shipped checkpoint, or skip the test."
    if not (SHIPPED/name/'config.json').is_file(): pytest.skip(f'{SHIPPED/name} not shipped')
    return SHIPPED/name

def raad_cli(*args, check=True, env=None, timeout=1200):
    "Run `python -m raad.cli ARGS` (env: variables added to this environment; a generous timeout: a crowded 2-core machine can be 10x slower than idle); check: exit code 0."
    r = subprocess.run([sys.executable, '-m', 'raad.cli', *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       env=None if env is None else {**os.environ, **env})
    if check: assert r.returncode == 0, r.stderr
    return r

def shared_category(dataset, category):
    "Path of a real shared data set, or skip the test with a clear message."
    root = SHARED_DATA/dataset
    if not (root/category/'train').is_dir(): pytest.skip(f'real data not found at {root}/{category} (see ../shared/data/README.md)')
    return root
