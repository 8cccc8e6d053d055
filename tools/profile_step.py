"""Milliseconds per component of one EfficientAD-S training step (batch 1, 256²), as `raad.train.train_efficientad` runs it.

python tools/profile_step.py --out benchmarks/step_profile_cpu.json     # on an idle machine: nothing else running
"""
import argparse, json, math, time
import numpy as np
import torch
from raad.runtime import cpu_description
from raad.pdn import EfficientAD
from raad.runtime import autocast, cpu_has_bf16, save_json
from raad.losses import efficientad_losses, augment_for_autoencoder

PARTS = ('augment', 'teacher (augmented image)', 'student (image)', 'student (augmented image)', 'autoencoder', 'losses', 'backward', 'optimizer', 'step')

def quantile_hard_loss(distance, q=0.999):
    "The hard loss as raad computed it before 0.2: torch.quantile's threshold, then a mask."
    flat = distance.flatten().float(); return flat[flat >= torch.quantile(flat, q)].mean()

def profile(bf16: bool, channels_last: bool, n: int, warmup: int = 2) -> dict:
    torch.manual_seed(0)
    m = EfficientAD(); m.teacher.requires_grad_(False)
    if channels_last: m = m.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(list(m.student.parameters()) + list(m.autoencoder.parameters()), lr=1e-4)
    x, t = torch.randn(1, 3, 256, 256), torch.randn(1, 384, 56, 56)
    times = {k: [] for k in PARTS}
    for i in range(warmup + n):
        ts = [time.perf_counter()]
        xa = augment_for_autoencoder(x)
        if channels_last: x, xa = x.contiguous(memory_format=torch.channels_last), xa.contiguous(memory_format=torch.channels_last)
        ts.append(time.perf_counter())
        with autocast('cpu', bf16):
            with torch.no_grad(): t_ae = m.teacher_features(xa)
            ts.append(time.perf_counter()); s = m.student(x); ts.append(time.perf_counter())
            s_ae = m.student(xa); ts.append(time.perf_counter()); a = m.autoencoder(xa); ts.append(time.perf_counter())
        loss = efficientad_losses(t, s, a, t_ae, s_ae)['loss']; ts.append(time.perf_counter())
        opt.zero_grad(set_to_none=True); loss.backward(); ts.append(time.perf_counter()); opt.step(); ts.append(time.perf_counter())
        if i >= warmup:
            for k, a0, a1 in zip(PARTS[:-1], ts[:-1], ts[1:]): times[k].append(a1 - a0)
            times['step'].append(ts[-1] - ts[0])
    return {k: round(1000 * float(np.median(v)), 1) for k, v in times.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=10); p.add_argument('--out', default=None)
    a = p.parse_args()
    res = {'cpu': cpu_description(), 'torch': torch.__version__, 'n': a.n, 'ms': {}}
    for name, bf16, cl in (('fp32', False, False), ('fp32_channels_last', False, True), ('bf16_channels_last', True, True)):
        if bf16 and not cpu_has_bf16(): res['ms'][name] = 'skipped: no native bf16'; continue
        res['ms'][name] = profile(bf16, cl, a.n); print(name, res['ms'][name], flush=True)
    d = torch.rand(1, 384, 56, 56)
    for f in (quantile_hard_loss, __import__('raad.train', fromlist=['hard_loss']).hard_loss):
        f(d); t0 = time.perf_counter(); [f(d) for _ in range(20)]; res.setdefault('hard_loss_ms', {})[f.__name__] = round(50 * (time.perf_counter() - t0), 2)
    print(res['hard_loss_ms'])
    timed = [v['step'] for k, v in res['ms'].items() if isinstance(v, dict) and (k.startswith('bf16') or not cpu_has_bf16())]
    res['seconds_per_step'] = round(min(timed) / 1000, 4)  # what train_efficientad runs here (bf16 + channels-last where native)
    if a.out: save_json(a.out, res)

if __name__ == '__main__': main()
