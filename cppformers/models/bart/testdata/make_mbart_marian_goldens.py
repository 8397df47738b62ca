#!/usr/bin/python3
"""Goldens for mBART and Marian, which have no transformers fixtures.

A small PyTorch reference written from the models' definitions (not transformers, which is not
installed here, and not cppformers): mBART = BART with pre-LN layers, a layer norm after the
embeddings and a final layer norm in encoder and decoder, learned positions offset by 2;
Marian = BART's post-LN layers, no embedding layer norm, sinusoidal positions from 0 (sines of
the even features, then cosines of the odd ones), embeddings scaled by sqrt(d_model).
Both: lm_head tied to the shared embeddings, plus final_logits_bias.

Writes DIR/{config.json, model.safetensors, golden.safetensors} for each model, with the key
names transformers' save_pretrained uses. Run: /usr/bin/python3 make_mbart_marian_goldens.py OUTDIR
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.manual_seed(0)
D, H, F, L, V, P = 16, 4, 32, 2, 40, 20


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        a = tensors[k].detach().contiguous().numpy()
        dt = {np.float32: "F32", np.int64: "I64"}[a.dtype.type]
        b = a.tobytes()
        header[k] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def layer_norm(x, w, b):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-5) * w + b


def attention(p, x, kv, bias):
    B, Sq, _ = x.shape
    Sk = kv.shape[1]
    hd = D // H
    q = (x @ p["q_proj.weight"].T + p["q_proj.bias"]) * hd ** -0.5
    k = kv @ p["k_proj.weight"].T + p["k_proj.bias"]
    v = kv @ p["v_proj.weight"].T + p["v_proj.bias"]
    q, k, v = (t.view(B, -1, H, hd).transpose(1, 2) for t in (q, k, v))
    s = q @ k.transpose(-1, -2) + bias
    o = torch.softmax(s, -1) @ v
    o = o.transpose(1, 2).reshape(B, Sq, D)
    return o @ p["out_proj.weight"].T + p["out_proj.bias"]


def sub(w, prefix):
    return {k[len(prefix):]: t for k, t in w.items() if k.startswith(prefix)}


def layer(w, pre, x, self_bias, enc=None, cross_bias=None, pre_ln=False):
    def block(h, name, kv_src, bias):
        ln = lambda t: layer_norm(t, w[pre + name + "_layer_norm.weight"], w[pre + name + "_layer_norm.bias"])
        a = sub(w, pre + name + ".")
        if pre_ln:
            return h + attention(a, ln(h), ln(h) if kv_src is None else kv_src, bias)
        return ln(h + attention(a, h, h if kv_src is None else kv_src, bias))

    x = block(x, "self_attn", None, self_bias)
    if enc is not None:
        x = block(x, "encoder_attn", enc, cross_bias)
    ln = lambda t: layer_norm(t, w[pre + "final_layer_norm.weight"], w[pre + "final_layer_norm.bias"])
    ffn = lambda t: torch.nn.functional.gelu(t @ w[pre + "fc1.weight"].T + w[pre + "fc1.bias"]) @ w[pre + "fc2.weight"].T + w[pre + "fc2.bias"]
    return x + ffn(ln(x)) if pre_ln else ln(x + ffn(x))


def sinusoidal(n, d):
    t = torch.zeros(n, d, dtype=torch.float64)
    for pos in range(n):
        for j in range(d):
            angle = pos / 10000 ** (2 * (j // 2) / d)
            col = j // 2 if j % 2 == 0 else (d + 1) // 2 + j // 2
            t[pos, col] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return t.float()


def forward(w, mbart, ids, mask, dec_ids):
    lowest = torch.finfo(torch.float32).min
    scale = math.sqrt(D) if not mbart else 1.0
    pos = (lambda n, past=0: w["pos.enc"][past:past + n]) if not mbart else None

    def embed(part, t):
        S = t.shape[1]
        h = w["model.shared.weight"][t] * scale
        if mbart:
            h = h + w["model." + part + ".embed_positions.weight"][torch.arange(S) + 2]
            h = layer_norm(h, w["model." + part + ".layernorm_embedding.weight"], w["model." + part + ".layernorm_embedding.bias"])
        else:
            h = h + pos(S)
        return h

    pad_bias = ((1 - mask[:, None, None, :].float()) * lowest)
    h = embed("encoder", ids)
    for i in range(L):
        h = layer(w, f"model.encoder.layers.{i}.", h, pad_bias, pre_ln=mbart)
    if mbart:
        h = layer_norm(h, w["model.encoder.layer_norm.weight"], w["model.encoder.layer_norm.bias"])
    enc = h
    S = dec_ids.shape[1]
    causal = torch.triu(torch.full((S, S), lowest), 1)[None, None]
    h = embed("decoder", dec_ids)
    for i in range(L):
        h = layer(w, f"model.decoder.layers.{i}.", h, causal, enc, pad_bias, pre_ln=mbart)
    if mbart:
        h = layer_norm(h, w["model.decoder.layer_norm.weight"], w["model.decoder.layer_norm.bias"])
    logits = h @ w["model.shared.weight"].T + w["final_logits_bias"]
    return enc, logits


def weights(mbart):
    w = {"model.shared.weight": torch.randn(V, D) * 0.5, "final_logits_bias": torch.randn(1, V) * 0.1}
    for part in ("encoder", "decoder"):
        m = f"model.{part}."
        if mbart:
            w[m + "embed_positions.weight"] = torch.randn(P + 2, D) * 0.5
            for n in ("layernorm_embedding", "layer_norm"):
                w[m + n + ".weight"] = 1 + 0.1 * torch.randn(D)
                w[m + n + ".bias"] = 0.1 * torch.randn(D)
        for i in range(L):
            p = f"{m}layers.{i}."
            for a in ["self_attn"] + (["encoder_attn"] if part == "decoder" else []):
                for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    w[p + a + "." + proj + ".weight"] = torch.randn(D, D) * 0.3
                    w[p + a + "." + proj + ".bias"] = torch.randn(D) * 0.1
                w[p + a + "_layer_norm.weight"] = 1 + 0.1 * torch.randn(D)
                w[p + a + "_layer_norm.bias"] = 0.1 * torch.randn(D)
            w[p + "fc1.weight"], w[p + "fc1.bias"] = torch.randn(F, D) * 0.3, torch.randn(F) * 0.1
            w[p + "fc2.weight"], w[p + "fc2.bias"] = torch.randn(D, F) * 0.3, torch.randn(D) * 0.1
            w[p + "final_layer_norm.weight"] = 1 + 0.1 * torch.randn(D)
            w[p + "final_layer_norm.bias"] = 0.1 * torch.randn(D)
    return w


def main(out):
    for name, mbart in (("mbart_tiny", True), ("marian_tiny", False)):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        w = weights(mbart)
        ids = torch.tensor([[5, 9, 14, 2, 30], [7, 3, 2, 1, 1]])
        mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
        dec = torch.tensor([[2, 11, 12, 13], [2, 21, 22, 23]])
        if not mbart:
            w["pos.enc"] = sinusoidal(P, D)
        with torch.no_grad():
            enc, logits = forward(w, mbart, ids, mask, dec)
        w.pop("pos.enc", None)
        save_safetensors(os.path.join(d, "model.safetensors"), w)
        save_safetensors(os.path.join(d, "golden.safetensors"),
                         {"input_ids": ids, "attention_mask": mask, "decoder_input_ids": dec,
                          "encoder_last_hidden_state": enc, "logits": logits})
        cfg = {"model_type": "mbart" if mbart else "marian",
               "architectures": ["MBartForConditionalGeneration" if mbart else "MarianMTModel"],
               "vocab_size": V, "d_model": D, "encoder_layers": L, "decoder_layers": L,
               "encoder_attention_heads": H, "decoder_attention_heads": H, "encoder_ffn_dim": F,
               "decoder_ffn_dim": F, "max_position_embeddings": P, "activation_function": "gelu",
               "scale_embedding": not mbart, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
               "decoder_start_token_id": 2 if mbart else 1, "forced_eos_token_id": 2,
               "is_encoder_decoder": True, "tie_word_embeddings": True}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
