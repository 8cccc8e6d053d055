"Shared fixtures: a tiny synthetic data set, a random (undistilled) teacher, and the path of the real shared data."
import os
from pathlib import Path
import pytest

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
SHARED_DATA = Path(__file__).resolve().parent.parent.parent/'shared'/'data'

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

def shared_category(dataset, category):
    "Path of a real shared data set, or skip the test with a clear message."
    root = SHARED_DATA/dataset
    if not (root/category/'train').is_dir(): pytest.skip(f'real data not found at {root}/{category} (see ../shared/data/README.md)')
    return root
