#!/usr/bin/python3
"""Table of bench/run_vit_whisper.sh: JSON lines of bench_vit_whisper and its PyTorch peer on
stdin; ratios are PyTorch's median time over each row's median time."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]


def pick(arch, impl, batch=None):
    return [r for r in rows if r["arch"] == arch and r["impl"] == impl and (batch is None or r.get("batch") == batch)]


print(f"{'case':<24} {'impl':<11} {'median ms':>10} {'best ms':>9} {'x PyTorch':>10}  check")
for b in (1, 8):
    cf, pt = pick("vit", "cppformers", b), pick("vit", "pytorch", b)
    for r in cf + pt:
        ratio = f"{pt[0]['forward_ms'] / r['forward_ms']:.2f}" if pt else "-"
        print(f"{'ViT-base batch ' + str(b):<24} {r['impl']:<11} {r['forward_ms']:>10.1f} {r['forward_ms_best']:>9.1f} "
              f"{ratio:>10}  logits sum {r['logits_sum']:.5g}")
cf, pt = pick("whisper", "cppformers"), pick("whisper", "pytorch")
for what in ("encode", "decode"):
    for r in cf + pt:
        ratio = f"{pt[0][what + '_ms'] / r[what + '_ms']:.2f}" if pt else "-"
        label = "Whisper-tiny encode 30s" if what == "encode" else f"Whisper-tiny {r['decode_tokens']} tokens"
        print(f"{label:<24} {r['impl']:<11} {r[what + '_ms']:>10.1f} {r[what + '_ms_best']:>9.1f} {ratio:>10}")
if cf and pt:
    print("Whisper greedy ids:", "equal" if cf[0]["ids"] == pt[0]["ids"] else "DIFFER")
