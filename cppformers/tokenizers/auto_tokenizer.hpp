#pragma once
// AutoTokenizer: a tokenizer folder (tokenizer.json + tokenizer_config.json) used the way
// `transformers` users call it: tok(texts, {.padding = true, .truncation = true, .max_length = 256}).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cppformers/io/hub.hpp"  // HubOptions only: a plain struct, the client is not needed here
#include "cppformers/tokenizers/chat_template.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"

namespace cppformers {

namespace tokenizers {

// `padding=`: false / true ("longest") / "longest" / "max_length" / "do_not_pad".
struct PaddingOption {
  enum Kind { DoNotPad, Longest, MaxLength } kind = DoNotPad;
  PaddingOption() = default;
  PaddingOption(bool b) : kind(b ? Longest : DoNotPad) {}  // NOLINT: implicit on purpose
  PaddingOption(const char* s);                              // NOLINT
  PaddingOption(const std::string& s) : PaddingOption(s.c_str()) {}  // NOLINT
};

// `truncation=`: false / true ("longest_first") / "longest_first" / "only_first" / "only_second".
struct TruncationOption {
  bool enabled = false;
  TruncationStrategy strategy = TruncationStrategy::LongestFirst;
  TruncationOption() = default;
  TruncationOption(bool b) : enabled(b) {}  // NOLINT
  TruncationOption(const char* s);          // NOLINT
  TruncationOption(const std::string& s) : TruncationOption(s.c_str()) {}  // NOLINT
};

struct CallOptions {
  PaddingOption padding;
  TruncationOption truncation;
  std::optional<size_t> max_length;
  bool return_offsets_mapping = false;
  bool add_special_tokens = true;
  std::optional<size_t> pad_to_multiple_of;
  std::optional<size_t> stride;
};

// The result of a call: one row per input, ids ready to become tensors.
struct BatchEncoding {
  std::vector<std::vector<int64_t>> input_ids;
  std::vector<std::vector<int64_t>> attention_mask;
  std::vector<std::vector<int64_t>> token_type_ids;
  std::vector<std::vector<std::pair<size_t, size_t>>> offset_mapping;  // only with return_offsets_mapping
  std::vector<Encoding> encodings;                                     // the full encodings

  size_t size() const { return input_ids.size(); }
  const std::vector<int64_t>& ids(size_t row) const { return input_ids.at(row); }
};

// Python's `clean_up_tokenization` (transformers), applied by decode() when the config asks.
std::string clean_up_tokenization(std::string text);

}  // namespace tokenizers

class AutoTokenizer {
 public:
  // Reads DIR/tokenizer.json (required) and DIR/tokenizer_config.json (optional); DIR may also be
  // the path of a tokenizer.json. Anything else is taken as a Hub id ("org/name"): its tokenizer
  // files are fetched into the Hub cache (or found there) with `hub`'s revision, token,
  // cache_dir, local_files_only and force_download, as Python's kwargs of those names. Hub ids
  // need the Hub client of the cppformers library (the `cppformers` CMake target links it); the
  // standalone tokenizers library loads folders only.
  static AutoTokenizer from_pretrained(const std::string& id_or_folder);
  static AutoTokenizer from_pretrained(const std::string& id_or_folder, const io::HubOptions& hub);
  // Hub id -> the local folder holding its tokenizer files. Installed by auto/auto_tokenizer_hub.cpp.
  using HubResolver = std::string (*)(const std::string& repo_id, const io::HubOptions& hub);
  static void set_hub_resolver(HubResolver resolver);

  tokenizers::BatchEncoding operator()(const std::string& text, const tokenizers::CallOptions& o = {}) const;
  tokenizers::BatchEncoding operator()(const std::vector<std::string>& texts, const tokenizers::CallOptions& o = {}) const;
  tokenizers::BatchEncoding operator()(const std::vector<tokenizers::EncodeInput>& inputs,
                                       const tokenizers::CallOptions& o = {}) const;

  std::vector<int64_t> encode(const std::string& text, bool add_special_tokens = true) const;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false,
                     std::optional<bool> clean_up_tokenization_spaces = std::nullopt) const;

  const tokenizers::Tokenizer& backend() const { return tok_; }
  tokenizers::Tokenizer& backend() { return tok_; }

  // From tokenizer_config.json (or the tokenizer itself).
  std::optional<std::string> pad_token, bos_token, eos_token, unk_token, sep_token, cls_token, mask_token;
  std::optional<int64_t> pad_token_id() const;
  std::optional<int64_t> token_to_id(const std::string& t) const;
  size_t model_max_length = static_cast<size_t>(-1);
  std::string padding_side = "right";
  std::string truncation_side = "right";
  bool clean_up_tokenization_spaces = false;
  std::vector<std::string> additional_special_tokens;
  // Chat templates: tokenizer_config.json's "chat_template" (a string, or a list of {"name",
  // "template"}), replaced by a chat_template.json's, replaced by chat_template.jinja (and
  // additional_chat_templates/NAME.jinja) when the folder has them, as transformers reads them.
  tokenizers::ChatTemplates chat_templates;
  // transformers' special_tokens_map: each special-token attribute that is set, as a string
  // (additional_special_tokens as a list of strings); chat templates see these variables.
  std::vector<std::pair<std::string, tokenizers::jinja::Value>> special_tokens_map() const;
  // transformers' apply_chat_template: renders the chat template over `messages` (a list of
  // {"role", "content", ...}) with options.add_generation_prompt, tools, documents, extra kwargs
  // (enable_thinking, ...) and, with options.tokenize (the default), tokenizes the text as
  // tok(text, add_special_tokens=False). Pass ordered_json to keep the key order of the messages
  // and tools (tojson prints keys in that order); nlohmann::json sorts keys.
  tokenizers::ChatTemplateOutput apply_chat_template(const nlohmann::ordered_json& messages,
                                                     const tokenizers::ChatTemplateOptions& options = {}) const;
  tokenizers::ChatTemplateOutput apply_chat_template(const nlohmann::json& messages,
                                                     const tokenizers::ChatTemplateOptions& options = {}) const;

 private:
  explicit AutoTokenizer(tokenizers::Tokenizer t) : tok_(std::move(t)) {}
  static AutoTokenizer from_folder(const std::string& folder);
  tokenizers::Tokenizer tok_;
};

}  // namespace cppformers
