"Training: an interrupted and resumed run equals an uninterrupted one; the checkpoint holds what it should."
import json
import torch
from raad.train import train_efficientad
from raad.checkpoint import load_model

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

def test_minutes_budget_then_steps_reproduces_it(fixture_data, random_teacher, tmp_path):
    "`raad train --minutes` stops on its wall-clock budget and records the steps; `raad train --steps N` then gives the same weights (same LR schedule)."
    from raad.cli import main
    base = ['train', '--data', str(fixture_data), '--category', 'widget', '--preset', 'tiny', '--teacher', str(random_teacher),
            '--seed', '1', '--no-bf16', '--quiet']
    assert main(base + ['--out', str(tmp_path/'timed'), '--minutes', '0.15']) == 0
    timed, cfg = load_model(tmp_path/'timed')
    assert cfg['minutes'] == 0.15 and cfg['steps'] >= 1 and cfg['preset_config']['steps'] == cfg['steps']
    assert main(base + ['--out', str(tmp_path/'counted'), '--steps', str(cfg['steps'])]) == 0
    counted, cfg2 = load_model(tmp_path/'counted')
    assert cfg2['steps'] == cfg['steps']
    for k, v in timed.state_dict().items(): assert torch.equal(v, counted.state_dict()[k]), k
    assert main(base + ['--out', str(tmp_path/'bad'), '--minutes', '1', '--steps', '3']) == 2  # one or the other

def test_snapshots_are_full_models(fixture_data, random_teacher, tmp_path):
    train_efficientad(fixture_data, 'widget', tmp_path/'run', teacher=random_teacher, preset='tiny', progress=False, bf16=False,
                      log=lambda *a: None, snapshots=[1, 3])
    for s in (1, 3):
        m, cfg = load_model(tmp_path/'run'/'snapshots'/f'step_{s:06d}')
        assert cfg['steps'] == s and cfg['threshold'] > 0 and cfg['global_border'] == 1 and m.quantiles[1] > m.quantiles[0]
