"""Interrupted training loses nothing: `raad train` killed with SIGTERM or SIGKILL once it has written a resumable state,
then `raad train --resume`, ends with the same model.safetensors as an uninterrupted run with the same seed.

Tolerance: none. On the CPU, in fp32 (`--no-bf16`), with the same thread count, the resumed weights are bit-identical
(`torch.equal`) to the uninterrupted ones: the state restores the weights, Adam's moments, the step (hence the learning
rate) and the torch, NumPy and Python random generators. (tests/test_train.py checks the same through the library.)"""
import json, signal, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from safetensors.torch import load_file

STEPS = 4  # the tiny preset saves its state every 2 steps: the first resumable state is at step 2; the learning rate
           # drops after step 3 (95 %), so resuming from step 2 (SIGKILL) or 3 (SIGTERM) also checks the schedule

def train(data, out, teacher, *extra):
    cmd = [sys.executable, '-m', 'raad.cli', 'train', '--data', data, '--category', 'widget', '--preset', 'tiny', '--steps', STEPS,
           '--out', out, '--teacher', teacher, '--seed', 5, '--device', 'cpu', '--no-bf16', '--quiet', *extra]
    return subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def finish(p, timeout=600):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err

def kill_after_first_state(p, out: Path, sig) -> int:
    "Send `sig` to `p` as soon as `out/state.json` exists (polled every 10 ms); the step the state holds at that moment."
    while not (out/'state.json').exists():
        assert p.poll() is None, f"raad train ended before its first state: {p.communicate()[1]}"
        time.sleep(0.01)
    p.send_signal(sig)
    return json.loads((out/'state.json').read_text())['step']

class Straight:
    "An uninterrupted run, started at once in the background; `.folder()` waits for it and returns its output folder."
    def __init__(self, data, teacher, out): self.out, self.p, self.result = out, train(data, out, teacher), None
    def folder(self) -> Path:
        if self.result is None: self.result = finish(self.p)
        assert self.result[0] == 0, self.result[2]
        return self.out

@pytest.fixture(scope='module')
def straight(fixture_data, random_teacher, tmp_path_factory):
    return Straight(fixture_data, random_teacher, tmp_path_factory.mktemp('straight'))

def weights(folder):
    return load_file(Path(folder)/'model.safetensors')

def assert_same_model(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    different = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[0]}: max |diff| {(wa[different[0]] - wb[different[0]]).abs().max():.3g}"

@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL], ids=['SIGTERM', 'SIGKILL'])
def test_killed_then_resumed_equals_uninterrupted(fixture_data, random_teacher, straight, tmp_path, sig):
    out = tmp_path/'run'
    p = train(fixture_data, out, random_teacher)
    kill_after_first_state(p, out, sig)
    code, _, err = finish(p)
    assert not (out/'model.safetensors').exists()  # stopped mid-run
    step = json.loads((out/'state.json').read_text())['step']
    assert 2 <= step < STEPS
    if sig == signal.SIGKILL: assert code == -signal.SIGKILL
    else:  # graceful: the step finishes, its state is saved, one line says so, exit code 2 like every `raad` error
        assert code == 2 and err.count('\n') == 1 and 'Traceback' not in err, err
        assert f'stopped by SIGTERM after step {step} of {STEPS}; state saved, continue with --resume' in err
    code, _, err = finish(train(fixture_data, out, random_teacher, '--resume'))
    assert code == 0, err
    assert json.loads((out/'state.json').read_text())['step'] == STEPS
    assert_same_model(straight.folder(), out)
    assert json.loads((out/'config.json').read_text())['threshold'] == json.loads((straight.folder()/'config.json').read_text())['threshold']
