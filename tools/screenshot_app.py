#!/usr/bin/env python
"""Screenshot of the raad demo on one image: run `app.py` on a free local port, open it in headless Chromium (no network),
upload the image, pick a model, press *Detect anomalies*, wait for the heatmap and the per-layer gallery, print the score,
verdict and details shown on the page, save a full-page screenshot, and stop the app (also on errors).

    python tools/screenshot_app.py --image examples/bottle_broken_large.png --out shot.png \\
        [--model-choice "RAAD (bottle)"] [--checkpoints DIR]

--model-choice is the label of a model radio choice (default: the first one on the page); --checkpoints sets the app's
RAAD_CHECKPOINTS (default: its ./checkpoints). The app runs with GRADIO_ANALYTICS_ENABLED=False and HF_HUB_OFFLINE=1 and
inherits the rest of the environment (OMP_NUM_THREADS, RAAD_CHROMIUM for another Chromium). On failure it prints one line
to stderr and exits with 1 (2 for bad arguments).
"""
from __future__ import annotations
import argparse, signal, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app_harness import CHROMIUM, AppError, launch_chromium, local_only, served_app  # noqa: E402

RADIOS = '#model-choice label:has(input[type=radio])'
ERROR_TOAST = '[data-testid="toast-body"].error'
IMAGES_LOADED = """sel => { const ims = [...document.querySelectorAll(sel)];
                           return ims.length > 0 && ims.every(im => im.complete && im.naturalWidth > 0); }"""

class Failure(Exception):
    "A failure with a one-line message for the user."

def _one_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0].strip()

def screenshot(image, out, model_choice: str | None = None, checkpoints=None, chromium: str = CHROMIUM,
               start_timeout: float = 120, run_timeout: float = 180, width: int = 1280, height: int = 1400) -> dict:
    "Run the app on `image`, save a full-page screenshot to `out`; the texts seen on the page (model, score, verdict, details, status)."
    from playwright.sync_api import sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    with served_app(checkpoints, start_timeout) as url, sync_playwright() as pw:
        browser = launch_chromium(pw, chromium)
        try:
            page = browser.new_page(viewport={'width': width, 'height': height})
            local_only(page, url)
            page.goto(url, wait_until='domcontentloaded', timeout=60_000)
            try: page.wait_for_selector('#run', timeout=60_000)
            except PlaywrightTimeout: raise Failure(f"the page at {url} did not show the Detect button within 60s") from None
            status = page.inner_text('#status').strip()
            radios = page.locator(RADIOS)
            labels = [t.strip() for t in radios.all_inner_texts()]
            if not labels: raise Failure("the page has no model choices (#model-choice)")
            if model_choice is None and 'No shipped checkpoint found' in status:
                raise Failure(f"{status.split(': train')[0]} (pass --checkpoints DIR, a folder with one)")
            choice = labels[0] if model_choice is None else model_choice
            if choice not in labels: raise Failure(f"no model choice {choice!r} on the page; the choices are: {', '.join(map(repr, labels))}")
            radios.nth(labels.index(choice)).click()
            if not radios.nth(labels.index(choice)).locator('input').is_checked(): raise Failure(f"could not select the model choice {choice!r}")

            page.set_input_files('#input-image input[type=file]', str(image))
            try: page.wait_for_selector('#input-image img', timeout=30_000)
            except PlaywrightTimeout: raise Failure(f"the page did not show the uploaded image {Path(image).name} within 30s") from None
            page.click('#run')
            try: page.wait_for_selector(f'#heatmap img, {ERROR_TOAST}', timeout=run_timeout * 1000)
            except PlaywrightTimeout: raise Failure(f"no heatmap within {run_timeout:.0f}s of pressing Detect") from None
            if page.locator(ERROR_TOAST).count():
                toast = page.locator(ERROR_TOAST).first
                text = toast.locator('[data-testid="toast-text"]').all_inner_texts() or [toast.inner_text()]
                raise Failure(f"the app reported an error: {' '.join(' '.join(text).split())}")
            try:
                page.wait_for_function(IMAGES_LOADED, arg='#heatmap img', timeout=30_000)
                page.wait_for_function(IMAGES_LOADED, arg='#layers img', timeout=30_000)
            except PlaywrightTimeout: raise Failure("the heatmap or the per-layer gallery did not load within 30s") from None
            seen = {'model': choice, 'score': page.input_value('#score input'), 'verdict': page.input_value('#verdict textarea'),
                    'details': page.inner_text('#details').strip(), 'gallery images': page.locator('#layers img').count(), 'status': status}
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            return seen
        finally: browser.close()

def _sigterm(signum, frame): raise KeyboardInterrupt  # so that the app is stopped when this script is terminated

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--image', required=True, help='image to upload (PNG, JPEG, ...)')
    ap.add_argument('--out', required=True, help='where to save the full-page screenshot (.png or .jpg)')
    ap.add_argument('--model-choice', default=None, help='label of a model radio choice (default: the first one)')
    ap.add_argument('--checkpoints', default=None, help="folder of shipped checkpoints for the app (RAAD_CHECKPOINTS; default: the app's ./checkpoints)")
    ap.add_argument('--chromium', default=CHROMIUM, help=f'Chromium executable (default: $RAAD_CHROMIUM or /usr/bin/chromium: {CHROMIUM})')
    ap.add_argument('--start-timeout', type=float, default=120, help='seconds to wait for the app to serve (default 120)')
    ap.add_argument('--run-timeout', type=float, default=180, help='seconds to wait for the heatmap after pressing Detect (default 180)')
    a = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    try:
        image, out = Path(a.image).resolve(), Path(a.out).resolve()
        if not image.is_file(): raise Failure(f"no image file {a.image}")
        if out.suffix.lower() not in ('.png', '.jpg', '.jpeg'): raise Failure(f"--out must end in .png, .jpg or .jpeg: {a.out}")
        if a.checkpoints is not None and not Path(a.checkpoints).is_dir(): raise Failure(f"no checkpoints folder {a.checkpoints}")
        if not Path(a.chromium).is_file(): raise Failure(f"no Chromium at {a.chromium} (install it or pass --chromium / set RAAD_CHROMIUM)")
        try: import playwright.sync_api  # noqa: F401
        except ImportError: raise Failure("the playwright Python package is missing (pip install playwright)") from None
        checkpoints = None if a.checkpoints is None else Path(a.checkpoints).resolve()
        seen = screenshot(image, out, a.model_choice, checkpoints, a.chromium, a.start_timeout, a.run_timeout)
    except KeyboardInterrupt:
        print("screenshot_app: interrupted (the app was stopped)", file=sys.stderr); return 130
    except (Failure, AppError) as e:
        print(f"screenshot_app: {_one_line(e)}", file=sys.stderr); return 1
    except Exception as e:  # Playwright or anything else: one line, not a traceback
        print(f"screenshot_app: {type(e).__name__}: {_one_line(e)}", file=sys.stderr); return 1
    print(f"model: {seen['model']}")
    print(f"score: {seen['score']}")
    print(f"verdict: {seen['verdict']}")
    print('details: ' + '\n  '.join(l for l in seen['details'].splitlines() if l.strip()))
    print(f"gallery: {seen['gallery images']} images")
    print(f"screenshot: {out} ({out.stat().st_size} bytes)")
    return 0

if __name__ == '__main__':
    sys.exit(main())
