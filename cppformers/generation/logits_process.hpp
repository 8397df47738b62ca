#pragma once
// Logits processors and warpers, as transformers 4.45's generation/logits_process.py: small
// classes that rewrite next-token scores ([rows, vocab], f32) given the sequences so far
// (every row's full ids, prompt and left padding included, as Python's input_ids).
#include <memory>
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers {

using Sequences = std::vector<std::vector<int64_t>>;

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  // Rewrites scores (rows x vocab, row-major) in place; rows == input_ids.size().
  virtual void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const = 0;
  // The same on a [rows, vocab] tensor; returns the rewritten copy.
  Tensor operator()(const Sequences& input_ids, const Tensor& scores) const;
};

// Applies its processors in order.
class LogitsProcessorList : public LogitsProcessor {
 public:
  void add(std::shared_ptr<LogitsProcessor> p) { list_.push_back(std::move(p)); }
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;

 private:
  std::vector<std::shared_ptr<LogitsProcessor>> list_;
};

class TemperatureLogitsWarper : public LogitsProcessor {
 public:
  explicit TemperatureLogitsWarper(double temperature);
  void process(const Sequences&, float* scores, int64_t rows, int64_t vocab) const override;
  double temperature;
};

// Keeps the top_k highest scores (ties with the k-th included), -inf elsewhere.
class TopKLogitsWarper : public LogitsProcessor {
 public:
  explicit TopKLogitsWarper(int64_t top_k, int64_t min_tokens_to_keep = 1);
  void process(const Sequences&, float* scores, int64_t rows, int64_t vocab) const override;
  int64_t top_k;
};

// Keeps the smallest set of most likely tokens whose probability reaches top_p.
class TopPLogitsWarper : public LogitsProcessor {
 public:
  explicit TopPLogitsWarper(double top_p, int64_t min_tokens_to_keep = 1);
  void process(const Sequences&, float* scores, int64_t rows, int64_t vocab) const override;
  double top_p;
  int64_t min_tokens_to_keep;
};

// Removes tokens whose probability is below min_p times the most likely token's.
class MinPLogitsWarper : public LogitsProcessor {
 public:
  explicit MinPLogitsWarper(double min_p, int64_t min_tokens_to_keep = 1);
  void process(const Sequences&, float* scores, int64_t rows, int64_t vocab) const override;
  double min_p;
  int64_t min_tokens_to_keep;
};

// Divides positive scores of tokens already in the sequence by penalty, multiplies negative ones.
class RepetitionPenaltyLogitsProcessor : public LogitsProcessor {
 public:
  explicit RepetitionPenaltyLogitsProcessor(double penalty);
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;
  double penalty;
};

// Bans any token that would repeat an n-gram already in the sequence.
class NoRepeatNGramLogitsProcessor : public LogitsProcessor {
 public:
  explicit NoRepeatNGramLogitsProcessor(int64_t ngram_size);
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;
  int64_t ngram_size;
};

// Bans the last token of each bad word sequence when the sequence ends with the rest of it
// (single tokens always). Sequences equal to [eos] are dropped, as Python does.
class NoBadWordsLogitsProcessor : public LogitsProcessor {
 public:
  NoBadWordsLogitsProcessor(std::vector<std::vector<int64_t>> bad_words_ids, const std::vector<int64_t>& eos_token_id);
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;
  std::vector<std::vector<int64_t>> bad_words_ids;
};

// EOS is impossible while sequences are shorter than min_length (prompt included).
class MinLengthLogitsProcessor : public LogitsProcessor {
 public:
  MinLengthLogitsProcessor(int64_t min_length, std::vector<int64_t> eos_token_id);
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;
  int64_t min_length;
  std::vector<int64_t> eos_token_id;
};

// At the first step of a one-token sequence (the decoder start), only `bos` may follow.
class ForcedBOSLogitsProcessor : public LogitsProcessor {
 public:
  explicit ForcedBOSLogitsProcessor(int64_t bos) : bos(bos) {}
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;
  int64_t bos;
};

// When the sequences are max_length - 1 long, only `eos` may follow.
class ForcedEOSLogitsProcessor : public LogitsProcessor {
 public:
  ForcedEOSLogitsProcessor(int64_t max_length, int64_t eos) : max_length(max_length), eos(eos) {}
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;
  int64_t max_length, eos;
};

// EOS is impossible until min_new_tokens tokens follow the prompt.
class MinNewTokensLengthLogitsProcessor : public LogitsProcessor {
 public:
  MinNewTokensLengthLogitsProcessor(int64_t prompt_length, int64_t min_new_tokens, std::vector<int64_t> eos_token_id);
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;
  int64_t prompt_length, min_new_tokens;
  std::vector<int64_t> eos_token_id;
};

// -inf for the listed tokens at every step.
class SuppressTokensLogitsProcessor : public LogitsProcessor {
 public:
  explicit SuppressTokensLogitsProcessor(std::vector<int64_t> tokens) : tokens(std::move(tokens)) {}
  void process(const Sequences&, float* scores, int64_t rows, int64_t vocab) const override;
  std::vector<int64_t> tokens;
};

// log_softmax of the scores (renormalize_logits).
class LogitNormalization : public LogitsProcessor {
 public:
  void process(const Sequences&, float* scores, int64_t rows, int64_t vocab) const override;
};

// Row helpers (f32, as torch): softmax and log_softmax of n scores.
void softmax_inplace(float* x, int64_t n);
void log_softmax_inplace(float* x, int64_t n);

}  // namespace cppformers
