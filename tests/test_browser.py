"The app in headless Chromium (Playwright, the system's /usr/bin/chromium): upload, press the button, see the heatmap and the gallery."
import os, shutil, sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent/'tools'))
from app_harness import CHROMIUM, launch_chromium, local_only  # noqa: E402  (shared with tools/screenshot_app.py)

if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}: install it (apt-get install chromium) or set RAAD_CHROMIUM to run the browser test",
                allow_module_level=True)
sync_api = pytest.importorskip('playwright.sync_api', reason='the browser test needs the playwright Python package (pip install playwright)')
from test_app import EXAMPLE  # noqa: E402

def test_upload_detect_and_see_maps(served_app_url, tmp_path):
    url = served_app_url  # shared with tests/test_app.py's gradio_client test
    with sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={'width': 1280, 'height': 1400})
            local_only(page, url)  # no network
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
