#!/usr/bin/env bash
# Accuracy of the int8 deployed models next to their float sources on the MVTec bottle test split
# (the shipped baseline and RAAD checkpoints): exports what is missing, runs `raad eval` (skipped where its
# metrics.json exists) and collects the four metrics in benchmarks/int8_accuracy.json.
# Usage: bash tools/int8_accuracy.sh [DATA_ROOT]   (default ../shared/data; the data are not in this repository)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data}/mvtec_ad
if [ ! -d "$data/bottle" ]; then echo "no MVTec bottle data under $data: nothing measured"; exit 1; fi
work=runs/int8_accuracy
for name in baseline raad; do
  src=checkpoints/bottle_$name
  [ -f "$work/${name}_int8/model.safetensors" ] || raad export --model "$src" --format int8 --data "$data" --category bottle --out "$work/${name}_int8"
  for m in "$src" "$work/${name}_int8"; do
    out=$work/eval_$(basename "$m")
    [ -f "$out/metrics.json" ] || raad eval --model "$m" --data "$data" --category bottle --out "$out" --device cpu
  done
done
python - "$work" <<'PY'
import json, sys
from pathlib import Path
work, keys = Path(sys.argv[1]), ('image_auroc', 'image_ap', 'pixel_auroc', 'au_pro')
res = {'data': 'MVTec AD bottle, full test split', 'command': 'bash tools/int8_accuracy.sh', 'models': {}}
for name in ('bottle_baseline', 'baseline_int8', 'bottle_raad', 'raad_int8'):
    m = json.loads((work/f'eval_{name}'/'metrics.json').read_text())
    res['models'][name] = {k: round(m[k], 4) for k in keys}
Path('benchmarks/int8_accuracy.json').write_text(json.dumps(res, indent=1) + '\n')
print(json.dumps(res, indent=1))
PY
