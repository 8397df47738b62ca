#pragma once
// Tokenizer folders without a tokenizer.json: the "slow" vocabulary files, turned into the
// tokenizer transformers' fast classes build from them (convert_slow_tokenizer.py and the fast
// classes' __init__, transformers 4.45):
//
//   vocab.txt                  BertTokenizer family: BertNormalizer (do_lower_case,
//                              tokenize_chinese_chars, strip_accents), BertPreTokenizer, WordPiece,
//                              [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1, WordPiece decoder
//   vocab.json + merges.txt    GPT2Tokenizer (byte-level BPE, ByteLevel post-processing, or
//                              <bos> $A with add_bos_token), RobertaTokenizer and its kin (BART,
//                              Longformer, LED, MVP: RobertaProcessing), CLIPTokenizer,
//                              Qwen2Tokenizer
//   SentencePiece .model       T5Tokenizer (spiece.model), LlamaTokenizer (tokenizer.model),
//                              XLMRobertaTokenizer (sentencepiece.bpe.model, fairseq ids): the
//                              model's pieces become our Unigram or BPE model (BPE merges ordered
//                              by piece score, as the converter does), its charsmap a Precompiled
//                              normalizer, plus the class's Metaspace / Prepend+Replace handling
//
// The class is tokenizer_config.json's "tokenizer_class", else config.json's "model_type", else
// BertTokenizer when the folder has a vocab.txt. Special and added tokens come from
// tokenizer_config.json ("added_tokens_decoder", the *_token keys), or in older folders from
// special_tokens_map.json and added_tokens.json, with each class's defaults.
#include <map>
#include <string>

#include "cppformers/tokenizers/json_util.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"

namespace cppformers::tokenizers {

struct LegacyTokenizer {
  std::string tokenizer_class;  // the slow class name, e.g. "BertTokenizer"
  std::string source;           // the files it was built from, for messages ("DIR/vocab.txt")
  json tokenizer_json;          // the equivalent tokenizer.json (what save_pretrained would write)
  // Special tokens after the class defaults and the folder's files: "bos_token", ..., "mask_token"
  // -> content (absent when the class has none).
  std::map<std::string, std::string> special_tokens;
};

// Whether `dir` holds files convert_legacy_tokenizer can use (vocab.txt, vocab.json + merges.txt,
// or a SentencePiece model).
bool has_legacy_tokenizer_files(const std::string& dir);

// Builds the tokenizer of a folder from its legacy files. Throws IOError / FormatError naming the
// file and line or key when a file is missing, unreadable or malformed, and ValueError when the
// tokenizer class is unknown or does not match the files.
LegacyTokenizer convert_legacy_tokenizer(const std::string& dir);

// convert_legacy_tokenizer + Tokenizer::from_json.
Tokenizer load_legacy_tokenizer(const std::string& dir);

}  // namespace cppformers::tokenizers
