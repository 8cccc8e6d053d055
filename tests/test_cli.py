"The `raad` console script end to end on a tiny synthetic data set, and its one-line errors."
import json
import numpy as np
import pytest
from conftest import raad_cli as raad
from raad.cli import main
from raad.metrics import evaluate_maps

def test_eval_and_export(tiny_run, fixture_data, tmp_path):
    """`raad eval` of a trained model (the session's tiny run; `raad train` itself: tests/test_train.py, tests/test_interrupt.py, and with
    a teacher given by Hub id in a fresh venv: tests/test_packaging.py), and `raad export` of a model given by Hub id (offline cache)."""
    from raad.hub import fill_hub_cache
    commit, hub = '1234567890abcdef1234567890abcdef12345678', tmp_path/'hub'
    offline = {'HF_HUB_CACHE': str(hub), 'HF_HUB_OFFLINE': '1'}
    r = raad('eval', '--model', tiny_run, '--data', fixture_data, '--category', 'widget', '--out', tmp_path/'e', '--save-maps', '--quiet')
    m = json.loads((tmp_path/'e/metrics.json').read_text())
    assert len(m['images']) == 4 and (tmp_path/'e/grid.png').stat().st_size > 1000
    z = np.load(tmp_path/'e/maps.npz')
    assert z['anomaly_maps'].shape == z['masks'].shape == (4, 256, 256) and z['anomaly_maps'].dtype == np.float32
    assert z['image_labels'].tolist() == [0, 0, 1, 1] and z['masks'].reshape(4, -1).max(1).tolist() == [0, 0, 1, 1]
    assert z['image_scores'].tolist() == pytest.approx([i['score'] for i in m['images']], abs=1e-6)
    assert z['image_scores'] == pytest.approx(z['anomaly_maps'].reshape(4, -1).max(1), abs=1e-6)  # the score is the map's max
    expected = evaluate_maps(z['image_scores'], z['image_labels'], z['anomaly_maps'], z['masks'])  # metrics.json: the saved maps' metrics
    assert {k: m[k] for k in expected} == pytest.approx(expected, abs=1e-6)
    assert json.loads(r.stdout.strip().splitlines()[-1])['image_auroc'] == pytest.approx(m['image_auroc'], abs=1e-4)
    fill_hub_cache(hub, 'raad/model-test', tiny_run, commit)
    raad('export', '--model', 'raad/model-test', '--out', tmp_path/'m16', '--format', 'fp16', env=offline)
    assert (tmp_path/'m16/model.safetensors').stat().st_size < 0.6 * (tiny_run/'model.safetensors').stat().st_size
    raad('eval', '--model', tmp_path/'m16', '--data', fixture_data, '--category', 'widget', '--out', tmp_path/'e16', '--quiet')
    m16 = json.loads((tmp_path/'e16/metrics.json').read_text())
    assert np.allclose([i['score'] for i in m16['images']], [i['score'] for i in m['images']], rtol=0.05, atol=1e-3)

def test_eval_branch(tiny_run, fixture_data, tmp_path, capsys):
    "`raad eval --branch local|global`: one map alone, named in metrics.json, with the image AUROC of each defect type on stdout."
    runs = {}
    for b in ('both', 'local', 'global'):
        assert main(['eval', '--model', str(tiny_run), '--data', str(fixture_data), '--category', 'widget', '--out', str(tmp_path/b), '--quiet', '--branch', b]) == 0
        printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        runs[b] = json.loads((tmp_path/b/'metrics.json').read_text())
        assert runs[b]['branch'] == b and printed['image_auroc_by_type'] == pytest.approx(runs[b]['image_auroc_by_type'], abs=1e-4)
        assert set(printed['image_auroc_by_type']) == {i['defect_type'] for i in runs[b]['images']} - {'good'}
    scores = {b: np.array([i['score'] for i in r['images']]) for b, r in runs.items()}
    assert not np.allclose(scores['local'], scores['global'])
    assert np.all(scores['both'] <= np.maximum(scores['local'], scores['global']) + 1e-5)  # the mean's max is at most the larger max

def test_missing_data_is_one_line(capsys):
    "In this process (`raad`'s own `main`; as a console script in a subprocess: tests/test_reliability.py, tests/test_predict.py; `raad eval` of a missing model: nbs/07_cli.ipynb)."
    assert main(['train', '--data', '/nonexistent/data', '--category', 'bottle', '--preset', 'tiny', '--out', '/tmp/x', '--teacher', '/nonexistent/t']) == 2
    err = capsys.readouterr().err
    assert 'Traceback' not in err and err.startswith('raad: error:') and '/nonexistent' in err and len(err.strip().splitlines()) == 1, err

def test_unknown_preset_is_refused(capsys):
    with pytest.raises(SystemExit) as e: main(['train', '--data', '.', '--category', 'x', '--preset', 'huge', '--out', '/tmp/x'])
    assert e.value.code == 2 and "invalid choice: 'huge'" in capsys.readouterr().err
