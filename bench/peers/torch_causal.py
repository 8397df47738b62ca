#!/usr/bin/python3
"""The PyTorch eager peer of bench_causal_lm: plain nn.Module GPT-2 and Llama (no `transformers`)
with a concatenating KV cache, loading the same DIR/model.safetensors and DIR/prompt.safetensors,
timed the same way (one warm-up run, then N runs of prefill + greedy decode; median tokens/s).

    /usr/bin/python3 bench/peers/torch_causal.py --dir DIR [--threads 2] [--decode 64] [--iters 3]

Run it with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp and
OPENBLAS_CORETYPE=SkylakeX for PyTorch at its best (see bench/peers/torch_bert.py).
Prints one JSON line (the greedy ids too, to check both computed the same thing).
--bf16 converts the weights to bfloat16 and runs the model in bf16, as `model.to(torch.bfloat16)`.
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(__file__))
from torch_bert import load_safetensors  # noqa: E402


class GPT2(nn.Module):
    def __init__(self, c, sd):
        super().__init__()
        self.c = c
        self.sd = {k.removeprefix("transformer."): v for k, v in sd.items()}
        self.n_head = c["n_head"]

    def forward(self, ids, cache, start):
        sd, H = self.sd, self.n_head
        S = ids.shape[1]
        pos = torch.arange(start, start + S).unsqueeze(0)
        x = sd["wte.weight"][ids] + sd["wpe.weight"][pos]
        for i in range(self.c["n_layer"]):
            p = f"h.{i}."
            h = F.layer_norm(x, (x.shape[-1],), sd[p + "ln_1.weight"], sd[p + "ln_1.bias"], 1e-5)
            qkv = torch.addmm(sd[p + "attn.c_attn.bias"], h.view(-1, h.shape[-1]), sd[p + "attn.c_attn.weight"])
            q, k, v = qkv.view(1, S, 3, H, -1).permute(2, 0, 3, 1, 4)
            if i in cache:
                k = torch.cat([cache[i][0], k], 2)
                v = torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
            w = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
            T = k.shape[2]
            if S > 1:
                mask = torch.ones(S, T, dtype=torch.bool).tril(T - S)
                w = w.masked_fill(~mask, torch.finfo(w.dtype).min)
            a = (w.softmax(-1) @ v).transpose(1, 2).reshape(S, -1)
            x = x + torch.addmm(sd[p + "attn.c_proj.bias"], a, sd[p + "attn.c_proj.weight"]).view(1, S, -1)
            h = F.layer_norm(x, (x.shape[-1],), sd[p + "ln_2.weight"], sd[p + "ln_2.bias"], 1e-5).view(S, -1)
            h = F.gelu(torch.addmm(sd[p + "mlp.c_fc.bias"], h, sd[p + "mlp.c_fc.weight"]), approximate="tanh")
            x = x + torch.addmm(sd[p + "mlp.c_proj.bias"], h, sd[p + "mlp.c_proj.weight"]).view(1, S, -1)
        x = F.layer_norm(x[:, -1:], (x.shape[-1],), sd["ln_f.weight"], sd["ln_f.bias"], 1e-5)
        return F.linear(x, sd["wte.weight"])


class Llama(nn.Module):
    def __init__(self, c, sd):
        super().__init__()
        self.c, self.sd = c, sd
        self.H, self.Hkv = c["num_attention_heads"], c["num_key_value_heads"]
        self.D = c["hidden_size"] // self.H
        self.inv_freq = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.D, 2, dtype=torch.int64).float() / self.D))
        self.eps = c.get("rms_norm_eps", 1e-6)

    def rms(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    @staticmethod
    def rot(x):
        h = x.shape[-1] // 2
        return torch.cat([-x[..., h:], x[..., :h]], -1)

    def forward(self, ids, cache, start):
        sd, H, Hkv, D = self.sd, self.H, self.Hkv, self.D
        S = ids.shape[1]
        pos = torch.arange(start, start + S).float()
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat([freqs, freqs], -1)
        x = sd["model.embed_tokens.weight"][ids]
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        for i in range(self.c["num_hidden_layers"]):
            p = f"model.layers.{i}."
            h = self.rms(x, sd[p + "input_layernorm.weight"])
            q = F.linear(h, sd[p + "self_attn.q_proj.weight"]).view(1, S, H, D).transpose(1, 2)
            k = F.linear(h, sd[p + "self_attn.k_proj.weight"]).view(1, S, Hkv, D).transpose(1, 2)
            v = F.linear(h, sd[p + "self_attn.v_proj.weight"]).view(1, S, Hkv, D).transpose(1, 2)
            q = q * cos + self.rot(q) * sin
            k = k * cos + self.rot(k) * sin
            if i in cache:
                k = torch.cat([cache[i][0], k], 2)
                v = torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
            kr, vr = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
            w = q @ kr.transpose(-1, -2) / math.sqrt(D)
            T = k.shape[2]
            if S > 1:
                mask = torch.ones(S, T, dtype=torch.bool).tril(T - S)
                w = w.masked_fill(~mask, torch.finfo(w.dtype).min)
            a = (w.softmax(-1) @ vr).transpose(1, 2).reshape(1, S, H * D)
            x = x + F.linear(a, sd[p + "self_attn.o_proj.weight"])
            h = self.rms(x, sd[p + "post_attention_layernorm.weight"])
            g = F.silu(F.linear(h, sd[p + "mlp.gate_proj.weight"])) * F.linear(h, sd[p + "mlp.up_proj.weight"])
            x = x + F.linear(g, sd[p + "mlp.down_proj.weight"])
        x = self.rms(x[:, -1:], sd["model.norm.weight"])
        return F.linear(x, sd["lm_head.weight"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--decode", type=int, default=64)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--bf16", action="store_true", help="weights and compute in bfloat16 (PyTorch's bf16 eager)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    c = json.load(open(os.path.join(a.dir, "config.json")))
    sd = load_safetensors(os.path.join(a.dir, "model.safetensors"))
    if a.bf16:
        sd = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in sd.items()}
    ids = load_safetensors(os.path.join(a.dir, "prompt.safetensors"))["input_ids"]
    model = GPT2(c, sd) if c["model_type"] == "gpt2" else Llama(c, sd)
    P = ids.shape[1]
    pre, dec, out_ids = [], [], None
    with torch.no_grad():
        for it in range(a.iters + 1):
            cache = {}
            t0 = time.perf_counter()
            tok = int(model(ids, cache, 0).reshape(-1).argmax())
            t1 = time.perf_counter()
            gen = [tok]
            for s in range(1, a.decode):
                tok = int(model(torch.tensor([[tok]]), cache, P + s - 1).reshape(-1).argmax())
                gen.append(tok)
            t2 = time.perf_counter()
            if it == 0:
                out_ids = gen
                continue
            pre.append(P / (t1 - t0))
            dec.append((a.decode - 1) / (t2 - t1))
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": a.threads,
                      "weights": "bf16" if a.bf16 else "f32",
                      "blas": os.environ.get("LD_LIBRARY_PATH", "system"),
                      "coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
                      "prefill_tok_s": statistics.median(pre), "prefill_tok_s_best": max(pre),
                      "decode_tok_s": statistics.median(dec), "decode_tok_s_best": max(dec), "ids": out_ids,
                      "prefill_runs": pre, "decode_runs": dec}))


if __name__ == "__main__":
    main()
