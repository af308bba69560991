#!/usr/bin/env bash
# The four-digit run on a lent GPU, as one prepared command for the device tool (15 minutes of
# device time a session: a machine's start, this script and the transfers must fit).
#
#   bash bench/device_train.sh            # on the device machine: its python3 has torch
#   DEVICE=cpu MINUTES=0.2 PER_CELL=20 BATCH=64 bash bench/device_train.sh   # a dry run here
#
# Resumes models/ttm-multiply-4digit.pt (exported, so AdamW's moments restart and the learning
# rate re-warms), trains MINUTES at a large batch with bf16: the first 70% at LR, the rest at a
# fifth of it (the step count a minute buys is not known before the run, so the schedule is cut
# by time, not by steps). Then exports the model (no optimizer moments), evaluates PER_CELL
# fresh problems per cell into its stored table, and leaves under $OUT (default runs/device):
# ttm-multiply-4digit.pt, evaluate-4digit.json, train.log (one line per progress update) and
# throughput.jsonl (one JSON line: steps, examples, seconds, examples/s). The auxiliary carry
# loss comes with the model's config (weight 0.5); CARRY=W sets its weight, CARRY=0 drops it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-runs/device}
minutes=${MINUTES:-7}
batch=${BATCH:-1024}
lr=${LR:-1e-3}
per_cell=${PER_CELL:-2000}
device=${DEVICE:-cuda}
carry=${CARRY:+--carry-loss $CARRY}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if [ "$device" = cuda ]; then
    python3 -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')"
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
fi

phase() {  # phase MINUTES LR RESUME: one ttm.train run into $out/run.pt, its bar as lines
    python3 -m ttm.train --resume "$3" --out "$out/run.pt" --digits 4 --batch-size "$batch" \
        --lr "$2" --warmup-steps 200 --decay-steps 100000000 --bf16 on --device "$device" \
        --minutes "$1" --checkpoint-every 120 --eval-problems 4096 $carry 2>&1 \
        | tr '\r' '\n' | awk 'NR % 20 == 1 || /saved|error|training on/' >> "$out/train.log"
}

start=$(date +%s)
first=$(python3 -c "print($minutes * 0.7)")
phase "$first" "$lr" models/ttm-multiply-4digit.pt
phase "$(python3 -c "print($minutes - $first)")" "$(python3 -c "print($lr / 5)")" "$out/run.pt"
seconds=$(( $(date +%s) - start ))
python3 - "$out" "$seconds" <<'EOF'
import json, sys
from ttm import checkpoint
out, seconds = sys.argv[1], float(sys.argv[2])
first = checkpoint.read("models/ttm-multiply-4digit.pt")["trainer"]
last = checkpoint.read(f"{out}/run.pt")["trainer"]
examples = last["examples"] - first["examples"]
print(json.dumps({"bench": "device_train", "steps": last["step"] - first["step"],
                  "examples": examples, "seconds": seconds,
                  "examples_per_s": round(examples / seconds, 1)}),
      file=open(f"{out}/throughput.jsonl", "w"))
checkpoint.export(f"{out}/run.pt", f"{out}/ttm-multiply-4digit.pt")
EOF
rm "$out/run.pt"   # with AdamW's moments: three times the size, and not what ships
python3 -m ttm.evaluate "$out/ttm-multiply-4digit.pt" --per-cell "$per_cell" --store \
    --json "$out/evaluate-4digit.json" | tee -a "$out/train.log"
cat "$out/throughput.jsonl"
