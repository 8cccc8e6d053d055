"""`raad export --format onnx` and `--format onnx-int8` end to end on the shipped bottle models, each folder run by one runtime, and the
errors without the extras. (Every runtime and precision against torch, on the same exports: nbs/14_onnx_deploy.ipynb.)"""
import json, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from conftest import ROOT as REPO, SHIPPED, raad_cli as raad

MODEL = SHIPPED/'bottle_baseline'

def exported(tmp_path_factory, model, fmt: str, written: str) -> Path:
    "Folder of `raad export --format fmt` of `model`, whose output says `written` and the checked max |diff|."
    pytest.importorskip('onnxruntime')
    out = tmp_path_factory.mktemp(fmt)
    r = raad('export', '--model', model, '--out', out, '--format', fmt)
    assert written in r.stdout and 'max |diff|' in r.stdout, r.stdout
    return out

@pytest.fixture(scope='module')
def onnx_dir(tmp_path_factory): return exported(tmp_path_factory, MODEL, 'onnx', 'onnx model written to')

@pytest.mark.parametrize('runtime, precision', [('onnxruntime', 'fp32')])  # OpenVINO fp32 and bf16: chapter 14
def test_runtimes_match_torch(onnx_dir, runtime, precision):
    if runtime == 'openvino': pytest.importorskip('openvino')
    import torch
    from raad.data import ImageTransform, load_image
    from raad.onnx_deploy import OnnxAnomalyModel, AnomalyMapHead, within_tolerance
    from raad.checkpoint import load_model
    model, cfg = load_model(MODEL)
    x = torch.stack([ImageTransform(256)(load_image(p)) for p in sorted((REPO/'examples').glob('bottle_*.png'))])
    with torch.no_grad(): ref_map, ref_score = [t.numpy() for t in AnomalyMapHead(model)(x)]
    amap, score = OnnxAnomalyModel(onnx_dir, runtime, precision, threads=1)(x)
    assert amap.shape == ref_map.shape == (3, 256, 256) and score.shape == (3,)
    if precision == 'fp32':
        assert within_tolerance(amap, ref_map)[0] and within_tolerance(score, ref_score)[0]
    else:  # bf16: looser, but the verdicts hold
        assert np.array_equal(score >= cfg['threshold'], ref_score >= cfg['threshold']), (score, ref_score)
    cfg_onnx = json.loads((onnx_dir/'config.json').read_text())
    assert cfg_onnx['deploy'] == 'onnx' and cfg_onnx['onnx']['check']['max_abs_diff'] < 1e-4

def test_export_without_onnxruntime_names_the_extra(tmp_path):
    blocker = tmp_path/'block'; blocker.mkdir(); (blocker/'onnxruntime.py').write_text("raise ImportError('blocked for the test')")
    import os
    r = raad('export', '--model', MODEL, '--out', tmp_path/'o', '--format', 'onnx', check=False,
             env={**os.environ, 'PYTHONPATH': f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert r.returncode == 2 and "pip install 'raad[onnx]'" in r.stderr, r.stderr

RAAD = SHIPPED/'bottle_raad'

@pytest.fixture(scope='module')
def int8_dir(tmp_path_factory): return exported(tmp_path_factory, RAAD, 'onnx-int8', 'int8 QDQ onnx model written to')

@pytest.mark.parametrize('runtime', ['openvino'])  # the fast int8 path; ONNX Runtime's: chapter 14
def test_int8_runtimes_match_torch_fake_quant(int8_dir, runtime):
    if runtime == 'openvino': pytest.importorskip('openvino')
    import torch
    from raad.data import ImageTransform, load_image
    from raad.onnx_deploy import OnnxAnomalyModel, AnomalyMapHead
    from raad.checkpoint import load_model
    model, cfg = load_model(RAAD)  # RAAD's quantizers on: the reference the integers must reproduce
    x = torch.stack([ImageTransform(256)(load_image(p)) for p in sorted((REPO/'examples').glob('bottle_*.png'))])
    with torch.no_grad(): ref_map, ref_score = [t.numpy() for t in AnomalyMapHead(model)(x)]
    amap, score = OnnxAnomalyModel(int8_dir, runtime, threads=1)(x)
    assert amap.shape == ref_map.shape and np.abs(amap - ref_map).max() < 0.02 and np.abs(score - ref_score).max() < 0.02, (score, ref_score)
    assert np.array_equal(score >= cfg['threshold'], ref_score >= cfg['threshold'])
    c = json.loads((int8_dir/'config.json').read_text())
    assert c['onnx']['int8']['layers']['teacher.6']['weight_bits'] == 4
    assert c['onnx']['check']['max_abs_diff'] < 0.05  # includes random-noise batches, where more activations sit on rounding boundaries

def test_int8_errors(int8_dir, tmp_path):
    import os
    from raad.onnx_deploy import OnnxAnomalyModel
    with pytest.raises(FileNotFoundError, match='no ONNX model here'): OnnxAnomalyModel(tmp_path/'missing')
    r = raad('export', '--model', MODEL, '--out', tmp_path/'o', '--format', 'onnx-int8', check=False)  # a float model without calibration data
    assert r.returncode != 0 and '--data and --category' in r.stderr, r.stderr
    blocker = tmp_path/'block'; blocker.mkdir(); (blocker/'openvino.py').write_text("raise ImportError('blocked for the test')")
    code = f"from raad.onnx_deploy import OnnxAnomalyModel; OnnxAnomalyModel({str(int8_dir)!r}, 'openvino')"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'PYTHONPATH': f"{blocker}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert r.returncode != 0 and "pip install 'raad[openvino]'" in r.stderr, r.stderr
