"""The served app under a small load (tools/load_test.py at CI size): concurrent gradio_client clients, every response
checked against the library's score, a bad upload among them, and a burst larger than the queue refused, not stored.
The full figures (8 clients x 25 requests) come from `python tools/load_test.py`."""
import sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
pytest.importorskip('gradio_client')
import load_test  # noqa: E402

def test_concurrent_clients_bounded_queue(app_checkpoints):
    r = load_test.load_test(clients=3, requests=2, checkpoints=app_checkpoints, bad_every=2, burst_size=5,
                            queue_size=2, request_timeout=240, time_limit=600)
    assert r['problems'] == [] and r['first_request_correct'], r['problems']
    assert r['ok'] == 3 and r['bad_uploads_answered_with_message'] == 3 and r['wrong'] == r['errors'] == r['timeouts'] == 0
    assert r['latency_s']['p95'] >= r['latency_s']['p50'] > 0
    assert r['rss_mib']['after_start'] > 50 and r['rss_mib']['end'] > 0
    b = r['burst']  # 5 at once against 1 running + 2 waiting: the rest are refused at once, and the app still answers after
    assert b['other_errors'] == [] and b['answered'] + b['refused_queue_full'] == 5 and b['refused_queue_full'] >= 1
    assert b['correct_after_burst'] and r['passed']

def test_percentile():
    assert load_test.percentile([3, 1, 2, 4], 50) == 2.5 and load_test.percentile([5], 95) == 5 and load_test.percentile([], 50) is None
