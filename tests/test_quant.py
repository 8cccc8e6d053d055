"Quantization (the quantizer itself, at every bit-width: nbs/06_quant.ipynb): PTQ leaves weights on the grid, quantized checkpoints round-trip, recalibration stopping and resuming: tests/test_interrupt.py."
import copy, math
import pytest
import torch
import torch.nn as nn
from raad.quant import QuantConv2d, quantize_model, uniform_bits, fisher_ptq, get_bits, quant_convs
from raad.pdn import EfficientAD
from raad.checkpoint import save_model, load_model, CheckpointError
from raad.recalibrate import quantize_efficientad
from raad.runtime import save_json

torch.set_num_threads(1)

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

def test_fisher_ptq_on_efficientad_default_task_loss():
    torch.manual_seed(0)
    m = EfficientAD().eval(); x = torch.randn(1, 3, 256, 256)
    mq, rep = quantize_efficientad(m, x, ptq_iters=1, batch_size=1)   # HQS bits + Eq. 3 with EfficientAD's own losses
    assert set(rep['ptq']) == set(rep['bits']) and rep['hqs'][0]['bits'] == 8
    for name, v in rep['ptq'].items():   # every block's reconstruction loss is a finite number, the rounding folded into the weights
        assert math.isfinite(v['before']) and math.isfinite(v['after']) and v['after'] >= 0, (name, v)
    for name, qc in quant_convs(mq).items():
        if qc.w_quant.enabled: assert qc.w_quant.alpha is None and torch.equal(qc.w_quant(qc.weight).detach(), qc.weight.detach()), name
    with torch.no_grad(): assert torch.isfinite(mq.anomaly_map(x)).all()
