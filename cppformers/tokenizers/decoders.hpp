#pragma once
// Decoders (tokenizer.json "decoder"): turn token strings back into text. Each transforms the
// list of token strings (decode_chain); decode() joins the result. Built by "type" name.
#include <memory>
#include <string>
#include <vector>

#include "cppformers/tokenizers/json_util.hpp"

namespace cppformers::tokenizers {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
  std::string decode(std::vector<std::string> tokens) const;
};

std::unique_ptr<Decoder> make_decoder(const json& j, const std::string& where);

// The WordPiece decoder's cleanup (also used by CTC and clean_up_tokenization_spaces).
std::string cleanup_tokenization(std::string s);

}  // namespace cppformers::tokenizers
