#pragma once
// Data collators: a list of tokenized examples -> one padded batch of model inputs, as
// transformers' DataCollatorWithPadding, DataCollatorForTokenClassification and
// DataCollatorForLanguageModeling.
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "cppformers/models/model_io.hpp"
#include "cppformers/ops/random.hpp"
#include "cppformers/training/data/dataset.hpp"

namespace cppformers {

using DataCollator = std::function<ModelInputs(const std::vector<const Example*>&)>;

// Pads input_ids (pad token), attention_mask (0) and token_type_ids (0) to the longest of the
// batch (rounded up to pad_to_multiple_of), on the tokenizer's padding side; labels become a
// [batch] i64 tensor when the examples have class labels.
class DataCollatorWithPadding {
 public:
  explicit DataCollatorWithPadding(const AutoTokenizer& tok, std::optional<int64_t> pad_to_multiple_of = std::nullopt);
  ModelInputs operator()(const std::vector<const Example*>& batch) const;

 protected:
  int64_t pad_id_ = 0;
  bool left_ = false;
  std::optional<int64_t> multiple_;
  // Padded [batch, len] tensor of rows, filled with `fill`.
  Tensor pad(const std::vector<const std::vector<int64_t>*>& rows, int64_t fill, int64_t len) const;
  int64_t padded_length(const std::vector<const Example*>& batch) const;
};

// Like DataCollatorWithPadding, and pads the per-token labels with -100.
class DataCollatorForTokenClassification : public DataCollatorWithPadding {
 public:
  using DataCollatorWithPadding::DataCollatorWithPadding;
  ModelInputs operator()(const std::vector<const Example*>& batch) const;
};

// mlm: each non-special, non-padding token is chosen with mlm_probability; chosen tokens are
// replaced by the mask token 80% of the time, by a random token 10%, kept 10%; labels hold the
// original ids at chosen positions and -100 elsewhere. Causal (mlm = false): labels are the
// input ids with padding set to -100 (the model shifts them).
// Random draws come from `gen` (default: the process-wide generator, which Trainer checkpoints).
class DataCollatorForLanguageModeling : public DataCollatorWithPadding {
 public:
  DataCollatorForLanguageModeling(const AutoTokenizer& tok, bool mlm = true, double mlm_probability = 0.15,
                                  std::optional<int64_t> pad_to_multiple_of = std::nullopt,
                                  ops::Generator* gen = nullptr);
  ModelInputs operator()(const std::vector<const Example*>& batch) const;

 private:
  bool mlm_;
  double prob_;
  int64_t mask_id_ = -1, vocab_size_ = 0;
  std::set<int64_t> special_ids_;
  ops::Generator* gen_;
};

}  // namespace cppformers
