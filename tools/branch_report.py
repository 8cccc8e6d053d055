"""Which of EfficientAD's two maps finds which defects: a model evaluated with the combined map and with each map alone,
with the image AUROC of every defect type and the share of good test images whose map has its maximum on the image border
(`raad.evaluate.predict(branch=...)`), written to one JSON file.

python tools/branch_report.py --model runs/tile_lr/magnetic_tile_tile_seed0/snapshots/step_001000 \
    --data ../shared/data/magnetic_tile --category tile --out benchmarks/branches_tile.json
python tools/branch_report.py --table benchmarks/branches_tile.json      # the markdown table of a saved report
"""
import argparse, json
from pathlib import Path
import numpy as np
from raad.data import samples as dataset_samples
from raad.evaluate import BRANCHES, predict
from raad.hub import load_pretrained
from raad.metrics import evaluate_maps, image_auroc_by_type
from raad.runtime import cpu_description, save_json

METRICS = ('image_auroc', 'pixel_auroc', 'au_pro')
RING = 7 / 64  # the maps' outer 4 padding pixels and 3 feature pixels on the padded 64-pixel grid (`combine_maps`), as a share of each side

def on_border(m: np.ndarray, ring: float = RING) -> bool:
    "Whether the maximum of map `m` (H, W) lies in its outer `ring` share of each side."
    i, j = np.unravel_index(np.argmax(m), m.shape); h, w = m.shape
    return min(i, h - 1 - i) < ring * h or min(j, w - 1 - j) < ring * w

NAMES = {'both': 'both (mean)', 'local': 'local (teacher-student)', 'global': 'global (autoencoder)'}

def branch_report(model_path, data, category: str, progress: bool = True) -> dict:
    "Metrics and per-defect-type image AUROC of the model in `model_path` on the test split of `category`, for each branch."
    model, cfg = load_pretrained(str(model_path))
    report = {'model': str(model_path), 'data': str(data), 'category': category, 'cpu': cpu_description(),
              'recipe': {k: cfg.get(k) for k in ('preset', 'seed', 'steps', 'teacher', 'teacher_steps')} | {'lr': cfg.get('preset_config', {}).get('lr')},
              'branches': {}}
    test = dataset_samples(data, category, 'test')
    for b in BRANCHES:
        r = predict(model, test, image_size=cfg.get('image_size', 256), branch=b, progress=progress)
        m = evaluate_maps(r['scores'], r['labels'], r['maps'], r['masks'])
        good = [mp for mp, l in zip(r['maps'], r['labels']) if l == 0]
        report['branches'][b] = {**{k: m[k] for k in METRICS}, 'image_auroc_by_type': image_auroc_by_type(r['scores'], r['labels'], r['defect_types']),
                                 'good_max_on_border': float(np.mean([on_border(mp) for mp in good]))}  # chance: the ring's area share
    report['ring_area_share'] = 1 - (1 - 2 * RING) ** 2
    return report

def branch_table(report: dict) -> str:
    "Markdown: one row per branch, I-AUROC / P-AUROC / AU-PRO and the I-AUROC of each defect type, in percent."
    types = list(next(iter(report['branches'].values()))['image_auroc_by_type'])
    head = ('| map | I-AUROC | P-AUROC | AU-PRO | ' + ' | '.join(f'I-AUROC {t}' for t in types) + ' | good images with their maximum on the border |\n|---|'
            + '---|' * (4 + len(types)) + '\n')
    row = lambda b, r: (f"| {NAMES[b]} | " + ' | '.join(f'{100 * r[k]:.1f}' for k in METRICS) + ' | '
                        + ' | '.join(f"{100 * r['image_auroc_by_type'][t]:.1f}" for t in types) + f" | {100 * r['good_max_on_border']:.0f} % |")
    rows = '\n'.join(row(b, report['branches'][b]) for b in BRANCHES if b in report['branches'])  # the saved file's keys are sorted
    return head + rows + f"\n\nThe border: the outer {100 * RING:.1f} % of each side, {100 * report['ring_area_share']:.0f} % of the image's area (what a maximum placed at random would give).\n"

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model'); ap.add_argument('--data'); ap.add_argument('--category'); ap.add_argument('--out')
    ap.add_argument('--table', metavar='REPORT_JSON', help='print the table of a saved report and stop')
    a = ap.parse_args()
    if a.table: print(branch_table(json.loads(Path(a.table).read_text()))); raise SystemExit
    if not (a.model and a.data and a.category and a.out): ap.error('--model, --data, --category and --out are needed (or --table)')
    rep = branch_report(a.model, a.data, a.category)
    save_json(a.out, rep); print(branch_table(rep))
