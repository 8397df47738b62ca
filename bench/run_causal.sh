#!/usr/bin/env bash
# Decoder-only LLM prefill/decode: cppformers (bench_causal_lm) against PyTorch eager
# (bench/peers/torch_causal.py) on the same weights, in one run, printed as ratios and as a
# share of the memory-bandwidth floor measured by bench_causal_lm in the same run.
#
#   bench/run_causal.sh --build DIR --arch gpt2|llama1b [--dir D] [--bf16] [--prompt 128]
#                       [--decode 64] [--iters 3] [--rounds 1] [--threads 2] [--no-torch]
# Builds nothing: DIR must hold bench/bench_causal_lm (configure with -DCPPFORMERS_BENCH=ON).
# The model folder D (default /tmp/cf_bench_ARCH) is written by the first run and reused.
# --rounds R runs both programs R times, alternating which goes first (cf pt, pt cf, ...), each
# with --iters runs: the machine's speed drifts over minutes, and interleaving spreads that
# drift over both sides. Medians are taken over all runs of all rounds; the per-round ratios
# are printed too, to show the spread.
set -euo pipefail
BUILD=build ARCH=gpt2 DIR="" BF16="" PROMPT=128 DECODE=64 ITERS=3 ROUNDS=1 THREADS=2 TORCH=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --arch) ARCH=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --bf16) BF16=--bf16; shift ;;
    --prompt) PROMPT=$2; shift 2 ;;
    --decode) DECODE=$2; shift 2 ;;
    --iters) ITERS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --no-torch) TORCH=0; shift ;;
    *) echo "run_causal.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
DIR=${DIR:-/tmp/cf_bench_$ARCH}
BIN="$BUILD/bench/bench_causal_lm"
[[ -x $BIN ]] || { echo "run_causal.sh: $BIN not found (configure $BUILD with -DCPPFORMERS_BENCH=ON)" >&2; exit 2; }
MAKE=""
[[ -f $DIR/model.safetensors && -f $DIR/prompt.safetensors ]] || MAKE=--make
run_cf() {
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  OMP_NUM_THREADS=$THREADS "$BIN" --arch "$ARCH" --dir "$DIR" $MAKE $BF16 --prompt "$PROMPT" \
    --decode "$DECODE" --iters "$ITERS" --threads "$THREADS" | tail -1
}
run_pt() {
  [[ $TORCH == 1 ]] || { echo '{}'; return; }
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp OPENBLAS_CORETYPE=SkylakeX \
    OMP_NUM_THREADS=$THREADS /usr/bin/python3 "$(dirname "$0")/peers/torch_causal.py" --dir "$DIR" \
    $BF16 --decode "$DECODE" --iters "$ITERS" --threads "$THREADS" | tail -1
}
CFS=() PTS=()
for ((r = 0; r < ROUNDS; r++)); do
  if ((r % 2 == 0)); then
    CFS+=("$(run_cf)"); MAKE=""; PTS+=("$(run_pt)")
  else
    PTS+=("$(run_pt)"); CFS+=("$(run_cf)")
  fi
done
/usr/bin/python3 - "$ROUNDS" "${CFS[@]}" "${PTS[@]}" <<'EOF'
import json, statistics, sys
R = int(sys.argv[1])
cfs = [json.loads(a) for a in sys.argv[2:2 + R]]
pts = [json.loads(a) for a in sys.argv[2 + R:2 + 2 * R]]

def pooled(rs):  # one summary over every run of every round
    if not rs[0]:
        return {}
    r = dict(rs[0])
    for key in ("prefill", "decode"):
        runs = [v for x in rs for v in x[key + "_runs"]]
        r[key + "_tok_s"], r[key + "_tok_s_best"] = statistics.median(runs), max(runs)
    if "floor_share_runs" in r:
        r["decode_floor_share"] = statistics.median(v for x in rs for v in x["floor_share_runs"])
    return r

cf, pt = pooled(cfs), pooled(pts)
floor = statistics.median(x["floor_decode_tok_s"] for x in cfs)
print(f"{cf['arch']} {cf['weights']} weights, {cf['threads']} threads, prompt {cf['prompt_tokens']}, "
      f"{cf['decode_tokens']} decoded; DRAM read {statistics.median(x['dram_read_gbs'] for x in cfs):.1f} GB/s, "
      f"{cf['weight_bytes'] / 1e6:.1f} MB of weights/token -> floor {floor:.1f} tok/s; "
      f"{R} round(s) x {len(cfs[0]['prefill_runs'])} runs")
print(f"{'impl':<12} {'prefill tok/s (best)':>22} {'decode tok/s (best)':>22} {'decode % floor':>15}")
for r in (cf, pt):
    if not r:
        continue
    print(f"{r['impl']:<12} {r['prefill_tok_s']:>13.1f} ({r['prefill_tok_s_best']:>6.1f}) "
          f"{r['decode_tok_s']:>13.1f} ({r['decode_tok_s_best']:>6.1f}) "
          f"{100 * r.get('decode_floor_share', r['decode_tok_s'] / floor):>14.0f}%")
print("(cppformers' % floor: the median over its runs of each run against the DRAM rate measured right after it)")
if pt:
    print(f"cppformers / PyTorch: prefill {cf['prefill_tok_s'] / pt['prefill_tok_s']:.2f}x, "
          f"decode {cf['decode_tok_s'] / pt['decode_tok_s']:.2f}x (medians); "
          f"greedy ids {'equal' if all(c['ids'] == p['ids'] for c, p in zip(cfs, pts)) else 'DIFFER'}")
    if R > 1:
        for key in ("prefill", "decode"):
            ratios = [c[key + "_tok_s"] / p[key + "_tok_s"] for c, p in zip(cfs, pts)]
            print(f"  {key} ratio by round: " + " ".join(f"{x:.2f}" for x in ratios))
EOF
