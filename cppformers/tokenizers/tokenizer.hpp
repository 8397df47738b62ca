#pragma once
// Tokenizer: a faithful reading of a `tokenizer.json` written by the Rust `tokenizers` library
// (added tokens -> normalizer -> pre-tokenizer -> model -> post-processor, and the decoder), with
// the library's truncation and padding. Offsets are reported in code points of the input, as
// Python's `Encoding.offsets`.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cppformers/tokenizers/added_vocabulary.hpp"
#include "cppformers/tokenizers/decoders.hpp"
#include "cppformers/tokenizers/encoding.hpp"
#include "cppformers/tokenizers/fast_path.hpp"
#include "cppformers/tokenizers/models.hpp"
#include "cppformers/tokenizers/normalizers.hpp"
#include "cppformers/tokenizers/post_processors.hpp"
#include "cppformers/tokenizers/pre_tokenizers.hpp"

namespace cppformers::tokenizers {

// One input of a batch: a text, or a pair of texts.
struct EncodeInput {
  std::string text;
  std::optional<std::string> text_pair;
};

class Tokenizer {
 public:
  // Reads a tokenizer.json; throws IOError if unreadable, FormatError (naming file and key) if malformed.
  static Tokenizer from_file(const std::string& path);
  // Parses tokenizer.json contents; `name` is used in error messages.
  static Tokenizer from_json_string(const std::string& contents, const std::string& name = "tokenizer.json");
  static Tokenizer from_json(const json& j, const std::string& name = "tokenizer.json");

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Throws ValueError for invalid UTF-8 input or impossible truncation settings.
  Encoding encode(const std::string& text, bool add_special_tokens = true) const;
  Encoding encode(const std::string& text, const std::string& pair, bool add_special_tokens = true) const;
  Encoding encode(const EncodeInput& input, bool add_special_tokens = true) const;
  // Encodes with explicit truncation/padding settings instead of the tokenizer's own (nullptr: none).
  Encoding encode_with(const EncodeInput& input, bool add_special_tokens, const TruncationParams* truncation,
                       const PaddingParams* padding) const;
  // Encodes on all cores (OpenMP), then pads the batch.
  std::vector<Encoding> encode_batch(const std::vector<EncodeInput>& inputs, bool add_special_tokens = true) const;
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, bool add_special_tokens = true) const;

  std::string decode(const std::vector<uint32_t>& ids, bool skip_special_tokens = false) const;
  std::vector<std::string> decode_batch(const std::vector<std::vector<uint32_t>>& ids, bool skip_special_tokens = false) const;

  // Stage-wise helpers (as the Rust `normalize_str` / `pre_tokenize_str`).
  std::optional<std::string> normalize_str(const std::string& text) const;
  // Pieces and their code-point offsets in `text`; nullopt without a pre-tokenizer.
  std::optional<std::vector<std::pair<std::string, Offsets>>> pre_tokenize_str(const std::string& text) const;

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(uint32_t id) const;
  size_t vocab_size(bool with_added_tokens = true) const;
  const AddedVocabulary& added_vocabulary() const { return added_; }
  size_t num_special_tokens_to_add(bool is_pair) const;

  const std::optional<TruncationParams>& truncation() const { return truncation_; }
  const std::optional<PaddingParams>& padding() const { return padding_; }
  void set_truncation(std::optional<TruncationParams> t) { truncation_ = std::move(t); }
  void set_padding(std::optional<PaddingParams> p) { padding_ = std::move(p); }

  bool has_decoder() const { return decoder_ != nullptr; }

  // Whether this tokenizer's pipeline has the byte-level BPE fast path (see fast_path.hpp), and
  // switching it off (for tests comparing it with the general pipeline).
  bool has_fast_path() const { return fast_ != nullptr; }
  void set_fast_path_enabled(bool on) { fast_enabled_ = on; }

 private:
  Tokenizer();
  Encoding encode_single(const std::string& text, uint32_t type_id) const;
  Encoding post_process(Encoding encoding, std::optional<Encoding> pair, bool add_special_tokens,
                        const TruncationParams* truncation, const PaddingParams* padding) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
  std::unique_ptr<FastPath> fast_;
  bool fast_enabled_ = true;
  std::optional<TruncationParams> truncation_;
  std::optional<PaddingParams> padding_;
};

// Parses tokenizer.json's "truncation" / "padding" objects (also used for test settings).
TruncationParams parse_truncation(const json& j, const std::string& where);
PaddingParams parse_padding(const json& j, const std::string& where);

}  // namespace cppformers::tokenizers
