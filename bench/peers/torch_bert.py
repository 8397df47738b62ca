#!/usr/bin/python3
"""The PyTorch eager peer of bench_bert_forward: a plain nn.Module BERT (no `transformers`),
loading the same DIR/model.safetensors and DIR/inputs.safetensors that the C++ benchmark wrote,
timed the same way (warm-up, then N forwards, median and min), checked against
DIR/cppformers_out.safetensors.

    /usr/bin/python3 bench/peers/torch_bert.py --dir DIR [--tag NAME] [--threads 2]
        [--iters 20] [--warmup 3] [--mkldnn] [--export-onnx FILE]

Make PyTorch run at its best (bench/run_bert.sh does): Debian's torch calls the BLAS that
libblas.so.3 resolves to, so run it with
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp (OpenBLAS on OpenMP, the runtime
torch itself uses) and OPENBLAS_CORETYPE=SkylakeX (OpenBLAS 0.3.21's AVX-512 kernels; the
machine may set Haswell). The script reports which BLAS library and core it actually got.
--mkldnn converts the Linear layers with torch.utils.mkldnn.to_mkldnn (torch's oneDNN path).
"""
import argparse
import ctypes
import json
import math
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.utils.mkldnn
from torch import nn
import torch.nn.functional as F

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
          "U8": np.uint8, "BOOL": np.bool_}


def load_safetensors(path):
    """name -> torch tensor, parsing the format by hand (8-byte LE header size, JSON, data)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] == "BF16":
            raise SystemExit(f"{path}: {name}: BF16 not handled by this script")
        b, end = e["data_offsets"]
        arr = np.frombuffer(buf, dtype=DTYPES[e["dtype"]], count=(end - b) // np.dtype(DTYPES[e["dtype"]]).itemsize,
                            offset=base + b).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, input_ids):
        B, S = input_ids.shape
        pos = torch.arange(S, dtype=torch.long).unsqueeze(0).expand(B, S)
        tt = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(tt) + self.position_embeddings(pos)
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.num_heads = c["num_attention_heads"]
        self.head_dim = h // self.num_heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def split(self, x):
        B, S, _ = x.shape
        return x.view(B, S, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, mask_bias):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_bias
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], -1)


class ResidualOutput(nn.Module):  # BertSelfOutput / BertOutput: LayerNorm(dense(x) + residual)
    def __init__(self, n_in, n_out, eps):
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)
        self.LayerNorm = nn.LayerNorm(n_out, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = ResidualOutput(c["hidden_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, x, mask_bias):
        return self.output(self.self(x, mask_bias), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))  # erf form, as hidden_act "gelu"


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = ResidualOutput(c["intermediate_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, x, mask_bias):
        a = self.attention(x, mask_bias)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        assert c.get("hidden_act", "gelu") == "gelu" and c.get("position_embedding_type", "absolute") == "absolute"
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, input_ids, attention_mask):
        # HF's extended mask: (1 - mask) * finfo(float32).min, shape [B, 1, 1, S]
        bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        h = self.embeddings(input_ids)
        for layer in self.encoder.layer:
            h = layer(h, bias)
        return h, self.pooler(h)


def blas_info():
    """Which BLAS this process loaded, and OpenBLAS's core if it is OpenBLAS."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if any(s in p for s in ("blas", "lapack", "dnnl", "mkl", "gomp")):
                libs.add(os.path.realpath(p))
    core = None
    try:
        lib = ctypes.CDLL("libblas.so.3")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        core = f"{lib.openblas_get_corename().decode()} ({lib.openblas_get_config().decode().strip()})"
    except (OSError, AttributeError):
        core = "not OpenBLAS (reference BLAS?)"
    return sorted(libs), core


def time_forward(model, ids, mask, warmup, iters):
    with torch.inference_mode():
        for _ in range(warmup):
            out = model(ids, mask)
        ms = []
        for _ in range(iters):
            t0 = time.perf_counter()
            out = model(ids, mask)
            ms.append((time.perf_counter() - t0) * 1e3)
    return out, ms


def flops(c, B, S):
    h, I, L, H = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"], c["num_attention_heads"]
    D = h / H
    return 2.0 * L * (4 * h * h + 2 * h * I) * B * S + L * 2.0 * 2.0 * B * H * S * S * D + 2.0 * h * h * B


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--tag", default="torch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--mkldnn", action="store_true", help="Linear layers through torch.utils.mkldnn (oneDNN)")
    ap.add_argument("--export-onnx", metavar="FILE", help="also export the model to ONNX (opset 14)")
    ap.add_argument("--cases", default="b1,b8,b8pad")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    with open(os.path.join(a.dir, "config.json")) as f:
        cfg = json.load(f)
    model = BertModel(cfg)
    sd = load_safetensors(os.path.join(a.dir, "model.safetensors"))
    sd = {k[len("bert."):] if k.startswith("bert.") else k: v for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise SystemExit(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    model.eval()

    if a.export_onnx:
        ids = load_safetensors(os.path.join(a.dir, "inputs.safetensors"))
        with torch.no_grad():
            torch.onnx.export(model, (ids["input_ids.b1"], ids["attention_mask.b1"]), a.export_onnx,
                              input_names=["input_ids", "attention_mask"],
                              output_names=["last_hidden_state", "pooler_output"],
                              dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                                            "last_hidden_state": {0: "batch", 1: "seq"}, "pooler_output": {0: "batch"}},
                              opset_version=14, do_constant_folding=True)
        print(f"exported {a.export_onnx} ({os.path.getsize(a.export_onnx) / 1e6:.0f} MB, opset 14)")
        return

    if a.mkldnn:
        model = torch.utils.mkldnn.to_mkldnn(model)  # nn.Linear -> MkldnnLinear (dense in/out)

    libs, core = blas_info()
    detail = (f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
              f"{'oneDNN (mkldnn) Linear' if a.mkldnn else 'BLAS Linear'}, BLAS core: {core}")
    print(f"[{a.tag}] {detail}")
    print(f"[{a.tag}] libraries: {', '.join(libs)}")
    print(f"[{a.tag}] OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"LD_LIBRARY_PATH={os.environ.get('LD_LIBRARY_PATH', '')}, LD_PRELOAD={os.environ.get('LD_PRELOAD', '')}, "
          f"mkldnn available={torch.backends.mkldnn.is_available()} enabled={torch.backends.mkldnn.enabled}")

    inputs = load_safetensors(os.path.join(a.dir, "inputs.safetensors"))
    ref_path = os.path.join(a.dir, "cppformers_out.safetensors")
    ref = load_safetensors(ref_path) if os.path.exists(ref_path) else {}
    results = {"backend": a.tag, "detail": detail, "cases": []}
    for name in a.cases.split(","):
        ids, mask = inputs[f"input_ids.{name}"], inputs[f"attention_mask.{name}"]
        (h, pooled), ms = time_forward(model, ids, mask, a.warmup, a.iters)
        diffs = {}
        for key, t in (("last_hidden_state", h), ("pooler_output", pooled)):
            r = ref.get(f"{key}.{name}")
            if r is not None:
                diffs[key] = float((t - r).abs().max())
        B, S = ids.shape
        fl = flops(cfg, B, S)
        med = statistics.median(ms)
        print(f"[{a.tag}] {name:6s} batch {B}: median {med:8.2f} ms, min {min(ms):8.2f} ms, "
              f"max {max(ms):8.2f} ms, {fl / med * 1e-6:6.1f} GFLOP/s; max |diff| vs cppformers: "
              + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()))
        results["cases"].append({"name": name, "batch": B, "seq": S, "flops": fl, "median_ms": med, "min_ms": min(ms),
                                 "mean_ms": statistics.mean(ms), "max_ms": max(ms), "all_ms": ms,
                                 "max_abs_diff": diffs})
    with open(os.path.join(a.dir, f"{a.tag}_results.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
