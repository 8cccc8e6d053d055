"Cross-checks of raad.metrics against scikit-learn and a brute-force AU-PRO, input errors, and speed at full resolution."
import math, time
import numpy as np
import pytest
import torch
from scipy import ndimage
from sklearn.metrics import average_precision_score, roc_auc_score
from raad.metrics import au_pro, evaluate_maps, image_ap, image_auroc, pixel_auroc, pro_curve, true_false_rates  # the small exact examples: nbs/02_metrics.ipynb

EIGHT = np.zeros((3, 3, 3), dtype=int); EIGHT[1] = 1


def brute_au_pro(maps, masks, limit=0.3):
    "AU-PRO from the definition: every distinct score a threshold, FPR and mean per-region overlap counted from scratch."
    regions, R = ndimage.label(masks, structure=EIGHT)
    sizes = np.bincount(regions.ravel())[1:]
    normal = masks == 0
    xs, ys = [0.], [0.]
    for t in np.unique(maps)[::-1]:
        pred = maps >= t
        xs.append((pred & normal).sum() / normal.sum())
        ys.append(np.mean([(pred & (regions == r)).sum() / sizes[r - 1] for r in range(1, R + 1)]))
    area, i = 0., 1
    while i < len(xs) and xs[i] <= limit:
        area += (xs[i] - xs[i - 1]) * (ys[i] + ys[i - 1]) / 2; i += 1
    if i < len(xs) and xs[i - 1] < limit:
        y = ys[i - 1] + (ys[i] - ys[i - 1]) * (limit - xs[i - 1]) / (xs[i] - xs[i - 1])
        area += (limit - xs[i - 1]) * (y + ys[i - 1]) / 2
    return area / limit


def random_case(seed, n=4, size=16, decimals=None):
    "Random blob masks (one image without defects) and noisy maps brighter on the defects."
    rng = np.random.default_rng(seed)
    masks = (ndimage.gaussian_filter(rng.standard_normal((n, size, size)), (0, 1.5, 1.5)) > 0.25).astype(np.uint8)
    masks[0] = 0
    maps = (rng.random((n, size, size)) + 0.4 * masks).astype(np.float32)
    if decimals is not None: maps = np.round(maps, decimals)
    return maps, masks


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('decimals', [None, 1])
def test_image_metrics_match_sklearn(seed, decimals):
    rng = np.random.default_rng(seed)
    labels = rng.random(50) < 0.4
    scores = rng.random(50) + 0.3 * labels
    if decimals is not None: scores = np.round(scores, decimals)
    assert image_auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert image_ap(scores, labels) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
    assert image_auroc(torch.tensor(scores), torch.tensor(labels)) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('decimals', [None, 1, 2])
def test_pixel_auroc_matches_sklearn(seed, decimals):
    maps, masks = random_case(seed, n=5, size=32, decimals=decimals)
    ref = roc_auc_score(masks.ravel(), maps.ravel())
    assert pixel_auroc(maps, masks) == pytest.approx(ref, abs=1e-9)
    assert pixel_auroc(torch.from_numpy(maps).half(), torch.from_numpy(masks)) == pytest.approx(
        roc_auc_score(masks.ravel(), maps.astype(np.float16).ravel()), abs=1e-9)


@pytest.mark.parametrize('seed', range(5))
@pytest.mark.parametrize('decimals', [None, 1, 2])
@pytest.mark.parametrize('limit', [0.3, 0.02, 1.0])
def test_au_pro_matches_brute_force(seed, decimals, limit):
    maps, masks = random_case(seed, decimals=decimals)
    assert abs(au_pro(maps, masks, limit) - brute_au_pro(maps, masks, limit)) < 1e-10


def test_pro_curve():
    maps, masks = random_case(0)
    fpr, pro = pro_curve(maps, masks)
    assert fpr[0] == 0 and pro[0] == 0 and fpr[-1] == 1 and pro[-1] == pytest.approx(1.0, abs=1e-12)
    assert (np.diff(fpr) >= 0).all() and (np.diff(pro) >= -1e-15).all()


@pytest.mark.parametrize('fn', [pixel_auroc, au_pro, lambda m, k: true_false_rates(m, k, 0.5)])
def test_map_input_errors(fn):
    maps, masks = random_case(0)
    with pytest.raises(ValueError, match='same shape'): fn(maps, masks[:, :8])
    with pytest.raises(ValueError, match='binary'): fn(maps, masks * 255)
    bad = maps.copy(); bad[1, 2, 3] = np.nan
    with pytest.raises(ValueError, match='NaN'): fn(bad, masks)
    with pytest.raises(ValueError, match=r'\(N, H, W\)'): fn(maps[None], masks[None])


def test_score_input_errors():
    with pytest.raises(ValueError, match='same length'): image_auroc(np.zeros(3), np.array([0, 1]))
    with pytest.raises(ValueError, match='one class'): image_auroc(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match='one class'): image_ap(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match='region'): au_pro(np.zeros((2, 8, 8)), np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match='both'): pixel_auroc(np.zeros((2, 8, 8)), np.ones((2, 8, 8)))
    with pytest.raises(ValueError, match='fpr_limit'): au_pro(*random_case(0), fpr_limit=1.5)
    with pytest.raises(ValueError, match='without maps'): evaluate_maps(np.r_[0., 1.], np.r_[0, 1], masks=np.ones((2, 4, 4)))


def test_speed_full_resolution():
    "100 maps of 512x512 (26M pixels): AU-PRO and pixel AUROC in a few seconds each."
    rng = np.random.default_rng(0)
    maps = rng.random((100, 512, 512), dtype=np.float32)
    masks = np.zeros(maps.shape, np.uint8)
    masks[::3, 100:180, 200:260] = 1; masks[1::5, 300:310, 10:400] = 1; masks[2::7, 40:44, 40:44] = 1
    maps[masks == 1] += 0.3
    t = time.perf_counter(); a = au_pro(maps, masks); dt = time.perf_counter() - t
    # uniform noise, defects +0.3: at FPR f = 1 - t the defect pixels above t are a share 0.3 + f, so AU-PRO(0.3) = 0.45
    assert a == pytest.approx(0.45, abs=0.02) and dt < 15, (a, dt)
    t = time.perf_counter(); p = pixel_auroc(maps, masks); dt = time.perf_counter() - t
    assert p == pytest.approx(1 - 0.7 ** 2 / 2, abs=0.005) and dt < 15, (p, dt)  # P(U + 0.3 > U') = 0.755
