"`raad predict` end to end: a folder of images (one of them corrupt, one in a sub-folder) -> predictions.csv and heatmaps, with the shipped bottle model."
import csv, shutil
from pathlib import Path
import pytest
from PIL import Image
from conftest import ROOT as REPO, SHIPPED, raad_cli as raad

MODEL = SHIPPED/'bottle_baseline'

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
def test_predict_errors_are_one_line(args, expected, tmp_path, capsys):
    "In this process (`raad`'s own `main`; the console script's one-line errors in a subprocess: test_predict_folder's unreadable file, tests/test_reliability.py)."
    from raad.cli import main
    assert main(['predict', *map(str, args), '--out', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith('raad: error:') and expected in err and len(err.strip().splitlines()) == 1, err
