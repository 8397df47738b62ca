#include "cppformers/generation/logits_process.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

namespace cppformers {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}

void softmax_inplace(float* x, int64_t n) {
  float mx = kNegInf;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = mx == kNegInf ? 0.0f : std::exp(x[i] - mx);
    sum += x[i];
  }
  const float s = float(sum);
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] / s;
}

void log_softmax_inplace(float* x, int64_t n) {
  float mx = kNegInf;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(double(x[i] - mx));
  const float lse = float(std::log(sum));
  for (int64_t i = 0; i < n; ++i) x[i] = (x[i] - mx) - lse;
}

Tensor LogitsProcessor::operator()(const Sequences& input_ids, const Tensor& scores) const {
  if (scores.dim() != 2 || scores.size(0) != int64_t(input_ids.size()))
    throw ValueError("logits processor: scores " + shape_str(scores.shape()) + " should be [" +
                     std::to_string(input_ids.size()) + ", vocab]");
  Tensor s = scores.detach().to(kF32).contiguous().clone();
  process(input_ids, s.data<float>(), s.size(0), s.size(1));
  return s;
}

void LogitsProcessorList::process(const Sequences& ids, float* scores, int64_t rows, int64_t vocab) const {
  for (const auto& p : list_) p->process(ids, scores, rows, vocab);
}

TemperatureLogitsWarper::TemperatureLogitsWarper(double t) : temperature(t) {
  if (!(t > 0)) throw ValueError("temperature has to be a strictly positive float, got " + std::to_string(t));
}
void TemperatureLogitsWarper::process(const Sequences&, float* s, int64_t rows, int64_t vocab) const {
  const float t = float(temperature);
  for (int64_t i = 0; i < rows * vocab; ++i) s[i] = s[i] / t;
}

TopKLogitsWarper::TopKLogitsWarper(int64_t k, int64_t min_keep) : top_k(std::max(k, min_keep)) {
  if (k <= 0) throw ValueError("top_k has to be a strictly positive integer, got " + std::to_string(k));
}
void TopKLogitsWarper::process(const Sequences&, float* s, int64_t rows, int64_t vocab) const {
  const int64_t k = std::min(top_k, vocab);
  std::vector<float> tmp(static_cast<size_t>(vocab));
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * vocab;
    std::copy(row, row + vocab, tmp.begin());
    std::nth_element(tmp.begin(), tmp.begin() + (k - 1), tmp.end(), std::greater<float>());
    const float kth = tmp[size_t(k - 1)];
    for (int64_t i = 0; i < vocab; ++i)
      if (row[i] < kth) row[i] = kNegInf;
  }
}

TopPLogitsWarper::TopPLogitsWarper(double p, int64_t min_keep) : top_p(p), min_tokens_to_keep(min_keep) {
  if (!(p >= 0 && p <= 1)) throw ValueError("top_p has to be a float in [0, 1], got " + std::to_string(p));
}
void TopPLogitsWarper::process(const Sequences&, float* s, int64_t rows, int64_t vocab) const {
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::vector<float> sorted(static_cast<size_t>(vocab));
  const float threshold = float(1.0 - top_p);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * vocab;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] < row[b]; });  // ascending
    for (int64_t i = 0; i < vocab; ++i) sorted[size_t(i)] = row[order[size_t(i)]];
    softmax_inplace(sorted.data(), vocab);
    float cum = 0;
    std::vector<char> remove(static_cast<size_t>(vocab), 0);
    for (int64_t i = 0; i < vocab; ++i) {
      cum += sorted[size_t(i)];
      remove[size_t(i)] = cum <= threshold;
    }
    for (int64_t i = std::max<int64_t>(vocab - min_tokens_to_keep, 0); i < vocab; ++i) remove[size_t(i)] = 0;
    for (int64_t i = 0; i < vocab; ++i)
      if (remove[size_t(i)]) row[order[size_t(i)]] = kNegInf;
  }
}

MinPLogitsWarper::MinPLogitsWarper(double p, int64_t min_keep) : min_p(p), min_tokens_to_keep(min_keep) {
  if (!(p >= 0 && p <= 1)) throw ValueError("min_p has to be a float in [0, 1], got " + std::to_string(p));
}
void MinPLogitsWarper::process(const Sequences&, float* s, int64_t rows, int64_t vocab) const {
  std::vector<float> probs(static_cast<size_t>(vocab));
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * vocab;
    std::copy(row, row + vocab, probs.begin());
    softmax_inplace(probs.data(), vocab);
    const float top = *std::max_element(probs.begin(), probs.end());
    const float scaled = float(min_p) * top;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] > row[b]; });  // descending
    for (int64_t i = std::min(min_tokens_to_keep, vocab); i < vocab; ++i) {
      const int64_t t = order[size_t(i)];
      if (probs[size_t(t)] < scaled) row[t] = kNegInf;
    }
  }
}

RepetitionPenaltyLogitsProcessor::RepetitionPenaltyLogitsProcessor(double p) : penalty(p) {
  if (!(p > 0)) throw ValueError("repetition_penalty has to be a strictly positive float, got " + std::to_string(p));
}
void RepetitionPenaltyLogitsProcessor::process(const Sequences& ids, float* s, int64_t rows, int64_t vocab) const {
  const float p = float(penalty);
  for (int64_t r = 0; r < rows; ++r) {
    float* row = s + r * vocab;
    std::set<int64_t> seen(ids[size_t(r)].begin(), ids[size_t(r)].end());
    for (int64_t t : seen) {
      if (t < 0 || t >= vocab) continue;
      row[t] = row[t] < 0 ? row[t] * p : row[t] / p;
    }
  }
}

NoRepeatNGramLogitsProcessor::NoRepeatNGramLogitsProcessor(int64_t n) : ngram_size(n) {
  if (n <= 0) throw ValueError("no_repeat_ngram_size has to be a strictly positive integer, got " + std::to_string(n));
}
void NoRepeatNGramLogitsProcessor::process(const Sequences& ids, float* s, int64_t rows, int64_t vocab) const {
  const int64_t n = ngram_size;
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<int64_t>& seq = ids[size_t(r)];
    const int64_t cur_len = int64_t(seq.size());
    if (cur_len + 1 < n) continue;
    // the last n-1 tokens; every earlier n-gram starting with them bans its last token
    const int64_t start = cur_len + 1 - n;
    for (int64_t i = 0; i + n <= cur_len; ++i) {
      bool match = true;
      for (int64_t k = 0; k < n - 1 && match; ++k) match = seq[size_t(i + k)] == seq[size_t(start + k)];
      const int64_t banned = seq[size_t(i + n - 1)];
      if (match && banned >= 0 && banned < vocab) s[r * vocab + banned] = kNegInf;
    }
  }
}

NoBadWordsLogitsProcessor::NoBadWordsLogitsProcessor(std::vector<std::vector<int64_t>> bad, const std::vector<int64_t>& eos) {
  for (auto& seq : bad) {
    if (seq.empty()) throw ValueError("bad_words_ids: empty sequence");
    const bool is_eos = seq.size() == 1 && std::find(eos.begin(), eos.end(), seq[0]) != eos.end();
    if (!is_eos) bad_words_ids.push_back(std::move(seq));
  }
}
void NoBadWordsLogitsProcessor::process(const Sequences& ids, float* s, int64_t rows, int64_t vocab) const {
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<int64_t>& seq = ids[size_t(r)];
    for (const auto& bad : bad_words_ids) {
      const int64_t last = bad.back();
      if (last < 0 || last >= vocab) continue;
      const size_t pre = bad.size() - 1;
      bool match = pre <= seq.size();
      for (size_t k = 0; k < pre && match; ++k) match = seq[seq.size() - pre + k] == bad[k];
      if (match) s[r * vocab + last] = kNegInf;
    }
  }
}

MinLengthLogitsProcessor::MinLengthLogitsProcessor(int64_t n, std::vector<int64_t> eos) : min_length(n), eos_token_id(std::move(eos)) {}
void MinLengthLogitsProcessor::process(const Sequences& ids, float* s, int64_t rows, int64_t vocab) const {
  for (int64_t r = 0; r < rows; ++r)
    if (int64_t(ids[size_t(r)].size()) < min_length)
      for (int64_t e : eos_token_id)
        if (e >= 0 && e < vocab) s[r * vocab + e] = kNegInf;
}

MinNewTokensLengthLogitsProcessor::MinNewTokensLengthLogitsProcessor(int64_t prompt, int64_t n, std::vector<int64_t> eos)
    : prompt_length(prompt), min_new_tokens(n), eos_token_id(std::move(eos)) {}
void MinNewTokensLengthLogitsProcessor::process(const Sequences& ids, float* s, int64_t rows, int64_t vocab) const {
  for (int64_t r = 0; r < rows; ++r)
    if (int64_t(ids[size_t(r)].size()) - prompt_length < min_new_tokens)
      for (int64_t e : eos_token_id)
        if (e >= 0 && e < vocab) s[r * vocab + e] = kNegInf;
}

void SuppressTokensLogitsProcessor::process(const Sequences&, float* s, int64_t rows, int64_t vocab) const {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t : tokens)
      if (t >= 0 && t < vocab) s[r * vocab + t] = kNegInf;
}

void LogitNormalization::process(const Sequences&, float* s, int64_t rows, int64_t vocab) const {
  for (int64_t r = 0; r < rows; ++r) log_softmax_inplace(s + r * vocab, vocab);
}

namespace {
// Bans everything but `token` (score 0) in every row.
void force_only(float* scores, int64_t rows, int64_t vocab, int64_t token) {
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t v = 0; v < vocab; ++v) scores[r * vocab + v] = v == token ? 0.0f : ninf;
}
}  // namespace

void ForcedBOSLogitsProcessor::process(const Sequences& ids, float* scores, int64_t rows, int64_t vocab) const {
  if (!ids.empty() && ids[0].size() == 1) force_only(scores, rows, vocab, bos);
}

void ForcedEOSLogitsProcessor::process(const Sequences& ids, float* scores, int64_t rows, int64_t vocab) const {
  if (!ids.empty() && int64_t(ids[0].size()) == max_length - 1) force_only(scores, rows, vocab, eos);
}

}  // namespace cppformers
