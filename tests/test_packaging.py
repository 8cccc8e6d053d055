"`python -m build` from a clean copy of the repository, then the wheel installed into a fresh virtual environment: `raad --version` and the packaged teacher."
import os, shutil, subprocess, sys, tarfile, zipfile
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parent.parent

def run(*args, cwd, env=None, timeout=600):
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, args))} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r

@pytest.fixture(scope='module')
def dist(tmp_path_factory):
    "sdist and wheel built from the files a clean clone has (tracked, or new and not ignored), without build isolation (offline)."
    pytest.importorskip('build')
    if not (REPO/'.git').exists(): pytest.skip('not a git checkout')
    src, out = tmp_path_factory.mktemp('clone'), tmp_path_factory.mktemp('dist')
    files = run('git', 'ls-files', '--cached', '--others', '--exclude-standard', '-z', cwd=REPO).stdout.split('\0')
    for f in filter(None, files):
        if (REPO/f).is_file(): (src/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(REPO/f, src/f)
    run(sys.executable, '-m', 'build', '--no-isolation', '--outdir', out, src, cwd=src)  # the sdist, then the wheel from the sdist
    (wheel,), (sdist,) = out.glob('raad-*.whl'), out.glob('raad-*.tar.gz')
    return wheel, sdist

def test_wheel_and_sdist_contents(dist):
    wheel, sdist = dist
    names = zipfile.ZipFile(wheel).namelist()
    assert 'raad/cli.py' in names and 'raad/_modidx.py' in names
    assert {'raad/assets/teacher_lite0/teacher.safetensors', 'raad/assets/teacher_lite0/teacher.json'} <= set(names)
    assert not [n for n in names if n.endswith('state.safetensors') or n.startswith(('tests/', 'nbs/', 'checkpoints/'))], names
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith('METADATA'))).decode()
    assert 'Classifier: Development Status :: 3 - Alpha' in meta and 'License-Expression: Apache-2.0' in meta
    for extra in ('app', 'onnx', 'openvino', 'natural', 'dev'): assert f'Provides-Extra: {extra}' in meta
    assert 'gradio' not in meta.split('Provides-Extra')[0]  # gradio is only in the app (and dev) extra
    assert wheel.stat().st_size < 10e6  # the teacher's 5 MB of weights, not its 50 MB optimizer state
    sd = tarfile.open(sdist).getnames()
    for f in ('settings.ini', 'setup.py', 'pyproject.toml', 'README.md', 'checkpoints/teacher_lite0/teacher.safetensors'):
        assert any(n.endswith('/' + f) for n in sd), f

def test_wheel_installs_and_finds_its_teacher(dist, tmp_path):
    wheel, _ = dist
    venv = tmp_path/'venv'
    run(sys.executable, '-m', 'venv', '--system-site-packages', venv, cwd=tmp_path)  # torch & co. from the system, raad from the wheel
    py, bin_ = venv/'bin'/'python', venv/'bin'
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'RAAD_TEACHER')}
    run(py, '-m', 'pip', 'install', '--no-deps', '--no-index', '--quiet', wheel, cwd=tmp_path, env=env)
    r = run(bin_/'raad', '--version', cwd=tmp_path, env=env)
    assert r.stdout.strip().startswith('raad 0.')
    code = ("import raad, torch; from raad.checkpoint import default_teacher; from raad.teacher import load_teacher_weights; from raad.pdn import pdn_small\n"
            "t = default_teacher(); pdn = pdn_small(padding=True); pdn.load_state_dict(load_teacher_weights(t))\n"
            "print(raad.__file__); print(t)")
    mod, teacher = run(py, '-c', code, cwd=tmp_path, env=env).stdout.split()
    assert Path(mod).is_relative_to(venv) and not Path(mod).is_relative_to(REPO), mod  # the wheel's raad, not the repository's
    assert Path(teacher).is_relative_to(venv) and Path(teacher).name == 'teacher_lite0', teacher

def test_wheel_user_trains_from_a_hub_teacher_predicts_and_exports(dist, fixture_data, tmp_path):
    "Issue 16's new-user path outside the repository: the wheel in a fresh venv trains with a teacher given by Hub id (offline cache), predicts a folder, exports ONNX."
    pytest.importorskip('onnxruntime')
    wheel, _ = dist
    venv = tmp_path/'venv'
    run(sys.executable, '-m', 'venv', '--system-site-packages', venv, cwd=tmp_path)
    py, raad = venv/'bin'/'python', venv/'bin'/'raad'
    commit, hub = 'c' * 40, tmp_path/'hub'
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'RAAD_TEACHER')} | {'HF_HUB_CACHE': str(hub), 'HF_HUB_OFFLINE': '1'}
    run(py, '-m', 'pip', 'install', '--no-deps', '--no-index', '--quiet', wheel, cwd=tmp_path, env=env)
    run(py, '-c', f"from raad.checkpoint import default_teacher; from raad.hub import fill_hub_cache; fill_hub_cache({str(hub)!r}, 'raad/teacher-lite0', default_teacher(), {commit!r})",
        cwd=tmp_path, env=env)
    run(raad, 'train', '--data', fixture_data, '--category', 'widget', '--preset', 'tiny', '--out', tmp_path/'m', '--teacher', f'raad/teacher-lite0@{commit}',
        '--quiet', '--no-bf16', cwd=tmp_path, env=env)
    run(raad, 'predict', '--model', tmp_path/'m', '--images', fixture_data/'widget'/'test', '--out', tmp_path/'p', '--quiet', cwd=tmp_path, env=env)
    rows = (tmp_path/'p'/'predictions.csv').read_text().strip().splitlines()
    assert rows[0].startswith('path,score,verdict') and len(rows) == 1 + 4, rows
    r = run(raad, 'export', '--model', tmp_path/'m', '--format', 'onnx', '--out', tmp_path/'onnx', cwd=tmp_path, env=env)
    assert (tmp_path/'onnx'/'model.onnx').is_file() and 'max |diff|' in r.stdout, r.stdout
