"""Interrupted training loses nothing: `raad train` stopped by SIGTERM once it has written a resumable state, resumed,
killed by SIGKILL mid-step, and resumed again ends with the same model.safetensors as an uninterrupted run with the same
seed: the session's tiny run (tests/conftest.py, trained through the library with the same preset, seed and steps). (A SIGKILL
in the middle of writing a checkpoint is in tests/test_reliability.py.)

Tolerance: none. On the CPU, in fp32 (`--no-bf16`), with the same thread count, the resumed weights are bit-identical
(`torch.equal`) to the uninterrupted ones: the state restores the weights, Adam's moments, the step (hence the learning
rate) and the torch, NumPy and Python random generators. (tests/test_train.py checks the same through the library.)"""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import torch
from safetensors.torch import load_file
from conftest import TINY_RUN

STEPS = 4  # the tiny preset saves its state every 2 steps: the first resumable state is at step 2; the learning rate
           # drops after step 3 (95 % of 4), so resuming from step 3 also checks that the schedule is restored
SEED = TINY_RUN['seed']  # the uninterrupted run is the session's `tiny_run` (4 tiny steps, fp32, this seed)

def train(data, out, teacher, *extra):
    cmd = [sys.executable, '-m', 'raad.cli', 'train', '--data', data, '--category', 'widget', '--preset', 'tiny', '--steps', STEPS,
           '--out', out, '--teacher', teacher, '--seed', SEED, '--device', 'cpu', '--no-bf16', '--quiet', *extra]
    return subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, 'PYTHONUNBUFFERED': '1'})

def finish(p, timeout=600):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err

def state_step(out: Path) -> int:
    return json.loads((out/'state.json').read_text())['step']

def assert_same_model(a, b):
    wa, wb = load_file(Path(a)/'model.safetensors'), load_file(Path(b)/'model.safetensors')
    assert wa.keys() == wb.keys()
    different = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert not different, f"{len(different)} tensors differ, e.g. {different[0]}: max |diff| {(wa[different[0]] - wb[different[0]]).abs().max():.3g}"
    assert json.loads((Path(a)/'config.json').read_text())['threshold'] == json.loads((Path(b)/'config.json').read_text())['threshold']

def test_sigterm_then_sigkill_then_resume_equals_uninterrupted(tiny_run, fixture_data, random_teacher, tmp_path):
    """One run, interrupted twice: SIGTERM once its first resumable state is written, then (resumed) SIGKILL in the middle
    of a step; the second resume finishes it with the weights of the uninterrupted `tiny_run`. (One chain, not two runs,
    because every tiny step costs seconds.)"""
    assert json.loads((tiny_run/'config.json').read_text())['steps'] == STEPS and TINY_RUN['bf16'] is False
    out = tmp_path/'run'
    # 1. SIGTERM as soon as state.json (step 2) exists: the step in progress finishes, its state is saved, one line says so
    p = train(fixture_data, out, random_teacher)
    while not (out/'state.json').exists():
        assert p.poll() is None, f"raad train ended before its first state: {p.communicate()[1]}"
        time.sleep(0.01)
    p.send_signal(signal.SIGTERM)
    code, _, err = finish(p)
    stopped_at = state_step(out)
    assert code == 128 + signal.SIGTERM and err.count("\n") == 1 and "Traceback" not in err, err
    assert f'stopped by SIGTERM after step {stopped_at} of {STEPS}; state saved, continue with --resume' in err and stopped_at == 3
    assert not (out/'model.safetensors').exists()
    # 2. resume, and SIGKILL it once it has restored the state (it is then inside step 4): nothing is saved, nothing is lost
    p = train(fixture_data, out, random_teacher, '--resume')
    assert p.stdout.readline().strip() == f'resumed from step {stopped_at}'
    p.kill()
    assert finish(p)[0] == -signal.SIGKILL and state_step(out) == stopped_at and not (out/'model.safetensors').exists()
    # 3. resume again: it finishes, with the very weights of the uninterrupted run
    code, stdout, err = finish(train(fixture_data, out, random_teacher, '--resume'))
    assert code == 0 and f'resumed from step {stopped_at}' in stdout, err
    assert state_step(out) == STEPS
    assert_same_model(tiny_run, out)


def test_recalibration_stops_on_sigterm_and_resumes_to_the_uninterrupted_model(quantized_fixture_model, tmp_path):
    """Recalibration (the long fine-tuning of `raad train --method raad`) handles SIGTERM like training: the step in
    progress finishes, the state is saved, TrainingInterrupted says so; running it again continues from that step and ends
    with the model of an uninterrupted run (fake quantization reorders float sums: equal within 1e-4 relative)."""
    import copy, threading
    import pytest
    from raad.recalibrate import fine_tune
    from raad.runtime import TrainingInterrupted
    from raad.checkpoint import load_model
    mq, x = quantized_fixture_model
    kw = dict(steps=3, seed=1, progress=False)
    fine_tune(copy.deepcopy(mq), x[:3], x[3:], tmp_path/'straight', log=lambda *a: None, **kw)
    out, handler_before = tmp_path/'recal', signal.getsignal(signal.SIGTERM)
    def sigterm_after_first_state():
        while not (out/'state.safetensors').exists(): time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=sigterm_after_first_state, daemon=True).start()
    with pytest.raises(TrainingInterrupted, match=r'recalibration stopped by SIGTERM after step \d of 3; state saved'):
        fine_tune(copy.deepcopy(mq), x[:3], x[3:], out, save_every=1, log=lambda *a: None, **kw)  # SIGTERM arrives in step 2
    stopped_at = state_step(out)
    assert 1 <= stopped_at < 3 and not (out/'model.safetensors').exists()
    assert signal.getsignal(signal.SIGTERM) == handler_before  # the handler is put back
    logs = []
    fine_tune(copy.deepcopy(mq), x[:3], x[3:], out, save_every=100, resume=True, log=logs.append, **kw)
    assert logs == [f'resumed recalibration from step {stopped_at}'] and state_step(out) == 3
    (a, cfg), (b, _) = load_model(tmp_path/'straight'), load_model(out)
    for k, v in a.state_dict().items(): torch.testing.assert_close(v, b.state_dict()[k], rtol=1e-4, atol=1e-5)
    assert cfg['recalibration']['steps'] == 3 and cfg['bits']['student.3'] == [4, 4]
