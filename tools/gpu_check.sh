#!/bin/bash
# One prepared session on a GPU machine (issues #3, #6): the training-step time on the GPU; a bottle baseline trained on the
# GPU for as many steps as TRAIN_SECONDS allow (paper preset hyper-parameters, fewer steps) and its evaluation; `raad speed` on
# the GPU and on the host CPU (2 threads at batch 1, then all threads); and, where RAAD_MODEL is given, the accuracy of its
# int8 exports with 7- and 8-bit weight grids on that CPU next to the fake-quant model.
#   tools/gpu_check.sh DATA_ROOT OUT [TRAIN_SECONDS]
# DATA_ROOT holds mvtec_ad/bottle. Results: OUT/results.tar (JSON files, refreshed after every step) and the log on stdout.
# Dry run on a CPU: DEVICE=cpu RUNS=1 STEPS=4 STEP_N=1 STEP_ARGS=--no-bf16 tools/gpu_check.sh DATA OUT
DATA=${1:?data root}; OUT=${2:?out folder}; TRAIN_SECONDS=${3:-100}
DEVICE=${DEVICE:-cuda}; RUNS=${RUNS:-30}; WORK=${WORK:-/tmp/raad_gpu}; R="$WORK/results"
mkdir -p "$OUT" "$R"
if ! command -v raad >/dev/null; then  # the raad package on PYTHONPATH without its console script (a bare GPU machine)
  mkdir -p "$WORK/bin"; printf '#!/bin/sh\nexec python3 -c "import sys; from raad.cli import main; sys.exit(main(sys.argv[1:]))" "$@"\n' > "$WORK/bin/raad"
  chmod +x "$WORK/bin/raad"; export PATH="$WORK/bin:$PATH"
fi
t0=$(date +%s)
stamp() { tar cf "$OUT/results.tar" -C "$WORK" results; echo "== $(( $(date +%s) - t0 )) s: $*"; }
stamp "machine"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null; nproc
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'; grep -m1 "model name" /proc/cpuinfo
stamp "step time"; timeout 120 raad step-time --device "$DEVICE" --n "${STEP_N:-20}" $STEP_ARGS --out "$R/step_time_$DEVICE.json"
if [ -z "$STEPS" ]; then
  STEPS=$(python3 -c "import json; s=json.load(open('$R/step_time_$DEVICE.json'))['seconds_per_step']['fp32']; print(max(1000, min(70000, int($TRAIN_SECONDS / (1.3 * s)) // 1000 * 1000)))")
  STEPS=${STEPS:-3000}  # the step time could not be measured
fi
stamp "train $STEPS steps"; timeout $(( TRAIN_SECONDS * 2 + 60 )) raad train --data "$DATA/mvtec_ad" --category bottle --preset paper --steps "$STEPS" \
  --seed 0 --device "$DEVICE" --out "$WORK/bottle_base" --quiet
cp "$WORK/bottle_base/log.jsonl" "$R/train_log.jsonl"
if [ ! -f "$WORK/bottle_base/model.safetensors" ]; then  # keep the speed measurements: they need a model, not a good one
  stamp "training did not finish: a 4-step model for the speed runs"; rm -rf "$WORK/bottle_base"
  raad train --data "$DATA/mvtec_ad" --category bottle --preset tiny --seed 0 --device "$DEVICE" --out "$WORK/bottle_base" --quiet
fi
stamp "eval"; raad eval --model "$WORK/bottle_base" --data "$DATA/mvtec_ad" --category bottle --device "$DEVICE" --out "$WORK/eval_base" --quiet
cp "$WORK/eval_base/metrics.json" "$R/metrics_baseline_${STEPS}steps.json"
stamp "speed $DEVICE"; raad speed --model "$WORK/bottle_base" --data "$DATA/mvtec_ad" --category bottle --device "$DEVICE" --runs "$RUNS" --quiet --out "$R/speed_$DEVICE.json"
stamp "speed cpu, 2 threads"; raad speed --model "$WORK/bottle_base" --data "$DATA/mvtec_ad" --category bottle --device cpu --threads 2 --batches 1 \
  --runs "$RUNS" --quiet --out "$R/speed_cpu_2threads.json"
if [ -n "$RAAD_MODEL" ]; then
  stamp "RAAD int8 accuracy"
  raad eval --model "$RAAD_MODEL" --data "$DATA/mvtec_ad" --category bottle --device "$DEVICE" --out "$WORK/eval_raad" --quiet && cp "$WORK/eval_raad/metrics.json" "$R/metrics_raad_fakequant.json"
  for b in 7 8; do
    raad export --model "$RAAD_MODEL" --format int8 --weight-bits $b --data "$DATA/mvtec_ad" --category bottle --out "$WORK/raad_int8_w$b" && \
    raad eval --model "$WORK/raad_int8_w$b" --data "$DATA/mvtec_ad" --category bottle --device cpu --out "$WORK/eval_raad_int8_w$b" --quiet && \
    cp "$WORK/eval_raad_int8_w$b/metrics.json" "$R/metrics_raad_int8_w$b.json"
  done
fi
stamp "speed cpu, all threads"; raad speed --model "$WORK/bottle_base" --data "$DATA/mvtec_ad" --category bottle --device cpu --runs "$RUNS" --quiet \
  --out "$R/speed_cpu_all.json"
stamp "done"
