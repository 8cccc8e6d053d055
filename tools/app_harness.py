"""Run the Gradio demo (`app.py`) in a subprocess on a free local port and open it in headless Chromium, offline.

Shared by tests/test_app.py, tests/test_browser.py and tools/screenshot_app.py. Import it with `tools/` on `sys.path`
(`sys.path.insert(0, str(ROOT/'tools')); import app_harness`). Needs only the standard library; Playwright is imported
by the caller.
"""
from __future__ import annotations
import contextlib, os, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT/'app.py'
CHROMIUM = os.environ.get('RAAD_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

class AppError(RuntimeError):
    "app.py exited or did not start; the message's first line says why, the rest is the tail of its log."

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _serves(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy from the environment
    try:
        with opener.open(url, timeout=2) as r: return r.status == 200
    except OSError: return False

def _last_line(text: str) -> str:
    return next((l.strip() for l in reversed(text.splitlines()) if l.strip()), '(no output)')

@contextlib.contextmanager
def served_app(checkpoints=None, timeout: float = 120, log_dir=None):
    """Run `python app.py` on a free port of 127.0.0.1; yield its URL once it answers HTTP; stop it after (also on errors).

    `checkpoints` sets RAAD_CHECKPOINTS (else it is inherited, or the app's ./checkpoints). The rest of the environment
    (OMP_NUM_THREADS, ...) is inherited, with analytics off and the Hub offline. The app's output goes to
    `log_dir/app-PORT.log` (kept), or to a temporary file deleted afterwards."""
    port = free_port()
    env = {**os.environ, 'GRADIO_SERVER_NAME': '127.0.0.1', 'GRADIO_SERVER_PORT': str(port),
           'GRADIO_ANALYTICS_ENABLED': 'False', 'HF_HUB_OFFLINE': '1', 'PYTHONUNBUFFERED': '1'}
    if checkpoints is not None: env['RAAD_CHECKPOINTS'] = str(checkpoints)
    tmp = None if log_dir is not None else tempfile.mkdtemp(prefix='raad-app-')
    log_path = Path(log_dir if log_dir is not None else tmp)/f'app-{port}.log'
    url = f'http://127.0.0.1:{port}/'
    with open(log_path, 'w') as log:
        p = subprocess.Popen([sys.executable, str(APP)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            t0 = time.time()
            while not _serves(url):
                if p.poll() is not None:
                    out = log_path.read_text(errors='replace')
                    raise AppError(f"app.py exited with code {p.returncode}: {_last_line(out)}\n{out[-2000:]}")
                if time.time() - t0 > timeout:
                    out = log_path.read_text(errors='replace')
                    raise AppError(f"app.py did not serve {url} within {timeout:.0f}s (last output: {_last_line(out)})\n{out[-2000:]}")
                time.sleep(0.5)
            yield url
        finally:
            p.terminate()
            try: p.wait(10)
            except subprocess.TimeoutExpired: p.kill(); p.wait()
            if tmp: shutil.rmtree(tmp, ignore_errors=True)

def launch_chromium(pw, executable: str = CHROMIUM):
    "Headless Chromium from a `sync_playwright()` context, with the flags that work in a container without a GPU."
    return pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)

def local_only(page, url: str):
    "Abort every request of `page` that does not go to `url` (no network: fonts, CDNs, analytics)."
    page.route('**/*', lambda route: route.continue_() if route.request.url.startswith(url) else route.abort())
