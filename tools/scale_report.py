"""Step-size statistics of RAAD checkpoints (issue 14): per quantized convolution, the weight step sizes over their min-max value,
the grid levels used, channels quantized to about zero and (old-format checkpoints) step sizes with a flipped sign.

    PYTHONPATH=. python tools/scale_report.py checkpoints/bottle_raad [more checkpoints ...] [--json out.json]
"""
import argparse, json, sys
from pathlib import Path
import numpy as np
import torch
from safetensors.torch import load_file
from raad.checkpoint import load_model
from raad.quant import scale_report

def summary(report: dict) -> dict:
    "Totals over the layers of a `scale_report`."
    w8 = [r['w_ratio_minmax']['median'] for r in report.values() if r['bits'][0] == 8 and 'w_ratio_minmax' in r]
    return {'sign_flips': sum(r['sign_flips'] for r in report.values()),
            'zero_channels': sum(r.get('zero_channels', 0) for r in report.values()),
            'max_w_ratio_minmax': max(r['w_ratio_minmax']['max'] for r in report.values() if 'w_ratio_minmax' in r),
            'median_w_ratio_minmax_8bit': float(np.median(w8)) if w8 else None,
            'min_w_levels_8bit': min((r['w_levels'] for r in report.values() if r['bits'][0] == 8 and 'w_levels' in r), default=None)}

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkpoints', nargs='+'); p.add_argument('--json', default=None, help='write the full reports here')
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    out = {}
    for ck in a.checkpoints:
        model, cfg = load_model(ck)
        if not cfg.get('bits'): sys.exit(f"{ck}: not a quantized (RAAD) checkpoint")
        rep = scale_report(model, raw=load_file(str(Path(ck)/'model.safetensors')))
        out[ck] = {'summary': summary(rep), 'layers': rep}
        print(f"{ck}: {json.dumps(out[ck]['summary'])}")
        for n, r in rep.items():
            if 'w_ratio_minmax' in r:
                print(f"  {n:15s} bits {r['bits'][0]}/{r['bits'][1]}  step/minmax median {r['w_ratio_minmax']['median']:6.2f} max {r['w_ratio_minmax']['max']:7.2f}"
                      f"  levels {r['w_levels']:4d}  zero channels {r['zero_channels']:3d}  sign flips {r['sign_flips']:3d}")
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + '\n')

if __name__ == '__main__': main()
