"Issue 14: step sizes stay what was calibrated (log parametrisation, own Adam group, frozen for RAAD), old checkpoints load, Fisher weights have a floor."
import copy, json, math
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file, save_file
from raad.pdn import EfficientAD
from raad.quant import uniform_bits, quantize_model, quant_convs, step_sizes, step_size_parameters, scale_report, fisher_weights, weight_shares, block_gradients, get_bits
from raad.recalibrate import fine_tune, quantize_efficientad
from raad.checkpoint import save_model, load_model

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent
STEPS, STEP_LR = 3, 1e-3
# Adam moves a parameter by at most lr * (1 - beta1) / sqrt(1 - beta2) ≈ 3.2 lr per step, so a log step size by that much:
LEARNED_BOUND = math.exp(STEPS * STEP_LR * 0.1 / math.sqrt(1 - 0.999))
FROZEN_BOUND = 1.05

@pytest.fixture
def quantized(quantized_fixture_model): return quantized_fixture_model  # (model, images), shared with tests/test_interrupt.py: deep-copy before changing it

@pytest.mark.parametrize('learn', [False, True])
def test_recalibration_keeps_step_sizes_near_calibration(quantized, tmp_path, learn):
    "With the weights' learning rate at 1e-2 the old shared Adam group flipped signs and blew step sizes up; the fixed one may not."
    mq, xs = quantized
    mq = copy.deepcopy(mq)
    calibrated = step_sizes(mq)
    kw = dict(steps=STEPS, lr=1e-2, progress=False, log=lambda *a: None)
    if learn: kw['learn_step_sizes'] = True   # the default (the `raad` variant) keeps them frozen
    fine_tune(mq, xs[:3], xs[3:], tmp_path/'r', **kw)
    m2, cfg = load_model(tmp_path/'r')
    assert cfg['recalibration']['learn_step_sizes'] == learn
    # learned step sizes: their own Adam group (lr 1e-3, no weight decay, which would pull log S to 0); frozen: no group
    groups = [(g['initial_lr'], g['weight_decay'], len(g['params'])) for g in json.loads((tmp_path/'r'/'state.json').read_text())['param_groups']]
    nets = (mq.student, mq.autoencoder)
    n_steps = sum(len(step_size_parameters(net)) for net in nets)
    n_weights = sum(not n.endswith('log_scale') for net in nets for n, _ in net.named_parameters())  # every other student/AE parameter
    assert groups == [(1e-2, 1e-5, n_weights)] + ([(STEP_LR, 0.0, n_steps)] if learn else []), groups
    raw = load_file(str(tmp_path/'r'/'model.safetensors'))
    assert not [k for k in raw if k.endswith('_quant.scale')] and all(k.replace('.scale', '.log_scale') in raw for k in calibrated if k.endswith('scale'))
    rep = scale_report(m2, calibrated=calibrated, raw=raw)
    bound = LEARNED_BOUND if learn else FROZEN_BOUND
    for name, r in rep.items():
        assert r['sign_flips'] == 0, name
        assert r['zero_channels'] == 0, (name, r)
        for kind in ('w', 'a'):
            if f'{kind}_ratio_calibrated' in r:
                lo, hi = r[f'{kind}_ratio_calibrated']['min'], r[f'{kind}_ratio_calibrated']['max']
                assert 1 / bound <= lo <= hi <= bound, (name, kind, lo, hi)
    if not learn:   # frozen: exactly the calibrated values
        for n, s in step_sizes(m2).items(): torch.testing.assert_close(s, calibrated[n], rtol=1e-6, atol=0)
    else:           # learned: the student's step sizes did move
        moved = [n for n, s in step_sizes(m2).items() if n.startswith('student') and not torch.allclose(s, calibrated[n], rtol=1e-7, atol=0)]
        assert moved

def test_raad_variant_freezes_step_sizes():
    from raad.pipeline import VARIANT_SPECS
    assert VARIANT_SPECS['raad']['learn_step_sizes'] is False and VARIANT_SPECS['lsq8']['learn_step_sizes'] is True

def _old_format(sd: dict, flip: bool = True) -> dict:
    "A state dict as written before issue 14: signed `scale`s (the old forward pass used |scale|)."
    out = {}
    for k, v in sd.items():
        if k.endswith('_quant.log_scale'):
            s = v.exp(); out[k.replace('log_scale', 'scale')] = -s if flip and s.numel() > 1 else s   # flip per-channel ones
        else: out[k] = v
    return out

def test_old_format_checkpoint_loads_the_same(tmp_path):
    torch.manual_seed(0)
    m = EfficientAD().eval(); x = torch.randn(1, 3, 256, 256)
    quantize_model(m, uniform_bits(m, 4), calib=x)
    save_model(tmp_path/'new', m, {'bits': get_bits(m)})
    (tmp_path/'old').mkdir()
    (tmp_path/'old'/'config.json').write_text((tmp_path/'new'/'config.json').read_text())
    save_file(_old_format(load_file(str(tmp_path/'new'/'model.safetensors'))), str(tmp_path/'old'/'model.safetensors'))
    old, _ = load_model(tmp_path/'old'); new, _ = load_model(tmp_path/'new')
    for n, s in step_sizes(new).items(): torch.testing.assert_close(step_sizes(old)[n], s)
    with torch.no_grad(): torch.testing.assert_close(old.anomaly_map(x), new.anomaly_map(x))
    assert sum(r['sign_flips'] for r in scale_report(old, raw=load_file(str(tmp_path/'old'/'model.safetensors'))).values()) > 0

def test_shipped_old_raad_checkpoint_loads_with_its_old_weights():
    ck = ROOT/'checkpoints'/'bottle_raad'
    raw = load_file(str(ck/'model.safetensors'))
    if not any(k.endswith('_quant.scale') for k in raw): pytest.skip('the shipped RAAD checkpoint is already in the log-scale format')
    m, cfg = load_model(ck)
    for name, qc in quant_convs(m).items():
        s = raw[f'{name}.w_quant.scale'].abs().clamp_min(1e-8)[:, None, None, None]   # the old forward pass
        z = raw[f'{name}.w_quant.zero_point'][:, None, None, None]
        old = s * ((raw[f'{name}.weight'] / s + z).round().clamp(qc.w_quant.qmin, qc.w_quant.qmax) - z)
        diff = (qc.quantized_weight().detach() - old).abs()   # exp(log s) may differ from s in the last bit: a rare tie rounds the other way
        assert (diff > 1e-3 * s).float().mean() < 1e-4 and (diff <= 1.001 * s).all(), name
    rep = scale_report(m, raw=raw)
    assert sum(r['sign_flips'] for r in rep.values()) > 0 and sum(r['zero_channels'] for r in rep.values()) > 0   # the bug it shipped with

def test_fisher_weights_of_efficientad_have_a_floor():
    "Hard mining (Eq. 5) puts the last student layer's Fisher weight on 0.1 % of its outputs and none on the autoencoder half; the floor fixes both."
    torch.manual_seed(0)
    m = EfficientAD().eval(); x = torch.rand(1, 3, 256, 256)
    _, grads = block_gradients(m, ['student.8'], x)
    raw, floored = weight_shares(fisher_weights(grads['student.8'], 0.), half=True), weight_shares(fisher_weights(grads['student.8']), half=True)
    assert raw['top_1%'] > 0.9 and raw['second_half'] < 0.01      # degenerate without the floor
    assert floored['top_1%'] < 0.51 and floored['second_half'] > 0.25
