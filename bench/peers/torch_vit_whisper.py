#!/usr/bin/python3
"""The PyTorch eager peer of bench_vit_whisper: plain-module ViT and Whisper (no `transformers`),
loading the same DIR/model.safetensors and DIR/inputs.safetensors, timed the same way (one
warm-up, then N runs; median and best in ms).

    /usr/bin/python3 bench/peers/torch_vit_whisper.py --dir DIR [--threads 2] [--iters 5]
        [--batch 1] [--decode 32]

Run it with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp and
OPENBLAS_CORETYPE=SkylakeX for PyTorch at its best (see bench/peers/torch_bert.py).
Prints one JSON line (the logits' sum for ViT, the greedy ids for Whisper, to check both
programs computed the same thing).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from torch_bert import load_safetensors  # noqa: E402


def attention(x, kv, sd, p, H, cache=None):
    """Multi-head attention with HF's q/k/v/out projection names under prefix p."""
    B, S, D = x.shape
    hd = D // H

    def lin(t, name):
        return F.linear(t, sd[p + name + ".weight"], sd.get(p + name + ".bias"))

    q = lin(x, "q_proj") * hd ** -0.5
    if cache is not None and "k" in cache and cache.get("static"):
        k, v = cache["k"], cache["v"]
    else:
        k = lin(kv, "k_proj").view(B, -1, H, hd).transpose(1, 2)
        v = lin(kv, "v_proj").view(B, -1, H, hd).transpose(1, 2)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], 2)
                v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
    q = q.view(B, S, H, hd).transpose(1, 2)
    a = (q @ k.transpose(-1, -2)).softmax(-1) @ v
    return lin(a.transpose(1, 2).reshape(B, S, D), "out_proj")


def vit_forward(c, sd, x):
    D, H = c["hidden_size"], c["num_attention_heads"]
    eps = c.get("layer_norm_eps", 1e-12)
    e = "vit.embeddings."
    x = F.conv2d(x, sd[e + "patch_embeddings.projection.weight"], sd[e + "patch_embeddings.projection.bias"],
                 stride=c["patch_size"]).flatten(2).transpose(1, 2)
    x = torch.cat([sd[e + "cls_token"].expand(x.shape[0], -1, -1), x], 1) + sd[e + "position_embeddings"]
    B, S, _ = x.shape
    hd = D // H
    for i in range(c["num_hidden_layers"]):
        p = f"vit.encoder.layer.{i}."
        h = F.layer_norm(x, (D,), sd[p + "layernorm_before.weight"], sd[p + "layernorm_before.bias"], eps)
        a = p + "attention.attention."
        q, k, v = (F.linear(h, sd[a + n + ".weight"], sd[a + n + ".bias"]).view(B, S, H, hd).transpose(1, 2)
                   for n in ("query", "key", "value"))
        w = (q @ k.transpose(-1, -2) / math.sqrt(hd)).softmax(-1)
        ctx = (w @ v).transpose(1, 2).reshape(B, S, D)
        x = x + F.linear(ctx, sd[p + "attention.output.dense.weight"], sd[p + "attention.output.dense.bias"])
        h = F.layer_norm(x, (D,), sd[p + "layernorm_after.weight"], sd[p + "layernorm_after.bias"], eps)
        h = F.gelu(F.linear(h, sd[p + "intermediate.dense.weight"], sd[p + "intermediate.dense.bias"]))
        x = x + F.linear(h, sd[p + "output.dense.weight"], sd[p + "output.dense.bias"])
    x = F.layer_norm(x, (D,), sd["vit.layernorm.weight"], sd["vit.layernorm.bias"], eps)
    return F.linear(x[:, 0], sd["classifier.weight"], sd["classifier.bias"])


def whisper_layer(c, sd, p, x, H, enc=None, self_cache=None, cross_cache=None):
    D = x.shape[-1]
    ln = lambda t, n: F.layer_norm(t, (D,), sd[p + n + ".weight"], sd[p + n + ".bias"], 1e-5)  # noqa: E731
    h = ln(x, "self_attn_layer_norm")
    x = x + attention(h, h, sd, p + "self_attn.", H, self_cache)
    if enc is not None:
        h = ln(x, "encoder_attn_layer_norm")
        x = x + attention(h, enc, sd, p + "encoder_attn.", H, cross_cache)
    h = ln(x, "final_layer_norm")
    h = F.gelu(F.linear(h, sd[p + "fc1.weight"], sd[p + "fc1.bias"]))
    return x + F.linear(h, sd[p + "fc2.weight"], sd[p + "fc2.bias"])


def whisper_encode(c, sd, feats):
    e = "model.encoder."
    x = F.gelu(F.conv1d(feats, sd[e + "conv1.weight"], sd[e + "conv1.bias"], padding=1))
    x = F.gelu(F.conv1d(x, sd[e + "conv2.weight"], sd[e + "conv2.bias"], stride=2, padding=1))
    x = x.transpose(1, 2) + sd[e + "embed_positions.weight"][: x.shape[-1]]
    for i in range(c["encoder_layers"]):
        x = whisper_layer(c, sd, f"{e}layers.{i}.", x, c["encoder_attention_heads"])
    D = x.shape[-1]
    return F.layer_norm(x, (D,), sd[e + "layer_norm.weight"], sd[e + "layer_norm.bias"], 1e-5)


def whisper_decode_step(c, sd, tok, pos, enc, caches):
    d = "model.decoder."
    emb = sd[d + "embed_tokens.weight"]
    x = emb[torch.tensor([[tok]])] + sd[d + "embed_positions.weight"][pos]
    for i in range(c["decoder_layers"]):
        self_c, cross_c = caches[i]
        x = whisper_layer(c, sd, f"{d}layers.{i}.", x, c["decoder_attention_heads"], enc, self_c, cross_c)
        cross_c["static"] = True
    D = x.shape[-1]
    x = F.layer_norm(x, (D,), sd[d + "layer_norm.weight"], sd[d + "layer_norm.bias"], 1e-5)
    return F.linear(x, sd.get("proj_out.weight", emb))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--decode", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    c = json.load(open(os.path.join(a.dir, "config.json")))
    sd = load_safetensors(os.path.join(a.dir, "model.safetensors"))
    inputs = load_safetensors(os.path.join(a.dir, "inputs.safetensors"))
    r = {"impl": "pytorch", "torch": torch.__version__, "threads": a.threads, "arch": c["model_type"],
         "blas": os.environ.get("LD_LIBRARY_PATH", "system"), "coretype": os.environ.get("OPENBLAS_CORETYPE", "")}
    with torch.no_grad():
        if c["model_type"] == "vit":
            x = inputs["pixel_values"][: a.batch].contiguous()
            ms = []
            for it in range(a.iters + 1):
                t0 = time.perf_counter()
                logits = vit_forward(c, sd, x)
                if it:
                    ms.append(1e3 * (time.perf_counter() - t0))
            r.update(batch=a.batch, forward_ms=statistics.median(ms), forward_ms_best=min(ms),
                     logits_sum=float(logits.sum()))
        else:
            feats = inputs["input_features"]
            enc_ms, dec_ms, ids = [], [], None
            for it in range(a.iters + 1):
                t0 = time.perf_counter()
                enc = whisper_encode(c, sd, feats)
                t1 = time.perf_counter()
                caches = [({}, {}) for _ in range(c["decoder_layers"])]
                tok, gen = c["decoder_start_token_id"], []
                for s in range(a.decode):
                    tok = int(whisper_decode_step(c, sd, tok, s, enc, caches).reshape(-1).argmax())
                    gen.append(tok)
                t2 = time.perf_counter()
                if it == 0:
                    ids = gen
                    continue
                enc_ms.append(1e3 * (t1 - t0))
                dec_ms.append(1e3 * (t2 - t1))
            r.update(decode_tokens=a.decode, encode_ms=statistics.median(enc_ms), encode_ms_best=min(enc_ms),
                     decode_ms=statistics.median(dec_ms), decode_ms_best=min(dec_ms), ids=ids)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
