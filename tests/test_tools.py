"The helper scripts in tools/ that published figures depend on, and the worker groups of tools/test.sh."
import subprocess, sys
from pathlib import Path
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent

def test_resize_data_reads_back_as_the_loader_reads_the_originals(tmp_path):
    "tools/resize_data.py (the data carried to the GPU session) gives the same 256² tensors and masks as the full-size images."
    from raad.data import make_mvtec_fixture, samples, load_image, load_mask, ImageTransform
    from PIL import Image
    src = make_mvtec_fixture(tmp_path/'full', size=300, n_train=2, n_good=1, n_bad=2)
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'resize_data.py'), str(src/'widget'), str(tmp_path/'small'/'widget')],
                       capture_output=True, text=True)
    assert r.returncode == 0 and '7 images written' in r.stdout, r.stderr
    tfm = ImageTransform(256)
    for split in ('train', 'test'):
        a, b = samples(src, 'widget', split), samples(tmp_path/'small', 'widget', split)
        assert [s.label for s in a] == [s.label for s in b] and len(a) == len(b) > 0
        for x, y in zip(a, b):
            assert torch.equal(tfm(load_image(x.path)), tfm(load_image(y.path)))
            big = Image.fromarray(load_mask(x.mask_paths, load_image(x.path).size)).resize((256, 256), Image.NEAREST)
            assert np.array_equal(np.asarray(big), load_mask(y.mask_paths, (256, 256)))

def test_pytest_workers_keep_each_group_whole(tmp_path):
    "tools/test.sh's two workers get whole groups (tests/conftest.py): the marks must reach pytest-xdist, whose node ids then name the group."
    import pytest
    pytest.importorskip('xdist')
    r = subprocess.run([sys.executable, '-m', 'pytest', '-v', '-p', 'no:cacheprovider', '--basetemp', str(tmp_path/'inner'), '-n', '2', '--dist', 'loadgroup', '--no-loadscope-reorder',
                        'tests/test_cli.py::test_unknown_preset_is_refused', 'tests/test_layering.py'],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert 'test_cli.py::test_unknown_preset_is_refused@tiny_run' in r.stdout and '@test_layering.py' in r.stdout, r.stdout[-2000:]

def test_branch_report_evaluates_each_map(tiny_run, fixture_data, tmp_path):
    "tools/branch_report.py (the tile diagnosis of README): the combined map's metrics are `evaluate`'s, each branch alone differs, and --table reads the file back."
    import json
    from raad.checkpoint import load_model
    from raad.evaluate import evaluate
    out = tmp_path/'branches.json'
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'branch_report.py'), '--model', str(tiny_run), '--data', str(fixture_data),
                        '--category', 'widget', '--out', str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rep = json.loads(out.read_text())
    assert sorted(rep['branches']) == ['both', 'global', 'local'] and rep['recipe']['steps'] == 4
    model, cfg = load_model(tiny_run)
    both = evaluate(model, fixture_data, 'widget', model_config=cfg, grid=False, progress=False)
    assert rep['branches']['both']['au_pro'] == both['au_pro'] and rep['branches']['both']['image_auroc_by_type'] == both['image_auroc_by_type']
    assert rep['branches']['local']['au_pro'] != rep['branches']['global']['au_pro']
    t = subprocess.run([sys.executable, str(ROOT/'tools'/'branch_report.py'), '--table', str(out)], capture_output=True, text=True, timeout=120)
    assert t.returncode == 0 and t.stdout.count('\n| ') == 3 and 'local (teacher-student)' in t.stdout, t.stdout + t.stderr
    assert subprocess.run([sys.executable, str(ROOT/'tools'/'branch_report.py'), '--model', str(tiny_run)], capture_output=True, text=True).returncode == 2
