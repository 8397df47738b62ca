#pragma once
// Encodings as JSON objects with the field names of the Python/Node `Encoding` (ids, tokens,
// offsets, type_ids, attention_mask, special_tokens_mask, word_ids, sequence_ids, overflowing).
#include "cppformers/tokenizers/encoding.hpp"
#include "cppformers/tokenizers/json_util.hpp"

namespace cppformers::tokenizers {

json encoding_to_json(const Encoding& e, bool with_overflowing = false, bool with_sequence_ids = true);

}  // namespace cppformers::tokenizers
