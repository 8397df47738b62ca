#include "cppformers/training/data/group_texts.hpp"

#include "cppformers/core/error.hpp"

namespace cppformers {

Dataset group_texts(const Dataset& tokenized, size_t block_size, std::optional<int64_t> separator_id) {
  if (block_size == 0) throw ValueError("group_texts: block_size must be > 0");
  std::vector<int64_t> ids, mask, types, special;
  bool with_types = true, with_special = true;
  for (const Example& e : tokenized.examples()) {
    if (e.input_ids.empty() && !e.text.empty())
      throw ValueError("group_texts: the dataset is not tokenized (call tokenize first)");
    with_types &= e.token_type_ids.size() == e.input_ids.size();
    with_special &= e.special_tokens_mask.size() == e.input_ids.size();
  }
  for (const Example& e : tokenized.examples()) {
    ids.insert(ids.end(), e.input_ids.begin(), e.input_ids.end());
    if (e.attention_mask.size() == e.input_ids.size()) mask.insert(mask.end(), e.attention_mask.begin(), e.attention_mask.end());
    else mask.insert(mask.end(), e.input_ids.size(), 1);
    if (with_types) types.insert(types.end(), e.token_type_ids.begin(), e.token_type_ids.end());
    if (with_special) special.insert(special.end(), e.special_tokens_mask.begin(), e.special_tokens_mask.end());
    if (separator_id && (e.input_ids.empty() || e.input_ids.back() != *separator_id)) {
      ids.push_back(*separator_id);
      mask.push_back(1);
      if (with_types) types.push_back(e.token_type_ids.empty() ? 0 : e.token_type_ids.back());
      if (with_special) special.push_back(1);
    }
  }
  std::vector<Example> blocks;
  for (size_t b = 0; b + block_size <= ids.size(); b += block_size) {
    Example x;
    auto cut = [&](const std::vector<int64_t>& v) {
      return std::vector<int64_t>(v.begin() + long(b), v.begin() + long(b + block_size));
    };
    x.input_ids = cut(ids);
    x.attention_mask = cut(mask);
    if (with_types) x.token_type_ids = cut(types);
    if (with_special) x.special_tokens_mask = cut(special);
    blocks.push_back(std::move(x));
  }
  return Dataset(std::move(blocks));
}

}  // namespace cppformers
