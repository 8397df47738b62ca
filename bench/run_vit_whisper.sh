#!/usr/bin/env bash
# ViT-base forward (batch 1 and 8) and Whisper-tiny encode + 32-token greedy decode:
# cppformers (bench_vit_whisper) against PyTorch eager (bench/peers/torch_vit_whisper.py) on the
# same weights and inputs, in one run, printed as ratios.
#
#   bench/run_vit_whisper.sh --build DIR [--iters 5] [--threads 2] [--no-torch]
# Builds nothing: DIR must hold bench/bench_vit_whisper (configure with -DCPPFORMERS_BENCH=ON).
# Model folders: /tmp/cf_bench_vit and /tmp/cf_bench_whisper, written by the first run, reused.
set -euo pipefail
BUILD=build ITERS=5 THREADS=2 TORCH=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --iters) ITERS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --no-torch) TORCH=0; shift ;;
    *) echo "run_vit_whisper.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
BIN="$BUILD/bench/bench_vit_whisper"
[[ -x $BIN ]] || { echo "run_vit_whisper.sh: $BIN not found (configure $BUILD with -DCPPFORMERS_BENCH=ON)" >&2; exit 2; }
PEER="$(dirname "$0")/peers/torch_vit_whisper.py"
ROWS=()
run() {  # ARCH DIR EXTRA...
  local arch=$1 dir=$2; shift 2
  local make=""
  [[ -f $dir/model.safetensors && -f $dir/inputs.safetensors ]] || make=--make
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) ($arch $*)" >&2
  ROWS+=("$(OMP_NUM_THREADS=$THREADS "$BIN" --arch "$arch" --dir "$dir" $make --iters "$ITERS" --threads "$THREADS" "$@" | tail -1)")
  if [[ $TORCH == 1 ]]; then
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (pytorch $arch $*)" >&2
    ROWS+=("$(LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \
      OMP_NUM_THREADS=$THREADS /usr/bin/python3 "$PEER" --dir "$dir" --iters "$ITERS" --threads "$THREADS" "$@" | tail -1)")
  fi
}
run vit /tmp/cf_bench_vit --batch 1
run vit /tmp/cf_bench_vit --batch 8
run whisper /tmp/cf_bench_whisper --decode 32
printf '%s\n' "${ROWS[@]}" | /usr/bin/python3 "$(dirname "$0")/report_vit_whisper.py"
