"The app in headless Chromium (Playwright, the system's /usr/bin/chromium): upload, press the button, see the heatmap and the gallery."
import os, shutil
from pathlib import Path
import pytest

CHROMIUM = os.environ.get('RAAD_CHROMIUM', '/usr/bin/chromium')
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}: install it (apt-get install chromium) or set RAAD_CHROMIUM to run the browser test",
                allow_module_level=True)
sync_api = pytest.importorskip('playwright.sync_api', reason='the browser test needs the playwright Python package (pip install playwright)')
from test_app import EXAMPLE, ROOT, make_checkpoints, served_app  # noqa: E402

ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

def test_upload_detect_and_see_maps(tmp_path):
    checkpoints = make_checkpoints(tmp_path/'checkpoints')
    with served_app(checkpoints) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 1400})
            page.route('**/*', lambda route: route.continue_() if route.request.url.startswith(url) else route.abort())  # no network
            page.goto(url, wait_until='domcontentloaded', timeout=60_000)
            page.wait_for_selector('#run', timeout=60_000)
            assert 'EfficientAD-S baseline (bottle)' in page.inner_text('#model-choice')
            page.set_input_files('#input-image input[type=file]', str(EXAMPLE))
            page.wait_for_selector('#input-image img', timeout=30_000)
            page.click('#run')
            page.wait_for_selector('#heatmap img', timeout=90_000)
            page.wait_for_function("document.querySelectorAll('#layers img').length >= 6", timeout=30_000)
            verdict = page.input_value('#verdict textarea')
            assert verdict.startswith(('GOOD', 'DEFECTIVE')) and 'threshold' in verdict
            assert ' ms on CPU' in page.inner_text('#details')
            shot = tmp_path/'app.png'; page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            shutil.copy(shot, Path(os.environ.get('TMPDIR', '/tmp'))/'raad_app_screenshot.png')
            # a file that is not an image: an error message in the page, and the app keeps serving
            (tmp_path/'notes.png').write_text('this is not an image')
            page.set_input_files('#input-image input[type=file]', str(tmp_path/'notes.png'))
            page.click('#run')
            page.wait_for_selector('text=not a readable image', timeout=30_000)
        finally: browser.close()
