#!/usr/bin/python3
"""Prints bench/run_bert.sh's table from DIR/peak.json and DIR/*_results.json.

The PyTorch peer of each case is the fastest PyTorch configuration measured (torch_* results,
the reference-BLAS run excluded); "x PyTorch" is its median time over the row's median time
(> 1: faster than PyTorch), "x ORT" the same against ONNX Runtime.
"""
import glob
import json
import os
import sys


def main(d):
    peak = json.load(open(os.path.join(d, "peak.json")))
    runs = {}
    for f in sorted(glob.glob(os.path.join(d, "*_results.json"))):
        r = json.load(open(f))
        runs[r["backend"]] = r
    order = ["cppformers"] + sorted(k for k in runs if k.startswith("torch")) + [k for k in runs if k == "onnxruntime"]
    cases = [c["name"] for c in runs["cppformers"]["cases"]]

    def case(backend, name):
        for c in runs[backend]["cases"]:
            if c["name"] == name:
                return c
        return None

    best_torch, best_torch_min = {}, {}
    for name in cases:
        cands = [(case(b, name)["median_ms"], b) for b in runs
                 if b.startswith("torch") and "refblas" not in b and case(b, name)]
        if cands:
            best_torch[name] = min(cands)
            best_torch_min[name] = min(case(b, name)["min_ms"] for b in runs
                                       if b.startswith("torch") and "refblas" not in b and case(b, name))
    fma, gemm = peak["fma_gflops"], peak["gemm2048_gflops"]
    print(f"machine ceilings, {peak['threads']} threads: fp32 FMA peak {fma:.0f} GFLOP/s ({peak['fma_isa']} loop), "
          f"oneDNN 2048^3 GEMM {gemm:.0f} GFLOP/s, DRAM read {peak['dram_read_gbs']:.1f} GB/s\n")
    hdr = (f"| {'backend':<22} | {'case':<6} | {'batch':>5} | {'median ms':>9} | {'min ms':>8} | {'GFLOP/s':>7} | "
           f"{'% peak':>6} | {'% GEMM':>6} | {'x PyTorch':>9} | {'x ORT':>6} | {'x PT (min)':>10} | {'max abs diff':>12} |")
    print(hdr)
    print("|" + "|".join("-" * (len(p)) for p in hdr.split("|")[1:-1]) + "|")
    for name in cases:
        ort = case("onnxruntime", name) if "onnxruntime" in runs else None
        for b in order:
            c = case(b, name)
            if not c:
                continue
            gf = c["flops"] / (c["median_ms"] * 1e-3) * 1e-9
            xt = f"{best_torch[name][0] / c['median_ms']:.2f}" if name in best_torch else "-"
            xo = f"{ort['median_ms'] / c['median_ms']:.2f}" if ort else "-"
            xtm = f"{best_torch_min[name] / c['min_ms']:.2f}" if name in best_torch_min else "-"
            diff = c.get("max_abs_diff", {}).get("last_hidden_state")
            label = b + (" *" if name in best_torch and best_torch[name][1] == b else "")
            print(f"| {label:<22} | {name:<6} | {c['batch']:>5} | {c['median_ms']:>9.2f} | {c['min_ms']:>8.2f} | "
                  f"{gf:>7.1f} | {100 * gf / fma:>5.0f}% | {100 * gf / gemm:>5.0f}% | {xt:>9} | {xo:>6} | {xtm:>10} | "
                  f"{'(reference)' if b == 'cppformers' else (f'{diff:.1e}' if diff is not None else '-'):>12} |")
    print("\n* = the PyTorch peer for that case (its fastest configuration, by median). x PyTorch / x ORT: peer "
          "median / row median (> 1: the row is faster); x PT (min): the same on the best single runs.")
    for b in order:
        print(f"  {b}: {runs[b]['detail']}")


if __name__ == "__main__":
    main(sys.argv[1])
