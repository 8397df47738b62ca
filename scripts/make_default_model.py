#!/usr/bin/env python3
"""Makes assets/tiny-bert-classifier: a WordPiece tokenizer.json built from the words of the
license texts every Debian system ships (/usr/share/common-licenses), and a randomly initialised
BERT-shaped classifier of matching vocabulary size made by `cppformers init`.

The weights are random: the pipeline runs offline end to end, its labels mean nothing. The
fine-tuning issue replaces this with models trained by cppformers.

usage: scripts/make_default_model.py BUILD/cppformers [OUT_DIR]
"""
import collections, json, os, re, subprocess, sys

cli = sys.argv[1]
out = sys.argv[2] if len(sys.argv) > 2 else "assets/tiny-bert-classifier"
src = "/usr/share/common-licenses"
counts = collections.Counter()
for name in sorted(os.listdir(src)):
    path = os.path.join(src, name)
    if os.path.isfile(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            counts.update(re.findall(r"[a-z]+", f.read().lower()))
specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,;:!?'\"()-")
vocab = specials + chars + ["##" + c for c in chars[:26]]
vocab += [w for w, _ in counts.most_common() if len(w) > 1][: 1000 - len(vocab)]
token_to_id = {t: i for i, t in enumerate(vocab)}
special = lambda i, t: {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                        "normalized": False, "special": True}
tokenizer = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [special(i, t) for i, t in enumerate(specials)],
    "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                   "strip_accents": None, "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                  {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                       "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                       "special_tokens": {t: {"id": t, "ids": [token_to_id[t]], "tokens": [t]} for t in ["[CLS]", "[SEP]"]}},
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100, "vocab": token_to_id},
}
config = {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": len(vocab),
          "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
          "max_position_embeddings": 128, "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}}
os.makedirs(out, exist_ok=True)
cfg_path = out + ".config.json"
with open(cfg_path, "w") as f:
    json.dump(config, f, indent=2)
subprocess.run([cli, "init", "--config", cfg_path, "--out", out, "--seed", "1"], check=True)
with open(os.path.join(out, "tokenizer.json"), "w") as f:
    json.dump(tokenizer, f, ensure_ascii=False)
with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
    json.dump({"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 128,
               "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
               "mask_token": "[MASK]", "clean_up_tokenization_spaces": True}, f, indent=2)
print(f"{out}: {len(vocab)} tokens")
