"""Image-level accuracy of the ONNX exports of the shipped RAAD model on MVTec AD bottle, next to the torch fake-quant model.

python tools/onnx_int8_accuracy.py [--data ../shared/data/mvtec_ad] [--out benchmarks/onnx_int8_accuracy.json]

Exports checkpoints/bottle_raad as QDQ ONNX twice (RAAD's own zero points; symmetric weights for OpenVINO's int8
kernels) into runs/onnx_int8_accuracy, scores the bottle test split (256x256 inputs, image score = the map's max)
with the fp32 baseline, torch fake-quant, ONNX Runtime and OpenVINO, and writes I-AUROC / I-AP per runtime. Image-level only: the
pixel metrics need maps at native resolution, which `raad eval` computes for torch models.
"""
import argparse, json, sys
from pathlib import Path
import numpy as np
import torch
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from raad.data import samples, load_image, ImageTransform
from raad.metrics import image_auroc, image_ap
from raad.onnx_deploy import export_onnx_int8, OnnxAnomalyModel, AnomalyMapHead
from raad.runtime import save_json
from raad.checkpoint import load_model

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default=str(ROOT.parent/'shared'/'data'/'mvtec_ad')); p.add_argument('--model', default=str(ROOT/'checkpoints'/'bottle_raad'))
    p.add_argument('--baseline', default=str(ROOT/'checkpoints'/'bottle_baseline'), help='the float model RAAD was fine-tuned from')
    p.add_argument('--out', default=None); p.add_argument('--work', default=str(ROOT/'runs'/'onnx_int8_accuracy'))
    a = p.parse_args()
    test = samples(a.data, 'bottle', 'test')
    if not test: sys.exit(f'no MVTec AD bottle test images under {a.data}: nothing measured')
    labels = np.array([s.label for s in test])
    x = torch.stack([ImageTransform(256)(load_image(s.path)) for s in test])
    model, cfg = load_model(a.model)
    base, _ = load_model(a.baseline)
    with torch.no_grad(): scores = {'torch fake-quant': torch.cat([AnomalyMapHead(model)(b)[1] for b in x.split(8)]).numpy(),
                                    'torch fp32 baseline': torch.cat([AnomalyMapHead(base)(b)[1] for b in x.split(8)]).numpy()}
    work = Path(a.work)
    for name, sym in (('own zero points', False), ('symmetric weights', True)):
        d = work/('int8_sym' if sym else 'int8')
        if not (d/'model.onnx').is_file(): export_onnx_int8(a.model, d, symmetric=sym)
        for rt in ('onnxruntime', 'openvino'):
            m = OnnxAnomalyModel(d, rt, threads=2)
            scores[f'{rt} int8, {name}'] = np.concatenate([m(b.numpy())[1] for b in x.split(8)])
    ref = scores['torch fake-quant']
    rel = lambda m: str(Path(m).relative_to(ROOT)) if Path(m).is_relative_to(ROOT) else m
    res = {'model': rel(a.model), 'baseline': rel(a.baseline), 'data': 'mvtec_ad/bottle test',
           'n_images': len(test), 'threshold': cfg.get('threshold'), 'results': {
               k: {'image_auroc': image_auroc(v, labels), 'image_ap': image_ap(v, labels), 'max_score_diff_vs_torch': float(np.abs(v - ref).max()),
                   'verdicts_changed': int(((v >= cfg['threshold']) != (ref >= cfg['threshold'])).sum())} for k, v in scores.items()}}
    res['results']['torch fp32 baseline'].update(max_score_diff_vs_torch=None, verdicts_changed=None)  # another model, with its own threshold
    if a.out: save_json(a.out, res)
    for k, r in res['results'].items():
        print(f"{k:40s} I-AUROC {100 * r['image_auroc']:.2f}  I-AP {100 * r['image_ap']:.2f}  max |score diff| {r['max_score_diff_vs_torch']}  verdicts changed {r['verdicts_changed']}")

if __name__ == '__main__': main()
