#pragma once
// A fast encoder for the commonest pipeline shape — byte-level BPE (GPT-2, RoBERTa, Llama 3,
// Qwen, DeepSeek): no normalizer or NFC, regex Split pre-tokenizers (Isolated) then ByteLevel.
// It computes exactly what the general pipeline computes (tokenizer_test.cpp compares the two on
// the fixture texts and on random texts) without its per-byte alignment tables: when the
// normalizer leaves a text unchanged, a token's offsets follow from byte positions directly, and
// the BPE works on raw bytes through a per-thread word cache.
//
// A text the fast path cannot handle (one that NFC would change) makes encode() return false,
// and the tokenizer then runs the general pipeline.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cppformers/tokenizers/added_vocabulary.hpp"
#include "cppformers/tokenizers/encoding.hpp"
#include "cppformers/tokenizers/json_util.hpp"
#include "cppformers/tokenizers/model_bpe.hpp"
#include "cppformers/tokenizers/pre_tokenizers.hpp"

namespace cppformers::tokenizers {

class Regex;

class FastPath {
 public:
  // nullptr unless tokenizer.json `j` has a pipeline shape the fast path implements. `model`
  // must outlive the result.
  static std::unique_ptr<FastPath> create(const json& j, const Model& model);
  ~FastPath();

  // Encodes `text` (valid UTF-8) as the general pipeline would up to the post-processor (char
  // offsets). Returns false, leaving `out` unspecified, when the text needs the general pipeline.
  // `added`: the tokenizer's added vocabulary.
  bool encode(std::string_view text, uint32_t type_id, const AddedVocabulary& added, Encoding& out) const;

 private:
  explicit FastPath(const BPE& bpe);
  bool normalized_unchanged(std::string_view s) const;

  const BPE& bpe_;
  bool nfc_ = false;                            // the normalizer: NFC (else none)
  std::vector<std::unique_ptr<Regex>> splits_;  // Split(Regex, Isolated) stages, in order
  bool add_prefix_space_ = false;               // the final ByteLevel's options
  std::unique_ptr<Regex> byte_level_regex_;     // null when use_regex is false
};

}  // namespace cppformers::tokenizers
