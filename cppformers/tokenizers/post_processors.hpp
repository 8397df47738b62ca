#pragma once
// Post-processors (tokenizer.json "post_processor"): add special tokens around the encoded
// sequence(s), set type ids, and (ByteLevel/Roberta) trim offsets. Built by "type" name.
#include <memory>
#include <string>
#include <vector>

#include "cppformers/tokenizers/encoding.hpp"
#include "cppformers/tokenizers/json_util.hpp"

namespace cppformers::tokenizers {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // How many tokens process() adds with add_special_tokens.
  virtual size_t added_tokens(bool is_pair) const = 0;
  // Transforms the per-sequence encodings (one or two); the result gets merged by process().
  virtual std::vector<Encoding> process_encodings(std::vector<Encoding> encodings, bool add_special_tokens) const = 0;

  Encoding process(Encoding encoding, Encoding* pair, bool add_special_tokens) const;
  // What the library does without a post-processor.
  static Encoding default_process(Encoding encoding, Encoding* pair);
};

std::unique_ptr<PostProcessor> make_post_processor(const json& j, const std::string& where);

}  // namespace cppformers::tokenizers
