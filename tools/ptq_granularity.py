"""PTQ granularity (issue 14, item 3): Fisher PTQ (Eq. 3) reconstructing one convolution at a time (`block_size` 1, RAAD's default)
against BRECQ-style blocks of consecutive convolutions (2, and each sub-network whole) on the shipped bottle baseline, with RAAD's bit
allocation (checkpoints/bottle_raad/config.json) and with uniform W4A8 (first and last conv of each sub-network 8/8). Per setting: the
Fisher-weighted (floor 1) and unweighted squared error at each sub-network's final output against the full-precision model, on the
calibration images and on the validation split; the PTQ wall and CPU time; and image AUROC / AU-PRO at 256² of the PTQ model before any
fine-tuning (map quantiles refit on the validation split, as 18_pipeline's eval_before). PTQ settings are the cpu preset's (8 calibration
images, 40 iterations per block, batch 2, floor 1, seed 0); every setting starts from the same seeded calibration. 'nearest' settings
skip PTQ (nearest rounding, calibrated ranges). Results are written after each setting; a rerun skips the settings already in --out.

    PYTHONPATH=. python tools/ptq_granularity.py --data /work/shared/data/mvtec_ad --out benchmarks/ptq_granularity_cpu.json
"""
import argparse, json, os, shlex, sys, time
from pathlib import Path
import torch
from raad.data import samples, split_train_validation
from raad.checkpoint import load_model
from raad.data import load_tensors
from raad.train import raw_maps, fit_map_quantiles
from raad.quant import conv_names, uniform_bits, fisher_ptq, fisher_weights, block_gradients, _groups
from raad.recalibrate import quantize_efficientad
from raad.pipeline import RECALIBRATION_PRESETS
from raad.runtime import seed_everything, cpu_has_bf16

WHOLE = 1000  # a block size larger than any sub-network: each nn.Sequential reconstructed as one block
DEFAULT_SETTINGS = ('w4a8:nearest', 'w4a8:1', 'w4a8:whole', 'raad:1', 'raad:whole', 'w4a8:2', 'raad:2', 'raad:nearest')  # by priority

def final_errors(model_q, refs: dict, images: torch.Tensor, batch_size: int = 2) -> dict:
    "Per sub-network: Fisher-weighted (floor 1) and plain squared error of its final output vs the full-precision `refs` (z, dL/dz), summed over channels, mean over the rest."
    out = {}
    with torch.no_grad():
        for name, (z, g) in refs.items():
            net = model_q.get_submodule(name.split('.')[0]).eval()
            d = torch.cat([net(x) for x in images.split(batch_size)]) - z
            out[name] = {'weighted': (d ** 2 * fisher_weights(g, 1.0)).sum(1).mean().item(), 'mse': (d ** 2).sum(1).mean().item()}
    return out

def run(baseline, raad_config, data, settings, out, seed: int = 0, preset: str = 'cpu', log=print) -> dict:
    from raad.evaluate import evaluate
    p = RECALIBRATION_PRESETS[preset]
    model, cfg = load_model(baseline); model.eval()
    data = data or cfg['data']
    train_s, val_s = split_train_validation(samples(data, cfg['category'], 'train'), cfg['preset_config']['validation_fraction'], cfg['seed'])
    calib, val_x = load_tensors(train_s[:p.calib_images], cfg['image_size'], False), load_tensors(val_s, cfg['image_size'], False)
    allocations = {'raad': {n: tuple(b) for n, b in json.loads(Path(raad_config).read_text())['bits'].items()},
                   'w4a8': uniform_bits(model, 4, 8, first_last=8)}
    finals = [names[-1] for names in _groups(conv_names(model)).values()]
    refs = {}
    for split, x in (('calib', calib), ('validation', val_x)):
        z, g = block_gradients(model, finals, x, batch_size=2)
        refs[split] = {n: (z[n], g[n]) for n in finals}
    res = json.loads(Path(out).read_text()) if Path(out).exists() else {}
    res.update({'baseline': str(baseline), 'category': cfg['category'], 'data': str(data), 'seed': seed,
                'calib_images': len(calib), 'validation_images': len(val_x), 'ptq_iters_per_block': p.ptq_iters, 'preset': preset,
                'ptq': {'weighting': 'fisher', 'floor': 1.0, 'batch_size': 2, 'calib_method': 'percentile', 'weight_init': 'mse'},
                'allocations': {'raad': str(raad_config) + " ('bits')", 'w4a8': 'uniform_bits(model, 4, 8, first_last=8)'},
                'block_sizes': {'1': 'one conv (+ ReLU) at a time (default)', '2': 'pairs of consecutive convs of one nn.Sequential',
                                'whole': 'each sub-network (teacher 4, student 4, autoencoder 14 convs) as one block', 'nearest': 'no PTQ'},
                'final_output_error': 'sum over channels, mean over images and positions, of (z_q - z)^2 [weighted: x (g^2/mean g^2 + 1)] at the last conv of each sub-network',
                'evaluation': 'raad.evaluate.evaluate(eval_size=256), map quantiles refit on the validation split, no fine-tuning',
                'bf16_evaluation': cpu_has_bf16(), 'torch_threads': torch.get_num_threads()})
    res.setdefault('settings', {})
    for s in settings:
        if s in res['settings']: log(f"{s}: done, skipped"); continue
        alloc, bs = s.split(':')
        load0 = os.getloadavg()[0]
        seed_everything(seed)
        mq, _ = quantize_efficientad(model, calib, bits=allocations[alloc], ptq_iters=0)  # RAAD's calibration (percentile, MSE weight ranges)
        t0, c0 = time.time(), time.process_time()
        rep = {} if bs == 'nearest' else fisher_ptq(mq, model, calib, iters=p.ptq_iters, weighting='fisher', floor=1.0, batch_size=2, seed=seed,
                                                    subnets=('teacher', 'student', 'autoencoder'), block_size=WHOLE if bs == 'whole' else int(bs))
        wall, cpu = time.time() - t0, time.process_time() - c0
        errs = {split: final_errors(mq, r, x) for (split, r), x in zip(refs.items(), (calib, val_x))}
        vm = raw_maps(mq, val_x); fit_map_quantiles(mq, val_x, maps=vm)
        m = evaluate(mq, data, cfg['category'], eval_size=256, grid=False, progress=False, model_config=cfg)
        res['settings'][s] = {'allocation': alloc, 'block_size': bs, 'blocks': len(rep), 'ptq_wall_s': round(wall, 1), 'ptq_cpu_s': round(cpu, 1),
                              'load_average_1min': [round(load0, 2), round(os.getloadavg()[0], 2)],
                              'final_output_error': errs, 'image_auroc': m['image_auroc'], 'au_pro': m['au_pro'], 'pixel_auroc': m['pixel_auroc'],
                              'eval_seconds': m['seconds'], 'ptq_report': rep}
        log(f"{s:14s} PTQ {wall:7.1f} s wall {cpu:7.1f} s CPU | I-AUROC {m['image_auroc']:.4f} AU-PRO {m['au_pro']:.4f} | "
            + ' '.join(f"{n} {e['weighted']:.4g}/{e['mse']:.4g}" for n, e in errs['validation'].items()))
        Path(out).write_text(json.dumps(res, indent=1) + '\n')
    return res

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--baseline', default='checkpoints/bottle_baseline'); p.add_argument('--raad-config', default='checkpoints/bottle_raad/config.json')
    p.add_argument('--data', default=None, help="data root (default: the baseline's)"); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--settings', nargs='+', default=list(DEFAULT_SETTINGS), help="allocation:block_size, allocation in raad/w4a8, block size 1, 2, whole or nearest")
    p.add_argument('--cpu', default=None, help="the CPU, in words (recorded)"); p.add_argument('--threads', type=int, default=None)
    p.add_argument('--out', default='benchmarks/ptq_granularity_cpu.json')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    prev = json.loads(Path(a.out).read_text()) if Path(a.out).exists() else {}
    Path(a.out).write_text(json.dumps({**prev, 'command': 'PYTHONPATH=. python tools/ptq_granularity.py ' + shlex.join(argv if argv is not None else sys.argv[1:]),
                                       'cpu': a.cpu}, indent=1) + '\n')
    run(a.baseline, a.raad_config, a.data, a.settings, a.out, a.seed)

if __name__ == '__main__': main()
