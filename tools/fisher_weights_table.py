"""Where the Fisher weights of Eq. 3 go (issue 14): for every convolution block of a trained baseline, the share of the block's total
reconstruction weight on its top 0.1 % and 1 % of output elements, without the floor (Eq. 3 as written) and with the default floor 1,
and for the student's last layer the share on its autoencoder half (channels 384-767). The gradients are those Fisher PTQ uses: EfficientAD's
task loss (Eq. 5-6, `efficientad_task_loss`) on the first calibration images of the baseline's own training split (as `raad train --method raad`).

    PYTHONPATH=. python tools/fisher_weights_table.py --baseline checkpoints/bottle_baseline --data /work/shared/data/mvtec_ad \\
        --out benchmarks/fisher_weights_bottle.json
"""
import argparse, json, time
from pathlib import Path
import torch
from raad.data import samples, split_train_validation
from raad.checkpoint import load_model
from raad.data import load_tensors
from raad.quant import conv_names, block_gradients, fisher_weights, weight_shares

def fisher_table(baseline, data, calib_images: int = 8, floors=(0.0, 1.0), batch_size: int = 2) -> dict:
    "{layer: {'floor 0': shares, 'floor 1': shares}} of `baseline` on its first `calib_images` training images."
    model, cfg = load_model(baseline)
    train_s, _ = split_train_validation(samples(data or cfg['data'], cfg['category'], 'train'), cfg['preset_config']['validation_fraction'], cfg['seed'])
    x = load_tensors(train_s[:calib_images], cfg['image_size'], progress=False)
    names = conv_names(model)
    _, grads = block_gradients(model, names, x, batch_size=batch_size)
    layers = {}
    for n in names:
        g = grads.pop(n)
        half = n == 'student.8' or g.shape[1] == 2 * cfg.get('out_channels', 384)
        layers[n] = {f'floor {f:g}': {k: round(v, 5) for k, v in weight_shares(fisher_weights(g, f), half=half).items()} for f in floors}
        layers[n]['zero_gradient_fraction'] = round((g == 0).float().mean().item(), 5)
    return {'baseline': str(baseline), 'baseline_steps': cfg.get('steps'), 'category': cfg['category'], 'data': str(data or cfg['data']), 'calib_images': calib_images,
            'seed': cfg['seed'], 'task_loss': 'efficientad_task_loss (Eq. 5-6, hard mining at the 0.999 quantile)',
            'weights': 'fisher_weights: g^2 / mean(g^2) + floor, per block', 'second_half': "share on channels C/2.. (student.8: the autoencoder half)",
            'layers': layers}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--baseline', default='checkpoints/bottle_baseline'); p.add_argument('--data', default=None, help="data root (default: the baseline's)")
    p.add_argument('--calib-images', type=int, default=8, help='as the cpu recalibration preset'); p.add_argument('--out', default='benchmarks/fisher_weights_bottle.json')
    p.add_argument('--threads', type=int, default=None)
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    t0 = time.time()
    res = fisher_table(a.baseline, a.data, a.calib_images)
    res['command'] = 'PYTHONPATH=. python tools/fisher_weights_table.py ' + ' '.join(argv if argv is not None else __import__('sys').argv[1:])
    res['seconds'] = round(time.time() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    print(f"{'layer':15s} {'zero grad':>9s} | floor 0: {'top0.1%':>7s} {'top1%':>6s} {'AE half':>7s} | floor 1: {'top0.1%':>7s} {'top1%':>6s} {'AE half':>7s}")
    for n, r in res['layers'].items():
        a0, a1 = r['floor 0'], r['floor 1']
        h = lambda s: f"{s['second_half']:7.3f}" if 'second_half' in s else f"{'':7s}"
        print(f"{n:15s} {r['zero_gradient_fraction']:9.3f} | {'':8s} {a0['top_0.1%']:7.3f} {a0['top_1%']:6.3f} {h(a0)} | {'':8s} {a1['top_0.1%']:7.3f} {a1['top_1%']:6.3f} {h(a1)}")

if __name__ == '__main__': main()
