#!/usr/bin/env bash
# One command: builds bench_train_step, runs it, runs the PyTorch eager peer on the same weights
# and batch, and prints one table of per-phase times and ratios (bench/report_train_step.py).
#
#   bench/run_train_step.sh [--build DIR] [--dir DIR] [--iters N] [--warmup N] [--threads N]
#                           [--no-build] [--no-torch-variants] [--quiet-wait S] [--bf16]
#
#   --build DIR    CMake build folder (default build-bench; configured if missing)
#   --dir DIR      where the model, inputs and results go (default: a new temp dir)
#   --no-build     use the bench_train_step already in the build folder
#   --no-torch-variants  only PyTorch's default AdamW (not also foreach=True)
#   --bf16         also run both sides with bf16 autocast (cppformers_bf16, torch_bf16)
#   --quiet-wait S before each timed program, wait up to S seconds (default 600) for the machine
#                  to be idle (< 15% CPU busy over 2 s); 0 disables the wait. The busy level and
#                  load each program started at are printed.
#
# PyTorch runs (each a separate process), both on OpenBLAS-OpenMP with its AVX-512 kernels
# (LD_LIBRARY_PATH=.../openblas-openmp OPENBLAS_CORETYPE=SkylakeX; Debian's torch otherwise
# uses the reference BLAS), --threads threads:
#   torch          torch.optim.AdamW as Trainer uses it (torch's default implementation)
#   torch_foreach  the same with foreach=True (torch's multi-tensor AdamW)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
DIR=""
ITERS=5
WARMUP=1
THREADS=2
QUIET_WAIT=600
BUILD_IT=1
VARIANTS=1
BF16=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$(realpath -m "$2"); shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --iters) ITERS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --quiet-wait) QUIET_WAIT=$2; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    --no-torch-variants) VARIANTS=0; shift ;;
    --bf16) BF16=1; shift ;;
    *) echo "run_train_step.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n $DIR ]] || DIR=$(mktemp -d /tmp/cppformers-bench-XXXXXX)
mkdir -p "$DIR"
rm -f "$DIR"/*_train_results.json
OB_OMP=/usr/lib/x86_64-linux-gnu/openblas-openmp
PY=/usr/bin/python3

cpu_busy() {  # percent of all CPUs busy over 2 seconds, from /proc/stat
  local a b
  read -r -a a < <(head -1 /proc/stat)
  sleep 2
  read -r -a b < <(head -1 /proc/stat)
  local ta=0 tb=0 i
  for i in 1 2 3 4 5 6 7 8; do ta=$((ta + a[i])); tb=$((tb + b[i])); done
  local idle=$(((b[4] + b[5]) - (a[4] + a[5]))) total=$((tb - ta))
  echo $((100 * (total - idle) / (total > 0 ? total : 1)))
}
wait_quiet() {  # label
  local start=$SECONDS busy
  busy=$(cpu_busy)
  while ((QUIET_WAIT > 0 && busy >= 15 && SECONDS - start < QUIET_WAIT)); do busy=$(cpu_busy); done
  echo "== $1: machine ${busy}% busy after waiting $((SECONDS - start)) s; $(cut -d' ' -f1-3 /proc/loadavg) load"
}

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}"
echo "== load before: $(uptime)"
if [[ $BUILD_IT == 1 ]]; then
  [[ -f $BUILD/build.ninja || -f $BUILD/Makefile ]] || cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCPPFORMERS_TESTS=OFF
  cmake --build "$BUILD" --target bench_train_step
fi

wait_quiet cppformers
OMP_NUM_THREADS=$THREADS "$BUILD/bench/bench_train_step" --dir "$DIR" --iters "$ITERS" --warmup "$WARMUP" \
  --threads "$THREADS"
if [[ $BF16 == 1 ]]; then
  wait_quiet "cppformers bf16"
  OMP_NUM_THREADS=$THREADS "$BUILD/bench/bench_train_step" --dir "$DIR" --iters "$ITERS" --warmup "$WARMUP" \
    --threads "$THREADS" --no-peak --bf16
fi

torch_run() {  # tag, extra args...
  local tag=$1; shift
  wait_quiet "PyTorch $tag"
  LD_LIBRARY_PATH=$OB_OMP OPENBLAS_CORETYPE=SkylakeX "$PY" "$ROOT/bench/peers/torch_train_step.py" --dir "$DIR" \
    --tag "$tag" --threads "$THREADS" --iters "$ITERS" --warmup "$WARMUP" "$@"
}
torch_run torch
[[ $VARIANTS == 0 ]] || torch_run torch_foreach --foreach
[[ $BF16 == 0 ]] || torch_run torch_bf16 --bf16

echo "== load after: $(uptime)"
echo
"$PY" "$ROOT/bench/report_train_step.py" "$DIR"
