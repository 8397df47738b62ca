#pragma once
// group_texts of transformers' run_mlm.py / run_clm.py: the tokenized examples of a dataset
// concatenated (input_ids, attention_mask, token_type_ids, special_tokens_mask) and cut into
// blocks of block_size tokens; the last, shorter remainder is dropped, as there.
//
//   train.tokenize(tok, no_truncation);
//   Dataset blocks = group_texts(train, 128);                     // masked LM
//   Dataset blocks = group_texts(train, 128, tok_eos_id);         // causal LM, eos after each text
#include <cstdint>
#include <optional>

#include "cppformers/training/data/dataset.hpp"

namespace cppformers {

// separator_id: a token appended after every example before concatenating (for causal LM the
// eos token, so that the model learns where a text ends; run_clm.py appends nothing), unless the
// example already ends with it. Throws ValueError if block_size is 0 or an example is not
// tokenized.
Dataset group_texts(const Dataset& tokenized, size_t block_size, std::optional<int64_t> separator_id = std::nullopt);

}  // namespace cppformers
