"Training: an interrupted and resumed run equals an uninterrupted one; the checkpoint holds what it should."
import json, math
import torch
from conftest import TINY_RUN as KW
from raad.train import train_efficientad
from raad.checkpoint import load_model

def assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k, v in sa.items(): assert torch.equal(v, sb[k]), k  # fp32 on the CPU, same threads: bit-identical (as tests/test_interrupt.py)

def test_resume_equals_uninterrupted(tiny_run, fixture_data, random_teacher, tmp_path):
    straight = tiny_run  # the uninterrupted run
    resumed = tmp_path/'resumed'
    assert train_efficientad(fixture_data, 'widget', resumed, teacher=random_teacher, until=1, **KW) is None  # stopped after step 1
    assert json.loads((resumed/'state.json').read_text())['step'] == 1
    train_efficientad(fixture_data, 'widget', resumed, teacher=random_teacher, resume=True, **KW)
    (a, cfg), (b, _) = load_model(straight), load_model(resumed)
    assert_same_weights(a, b)
    assert_same_weights(load_model(straight/'snapshots'/'step_000003')[0], load_model(resumed/'snapshots'/'step_000003')[0])  # taken after the resume
    for key in ('preset', 'steps', 'seed', 'data', 'category', 'quantiles', 'teacher_mean', 'teacher_std', 'image_size', 'raad_version'):
        assert key in cfg, key
    assert cfg['seed'] == 3 and cfg['preset'] == 'tiny' and cfg['steps'] == 4

def test_minutes_budget_then_steps_reproduces_it(fixture_data, random_teacher, tmp_path):
    "`raad train --minutes` stops on its wall-clock budget and records the steps; `raad train --steps N` then gives the same weights (same LR schedule)."
    from raad.cli import main
    base = ['train', '--data', str(fixture_data), '--category', 'widget', '--preset', 'tiny', '--teacher', str(random_teacher),
            '--seed', '1', '--no-bf16', '--quiet']
    assert main(base + ['--out', str(tmp_path/'timed'), '--minutes', '0.05']) == 0
    timed, cfg = load_model(tmp_path/'timed')
    assert cfg['minutes'] == 0.05 and cfg['steps'] >= 1 and cfg['preset_config']['steps'] == cfg['steps']
    assert main(base + ['--out', str(tmp_path/'counted'), '--steps', str(cfg['steps'])]) == 0
    counted, cfg2 = load_model(tmp_path/'counted')
    assert cfg2['steps'] == cfg['steps']
    assert_same_weights(timed, counted)
    assert main(base + ['--out', str(tmp_path/'bad'), '--minutes', '1', '--steps', '3']) == 2  # one or the other
    assert main(base + ['--out', str(tmp_path/'raad'), '--method', 'raad', '--schedule', 'cosine']) == 2  # the schedule is the baseline's
    assert not (tmp_path/'raad').exists()

def test_cosine_schedule_from_the_command_line(fixture_data, random_teacher, tmp_path):
    "`raad train --schedule cosine` records the schedule and anneals the learning rate from the preset's to 0 over the steps."
    from raad.cli import main
    out = tmp_path/'cosine'
    assert main(['train', '--data', str(fixture_data), '--category', 'widget', '--preset', 'tiny', '--teacher', str(random_teacher),
                 '--seed', '1', '--no-bf16', '--quiet', '--steps', '4', '--schedule', 'cosine', '--out', str(out)]) == 0
    cfg = json.loads((out/'config.json').read_text())
    assert cfg['preset_config']['schedule'] == 'cosine' and cfg['steps'] == 4
    lrs = [json.loads(line)['lr'] for line in (out/'log.jsonl').read_text().splitlines()]
    assert lrs[-1] == float(f'{1e-4 * 0.5 * (1 + math.cos(math.pi * 3 / 4)):.6g}')  # the last step (3 of 0..3) of 4, to the log's six digits

def test_snapshots_are_full_models(tiny_run):
    straight = tiny_run
    final = load_model(straight)[0]
    for s in (1, 3):
        m, cfg = load_model(straight/'snapshots'/f'step_{s:06d}')
        assert cfg['steps'] == s and cfg['threshold'] > 0 and cfg['global_border'] == 1 and m.quantiles[1] > m.quantiles[0]
        assert not torch.equal(m.student[0].weight, final.student[0].weight)  # the weights of that step, not the final ones
