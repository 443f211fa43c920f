#!/usr/bin/env bash
# The GPU check: one run that tells what a machine's adapter is and how the engine does on it,
# written to ONE JSON file. On a real GPU (the default) it stays under 8 minutes:
#   1. the adapter, its features and limits, the kernel variants the engine chooses for them
#      (bench/gpu-info.js: conv algorithm per ResNet-50 layer shape, matmul and f16 variants,
#      subgroups, the kernels one inference and one training step dispatch);
#   2. the kernel tests (node tools/test.mjs);
#   3. bench/resnet.js (the standard set, f32 and f16 inference rows), bench/train.js, bench/knn.js,
#      bench/data.js (the loader against torchvision's where it imports, with the machine's cores);
#   4. where PyTorch with CUDA is importable, the PyTorch peer (tools/torch_resnet.py, fp32,
#      TF32 off) on the same cases, and the side-by-side ratios against the design goals
#      (training >= 50% of PyTorch's images/s, inference >= 70%; docs/performance.md).
#
#   bash bench/gpu-check.sh [--quick] [--cpu-peer] [RESULT.json]
#
# RESULT.json defaults to $OUT/gpu-check.json where $OUT is set, else ./gpu-check.json.
# --quick: small cases and the engine's tests only (for CPU adapters such as lavapipe, where the
# full set takes far longer). --cpu-peer: run the PyTorch peer on the CPU when there is no CUDA
# (2 threads; for same-host ratios). Each step has a time limit; a step that fails or times out
# is recorded with its exit status and the check goes on; the limits are cut to a total budget.
set -uo pipefail
cd "$(dirname "$0")/.."

QUICK=0
CPU_PEER=0
RESULT=""
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --cpu-peer) CPU_PEER=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "gpu-check: unknown option $arg" >&2; exit 2 ;;
    *) RESULT="$arg" ;;
  esac
done
if [ -z "$RESULT" ]; then RESULT="${OUT:+$OUT/}gpu-check.json"; fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
STEPS="$WORK/steps.jsonl"
: > "$STEPS"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# The whole check's time budget: each step's limit is cut to what is left of it (the full check
# must finish in 8 minutes on a real GPU; --quick, for CPU adapters, has 20).
if [ "$QUICK" = 1 ]; then BUDGET=1200; else BUDGET=465; fi
DEADLINE=$((SECONDS + BUDGET))

# step NAME LIMIT_S CMD...: runs CMD with a time limit, its output in $WORK/NAME.log, and records
# {name, command, rc, seconds}; skipped (recorded so) when the budget is spent.
step() {
  local name="$1" limit="$2"
  shift 2
  local left=$((DEADLINE - SECONDS))
  if [ "$left" -lt 15 ]; then
    echo "== $name: skipped, the time budget is spent" >&2
    node -e 'console.log(JSON.stringify({ name: process.argv[1], command: process.argv[2], skipped: "the time budget was spent" }))' "$name" "$*" >> "$STEPS"
    return
  fi
  if [ "$limit" -gt "$left" ]; then limit=$left; fi
  echo "== $name: $*" >&2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$WORK/$name.log" 2>&1
  local rc=$?
  local dt=$((SECONDS - t0))
  tail -n 3 "$WORK/$name.log" >&2
  echo "   rc $rc, ${dt} s" >&2
  node -e 'console.log(JSON.stringify({ name: process.argv[1], command: process.argv[2], rc: Number(process.argv[3]), seconds: Number(process.argv[4]), timed_out: process.argv[3] === "124" }))' \
    "$name" "$*" "$rc" "$dt" >> "$STEPS"
}

if [ ! -f dist/node/index.js ] || [ ! -d build/test ]; then step build 300 node tools/build.mjs; fi

if [ "$QUICK" = 1 ]; then
  step info 300 node bench/gpu-info.js --quick --json "$WORK/info.json"
  step tests 420 node tools/test.mjs engine/
  step resnet 420 node bench/resnet.js --quick --no-tfjs --json "$WORK/resnet.json"
  step train 300 node bench/train.js --quick --steps 2 --json "$WORK/train.json"
  step knn 300 node bench/knn.js --db 5000 --queries 50 --cpu-queries 20 --no-hnsw --json "$WORK/knn.json"
  step data 120 node bench/data.js --workers 2 --eval-images 0 --stage-images 0 --json "$WORK/data.json"
  CASES=quick
else
  step info 120 node bench/gpu-info.js --json "$WORK/info.json"
  step tests 240 node tools/test.mjs
  step resnet 150 node bench/resnet.js --json "$WORK/resnet.json"
  step train 60 node bench/train.js --json "$WORK/train.json"
  step knn 60 node bench/knn.js --db 100000 --queries 1000 --cpu-queries 10 --no-hnsw --json "$WORK/knn.json"
  step data 60 node bench/data.js --workers 4,8 --eval-images 0 --stage-images 0 --json "$WORK/data.json"
  CASES=standard
fi

if "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step torch 150 "$PY" tools/torch_resnet.py --device cuda --cases "$CASES"
elif [ "$CPU_PEER" = 1 ] && "$PY" -c 'import torch, torchvision' 2>/dev/null; then
  step torch 600 "$PY" tools/torch_resnet.py --device cpu --threads 2 --cases "$CASES"
else
  echo '{"name":"torch","skipped":"PyTorch with CUDA is not importable here (--cpu-peer runs it on the CPU)"}' >> "$STEPS"
fi

node bench/gpu-check-report.js "$WORK" "$RESULT" "$QUICK"
