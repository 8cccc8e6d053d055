"`raad predict` end to end: a folder of images (one of them corrupt, one in a sub-folder) -> predictions.csv and heatmaps, with the shipped bottle model."
import csv, shutil, subprocess, sys
from pathlib import Path
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO/'checkpoints'/'bottle_baseline'

def raad(*args, check=True):
    r = subprocess.run([sys.executable, '-m', 'raad.cli', *map(str, args)], capture_output=True, text=True, timeout=1200)  # generous: the shared 2-core machine can be 10x slower than idle
    if check: assert r.returncode == 0, r.stderr
    return r

@pytest.fixture
def images(tmp_path):
    d = tmp_path/'images'; (d/'more').mkdir(parents=True)
    for name in ('bottle_good.png', 'bottle_broken_large.png'): shutil.copy(REPO/'examples'/name, d/name)
    shutil.copy(REPO/'examples'/'bottle_contamination.png', d/'more'/'bottle_contamination.png')
    (d/'truncated.png').write_bytes((REPO/'examples'/'bottle_good.png').read_bytes()[:200])  # a cut-off download
    (d/'readme.txt').write_text('not an image: not listed')
    return d

def test_predict_folder(images, tmp_path):
    out = tmp_path/'pred'
    r = raad('predict', '--model', MODEL, '--images', images, '--out', out, '--quiet', '--no-bf16')
    assert '4 images: 2 defective, 1 good, 1 unreadable' in r.stdout, r.stdout
    rows = {Path(row['path']).name: row for row in csv.DictReader(open(out/'predictions.csv'))}
    assert list(next(csv.reader(open(out/'predictions.csv')))) == ['path', 'score', 'verdict', 'error', 'heatmap']
    assert set(rows) == {'bottle_good.png', 'bottle_broken_large.png', 'bottle_contamination.png', 'truncated.png'}
    assert rows['bottle_good.png']['verdict'] == 'good'
    assert rows['bottle_broken_large.png']['verdict'] == rows['bottle_contamination.png']['verdict'] == 'defective'
    bad = rows['truncated.png']
    assert bad['score'] == bad['verdict'] == bad['heatmap'] == '' and 'truncated.png' in bad['error']
    assert float(rows['bottle_broken_large.png']['score']) > float(rows['bottle_good.png']['score'])
    assert rows['bottle_contamination.png']['heatmap'] == 'heatmaps/more/bottle_contamination.png'
    for row in rows.values():
        if row['heatmap']: assert Image.open(out/row['heatmap']).size == Image.open(row['path']).size

def test_predict_threshold_and_single_file(tmp_path):
    r = raad('predict', '--model', MODEL, '--images', REPO/'examples'/'bottle_good.png', '--out', tmp_path, '--threshold', '0', '--no-heatmaps', '--quiet')
    (row,) = csv.DictReader(open(tmp_path/'predictions.csv'))
    assert row['verdict'] == 'defective' and row['heatmap'] == '' and not (tmp_path/'heatmaps').exists()

@pytest.mark.parametrize('args, expected', [
    (['--model', MODEL, '--images', '/nonexistent/images'], '/nonexistent/images'),
    (['--model', '/nonexistent/model', '--images', '.'], '/nonexistent/model'),
])
def test_predict_errors_are_one_line(args, expected, tmp_path):
    r = raad('predict', *args, '--out', tmp_path, check=False)
    assert r.returncode == 2 and r.stderr.startswith('raad: error:') and expected in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
