"Training: an interrupted and resumed run equals an uninterrupted one; the checkpoint holds what it should."
import json
import torch
from raad.train import train_efficientad, load_model

def test_resume_equals_uninterrupted(fixture_data, random_teacher, tmp_path):
    kw = dict(teacher=random_teacher, preset='tiny', progress=False, bf16=False, log=lambda *a: None, seed=3)
    train_efficientad(fixture_data, 'widget', tmp_path/'straight', **kw)
    assert train_efficientad(fixture_data, 'widget', tmp_path/'resumed', until=1, **kw) is None  # stopped after step 1
    assert json.loads((tmp_path/'resumed/state.json').read_text())['step'] == 1
    train_efficientad(fixture_data, 'widget', tmp_path/'resumed', resume=True, **kw)
    a, cfg = load_model(tmp_path/'straight'); b, _ = load_model(tmp_path/'resumed')
    for k, v in a.state_dict().items():
        torch.testing.assert_close(v, b.state_dict()[k], rtol=1e-4, atol=1e-5), k
    for key in ('preset', 'steps', 'seed', 'data', 'category', 'quantiles', 'teacher_mean', 'teacher_std', 'image_size', 'raad_version'):
        assert key in cfg, key
    assert cfg['seed'] == 3 and cfg['preset'] == 'tiny'
