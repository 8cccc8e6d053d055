"""Wall time of a small benchmark grid (`raad bench`, tiny preset, 2 sets x 2 seeds) run serially and with `--ray` on a local Ray instance.

    PYTHONPATH=. python tools/ray_grid_time.py --out runs/ray_time [--data-root ../shared/data] [--ray-cpus 1]

Without --data-root the sets are synthetic fixtures (raad.data.make_mvtec_fixture, 256², 4 training, 4 test images) under the real
sets' names (mvtec_ad/bottle, mpdd/metal_plate). Each mode starts from an empty folder, as a separate `raad` process (the Ray time
includes starting Ray). Prints (and writes to OUT/timing.json) both times and whether the two results.json hold the same runs."""
import argparse, json, os, platform, shutil, subprocess, sys, time
from pathlib import Path

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--out', default='runs/ray_time'); p.add_argument('--data-root', default=None)
    p.add_argument('--ray-cpus', type=float, default=1); p.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    a = p.parse_args()
    out = Path(a.out).resolve(); out.mkdir(parents=True, exist_ok=True)
    root = Path(a.data_root).resolve() if a.data_root else out/'data'
    if not a.data_root and not (root/'mpdd'/'metal_plate').exists():
        from raad.data import make_mvtec_fixture
        make_mvtec_fixture(root/'mvtec_ad', 'bottle', size=256, n_train=4, n_good=2, n_bad=2, seed=1)
        make_mvtec_fixture(root/'mpdd', 'metal_plate', size=256, n_train=4, n_good=2, n_bad=2, seed=2)
    res = {'data': str(root) if a.data_root else 'synthetic fixtures (256², 4 train, 4 test images per set)', 'preset': 'tiny',
           'sets': ['mvtec_ad/bottle', 'mpdd/metal_plate'], 'seeds': a.seeds, 'cpu_count': os.cpu_count(), 'cpu': platform.processor(),
           'load_average_before': os.getloadavg()}
    rows = {}
    for mode in ('serial', 'ray'):
        run = out/mode; shutil.rmtree(run, ignore_errors=True)
        cmd = [sys.executable, '-m', 'raad.cli', 'bench', '--data-root', str(root), '--out', str(run), '--preset', 'tiny',
               '--sets', 'bottle', 'metal_plate', '--seeds', *map(str, a.seeds), '--quiet']
        if mode == 'ray': cmd += ['--ray', '--ray-cpus', str(a.ray_cpus)]
        t0 = time.perf_counter(); subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL); res[f'{mode}_seconds'] = round(time.perf_counter() - t0, 1)
        rows[mode] = json.loads((run/'results.json').read_text())
        print(mode, res[f'{mode}_seconds'], 's', flush=True)
    key = lambda r: (r['dataset'], r['category'], r['seed'], r['steps'])
    res['same_runs'] = [key(r) for r in rows['serial']] == [key(r) for r in rows['ray']]
    res['max_metric_difference'] = max(abs(s[k] - r[k]) for s, r in zip(rows['serial'], rows['ray']) for k in ('image_auroc', 'image_ap', 'pixel_auroc', 'au_pro'))
    res['ray_cpus_per_run'] = a.ray_cpus; res['load_average_after'] = os.getloadavg()
    (out/'timing.json').write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))

if __name__ == '__main__': main()
