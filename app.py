"""raad demo: upload a photo of a product, get its anomaly heatmap, score, verdict and per-layer attention maps.

Run `python app.py` and open http://127.0.0.1:7860. Works offline with the shipped checkpoints in `checkpoints/`;
with a network (or a filled Hub cache) it also loads checkpoints from the Hugging Face Hub.

Environment: RAAD_CHECKPOINTS (folder of shipped checkpoints, default ./checkpoints), RAAD_SHIPPED_REPOS (Hub repo ids
that stand in for absent shipped folders, `bottle_baseline=owner/name@rev,bottle_raad=owner/name@rev`), RAAD_HUB_REPO and
RAAD_HUB_REVISION (default Hub repo id and pinned revision), GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (where to serve),
RAAD_QUEUE_SIZE (requests allowed to wait, default 16), RAAD_MAX_FILE_SIZE (largest upload, default 50mb).

Under load: one inference runs at a time (`default_concurrency_limit=1`; the model is shared and each inference holds
a few hundred MB at most), at most RAAD_QUEUE_SIZE requests wait behind it and the next ones are refused at once with
"queue is full" instead of piling up in memory; uploads are capped at RAAD_MAX_FILE_SIZE and images over 64 Mpixel are
refused from their header; at most MODEL_CACHE_SIZE models stay loaded; Gradio's cached result images older than an
hour are deleted. `python tools/load_test.py` measures it (8 clients x 25 requests by default).
"""
from __future__ import annotations
import os
os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
os.environ.setdefault('HF_HUB_DISABLE_TELEMETRY', '1')
import concurrent.futures, threading
from pathlib import Path
import torch
from raad.runtime import require
gr = require('gradio', 'app', 'the demo app')  # gradio is the `app` extra: pip install 'raad[app]'
from raad.attention import analyse_image
from raad.data import DataError, load_image
from raad.hub import load_pretrained
from raad.runtime import default_device, prefers_channels_last
from raad.checkpoint import CheckpointError

ROOT = Path(__file__).resolve().parent
CHECKPOINT_DIR = Path(os.environ.get('RAAD_CHECKPOINTS') or ROOT/'checkpoints')
EXAMPLES = sorted(str(p) for p in (ROOT/'examples').glob('*.png'))
HUB_REPO = os.environ.get('RAAD_HUB_REPO', '')
HUB_REVISION = os.environ.get('RAAD_HUB_REVISION', '')
SHIPPED = {'EfficientAD-S baseline (bottle)': 'bottle_baseline', 'RAAD (bottle)': 'bottle_raad'}  # label -> folder
HUB_CHOICE = 'Hugging Face Hub repo'
DEVICE = default_device()

def parse_shipped_repos(text: str) -> dict[str, str]:
    "RAAD_SHIPPED_REPOS, e.g. `bottle_baseline=owner/name@rev,bottle_raad=owner/name@rev`: shipped folder name -> Hub repo id."
    repos = {}
    for item in filter(None, (t.strip() for t in (text or '').split(','))):
        name, sep, repo = (t.strip() for t in item.partition('='))
        if not sep or name not in SHIPPED.values() or not repo:
            raise ValueError(f"RAAD_SHIPPED_REPOS: {item!r} is not NAME=owner/name[@revision] with NAME one of {', '.join(SHIPPED.values())}")
        repos[name] = repo
    return repos

SHIPPED_REPOS = parse_shipped_repos(os.environ.get('RAAD_SHIPPED_REPOS', ''))  # a Space: the shipped models from the Hub

def shipped_models(folder=None, repos: dict | None = None) -> dict[str, Path | str]:
    "The shipped models: label -> folder in `folder` (default CHECKPOINT_DIR) or, where that is absent, the Hub repo id `repos` names."
    folder, repos = Path(folder or CHECKPOINT_DIR), SHIPPED_REPOS if repos is None else repos
    models = {}
    for label, name in SHIPPED.items():
        if (folder/name/'config.json').is_file(): models[label] = folder/name
        elif name in repos: models[label] = repos[name]
    return models

def startup_message(models: dict) -> str:
    "One paragraph on what the app can run, shown at the top of the page."
    where = f"on {DEVICE.type.upper()}"
    if models: return f"Models found: {', '.join(models)} ({where}); or enter a Hugging Face Hub repo id."
    return (f"**No shipped checkpoint found** in `{CHECKPOINT_DIR/'bottle_baseline'}`: train one "
            f"(`raad train ... --out {CHECKPOINT_DIR/'bottle_baseline'}`) or choose *{HUB_CHOICE}* and enter a repo id "
            f"(needs a network or a filled Hub cache). Running {where}.")

QUEUE_SIZE = int(os.environ.get('RAAD_QUEUE_SIZE') or 16)        # requests waiting behind the running one; more are refused
CONCURRENCY = 1                                                   # inferences at a time
MAX_FILE_SIZE = os.environ.get('RAAD_MAX_FILE_SIZE') or '50mb'     # largest upload Gradio accepts
MODEL_CACHE_SIZE = 4                                              # loaded models kept (least recently used dropped)
_cache: dict[tuple, tuple] = {}
_lock = threading.Lock()
# Every inference runs on this one thread: Gradio calls handlers from a pool of up to 40 threads, and glibc gives each
# thread its own malloc arena, so inference memory spread over many threads is kept many times over.
_inference = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix='raad-inference')

def get_model(source, revision: str | None = None):
    "(model, config) for a checkpoint folder or Hub repo id, loaded once and kept (the MODEL_CACHE_SIZE most recent)."
    key = (str(source), revision or None)
    with _lock:
        if key not in _cache:
            model, config = load_pretrained(source, revision or None, device=DEVICE)
            if prefers_channels_last(model, DEVICE): model.to(memory_format=torch.channels_last)  # faster float inference on a CPU
            _cache[key] = model, config
            while len(_cache) > MODEL_CACHE_SIZE: _cache.pop(next(iter(_cache)))
        _cache[key] = _cache.pop(key)  # most recently used last
        return _cache[key]

def resolve(model_choice: str, hub_id: str = '', hub_revision: str = '', models: dict | None = None) -> tuple[str, str | None]:
    "The (source, revision) that a model choice names; a `gr.Error` saying what is missing otherwise."
    models = shipped_models() if models is None else models
    if model_choice == HUB_CHOICE or not model_choice:
        if not (hub_id or '').strip(): raise gr.Error("Enter a Hugging Face Hub repo id (owner/name, optionally @revision).")
        return hub_id.strip(), (hub_revision or '').strip() or None
    if model_choice in models: return str(models[model_choice]), None
    if model_choice in SHIPPED: raise gr.Error(f"{model_choice}: checkpoint {CHECKPOINT_DIR/SHIPPED[model_choice]} is missing.")
    raise gr.Error(f"Unknown model choice {model_choice!r}.")

def bits_figure(bits):
    "Bar chart of per-layer weight bit-widths (config['bits']: layer -> [weight bits, activation bits], or layer -> bits, or a list), or None."
    if not bits: return None
    from matplotlib.figure import Figure
    names, values = (list(bits), list(bits.values())) if isinstance(bits, dict) else ([f'layer {i + 1}' for i in range(len(bits))], list(bits))
    values = [v[0] if isinstance(v, (list, tuple)) else v for v in values]  # weight bits
    fig = Figure(figsize=(max(4, 0.5 * len(values) + 2), 2.6)); ax = fig.add_subplot()
    ax.bar(range(len(values)), values, color='tab:blue'); ax.set_xticks(range(len(values)), names, rotation=45, ha='right', fontsize=7)
    ax.set_yticks([2, 3, 4, 8]); ax.set_ylabel('bits'); ax.set_title('per-layer weight bit-widths'); fig.tight_layout()
    return fig

def analyse(image, model, config: dict):
    "The library's analysis of one image (`raad.attention.analyse_image`) and its pictures, (analysis, (heatmap, gallery)): run on the inference thread."
    a = analyse_image(model, image, config, device=DEVICE)
    return a, a.overlays(512)

def predict(image, model_choice: str, hub_id: str = '', hub_revision: str = ''):
    "Gradio handler: (heatmap overlay, score, verdict, attention gallery, bit-width chart, details)."
    if image is None: raise gr.Error("Upload an image or pick an example first.")
    source, revision = resolve(model_choice, hub_id, hub_revision)
    try: model, config = get_model(source, revision)
    except (CheckpointError, ValueError) as e: raise gr.Error(f"Could not load the model: {e}") from None
    try: a, (heat, layers) = _inference.submit(analyse, image, model, config).result()
    except DataError as e: raise gr.Error(str(e).replace(str(image), Path(str(image)).name)) from None
    details = (f"Threshold {a.threshold:.3f} ({a.threshold_source}). Heatmap colours: blue 0, green at the threshold, red at twice it.\n\n"
               f"Model: {model_choice if model_choice != HUB_CHOICE else ''} `{config.get('source', Path(source).name)}` "
               f"({config.get('method', 'baseline')}, {config.get('category', '?')}). "
               f"Inference: {1000 * a.seconds:.0f} ms on {DEVICE.type.upper()}.")
    fig = bits_figure(config.get('bits'))
    return heat, round(a.score, 4), a.summary, layers, gr.Plot(value=fig, visible=fig is not None), details

def safe_image(**kwargs) -> gr.Image:
    "A `gr.Image` input whose undecodable uploads become a readable error in the page instead of a server exception."
    # patched on the instance: a gr.Image subclass would make Gradio write an app.pyi stub next to this file
    image = gr.Image(**kwargs); plain = image.preprocess
    def preprocess(payload):
        try: return plain(payload)
        except gr.Error: raise
        except Exception as e:
            name, path = getattr(payload, 'orig_name', None) or 'upload', getattr(payload, 'path', None)
            why = f"{name}: not a readable image ({type(e).__name__})"
            if path:  # the library's own diagnosis (empty file, too large, truncated, ...), naming the upload, not the server's copy
                try: load_image(path)
                except DataError as d: why = str(d).replace(str(path), name)
                else:
                    if kwargs.get('type') == 'filepath': return str(path)  # Gradio could not open it but raad can
            raise gr.Error(f"{why}; upload a PNG, JPEG, BMP or TIFF photo.") from None
    image.preprocess = preprocess
    return image

def build_demo() -> gr.Blocks:
    "The Gradio Blocks app."
    models = shipped_models()
    choices = list(models) + [HUB_CHOICE]
    with gr.Blocks(title='raad: industrial anomaly detection', delete_cache=(600, 3600)) as demo:
        gr.Markdown("# raad: industrial anomaly detection\nEfficientAD-S trained on defect-free images only; RAAD adds "
                    "mixed-precision quantization. Upload a photo of the product the model was trained on (the shipped "
                    "models: MVTec AD bottle, seen from above).")
        status = gr.Markdown(startup_message(models), elem_id='status')
        with gr.Row():
            with gr.Column():
                image = safe_image(type='filepath', image_mode=None, label='Image', sources=['upload', 'clipboard'], elem_id='input-image')
                model_choice = gr.Radio(choices, value=choices[0], label='Model', elem_id='model-choice')
                with gr.Row():
                    hub_id = gr.Textbox(HUB_REPO, label='Hub repo id (owner/name[@revision])', elem_id='hub-id')
                    hub_revision = gr.Textbox(HUB_REVISION, label='Hub revision (branch, tag or commit)', elem_id='hub-revision')
                button = gr.Button('Detect anomalies', variant='primary', elem_id='run')
                if EXAMPLES: gr.Examples(EXAMPLES, inputs=image, label='Examples (MVTec AD bottle, CC BY-NC-SA 4.0)')
            with gr.Column():
                heatmap = gr.Image(label='Anomaly heatmap', type='pil', interactive=False, elem_id='heatmap')
                with gr.Row():
                    score = gr.Number(label='Image score (max of the map)', elem_id='score')
                    verdict = gr.Textbox(label='Verdict', elem_id='verdict')
                details = gr.Markdown(elem_id='details')
        gallery = gr.Gallery(label='Per-layer attention maps: where teacher and student disagree (each scaled to its own range)',
                             columns=6, elem_id='layers')
        bits = gr.Plot(label='Per-layer bit-widths', visible=False, elem_id='bits')
        button.click(predict, [image, model_choice, hub_id, hub_revision], [heatmap, score, verdict, gallery, bits, details],
                     api_name='predict', concurrency_limit=CONCURRENCY)
    return demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)

if __name__ == '__main__':
    build_demo().launch(allowed_paths=[str(ROOT/'examples')], max_file_size=MAX_FILE_SIZE)
