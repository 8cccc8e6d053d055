"Deployment: int8 export of the shipped bottle model and of a fake-quant model, loading through load_pretrained (and load_model refusing an int8 folder with a pointer), `raad export --format int8`, `raad eval` and the app's attention maps on an int8 folder."
import json
from pathlib import Path
import warnings
import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from raad.pdn import EfficientAD
from raad.quant import quantize_model, uniform_bits, quant_convs
from raad.deploy import to_int8, save_int8, Int8EfficientAD, int8_weight
from raad.checkpoint import load_model, CheckpointError
from raad.hub import load_pretrained

torch.set_num_threads(1)
warnings.filterwarnings('ignore', message='.*(deprecated|migrate|torchao).*')
from conftest import SHIPPED, shipped

BASELINE = SHIPPED/'bottle_baseline'

@pytest.fixture(scope='module')
def images():
    torch.manual_seed(0)
    return torch.randn(2, 3, 256, 256)

@pytest.fixture(scope='module')
def exported(tmp_path_factory, images):
    "The shipped fp32 bottle model, its int8 folder and the maps of both on two images."
    shipped('bottle_baseline')
    fp32, cfg = load_model(BASELINE)
    _, spec, tensors = to_int8(fp32, images)
    out = save_int8(tmp_path_factory.mktemp('int8'), spec, tensors, {**cfg, 'exported_from': str(BASELINE)})
    return fp32, out

def test_int8_folder_is_safetensors_and_loads(exported, images):
    fp32, out = exported
    assert sorted(p.name for p in out.iterdir()) == ['config.json', 'model.safetensors']
    cfg = json.loads((out/'config.json').read_text())
    assert cfg['deploy'] == 'int8' and cfg['int8']['backend'] == 'x86' and cfg['exported_from'] == str(BASELINE)
    t = load_file(out/'model.safetensors')
    weights = [k for k in t if k.endswith('.weight')]
    assert len(weights) == 4 + 4 + 14 and all(t[k].dtype == torch.int8 and t[k].abs().max() <= 64 for k in weights)
    assert (out/'model.safetensors').stat().st_size < 0.3 * (BASELINE/'model.safetensors').stat().st_size
    model, _ = load_pretrained(out)  # the loader of every kind of checkpoint
    with pytest.raises(CheckpointError, match='load_int8'): load_model(out)
    assert isinstance(model, Int8EfficientAD)
    with torch.no_grad(): a, b = fp32(images[:1]), model(images[:1])
    for k in ('teacher', 'student', 'autoencoder'):
        assert ((b[k] - a[k]).norm() / a[k].norm()).item() < 0.1, k
    assert np.corrcoef(a['local'].flatten(), b['local'].flatten())[0, 1] > 0.9
    with pytest.raises(RuntimeError, match='CPU only'): model.to('cuda')

def test_fake_quant_layers_keep_their_integers(images):
    torch.manual_seed(1)
    m = EfficientAD().eval()
    quantize_model(m, uniform_bits(m, 4), calib=images[:1])
    q, spec, tensors = to_int8(m, images[:1])
    convs = quant_convs(m)
    for name in ('teacher.3', 'student.6', 'autoencoder.12'):  # 4-bit layers: exact integers, exact clamp
        step = next(s for net in spec['nets'].values() for s in net if s.get('name') == name)
        assert step['weight_bits'] == 4 and step['act_bits'] == 4
        w, s, z = tensors[f'{name}.weight'], tensors[f'{name}.weight_scale'], tensors[f'{name}.weight_zero_point']
        ref = convs[name].quantized_weight().detach()
        assert torch.allclose(s.view(-1, 1, 1, 1) * (w.float() - z.view(-1, 1, 1, 1).float()), ref, atol=1e-6)
    with torch.no_grad(): a, b = m(images[:1]), q(images[:1])
    for k in ('teacher', 'student', 'autoencoder'):
        # looser than for 8 bits: the int8 path rounds onto a 4-bit grid *before* pooling and again after it, the fake-quant model only after
        assert ((b[k] - a[k]).norm() / a[k].norm()).item() < 0.2, k

def test_bad_int8_folder_is_a_checkpoint_error(exported, tmp_path):
    _, out = exported
    (tmp_path/'config.json').write_text((out/'config.json').read_text())
    t = load_file(out/'model.safetensors'); t.pop('teacher.0.weight')
    from safetensors.torch import save_file
    save_file(t, tmp_path/'model.safetensors')
    with pytest.raises(CheckpointError, match='do not match'): load_pretrained(tmp_path)

def test_cli_export_eval_and_app_maps(tmp_path, fixture_data):
    "`raad export --format int8`, then `raad eval` and the app's per-layer maps on the int8 folder."
    shipped('bottle_baseline')
    from raad.cli import main
    from raad.attention import layer_attention_maps
    out = tmp_path/'int8'
    assert main(['export', '--model', str(BASELINE), '--out', str(out), '--format', 'int8', '--data', str(fixture_data),
                 '--category', 'widget', '--calib-images', '2']) == 0
    assert json.loads((out/'config.json').read_text())['int8']['calibration']['images'] == 2
    assert main(['eval', '--model', str(out), '--data', str(fixture_data), '--category', 'widget', '--out', str(tmp_path/'eval'),
                 '--device', 'cpu', '--quiet']) == 0
    r = json.loads((tmp_path/'eval'/'metrics.json').read_text())
    from raad.data import ImageTransform, load_image
    from raad.metrics import image_auroc
    model, _ = load_pretrained(out)
    scores, labels = [i['score'] for i in r['images']], [i['label'] for i in r['images']]
    x = torch.stack([ImageTransform(256)(load_image(i['path'])) for i in r['images']])
    with torch.no_grad(): direct = model.anomaly_map(x).flatten(1).amax(1)  # the fixture's images are 256², the maps' native size
    assert r['n_test'] == 4 and labels == [0, 0, 1, 1] and r['image_auroc'] == image_auroc(scores, labels)
    assert scores == pytest.approx(direct.tolist(), rel=2e-2, abs=1e-4)  # the int8 model's own scores (eval may autocast to bf16)
    maps = layer_attention_maps(model, torch.randn(1, 3, 256, 256), (64, 64))
    assert set(maps) == {'layer1', 'layer2', 'layer3', 'layer4', 'local', 'global'} and maps['layer1'].shape == (1, 64, 64)
    assert main(['export', '--model', str(out), '--out', str(tmp_path/'again'), '--format', 'int8', '--data', str(fixture_data),
                 '--category', 'widget']) == 2  # a deployed model is not exported again
