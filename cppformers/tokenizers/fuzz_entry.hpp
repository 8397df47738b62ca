#pragma once
// The fuzzing entry point shared by the libFuzzer target (tokenizer_fuzz.cpp) and the gtest that
// replays the committed corpus (fuzz_corpus_test.cpp, in CI).
//
// Input: [selector byte][rest]. Selector < 0x80: `rest` is "tokenizer.json bytes \0 text bytes"
// (the loader is fuzzed, then the text encoded with whatever loaded). Selector >= 0x80: `rest` is
// the text, encoded by one of a few small built-in tokenizers covering every component family
// (byte-level BPE with NFC, Split regex and added tokens; WordPiece with BertNormalizer; Unigram
// with Metaspace; byte-fallback BPE) — the encoder and decoder are fuzzed.
// Only cppformers::Error may escape a call; anything else (crash, other exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"

namespace cppformers::tokenizers::fuzz {

inline const char* const kBuiltin[] = {
    R"({"added_tokens":[{"id":0,"content":"<|end|>","single_word":false,"lstrip":true,"rstrip":true,"normalized":false,"special":true},
        {"id":9,"content":"ab","single_word":true,"lstrip":false,"rstrip":false,"normalized":true,"special":false}],
      "normalizer":{"type":"NFC"},
      "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'s|'t)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Isolated","invert":false},
        {"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":false}]},
      "post_processor":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},
      "decoder":{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true},
      "model":{"type":"BPE","vocab":{"<|end|>":0,"a":1,"b":2,"ab":3,"\u0120":4,"\u0120a":5,"c":6,"\u00c3":7,"\u00a9":8,"ab!":9},
        "merges":["a b","\u0120 a"]}})",
    R"({"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
      "pre_tokenizer":{"type":"BertPreTokenizer"},
      "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
        "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
        "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[1],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[2],"tokens":["[SEP]"]}}},
      "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
      "added_tokens":[{"id":0,"content":"[UNK]","special":true},{"id":1,"content":"[CLS]","special":true},{"id":2,"content":"[SEP]","special":true}],
      "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":20,
        "vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"a":3,"##b":4,"ab":5,"##a":6,"c":7,".":8}}})",
    R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "}]},
      "pre_tokenizer":{"type":"Metaspace","replacement":"\u2581","prepend_scheme":"first","split":true},
      "post_processor":{"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
        "pair":[{"Sequence":{"id":"A","type_id":0}},{"Sequence":{"id":"B","type_id":1}}],
        "special_tokens":{"</s>":{"id":"</s>","ids":[1],"tokens":["</s>"]}}},
      "decoder":{"type":"Metaspace","replacement":"\u2581","prepend_scheme":"first","split":true},
      "added_tokens":[{"id":1,"content":"</s>","special":true}],
      "model":{"type":"Unigram","unk_id":0,"byte_fallback":true,"vocab":[["<unk>",0.0],["</s>",0.0],["\u2581",-1.0],["a",-2.0],["b",-2.5],["ab",-1.5],["\u2581a",-1.2],["<0x41>",-9.0],["<0xC3>",-9.0]]}})",
    R"({"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"\u2581"},{"type":"Replace","pattern":{"String":" "},"content":"\u2581"}]},
      "decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"\u2581"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
      "added_tokens":[{"id":0,"content":"<unk>","special":true}],
      "model":{"type":"BPE","unk_token":"<unk>","fuse_unk":true,"byte_fallback":true,
        "vocab":{"<unk>":0,"\u2581":1,"a":2,"b":3,"ab":4,"\u2581ab":5,"<0x41>":6,"<0xC3>":7,"<0xA9>":8},"merges":["a b","\u2581 ab"]}})",
};

inline const Tokenizer& builtin(size_t i) {
  static const std::vector<std::unique_ptr<Tokenizer>> toks = [] {
    std::vector<std::unique_ptr<Tokenizer>> v;
    for (const char* j : kBuiltin) v.push_back(std::make_unique<Tokenizer>(Tokenizer::from_json_string(j, "builtin")));
    return v;
  }();
  return *toks[i % toks.size()];
}

inline void exercise(const Tokenizer& tok, const std::string& text) {
  try {
    Encoding e = tok.encode(text, true);
    (void)tok.decode(e.ids, true);
    (void)tok.decode(e.ids, false);
    size_t half = text.size() / 2;
    Encoding p = tok.encode(text.substr(0, half), text.substr(half), true);
    (void)tok.decode(p.ids, false);
    std::vector<uint32_t> ids;  // arbitrary ids, some out of range
    for (size_t i = 0; i + 1 < text.size() && ids.size() < 64; i += 2)
      ids.push_back(static_cast<unsigned char>(text[i]) | (static_cast<unsigned char>(text[i + 1]) << 8));
    (void)tok.decode(ids, false);
  } catch (const Error&) {
  }
}

inline int fuzz_one(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t selector = data[0];
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (selector >= 0x80) {
    exercise(builtin(selector - 0x80), rest);
    return 0;
  }
  size_t nul = rest.find('\0');
  std::string json_part = rest.substr(0, nul);
  std::string text = nul == std::string::npos ? std::string("Hello world, caf\xC3\xA9 12") : rest.substr(nul + 1);
  try {
    Tokenizer tok = Tokenizer::from_json_string(json_part, "fuzz.json");
    exercise(tok, text);
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace cppformers::tokenizers::fuzz
