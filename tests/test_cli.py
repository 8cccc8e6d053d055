"The `raad` console script end to end on a tiny synthetic data set, and its one-line errors."
import json, os, shutil, subprocess, sys
import numpy as np
import pytest
from conftest import shared_category

def raad(*args, check=True, env=None):
    r = subprocess.run([sys.executable, '-m', 'raad.cli', *map(str, args)], capture_output=True, text=True, timeout=600,
                       env=None if env is None else {**os.environ, **env})
    if check: assert r.returncode == 0, r.stderr
    return r

def test_train_then_eval(fixture_data, random_teacher, tmp_path):
    "Train with a teacher given by Hub id (from an offline cache, as a wheel user would), evaluate, export a model given by Hub id."
    from raad.hub import fill_hub_cache
    commit, hub = '1234567890abcdef1234567890abcdef12345678', tmp_path/'hub'
    teacher = shutil.copytree(random_teacher, tmp_path/'teacher'); (teacher/'teacher.json').write_text('{}')
    fill_hub_cache(hub, 'raad/teacher-test', teacher, commit)
    offline = {'HF_HUB_CACHE': str(hub), 'HF_HUB_OFFLINE': '1'}
    raad('train', '--data', fixture_data, '--category', 'widget', '--preset', 'tiny', '--out', tmp_path/'m',
         '--teacher', f'raad/teacher-test@{commit}', '--seed', 1, '--quiet', '--no-bf16', env=offline)
    assert (tmp_path/'m/model.safetensors').is_file() and (tmp_path/'m/config.json').is_file()
    assert json.loads((tmp_path/'m/config.json').read_text())['teacher'].endswith(f'models--raad--teacher-test/snapshots/{commit}')
    r = raad('eval', '--model', tmp_path/'m', '--data', fixture_data, '--category', 'widget', '--out', tmp_path/'e', '--save-maps', '--quiet')
    m = json.loads((tmp_path/'e/metrics.json').read_text())
    for k in ('image_auroc', 'image_ap', 'pixel_auroc', 'au_pro'): assert 0 <= m[k] <= 1
    assert len(m['images']) == 4 and (tmp_path/'e/grid.png').stat().st_size > 1000
    z = np.load(tmp_path/'e/maps.npz')
    assert z['anomaly_maps'].shape == z['masks'].shape == (4, 256, 256) and z['anomaly_maps'].dtype == np.float32
    assert z['image_scores'].shape == z['image_labels'].shape == (4,)
    assert json.loads(r.stdout.strip().splitlines()[-1])['image_auroc'] == pytest.approx(m['image_auroc'], abs=1e-4)
    fill_hub_cache(hub, 'raad/model-test', tmp_path/'m', commit)
    raad('export', '--model', 'raad/model-test', '--out', tmp_path/'m16', '--format', 'fp16', env=offline)
    assert (tmp_path/'m16/model.safetensors').stat().st_size < 0.6 * (tmp_path/'m/model.safetensors').stat().st_size
    raad('eval', '--model', tmp_path/'m16', '--data', fixture_data, '--category', 'widget', '--out', tmp_path/'e16', '--quiet')
    m16 = json.loads((tmp_path/'e16/metrics.json').read_text())
    assert np.allclose([i['score'] for i in m16['images']], [i['score'] for i in m['images']], rtol=0.05, atol=1e-3)

@pytest.mark.parametrize('args, expected', [
    (['eval', '--model', '/nonexistent', '--data', '.', '--category', 'x', '--out', '/tmp/x'], 'config.json'),
    (['train', '--data', '/nonexistent/data', '--category', 'bottle', '--preset', 'tiny', '--out', '/tmp/x', '--teacher', '/nonexistent/t'], '/nonexistent'),
])
def test_errors_are_one_line(args, expected):
    r = raad(*args, check=False)
    assert r.returncode == 2, r.stderr
    assert 'Traceback' not in r.stderr and r.stderr.startswith('raad: error:') and expected in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1

def test_wrong_layout_names_the_folder(tmp_path):
    (tmp_path/'bottle').mkdir()
    r = raad('train', '--data', tmp_path/'bottle', '--category', 'bottle', '--preset', 'tiny', '--out', tmp_path/'o', check=False)
    assert r.returncode == 2 and 'Traceback' not in r.stderr and str(tmp_path) in r.stderr

def test_unknown_preset_is_refused():
    r = raad('train', '--data', '.', '--category', 'x', '--preset', 'huge', '--out', '/tmp/x', check=False)
    assert r.returncode == 2 and 'huge' in r.stderr
