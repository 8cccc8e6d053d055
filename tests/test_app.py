"The Gradio app: its handlers called directly, then the served app through gradio_client; random-weight checkpoints, no network."
import json, sys, time
from pathlib import Path
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT/'examples'/'bottle_broken_large.png'
BASELINE, RAAD = 'EfficientAD-S baseline (bottle)', 'RAAD (bottle)'
sys.path.insert(0, str(ROOT))
gr = pytest.importorskip('gradio')
import app  # noqa: E402

@pytest.fixture
def shipped(app_checkpoints, monkeypatch):
    monkeypatch.setattr(app, 'CHECKPOINT_DIR', app_checkpoints)
    return app_checkpoints

def test_predict_baseline(shipped):
    heat, score, verdict, layers, bits, details = app.predict(str(EXAMPLE), BASELINE)
    assert heat.size == (256, 256) and heat.mode == 'RGB'
    assert isinstance(score, float) and score >= 0
    assert verdict.startswith(('GOOD', 'DEFECTIVE')) and 'threshold 0.100' in verdict
    assert [c for _, c in layers][:2] == ['layer 1 (conv 3→128)', 'layer 2 (conv 128→256)'] and len(layers) == 6
    assert all(im.size == (256, 256) for im, _ in layers)
    assert bits.visible is False                      # a baseline has no bit-widths: the chart is hidden
    assert 'Inference:' in details and ' ms on CPU' in details

def test_predict_raad_shows_bits_and_its_threshold(shipped, monkeypatch):
    charted = []
    monkeypatch.setattr(app, 'bits_figure', lambda bits, chart=app.bits_figure: charted.append(bits) or chart(bits))
    _, score, verdict, _, bits, details = app.predict(str(EXAMPLE), RAAD)
    assert bits.visible is True and bits.value is not None
    assert charted == [json.loads((shipped/'bottle_raad'/'config.json').read_text())['bits']]  # the checkpoint's own bit-widths
    assert 'threshold 0.500' in verdict and "calibrated" in details

def test_score_is_the_anomaly_maps_max(shipped):
    "The app's model as the app loads it (channels-last on the CPU): its analysis is the model's own anomaly map, the shown score its max."
    model, config = app.get_model(str(shipped/'bottle_baseline'))
    from raad.data import load_image, ImageTransform
    x = ImageTransform(256)(load_image(EXAMPLE))[None]
    a, (heat, layers) = app.analyse(str(EXAMPLE), model, config)
    np.testing.assert_allclose(a.anomaly_map, model.anomaly_map(x)[0].numpy(), rtol=1e-4, atol=1e-6)
    assert a.score == pytest.approx(float(a.anomaly_map.max()))
    assert app.predict(str(EXAMPLE), BASELINE)[1] == pytest.approx(a.score, abs=1e-4)

def test_no_upload_is_a_message(shipped):
    "Pressing the button without an image (every bad file: tests/test_reliability.py)."
    with pytest.raises(gr.Error, match='Upload an image'): app.predict(None, BASELINE)

def test_missing_checkpoints_and_hub_choice(tmp_path, monkeypatch):
    monkeypatch.setattr(app, 'CHECKPOINT_DIR', tmp_path)
    assert app.shipped_models() == {}
    assert 'No shipped checkpoint found' in app.startup_message({})
    with pytest.raises(gr.Error, match='bottle_baseline is missing'): app.predict(str(EXAMPLE), BASELINE)
    with pytest.raises(gr.Error, match='Enter a Hugging Face Hub repo id'): app.predict(str(EXAMPLE), app.HUB_CHOICE, '')
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    t = time.time()
    with pytest.raises(gr.Error, match='not in the local Hub cache'): app.predict(str(EXAMPLE), app.HUB_CHOICE, 'raad/nothing-here', 'v1')
    assert time.time() - t < 5
    demo = app.build_demo()                           # the page still builds with no checkpoint at all: the Hub is the only choice
    radio = next(c for c in demo.blocks.values() if getattr(c, 'elem_id', None) == 'model-choice')
    assert [c[0] for c in radio.choices] == [app.HUB_CHOICE] and radio.value == app.HUB_CHOICE
    assert any('No shipped checkpoint found' in str(getattr(c, 'value', '')) for c in demo.blocks.values())

def test_hub_choice_loads_from_the_cache(app_checkpoints, tmp_path, monkeypatch):
    from huggingface_hub import constants
    from raad.hub import fill_hub_cache
    commit = 'f' * 40
    fill_hub_cache(tmp_path/'hub', 'raad/bottle-demo', app_checkpoints/'bottle_raad', commit)
    monkeypatch.setattr(constants, 'HF_HUB_CACHE', str(tmp_path/'hub')); monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    _, _, verdict, _, bits, details = app.predict(str(EXAMPLE), app.HUB_CHOICE, f'raad/bottle-demo@{commit}', '')
    assert 'threshold 0.500' in verdict and bits.visible and f'raad/bottle-demo@{commit}' in details

def test_shipped_models_from_the_hub(app_checkpoints, tmp_path, monkeypatch):
    "A Space without checkpoint files: RAAD_SHIPPED_REPOS names Hub repos (preloaded into the cache) for the shipped labels."
    from huggingface_hub import constants
    from raad.hub import fill_hub_cache
    commit = 'e' * 40
    fill_hub_cache(tmp_path/'hub', 'raad/bottle-baseline', app_checkpoints/'bottle_baseline', commit)
    monkeypatch.setattr(constants, 'HF_HUB_CACHE', str(tmp_path/'hub')); monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr(app, 'CHECKPOINT_DIR', tmp_path/'none')
    repos = app.parse_shipped_repos(f' bottle_baseline = raad/bottle-baseline@{commit} ')
    assert repos == {'bottle_baseline': f'raad/bottle-baseline@{commit}'}
    monkeypatch.setattr(app, 'SHIPPED_REPOS', repos)
    assert app.shipped_models() == {BASELINE: f'raad/bottle-baseline@{commit}'}
    assert f'raad/bottle-baseline@{commit}' in app.predict(str(EXAMPLE), BASELINE)[5]
    for bad in ('bottle_baseline', 'other=raad/x', 'bottle_raad='):
        with pytest.raises(ValueError, match='RAAD_SHIPPED_REPOS'): app.parse_shipped_repos(bad)

def test_bits_figure_accepts_lists_and_dicts():
    assert app.bits_figure(None) is None and app.bits_figure({}) is None
    assert len(app.bits_figure([8, 4, 2, 8]).axes[0].patches) == 4
    assert [t.get_text() for t in app.bits_figure({'a': 8, 'b': 3}).axes[0].get_xticklabels()] == ['a', 'b']
    assert [p.get_height() for p in app.bits_figure({'a': [8, 8], 'b': [3, 4]}).axes[0].patches] == [8, 3]

# --- the served app -------------------------------------------------------------------------------------------------

def test_gradio_client_end_to_end(served_app_url, tmp_path):
    client_mod = pytest.importorskip('gradio_client')
    client = client_mod.Client(served_app_url, verbose=False)
    heat, score, verdict, layers, bits, details = client.predict(client_mod.handle_file(str(EXAMPLE)), BASELINE, '', '', api_name='/predict')
    assert Path(heat).is_file() and Path(heat).stat().st_size > 1000
    assert isinstance(score, float) and verdict.startswith(('GOOD', 'DEFECTIVE'))
    assert len(layers) == 6 and all(Path(g['image']).is_file() for g in layers)
    (tmp_path/'bad.png').write_text('not an image')
    with pytest.raises(Exception, match='not a readable image'):
        client.predict(client_mod.handle_file(str(tmp_path/'bad.png')), BASELINE, '', '', api_name='/predict')
    assert client.predict(client_mod.handle_file(str(EXAMPLE)), RAAD, '', '', api_name='/predict')[2]  # still serving

def use_shipped(label, monkeypatch):
    "Serve the shipped checkpoints (skip where the model behind `label` is not shipped)."
    from conftest import SHIPPED, shipped
    shipped(app.SHIPPED[label])
    monkeypatch.setattr(app, 'CHECKPOINT_DIR', SHIPPED)

@pytest.mark.parametrize('label', [BASELINE, RAAD])
def test_shipped_models_judge_the_examples_right(label, monkeypatch):
    "The shipped bottle models (not random weights): the good example is GOOD, the broken and contaminated ones DEFECTIVE."
    use_shipped(label, monkeypatch)
    images = {ROOT/'examples'/'bottle_good.png': 'GOOD', ROOT/'examples'/'bottle_broken_large.png': 'DEFECTIVE',
              ROOT/'examples'/'bottle_contamination.png': 'DEFECTIVE'}
    for path, expected in images.items():
        verdict = app.predict(str(path), label)[2]
        assert verdict.startswith(expected), (path.name, verdict)

@pytest.mark.parametrize('label', [BASELINE, RAAD])
def test_shipped_models_catch_the_first_contamination_a_user_tried(label, monkeypatch):
    "`mvtec_ad/bottle/test/contamination/003.png`, the image a new user uploaded first, is DEFECTIVE (issue 13; the faint smear both earlier RAAD models missed)."
    from conftest import SHARED_DATA
    first_try = SHARED_DATA/'mvtec_ad'/'bottle'/'test'/'contamination'/'003.png'
    if not first_try.is_file(): pytest.skip(f'{first_try} absent (the shared data is not here)')
    use_shipped(label, monkeypatch)
    assert app.predict(str(first_try), label)[2].startswith('DEFECTIVE')
