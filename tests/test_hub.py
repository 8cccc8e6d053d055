"Hub checkpoints: the standard cache layout under $HF_HOME, offline and unreachable-network errors, nothing unpickled, push mocked."
import json, os, subprocess, sys, time
from pathlib import Path
from unittest import mock
import pytest
import torch
from raad.hub import load_pretrained, save_pretrained, push_to_hub, fill_hub_cache, CHECKPOINT_FILES
from raad.pdn import EfficientAD
from raad.checkpoint import CheckpointError

COMMIT = '1234567890abcdef1234567890abcdef12345678'

@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    m = EfficientAD(); m.quantiles.copy_(torch.tensor([0.1, 0.5, 0.2, 0.6]))
    return save_pretrained(m, {'method': 'baseline', 'category': 'bottle', 'data': 'mvtec_ad'}, tmp_path_factory.mktemp('ck')/'bottle')

def hf_home_with(tmp_path, checkpoint, repo='raad/bottle', symlinks=True):
    "An $HF_HOME whose hub cache holds `checkpoint` as `repo` at COMMIT, the way huggingface_hub lays it out (blobs + symlinks)."
    hub = tmp_path/'hf'/'hub'
    snap = fill_hub_cache(hub, repo, checkpoint, COMMIT)
    if symlinks:
        blobs = snap.parent.parent/'blobs'; blobs.mkdir()
        for f in CHECKPOINT_FILES:
            (snap/f).rename(blobs/f'blob-{f}'); (snap/f).symlink_to(os.path.relpath(blobs/f'blob-{f}', snap))
    return tmp_path/'hf'

def run_python(code, env):
    env = {k: v for k, v in os.environ.items() if not k.startswith(('HF_', 'HTTP', 'http'))} | env
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, timeout=120)

def test_standard_cache_under_hf_home(tmp_path, checkpoint):
    home = hf_home_with(tmp_path, checkpoint)
    code = ("from raad.hub import load_pretrained\n"
            f"for src in ('raad/bottle', 'raad/bottle@main', 'raad/bottle@{COMMIT}'):\n"
            "    m, c = load_pretrained(src); print(c['source'], m.quantiles.tolist())")
    r = run_python(code, {'HF_HOME': str(home), 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[2].startswith(f'raad/bottle@{COMMIT}')
    assert all(l.endswith('[0.10000000149011612, 0.5, 0.20000000298023224, 0.6000000238418579]') for l in lines)

def test_unreachable_hub_fails_fast(tmp_path, checkpoint):
    "No offline flag and no network: a clear error in seconds, not half a minute of retries; the cache still serves."
    home = hf_home_with(tmp_path, checkpoint)
    code = ("import time; from raad.hub import load_pretrained\nfrom raad.checkpoint import CheckpointError\n"
            "print(load_pretrained('raad/bottle')[1]['category'])\n"
            "t = time.time()\ntry: load_pretrained('raad/missing@v1')\nexcept CheckpointError as e: print(round(time.time() - t, 1), e)")
    r = run_python(code, {'HF_HOME': str(home), 'HF_ENDPOINT': 'http://127.0.0.1:9'})
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.strip().splitlines()
    assert first == 'bottle'
    seconds, msg = second.split(' ', 1)
    assert float(seconds) < 5 and 'raad/missing@v1' in msg and 'cannot be reached' in msg

def test_only_safetensors_is_read(tmp_path, checkpoint):
    "A repository with pickled weights only is refused; the pickle is never downloaded or opened."
    hub = tmp_path/'hub'
    snap = fill_hub_cache(hub, 'raad/pickled', checkpoint, COMMIT)
    (snap/'model.safetensors').unlink()
    (snap/'pytorch_model.bin').write_bytes(b'not to be unpickled')
    with mock.patch.dict(os.environ, {'HF_HUB_OFFLINE': '1'}), mock.patch('torch.load', side_effect=AssertionError('torch.load called')):
        with pytest.raises(CheckpointError, match='model.safetensors'): load_pretrained('raad/pickled', COMMIT, cache_dir=hub)

def test_corrupt_download_is_a_checkpoint_error(tmp_path, checkpoint):
    hub = tmp_path/'hub'
    snap = fill_hub_cache(hub, 'raad/corrupt', checkpoint, COMMIT)
    (snap/'model.safetensors').write_bytes(b'\x00' * 100)
    with mock.patch.dict(os.environ, {'HF_HUB_OFFLINE': '1'}):
        with pytest.raises(CheckpointError, match='safetensors'): load_pretrained('raad/corrupt', cache_dir=hub)

@pytest.mark.parametrize('source, revision, expected', [
    ('raad/bottle@v1', 'v2', 'conflicts'),
    ('no-such-name', None, 'owner/name'),
    ('./missing/folder', None, 'not found'),
    ('a/b/c', None, 'not found'),
])
def test_bad_sources(source, revision, expected):
    with pytest.raises(CheckpointError, match=expected): load_pretrained(source, revision)

def test_push_uploads_only_checkpoint_files(tmp_path, checkpoint):
    with mock.patch('huggingface_hub.HfApi.create_repo') as create, mock.patch('huggingface_hub.HfApi.upload_folder', return_value='ok') as upload:
        assert push_to_hub(checkpoint, 'raad/bottle', token='hf_test') == 'ok'
    create.assert_called_once()
    kw = upload.call_args.kwargs
    assert kw['repo_id'] == 'raad/bottle' and kw['folder_path'] == str(checkpoint)
    assert kw['allow_patterns'] == ['config.json', 'model.safetensors', 'README.md']
    card = (checkpoint/'README.md').read_text()
    assert card.startswith('---\n') and 'library_name: raad' in card and 'license: cc-by-nc-sa-4.0' in card
