"""RAAD against the fair control on a GPU, at a budget the CPU presets cannot reach (one device session).

Trains the bottle baseline for --steps steps (paper hyper-parameters), then the control (the baseline fine-tuned unquantized)
and RAAD (HQS -> Fisher PTQ on the CPU -> recalibration on the GPU), each with --ft-steps fine-tuning steps, evaluates all
three and writes OUT/raad_gpu.json after every stage.
    python tools/gpu_raad.py --data DATA_ROOT/mvtec_ad --out OUT [--steps 9000 --ft-steps 1300 --seed 0 --device cuda]
"""
import argparse, json, time
from pathlib import Path
from raad.pipeline import RecalibrationPreset, make_variant
from raad.train import train_efficientad
from raad.checkpoint import load_model
from raad.evaluate import evaluate

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument('--data', required=True); p.add_argument('--out', required=True); p.add_argument('--work', default='/tmp/raad_gpu_raad')
p.add_argument('--category', default='bottle'); p.add_argument('--steps', type=int, default=9000); p.add_argument('--ft-steps', type=int, default=1300)
p.add_argument('--ptq-iters', type=int, default=40); p.add_argument('--calib-images', type=int, default=8)
p.add_argument('--seed', type=int, default=0); p.add_argument('--device', default='cuda')
a = p.parse_args()
out, work = Path(a.out), Path(a.work); out.mkdir(parents=True, exist_ok=True); work.mkdir(parents=True, exist_ok=True)
res = {'command': 'python tools/gpu_raad.py ' + ' '.join(f'--{k.replace("_", "-")} {v}' for k, v in vars(a).items() if k not in ('out', 'work')),
       'steps': a.steps, 'ft_steps': a.ft_steps, 'ptq_iters': a.ptq_iters, 'calib_images': a.calib_images, 'seed': a.seed}
save = lambda: (out/'raad_gpu.json').write_text(json.dumps(res, indent=1))
metrics = lambda r: {k: r[k] for k in ('image_auroc', 'image_ap', 'pixel_auroc', 'au_pro')}
t0 = time.time()
base = train_efficientad(a.data, a.category, work/'baseline', preset='paper', steps=a.steps, seed=a.seed, device=a.device, progress=False, log=lambda *x: None)
res['baseline'] = {'seconds': round(time.time() - t0, 1)}
m, cfg = load_model(base)
res['baseline']['after'] = metrics(evaluate(m, a.data, a.category, work/'baseline_eval', device=a.device, progress=False, grid=False)); save(); print('baseline', res['baseline'], flush=True)
preset = RecalibrationPreset('gpu', steps=a.ft_steps, ptq_iters=a.ptq_iters, calib_images=a.calib_images, save_every=max(1, a.ft_steps // 2))
for v in ('control', 'raad'):
    t0 = time.time()
    s = make_variant(base, v, work/v, preset=preset, eval_before=(v == 'raad'), device=a.device, progress=False, log=lambda *x: None)
    res[v] = {**{k: s.get(k) for k in ('after', 'before', 'bits', 'size_mb', 'quantize_seconds', 'recalibration_seconds', 'steps')}, 'seconds': round(time.time() - t0, 1)}
    save(); print(v, res[v], flush=True)
