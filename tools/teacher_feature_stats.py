"""What the student has to imitate on each data set: statistics of the teacher's features (PDN-S output, 56x56x384) on
training images, normalised per channel over those images as training does.

python tools/teacher_feature_stats.py --teacher checkpoints/teacher_lite0 --data-root ../shared/data --out benchmarks/teacher_features.json

- q999: the 0.999 quantile of the squared normalised features, the scale of what the hard loss (Eq. 5) keeps;
- kurtosis: the per-channel fourth moment (3 for a Gaussian), median and largest over channels;
- top_on_border: the share of those top 0.1 % elements that lie in the outer `ring` feature pixels (chance: `ring_area_share`);
- between_image: the median over channels of the variance of per-image channel means over the channel's variance
  (0: every image looks alike to the teacher; large: images differ as wholes, e.g. in exposure or scale).
"""
import argparse
import numpy as np
import torch
from raad.bench import BENCHMARK_SETS
from raad.data import ImageTransform, load_image, samples
from raad.pdn import pdn_small
from raad.runtime import cpu_description, save_json
from raad.teacher import load_teacher_weights, teacher_steps

def feature_stats(teacher, data_root, dataset: str, category: str, n: int = 24, ring: int = 3) -> dict:
    "The statistics above for `n` training images of `category` (every len/n-th, deterministic)."
    train = samples(f'{data_root}/{dataset}', category, 'train')
    pick = np.linspace(0, len(train) - 1, min(n, len(train))).round().astype(int)
    tfm = ImageTransform(256)
    x = torch.stack([tfm(load_image(train[i].path)) for i in pick])
    with torch.no_grad(): t = torch.cat([teacher(b) for b in x.split(8)])  # (N, 384, 56, 56)
    sd = t.std((0, 2, 3), keepdim=True)  # (1, 384, 1, 1)
    z = (t - t.mean((0, 2, 3), keepdim=True)) / sd
    z2 = z.pow(2)
    q = float(torch.kthvalue(z2.flatten(), int(0.999 * z2.numel())).values)
    big = z2 > q; inner = big.clone(); inner[:, :, ring:-ring, ring:-ring] = False
    kurt = z.pow(4).mean((0, 2, 3)).numpy()
    h = t.shape[-1]
    return {'images': int(len(pick)), 'q999': q, 'kurtosis_median': float(np.median(kurt)), 'kurtosis_max': float(kurt.max()),
            'top_on_border': float(inner.sum() / big.sum()), 'ring': ring, 'ring_area_share': 1 - ((h - 2 * ring) / h) ** 2,
            'between_image': float((t.mean((2, 3)).var(0) / sd.flatten().pow(2)).median())}

def stats_table(report: dict) -> str:
    head = ('| data | q0.999 of z² | kurtosis median / max | top 0.1 % on the border | between-image share of variance |\n'
            '|---|---|---|---|---|\n')
    rows = [f"| {k} | {r['q999']:.1f} | {r['kurtosis_median']:.1f} / {r['kurtosis_max']:.1f} | {100 * r['top_on_border']:.0f} % (area {100 * r['ring_area_share']:.0f} %) | "
            f"{100 * r['between_image']:.1f} % |" for k, r in report['sets'].items()]
    return head + '\n'.join(rows) + f"\n\n{report['images']} training images per set, teacher `{report['teacher']}` ({report['teacher_steps']} distillation steps); `{report['command']}`.\n"

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--teacher', default='checkpoints/teacher_lite0'); ap.add_argument('--data-root', default='../shared/data')
    ap.add_argument('--images', type=int, default=24); ap.add_argument('--out', required=True)
    a = ap.parse_args()
    teacher = pdn_small(384).eval(); teacher.load_state_dict(load_teacher_weights(a.teacher))
    rep = {'teacher': a.teacher, 'teacher_steps': teacher_steps(a.teacher), 'images': a.images, 'cpu': cpu_description(),
           'command': f'python tools/teacher_feature_stats.py --teacher {a.teacher} --data-root ../shared/data --out {a.out}',
           'sets': {f'{d}/{c}': feature_stats(teacher, a.data_root, d, c, a.images) for d, c in BENCHMARK_SETS}}
    save_json(a.out, rep); print(stats_table(rep))
