#!/usr/bin/python3
"""Prints bench_train_step's table: per-phase medians of cppformers and of each PyTorch run in
DIR (torch*_train_results.json), the speed-up of cppformers over each (PyTorch ms / cppformers
ms, > 1 means cppformers is faster), the first and last steps' losses of both (same weights, same
batch: they must agree), and the step's share of the machine's fp32 peak (DIR/peak.json).

    /usr/bin/python3 bench/report_train_step.py DIR
"""
import glob
import json
import os
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    d = sys.argv[1]
    cf = load(os.path.join(d, "cppformers_train_results.json"))
    bf16_path = os.path.join(d, "cppformers_bf16_train_results.json")
    cf16 = load(bf16_path) if os.path.exists(bf16_path) else None
    peers = [load(p) for p in glob.glob(os.path.join(d, "torch*_train_results.json"))]
    peers.sort(key=lambda p: (p["backend"] != "torch", p["backend"]))  # the default AdamW first
    peak = load(os.path.join(d, "peak.json")) if os.path.exists(os.path.join(d, "peak.json")) else None
    phases = ["forward_ms", "backward_ms", "optimizer_ms", "step_ms"]
    med = lambda r, k: statistics.median(r[k])

    print(f"BERT-base-shaped sequence classifier, f32, batch {cf['batch']}, seq {cf['seq']}, "
          f"{cf['params'] / 1e6:.1f}M parameters; medians of {len(cf['step_ms'])} steps after {cf['warmup']} warm-up")
    print(f"cppformers: {cf['detail']}")
    if cf16:
        print(f"cppformers_bf16: {cf16['detail']}")
    for p in peers:
        print(f"{p['backend']}: {p['detail']}")
    print()
    # One table per cppformers run (f32, then the bf16-autocast run when there is one) against
    # every peer (f32 torch and, with --bf16, torch_bf16).
    for mine, label in [(cf, "cppformers ms"), (cf16, "cf bf16 ms   ")]:
        if not mine:
            continue
        head = f"{'phase':10s} {label:>14s}"
        for p in peers:
            head += f" {p['backend'] + ' ms':>22s} {'speed-up':>9s}"
        print(head)
        for k in phases:
            row = f"{k[:-3]:10s} {med(mine, k):14.1f}"
            for p in peers:
                row += f" {med(p, k):22.1f} {med(p, k) / med(mine, k):8.2f}x"
            print(row)
        print()
    if peak:
        fma = peak["fma_gflops"]
        floor_ms = cf["step_flops"] / (fma * 1e9) * 1e3
        print(f"fp32 FMA peak {fma:.0f} GFLOP/s ({peak['threads']} threads): a step's {cf['step_flops'] / 1e9:.0f} GFLOP "
              f"take at least {floor_ms:.0f} ms")
        for name, r in [("cppformers", cf)] + ([("cppformers_bf16", cf16)] if cf16 else []) + [(p["backend"], p) for p in peers]:
            g = r["step_flops"] / (med(r, "step_ms") * 1e-3) * 1e-9
            print(f"  {name:22s} {g:7.1f} GFLOP/s = {100 * g / fma:4.1f}% of peak")
        print()
    # f32 against f32 must agree to 1e-3; a bf16 run rounds its products, so 2e-2 there.
    for mine, mname in [(cf, "cppformers")] + ([(cf16, "cppformers_bf16")] if cf16 else []):
        for p in peers:
            tol = 2e-2 if ("bf16" in mname or "bf16" in p["backend"]) else 1e-3
            for which in ("first_loss", "last_loss"):
                diff = abs(mine[which] - p[which])
                print(f"{which.replace('_', ' '):10s} {mname} {mine[which]:.6f}  {p['backend']} {p[which]:.6f}  "
                      f"|diff| {diff:.2e}{'  MISMATCH' if diff > tol * max(1.0, abs(p[which])) else ''}")


if __name__ == "__main__":
    main()
