"""Load test of the Gradio demo: N concurrent gradio_client clients x M requests each against a local `app.py`.

    python tools/load_test.py                       # 8 clients x 25 requests, shipped checkpoints, prints JSON
    python tools/load_test.py --clients 3 --requests 2 --burst 6 --queue-size 2 --out load.json

Starts `python app.py` on a free local port (tools/app_harness.py), computes the expected score of every test image
directly with the library (`raad.train.load_model`, `model.anomaly_map(x).max()`), then lets the clients start
together. Each response is checked: its score equals the library's within --tolerance, its verdict agrees with the
score and threshold, the heatmap and the six attention maps are files. Every --bad-every-th request uploads a text file
named .png and must come back as the app's one-line error (and the next request must work). Reports errors, latency
percentiles (submit to result, queueing included), throughput, and the app process's RSS at start, after the first
request, while loaded (sampled every 0.25 s) and at the end. --burst K then sends K requests at the same instant
to show the queue bound: at most 1 running + RAAD_QUEUE_SIZE waiting are accepted, the rest are refused at once.
Exit status 0 only if every response was correct and nothing timed out.
"""
from __future__ import annotations
import argparse, json, os, statistics, sys, tempfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
from app_harness import served_app  # noqa: E402

BAD_MESSAGE = 'not a readable image'

def child_pids(parent: int) -> list[int]:
    "Processes whose parent is `parent` (Linux /proc)."
    pids = []
    for d in Path('/proc').iterdir():
        if d.name.isdigit():
            try: stat = (d/'stat').read_text()
            except OSError: continue
            if int(stat.rsplit(')', 1)[1].split()[1]) == parent: pids.append(int(d.name))
    return pids

def rss_mb(pid: int) -> float | None:
    "Resident memory of `pid` in MiB (VmRSS), or None if it is gone."
    try:
        for line in Path(f'/proc/{pid}/status').read_text().splitlines():
            if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024
    except OSError: return None

def app_pid() -> int:
    "The `python app.py` process that served_app started (a child of this process)."
    for pid in child_pids(os.getpid()):
        try:
            if 'app.py' in Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace'): return pid
        except OSError: pass
    raise RuntimeError('app.py process not found among the children of this process')

def percentile(values, q):
    "The q-th percentile (0..100) of `values`, linear interpolation."
    v = sorted(values)
    if not v: return None
    k = (len(v) - 1) * q / 100; lo = int(k); hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)

def test_images(folder: Path) -> list[Path]:
    "The bottle examples, plus odd but valid variants of one (grayscale, RGBA, 16-bit, palette) written to `folder`."
    import numpy as np
    from PIL import Image
    examples = sorted((ROOT/'examples').glob('*.png'))
    base = Image.open(examples[0]).convert('RGB')
    odd = {'gray.png': base.convert('L'), 'rgba.png': base.convert('RGBA'), 'palette.png': base.convert('P'),
           'gray16.png': Image.fromarray((np.asarray(base.convert('L'), np.uint16) * 257))}
    for name, im in odd.items(): im.save(folder/name)
    return examples + [folder/n for n in odd]

def expected_scores(model_dir: Path, images) -> dict[str, float]:
    "Image score (anomaly-map maximum) of each image, computed with the library, not the app."
    import torch
    from raad.data import load_image, ImageTransform
    from raad.checkpoint import load_model
    model, cfg = load_model(model_dir)
    tfm = ImageTransform(int(cfg.get('image_size', 256)))
    with torch.no_grad(): return {str(p): float(model.anomaly_map(tfm(load_image(p))[None]).max()) for p in images}

def check(result, expected: float, tolerance: float) -> str | None:
    "None if one /predict result is right, else what is wrong."
    heat, score, verdict, layers, _, details = result
    if not isinstance(score, (int, float)) or abs(score - expected) > tolerance: return f'score {score} != library {expected:.6f}'
    try: threshold = float(verdict.rsplit('threshold', 1)[1])
    except (IndexError, ValueError): return f'verdict {verdict!r} unparsable'
    if verdict.startswith('DEFECTIVE') != (score >= threshold): return f'verdict {verdict!r} disagrees with score {score}'
    if not (heat and Path(heat).is_file()): return 'no heatmap file'
    if len(layers) != 6 or not all(Path(g['image']).is_file() for g in layers): return f'{len(layers)} attention maps'
    return None

def run_clients(url, model_label, images, expected, bad_file, clients, requests, bad_every, tolerance, request_timeout, deadline):
    "Run the clients together; a list of per-request records."
    from gradio_client import Client, handle_file
    records, lock = [], threading.Lock()
    start = threading.Barrier(clients)
    def worker(c):
        client = Client(url, verbose=False)
        start.wait()
        for r in range(requests):
            bad = bad_every > 0 and (r + 1) % bad_every == 0
            img = bad_file if bad else images[(c + r) % len(images)]
            rec = {'client': c, 'request': r, 'image': Path(img).name, 'bad_upload': bad}
            if time.time() > deadline: rec.update(status='skipped', why='time limit reached')
            else:
                t = time.perf_counter()
                try:
                    out = client.submit(handle_file(str(img)), model_label, '', '', api_name='/predict').result(timeout=request_timeout)
                    rec['seconds'] = time.perf_counter() - t
                    if bad: rec.update(status='wrong', why='a bad upload was answered with a result')
                    else:
                        why = check(out, expected[str(img)], tolerance)
                        rec.update(status='wrong' if why else 'ok', score=out[1], **({'why': why} if why else {}))
                except Exception as e:
                    rec['seconds'] = time.perf_counter() - t
                    msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                    if bad and BAD_MESSAGE in str(e): rec.update(status='expected_error', message=msg)
                    else: rec.update(status='timeout' if 'Timeout' in type(e).__name__ else 'error', why=f'{type(e).__name__}: {msg}')
            with lock: records.append(rec)
    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in range(clients)]
    for t in threads: t.start()
    for t in threads: t.join(max(1.0, deadline - time.time() + request_timeout))
    return records

def burst(url, model_label, image, k, request_timeout):
    "Submit `k` requests at the same instant from `k` clients: counts of accepted (answered) and refused ('queue is full')."
    from gradio_client import Client, handle_file
    cl = [Client(url, verbose=False) for _ in range(k)]
    jobs = [c.submit(handle_file(str(image)), model_label, '', '', api_name='/predict') for c in cl]
    out = {'sent': k, 'answered': 0, 'refused_queue_full': 0, 'other_errors': []}
    for j in jobs:
        try: j.result(timeout=request_timeout); out['answered'] += 1
        except Exception as e:
            if 'queue is full' in str(e).lower(): out['refused_queue_full'] += 1
            else: out['other_errors'].append(f'{type(e).__name__}: {e}'[:200])
    return out

def load_test(clients=8, requests=25, checkpoints=None, model='EfficientAD-S baseline (bottle)', tolerance=2e-4, bad_every=10,
              request_timeout=300.0, time_limit=3600.0, burst_size=0, queue_size=None, log_dir=None) -> dict:
    "Run the load test; the report as a dict (see the module docstring)."
    sys.path.insert(0, str(ROOT))
    checkpoints = Path(checkpoints or os.environ.get('RAAD_CHECKPOINTS') or ROOT/'checkpoints')
    import app  # the app's own label -> folder table and queue settings
    model_dir = checkpoints/app.SHIPPED[model]
    if queue_size is not None: os.environ['RAAD_QUEUE_SIZE'] = str(queue_size)  # inherited by the app process
    with tempfile.TemporaryDirectory(prefix='raad-load-') as tmp:
        tmp = Path(tmp)
        images = test_images(tmp)
        bad_file = tmp/'notes.png'; bad_file.write_text('this is a text file, not an image\n')
        t = time.perf_counter(); expected = expected_scores(model_dir, images); library_s = time.perf_counter() - t
        with served_app(checkpoints, log_dir=log_dir) as url:
            pid = app_pid(); rss = {'after_start': rss_mb(pid)}
            samples, stop = [], threading.Event()
            def sample():
                t0 = time.time()
                while not stop.is_set():
                    m = rss_mb(pid)
                    if m is not None: samples.append((round(time.time() - t0, 2), round(m, 1)))
                    stop.wait(0.25)
            sampler = threading.Thread(target=sample, daemon=True); sampler.start()
            from gradio_client import Client, handle_file
            t = time.perf_counter()
            first = Client(url, verbose=False).predict(handle_file(str(images[0])), model, '', '', api_name='/predict')
            first_s = time.perf_counter() - t
            first_wrong = check(first, expected[str(images[0])], tolerance)
            rss['after_first_request'] = rss_mb(pid)
            t0 = time.time()
            records = run_clients(url, model, images, expected, bad_file, clients, requests, bad_every, tolerance, request_timeout,
                                  deadline=t0 + time_limit)
            wall = time.time() - t0
            rss['end'] = rss_mb(pid)
            burst_report = burst(url, model, images[0], burst_size, request_timeout) if burst_size else None
            after_burst = check(Client(url, verbose=False).predict(handle_file(str(images[0])), model, '', '', api_name='/predict'),
                                expected[str(images[0])], tolerance) if burst_size else None
            stop.set(); sampler.join()
            rss['peak'] = max(m for _, m in samples) if samples else None
    lat = [r['seconds'] for r in records if r['status'] in ('ok', 'wrong')]
    count = lambda s: sum(r['status'] == s for r in records)
    problems = [r for r in records if r['status'] not in ('ok', 'expected_error')]
    report = {
        'clients': clients, 'requests_per_client': requests, 'total_requests': clients * requests, 'model': model,
        'checkpoint': str(model_dir), 'tolerance': tolerance, 'bad_upload_every': bad_every,
        'ok': count('ok'), 'bad_uploads_answered_with_message': count('expected_error'), 'wrong': count('wrong'),
        'errors': count('error'), 'timeouts': count('timeout'), 'skipped': count('skipped'),
        'first_request_correct': first_wrong is None, 'first_request_s': round(first_s, 2),
        'latency_s': {k: (round(v, 3) if v is not None else None) for k, v in
                      {'p50': percentile(lat, 50), 'p90': percentile(lat, 90), 'p95': percentile(lat, 95), 'p99': percentile(lat, 99),
                       'max': max(lat, default=None), 'mean': statistics.fmean(lat) if lat else None}.items()},
        'wall_s': round(wall, 1), 'throughput_rps': round(len(lat) / wall, 3) if wall else None,
        'rss_mib': {k: (round(v, 1) if v is not None else None) for k, v in rss.items()},
        'rss_samples': samples[::max(1, len(samples) // 60)],  # (seconds, MiB), at most ~60 points
        'app_settings': {'queue_max_size': int(os.environ.get('RAAD_QUEUE_SIZE') or app.QUEUE_SIZE), 'concurrency_limit': app.CONCURRENCY,
                         'max_file_size': app.MAX_FILE_SIZE, 'model_cache_size': app.MODEL_CACHE_SIZE},
        'expected_scores': {Path(k).name: round(v, 6) for k, v in expected.items()}, 'library_seconds': round(library_s, 1),
        'problems': problems[:20],
    }
    if burst_report is not None: report['burst'] = {**burst_report, 'correct_after_burst': after_burst is None}
    report['passed'] = (not problems and report['first_request_correct'] and count('ok') + count('expected_error') == clients * requests
                        and (burst_report is None or (not burst_report['other_errors'] and after_burst is None)))
    return report

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--clients', type=int, default=8); p.add_argument('--requests', type=int, default=25, help='per client')
    p.add_argument('--checkpoints', default=None, help='checkpoints folder for the app (default: $RAAD_CHECKPOINTS or ./checkpoints)')
    p.add_argument('--model', default='EfficientAD-S baseline (bottle)', help="the app's model choice")
    p.add_argument('--tolerance', type=float, default=2e-4, help='largest |app score - library score| (the app rounds to 4 decimals)')
    p.add_argument('--bad-every', type=int, default=10, help='every Nth request of a client uploads a text file named .png (0: never)')
    p.add_argument('--request-timeout', type=float, default=300); p.add_argument('--time-limit', type=float, default=3600, help='seconds for all requests')
    p.add_argument('--burst', type=int, default=0, help='afterwards, send this many requests at the same instant')
    p.add_argument('--queue-size', type=int, default=None, help="the app's RAAD_QUEUE_SIZE (default: the app's, 16)")
    p.add_argument('--log-dir', default=None, help="keep the app's log here"); p.add_argument('--out', default=None, help='also write the JSON here')
    a = p.parse_args(argv)
    r = load_test(a.clients, a.requests, a.checkpoints, a.model, a.tolerance, a.bad_every, a.request_timeout, a.time_limit, a.burst,
                  a.queue_size, a.log_dir)
    text = json.dumps(r, indent=2)
    print(text)
    if a.out: Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(text + '\n')
    print(f"{r['clients']} clients x {r['requests_per_client']} requests: {r['ok']} correct, {r['bad_uploads_answered_with_message']} bad uploads "
          f"answered with a message, {r['wrong']} wrong, {r['errors']} errors, {r['timeouts']} timeouts; latency p50 {r['latency_s']['p50']} s, "
          f"p95 {r['latency_s']['p95']} s; app RSS {r['rss_mib']['after_start']} -> {r['rss_mib']['after_first_request']} -> "
          f"{r['rss_mib']['end']} MiB (peak {r['rss_mib']['peak']}); {'PASSED' if r['passed'] else 'FAILED'}", file=sys.stderr)
    return 0 if r['passed'] else 1

if __name__ == '__main__':
    sys.exit(main())
