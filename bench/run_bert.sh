#!/usr/bin/env bash
# One command: builds bench_bert_forward, runs it, runs the PyTorch and ONNX Runtime peers on
# the same weights and inputs, and prints one table (bench/report_bert.py).
#
#   bench/run_bert.sh [--build DIR] [--dir DIR] [--iters N] [--warmup N] [--threads N]
#                     [--profile] [--refblas] [--no-torch-variants]
#
#   --build DIR    CMake build folder (default build-bench; configured if missing)
#   --dir DIR      where the model, inputs, outputs and results go (default: a new temp dir)
#   --no-build     use the bench_bert_forward already in the build folder
#   --profile      also print cppformers' per-op time profile
#   --refblas      also time PyTorch on Debian's reference BLAS (batch 1 only; slow)
#   --no-torch-variants  only the PyTorch configuration expected to be fastest
#   --quiet-wait S before each timed program, wait up to S seconds (default 600) for the machine
#                  to be idle (< 15% CPU busy over 2 s: other users' builds skew every number);
#                  0 disables the wait. The busy level each program started at is printed.
#
# PyTorch configurations (each a separate process):
#   torch_sysblas       libblas.so.3 as the system resolves it (update-alternatives), env's OPENBLAS_CORETYPE
#   torch_ob-omp_env    LD_LIBRARY_PATH=.../openblas-openmp, the environment's OPENBLAS_CORETYPE
#   torch_ob-omp_skx    LD_LIBRARY_PATH=.../openblas-openmp, OPENBLAS_CORETYPE=SkylakeX (AVX-512)
#   torch_mkldnn        as torch_ob-omp_skx, Linear layers through torch's oneDNN (to_mkldnn)
# The table's PyTorch peer is the fastest of them per case.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build-bench
DIR=""
ITERS=20
WARMUP=3
THREADS=2
PROFILE=""
REFBLAS=0
VARIANTS=1
QUIET_WAIT=600
BUILD_IT=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$(realpath -m "$2"); shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --iters) ITERS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --profile) PROFILE=--profile; shift ;;
    --refblas) REFBLAS=1; shift ;;
    --no-torch-variants) VARIANTS=0; shift ;;
    --quiet-wait) QUIET_WAIT=$2; shift 2 ;;
    --no-build) BUILD_IT=0; shift ;;
    *) echo "run_bert.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -n $DIR ]] || DIR=$(mktemp -d /tmp/cppformers-bench-XXXXXX)
mkdir -p "$DIR"
rm -f "$DIR"/*_results.json
OB_OMP=/usr/lib/x86_64-linux-gnu/openblas-openmp
PY=/usr/bin/python3
ENV_CORETYPE=${OPENBLAS_CORETYPE-}

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

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs; OPENBLAS_CORETYPE=${ENV_CORETYPE:-(unset)}"
echo "== load before: $(uptime)"
if [[ $BUILD_IT == 1 ]]; then
  [[ -f $BUILD/build.ninja || -f $BUILD/Makefile ]] || cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCPPFORMERS_TESTS=OFF
  cmake --build "$BUILD" --target bench_bert_forward
fi

wait_quiet cppformers
OMP_NUM_THREADS=$THREADS "$BUILD/bench/bench_bert_forward" --dir "$DIR" --iters "$ITERS" --warmup "$WARMUP" \
  --threads "$THREADS" $PROFILE

torch_run() {  # tag, extra args..., with the environment given by the caller
  local tag=$1; shift
  wait_quiet "PyTorch $tag"
  "$PY" "$ROOT/bench/peers/torch_bert.py" --dir "$DIR" --tag "$tag" --threads "$THREADS" \
    --iters "$ITERS" --warmup "$WARMUP" "$@"
}
if [[ $VARIANTS == 1 ]]; then
  torch_run torch_sysblas
  LD_LIBRARY_PATH=$OB_OMP torch_run torch_ob-omp_env
fi
LD_LIBRARY_PATH=$OB_OMP OPENBLAS_CORETYPE=SkylakeX torch_run torch_ob-omp_skx
if [[ $VARIANTS == 1 ]]; then
  LD_LIBRARY_PATH=$OB_OMP OPENBLAS_CORETYPE=SkylakeX torch_run torch_mkldnn --mkldnn
fi
if [[ $REFBLAS == 1 ]]; then
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas torch_run torch_refblas --cases b1 --iters 3 --warmup 1
fi

echo "== ONNX Runtime"
if [[ ! -d $ROOT/bench/peers/node_modules/onnxruntime-node ]]; then
  (cd "$ROOT/bench/peers" && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --no-audit --no-fund)
fi
[[ -f $DIR/bert.onnx ]] || "$PY" "$ROOT/bench/peers/torch_bert.py" --dir "$DIR" --export-onnx "$DIR/bert.onnx"
wait_quiet "ONNX Runtime"
node "$ROOT/bench/peers/ort_bert.js" --dir "$DIR" --model "$DIR/bert.onnx" --threads "$THREADS" \
  --iters "$ITERS" --warmup "$WARMUP"

echo "== load after: $(uptime)"
echo
"$PY" "$ROOT/bench/report_bert.py" "$DIR"
