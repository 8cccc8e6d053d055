"Quantization: the quantizer at every bit-width, PTQ leaves weights on the grid, quantized checkpoints round-trip, recalibration resumes."
import copy, json
import pytest
import torch
import torch.nn as nn
from raad.quant import FakeQuantizer, QuantConv2d, quantize_model, uniform_bits, fisher_ptq, get_bits, model_size_mb, calibrate_activations
from raad.pdn import EfficientAD
from raad.checkpoint import save_model, load_model, CheckpointError
from raad.recalibrate import fine_tune, quantize_efficientad
from raad.runtime import save_json

torch.set_num_threads(1)

@pytest.mark.parametrize('bits', [2, 3, 4, 8])
def test_quantizer_round_trip(bits):
    q = FakeQuantizer(bits).set_range(-0.7, 1.3)
    r = torch.linspace(-0.7, 1.3, 2001)
    with torch.no_grad():
        err = (q(r) - r).abs().max().item()
        assert err <= q.scale.item() / 2 + 1e-6
        grid = q.scale * (torch.arange(2 ** bits, dtype=torch.float32) - q.zero_point)
        assert torch.equal(q(grid), grid)
        assert len(q(torch.randn(10_000) * 3).unique()) <= 2 ** bits
        assert torch.equal(q(torch.tensor([-100., 100.])), grid[[0, -1]])

@pytest.mark.parametrize('bits', [2, 3, 4, 8])
def test_per_channel_levels_and_ste(bits):
    w = torch.randn(5, 4, 3, 3)
    conv = nn.Conv2d(4, 5, 3); conv.weight.data = w.clone()
    qc = QuantConv2d.from_conv(conv, w_bits=bits, a_bits=bits)
    assert qc.w_quant.scale.shape == (5,) and qc.a_quant.scale.shape == (1,)
    qw = qc.quantized_weight().detach()
    assert all(len(qw[c].unique()) <= 2 ** bits for c in range(5))
    x = torch.tensor([-1e3, 0.0, 1e3], requires_grad=True)
    q = FakeQuantizer(bits).set_range(-1., 1.)
    q(x).sum().backward()
    assert x.grad.tolist() == [0., 1., 0.]  # clipped STE

@pytest.mark.parametrize('weighting', ['fisher', 'mse'])
def test_fisher_ptq_puts_weights_on_grid(weighting):
    torch.manual_seed(0)
    fp = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(inplace=True), nn.Conv2d(8, 4, 3))
    x = torch.randn(8, 3, 10, 10)
    loss_fn = lambda m, inp: (m(inp) - 1).pow(2).mean()
    q = quantize_model(copy.deepcopy(fp), uniform_bits(fp, 3, 8, first_last=None), calib=x)
    w_before = fp[0].weight.detach().clone()
    rep = fisher_ptq(q, fp, x, iters=20, loss_fn=loss_fn, weighting=weighting, batch_size=4)
    assert set(rep) == {'0', '2'}
    for m in (q[0], q[2]):
        assert m.w_quant.alpha is None
        assert torch.equal(m.w_quant(m.weight).detach(), m.weight.detach())   # rounding folded: on the grid
    assert torch.equal(fp[0].weight, w_before) and fp[1].inplace and q[1].inplace   # the reference is untouched

def test_model_size():
    m = EfficientAD()
    assert model_size_mb(m) == pytest.approx(8_057_856 * 4 / 2 ** 20)
    bits = {n: (2, 8) for n in uniform_bits(m, 2)}
    assert model_size_mb(m, bits) == pytest.approx(8_057_856 * 2 / 8 / 2 ** 20)

def _quantized_random_model():
    torch.manual_seed(0)
    m = EfficientAD().eval()
    x = torch.randn(1, 3, 256, 256)
    bits = uniform_bits(m, 3, 4); bits['student.6'] = (2, 4); bits['autoencoder.4'] = (8, 32)
    return quantize_model(m, bits, calib=x), x

def test_quantized_checkpoint_round_trip(tmp_path):
    m, x = _quantized_random_model()
    m.quantiles.copy_(torch.tensor([0.1, 0.5, 0.2, 0.9]))
    save_model(tmp_path/'q', m, {'bits': get_bits(m)})
    m2, cfg = load_model(tmp_path/'q')
    assert cfg['bits']['student.6'] == [2, 4] and cfg['bits']['autoencoder.4'] == [8, 32]
    assert m2.student[6].bits == (2, 4) and not m2.autoencoder[4].a_quant.enabled
    for k, v in m.state_dict().items(): assert torch.equal(v, m2.state_dict()[k]), k
    with torch.no_grad(): torch.testing.assert_close(m2.anomaly_map(x), m.anomaly_map(x))
    cfg['bits'].pop('student.6'); save_json(tmp_path/'q/config.json', cfg)   # config and tensors disagree
    with pytest.raises(CheckpointError, match='do not match'): load_model(tmp_path/'q')

def test_unquantized_checkpoint_has_no_quantized_layers(tmp_path):
    m = EfficientAD()
    save_model(tmp_path/'fp', m, {})
    m2, cfg = load_model(tmp_path/'fp')
    assert 'bits' not in cfg and not any(isinstance(x, QuantConv2d) for x in m2.modules())

def test_recalibration_resume_equals_uninterrupted(fixture_data, tmp_path):
    from raad.data import samples
    from raad.data import load_tensors
    from raad.train import fit_teacher_normalization
    xs = load_tensors(samples(fixture_data, 'widget', 'train'))
    torch.manual_seed(0)
    m = EfficientAD(); fit_teacher_normalization(m, xs)
    mq, _ = quantize_efficientad(m, xs[:1], bits=uniform_bits(m, 4))
    kw = dict(steps=2, progress=False, log=lambda *a: None, seed=1)
    fine_tune(copy.deepcopy(mq), xs[:3], xs[3:], tmp_path/'straight', **kw)
    assert fine_tune(copy.deepcopy(mq), xs[:3], xs[3:], tmp_path/'resumed', until=1, **kw) is None
    assert json.loads((tmp_path/'resumed/state.json').read_text())['step'] == 1
    fine_tune(copy.deepcopy(mq), xs[:3], xs[3:], tmp_path/'resumed', resume=True, **kw)
    a, cfg = load_model(tmp_path/'straight'); b, _ = load_model(tmp_path/'resumed')
    for k, v in a.state_dict().items(): torch.testing.assert_close(v, b.state_dict()[k], rtol=1e-4, atol=1e-5)
    assert cfg['recalibration']['steps'] == 2 and cfg['bits']['student.3'] == [4, 4]

def test_fisher_ptq_on_efficientad_default_task_loss():
    torch.manual_seed(0)
    m = EfficientAD().eval(); x = torch.randn(1, 3, 256, 256)
    mq, rep = quantize_efficientad(m, x, ptq_iters=1, batch_size=1)   # HQS bits + Eq. 3 with EfficientAD's own losses
    assert set(rep['ptq']) == set(rep['bits']) and rep['hqs'][0]['bits'] == 8
    assert all(v['after'] == v['after'] for v in rep['ptq'].values())   # finite
    with torch.no_grad(): assert torch.isfinite(mq.anomaly_map(x)).all()
