#!/usr/bin/python3
"""The PyTorch eager peer of bench_train_step: the plain nn.Module BERT of torch_bert.py with a
sequence-classification head (pooler -> Linear -> cross entropy), loading the same
DIR/model.safetensors and DIR/train_inputs.safetensors that the C++ benchmark wrote, trained
the same way: every step on the same batch, timed per phase —
    forward    loss = model(ids, mask, labels)
    backward   loss.backward()
    optimizer  torch.optim.AdamW.step() + zero_grad(set_to_none=True)
with AdamW as transformers' Trainer builds it (lr 5e-5, weight decay 0.01 on everything but
biases and LayerNorm weights; torch's default implementation). Writes
DIR/torch_train_results.json.

    /usr/bin/python3 bench/peers/torch_train_step.py --dir DIR [--threads 2] [--iters 5] [--warmup 1]
        [--foreach]

Run it with OpenBLAS as bench/run_train_step.sh does (LD_LIBRARY_PATH=.../openblas-openmp,
OPENBLAS_CORETYPE=SkylakeX): Debian's torch otherwise calls the reference BLAS.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bert import BertModel, blas_info, flops, load_safetensors  # noqa: E402


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.classifier = nn.Linear(c["hidden_size"], len(c.get("id2label", {"0": 0, "1": 1})))

    def forward(self, input_ids, attention_mask, labels):
        _, pooled = self.bert(input_ids, attention_mask)  # dropout 0: nothing between pooler and classifier
        return F.cross_entropy(self.classifier(pooled), labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tag", default="torch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--foreach", action="store_true", help="AdamW(foreach=True): torch's multi-tensor path")
    ap.add_argument("--bf16", action="store_true", help="forward under torch.autocast('cpu', bfloat16), as Trainer's bf16=True")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    with open(os.path.join(a.dir, "config.json")) as f:
        cfg = json.load(f)
    assert cfg.get("hidden_dropout_prob", 0.1) == 0 and cfg.get("attention_probs_dropout_prob", 0.1) == 0, \
        "the peer has no dropout; the benchmark's model must have none either"
    model = BertForSequenceClassification(cfg)
    missing, unexpected = model.load_state_dict(load_safetensors(os.path.join(a.dir, "model.safetensors")), strict=False)
    if missing or unexpected:
        raise SystemExit(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    model.train()
    inputs = load_safetensors(os.path.join(a.dir, "train_inputs.safetensors"))
    ids, mask, labels = inputs["input_ids"], inputs["attention_mask"], inputs["labels"]

    # Trainer.get_decay_parameter_names: not biases, not LayerNorm weights.
    decay = [p for n, p in model.named_parameters() if "bias" not in n and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if "bias" in n or "LayerNorm" in n]
    kw = {"foreach": True} if a.foreach else {}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=5e-5, betas=(0.9, 0.999), eps=1e-8, **kw)

    libs, core = blas_info()
    detail = (f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS core: {core}, "
              f"AdamW {'foreach' if a.foreach else 'default'}{', bf16 autocast' if a.bf16 else ''}")
    print(f"[{a.tag}] {detail}")
    print(f"[{a.tag}] libraries: {', '.join(libs)}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")

    fwd, bwd, optim, total = [], [], [], []
    first = last = None
    for it in range(a.warmup + a.iters):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            loss = model(ids, mask, labels)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        opt.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        value = float(loss)
        first = value if first is None else first
        last = value
        print(f"[{a.tag}]   step {it + 1}{' (warm-up)' if it < a.warmup else ''}: loss {value:.6f}, "
              f"forward {(t1 - t0) * 1e3:.0f} ms, backward {(t2 - t1) * 1e3:.0f} ms, optimizer {(t3 - t2) * 1e3:.0f} ms")
        if it < a.warmup:
            continue
        fwd.append((t1 - t0) * 1e3)
        bwd.append((t2 - t1) * 1e3)
        optim.append((t3 - t2) * 1e3)
        total.append((t3 - t0) * 1e3)

    B, S = ids.shape
    step_flops = 3 * flops(cfg, B, S)
    med = statistics.median(total)
    print(f"[{a.tag}] median ms: forward {statistics.median(fwd):.1f}, backward {statistics.median(bwd):.1f}, "
          f"optimizer {statistics.median(optim):.1f}, step {med:.1f} (min {min(total):.1f}); "
          f"{step_flops / med * 1e-6:.1f} GFLOP/s")
    print(f"[{a.tag}] loss: first step {first:.6f}, last step {last:.6f}")
    results = {"backend": a.tag, "detail": detail, "batch": B, "seq": S, "step_flops": step_flops,
               "steps": a.warmup + a.iters, "warmup": a.warmup, "first_loss": first, "last_loss": last,
               "forward_ms": fwd, "backward_ms": bwd, "optimizer_ms": optim, "step_ms": total}
    with open(os.path.join(a.dir, f"{a.tag}_train_results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
