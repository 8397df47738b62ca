#include "cppformers/training/data/collators.hpp"

#include <algorithm>
#include <random>

#include "cppformers/core/error.hpp"

namespace cppformers {

DataCollatorWithPadding::DataCollatorWithPadding(const AutoTokenizer& tok, std::optional<int64_t> pad_to_multiple_of)
    : pad_id_(tok.pad_token_id().value_or(0)), left_(tok.padding_side == "left"), multiple_(pad_to_multiple_of) {
  if (multiple_ && *multiple_ < 1) throw ValueError("DataCollatorWithPadding: pad_to_multiple_of must be >= 1");
}

int64_t DataCollatorWithPadding::padded_length(const std::vector<const Example*>& batch) const {
  if (batch.empty()) throw ValueError("data collator: empty batch");
  int64_t len = 0;
  for (const Example* e : batch) {
    if (e->input_ids.empty() && e->text.size() + e->words.size() > 0)
      throw ValueError("data collator: an example has no input_ids (tokenize the dataset first)");
    len = std::max<int64_t>(len, int64_t(e->input_ids.size()));
  }
  if (multiple_) len = (len + *multiple_ - 1) / *multiple_ * *multiple_;
  return len;
}

Tensor DataCollatorWithPadding::pad(const std::vector<const std::vector<int64_t>*>& rows, int64_t fill,
                                    int64_t len) const {
  Tensor t = Tensor::full({int64_t(rows.size()), len}, double(fill), kI64);
  int64_t* d = t.data<int64_t>();
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto& row = *rows[r];
    const int64_t n = std::min<int64_t>(len, int64_t(row.size()));
    const int64_t start = left_ ? len - n : 0;
    std::copy(row.begin(), row.begin() + n, d + r * len + start);
  }
  return t;
}

ModelInputs DataCollatorWithPadding::operator()(const std::vector<const Example*>& batch) const {
  const int64_t len = padded_length(batch);
  std::vector<const std::vector<int64_t>*> ids, mask, types;
  bool has_types = true;
  for (const Example* e : batch) {
    ids.push_back(&e->input_ids);
    mask.push_back(&e->attention_mask);
    types.push_back(&e->token_type_ids);
    if (e->token_type_ids.size() != e->input_ids.size()) has_types = false;
  }
  ModelInputs in;
  in.input_ids = pad(ids, pad_id_, len);
  in.attention_mask = pad(mask, 0, len);
  if (has_types) in.token_type_ids = pad(types, 0, len);
  bool has_labels = false;
  for (const Example* e : batch) has_labels |= e->label != -100;
  if (has_labels) {
    std::vector<int64_t> labels;
    for (const Example* e : batch) labels.push_back(e->label);
    in.labels = Tensor::from_vector<int64_t>(labels, {int64_t(labels.size())});
  }
  return in;
}

ModelInputs DataCollatorForTokenClassification::operator()(const std::vector<const Example*>& batch) const {
  ModelInputs in = DataCollatorWithPadding::operator()(batch);
  const int64_t len = in.input_ids.size(1);
  std::vector<const std::vector<int64_t>*> labels;
  bool any = false;
  for (const Example* e : batch) {
    labels.push_back(&e->labels);
    any |= !e->labels.empty();
  }
  in.labels = any ? pad(labels, -100, len) : Tensor();
  return in;
}

DataCollatorForLanguageModeling::DataCollatorForLanguageModeling(const AutoTokenizer& tok, bool mlm,
                                                                 double mlm_probability,
                                                                 std::optional<int64_t> pad_to_multiple_of,
                                                                 ops::Generator* gen)
    : DataCollatorWithPadding(tok, pad_to_multiple_of), mlm_(mlm), prob_(mlm_probability), gen_(gen) {
  vocab_size_ = int64_t(tok.backend().vocab_size(true));
  if (mlm_) {
    if (!tok.mask_token) throw ValueError("DataCollatorForLanguageModeling: the tokenizer has no mask token, needed for mlm");
    mask_id_ = tok.token_to_id(*tok.mask_token).value_or(-1);
    if (mask_id_ < 0) throw ValueError("DataCollatorForLanguageModeling: the mask token is not in the vocabulary");
    if (!(prob_ >= 0 && prob_ <= 1)) throw ValueError("DataCollatorForLanguageModeling: mlm_probability must be in [0, 1]");
  }
  for (const auto& t : {tok.pad_token, tok.bos_token, tok.eos_token, tok.unk_token, tok.sep_token, tok.cls_token,
                        tok.mask_token})
    if (t)
      if (auto id = tok.token_to_id(*t)) special_ids_.insert(*id);
}

ModelInputs DataCollatorForLanguageModeling::operator()(const std::vector<const Example*>& batch) const {
  ModelInputs in = DataCollatorWithPadding::operator()(batch);
  in.labels = Tensor();
  const int64_t n = in.input_ids.numel();
  int64_t* ids = in.input_ids.data<int64_t>();
  const int64_t* mask = in.attention_mask.data<int64_t>();
  Tensor labels = in.input_ids.clone();
  int64_t* lab = labels.data<int64_t>();
  if (!mlm_) {
    for (int64_t i = 0; i < n; ++i)
      if (mask[i] == 0) lab[i] = -100;
    in.labels = labels;
    return in;
  }
  // The examples' special-token masks (per row, aligned with the padding side).
  const int64_t len = in.input_ids.size(1);
  std::vector<uint8_t> special(n, 0);
  for (size_t r = 0; r < batch.size(); ++r) {
    const auto& sm = batch[r]->special_tokens_mask;
    const int64_t m = std::min<int64_t>(len, int64_t(batch[r]->input_ids.size()));
    const int64_t start = left_ ? len - m : 0;
    for (int64_t k = 0; k < m && k < int64_t(sm.size()); ++k) special[r * len + start + k] = sm[k] != 0;
  }
  auto& rng = (gen_ ? *gen_ : ops::default_generator()).engine();
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int64_t i = 0; i < n; ++i) {
    const bool eligible = mask[i] != 0 && !special[i] && !special_ids_.count(ids[i]);
    if (!eligible || !(u(rng) < prob_)) {
      lab[i] = -100;
      continue;
    }
    const double r = u(rng);
    if (r < 0.8) {
      ids[i] = mask_id_;
    } else if (r < 0.9) {
      ids[i] = int64_t(rng() % uint64_t(vocab_size_));
    }  // else: keep the token
  }
  in.labels = labels;
  return in;
}

}  // namespace cppformers
