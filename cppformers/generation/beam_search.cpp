#include "cppformers/generation/beam_search.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "cppformers/core/error.hpp"

namespace cppformers {

BeamHypotheses::BeamHypotheses(int64_t num_beams, double length_penalty, int early_stopping, int64_t max_length)
    : num_beams_(num_beams), length_penalty_(length_penalty), early_stopping_(early_stopping), max_length_(max_length) {}

void BeamHypotheses::add(const std::vector<int64_t>& hyp, double sum_logprobs, int64_t generated_len) {
  const double score = sum_logprobs / std::pow(double(generated_len), length_penalty_);
  if (int64_t(beams.size()) < num_beams_ || score > worst_score) {
    beams.push_back({score, hyp});
    if (int64_t(beams.size()) > num_beams_) {
      // drop the worst (Python sorts (score, index) pairs: the lowest score, first index on ties)
      std::vector<std::pair<double, size_t>> sorted;
      for (size_t i = 0; i < beams.size(); ++i) sorted.emplace_back(beams[i].score, i);
      std::sort(sorted.begin(), sorted.end());
      beams.erase(beams.begin() + long(sorted[0].second));
      worst_score = sorted[1].first;
    } else {
      worst_score = std::min(score, worst_score);
    }
  }
}

bool BeamHypotheses::is_done(double best_sum_logprobs, int64_t cur_len, int64_t decoder_prompt_len) const {
  if (int64_t(beams.size()) < num_beams_) return false;
  if (early_stopping_ == 1) return true;
  double highest;
  if (early_stopping_ == 0) {
    highest = best_sum_logprobs / std::pow(double(cur_len - decoder_prompt_len), length_penalty_);
  } else {  // "never": the best score reachable by max_length
    if (length_penalty_ > 0.0) {
      if (max_length_ <= decoder_prompt_len) throw ValueError("beam search: max_length must exceed the prompt length");
      highest = best_sum_logprobs / std::pow(double(max_length_ - decoder_prompt_len), length_penalty_);
    } else {
      highest = best_sum_logprobs / std::pow(double(cur_len - decoder_prompt_len), length_penalty_);
    }
  }
  return worst_score >= highest;
}

BeamSearchScorer::BeamSearchScorer(int64_t batch_size, int64_t num_beams, double length_penalty, int early_stopping,
                                   int64_t keep, int64_t max_length)
    : batch_size_(batch_size), num_beams_(num_beams), keep_(keep), done_(size_t(batch_size), false) {
  if (num_beams <= 1) throw ValueError("beam search needs num_beams > 1");
  for (int64_t b = 0; b < batch_size; ++b) hyps_.emplace_back(num_beams, length_penalty, early_stopping, max_length);
}

bool BeamSearchScorer::is_done() const {
  return std::all_of(done_.begin(), done_.end(), [](bool d) { return d; });
}

BeamStep BeamSearchScorer::process(const std::vector<std::vector<int64_t>>& input_ids,
                                   const std::vector<std::vector<float>>& next_scores,
                                   const std::vector<std::vector<int64_t>>& next_tokens,
                                   const std::vector<std::vector<int64_t>>& next_indices, int64_t pad_token_id,
                                   const std::vector<int64_t>& eos, int64_t decoder_prompt_len) {
  const int64_t cur_len = int64_t(input_ids[0].size()) + 1;
  const size_t n = size_t(batch_size_ * num_beams_);
  BeamStep out{std::vector<float>(n, 0.0f), std::vector<int64_t>(n, 0), std::vector<int64_t>(n, 0)};
  for (int64_t b = 0; b < batch_size_; ++b) {
    if (done_[size_t(b)]) {
      for (int64_t j = 0; j < num_beams_; ++j) {
        out.next_beam_scores[size_t(b * num_beams_ + j)] = 0;
        out.next_beam_tokens[size_t(b * num_beams_ + j)] = pad_token_id;
        out.next_beam_indices[size_t(b * num_beams_ + j)] = 0;
      }
      continue;
    }
    int64_t beam_idx = 0;
    const auto& sc = next_scores[size_t(b)];
    for (size_t rank = 0; rank < sc.size(); ++rank) {
      const int64_t token = next_tokens[size_t(b)][rank];
      const int64_t batch_beam_idx = b * num_beams_ + next_indices[size_t(b)][rank];
      if (std::find(eos.begin(), eos.end(), token) != eos.end()) {
        if (int64_t(rank) >= num_beams_) continue;  // not among the top num_beams: not a finished beam
        hyps_[size_t(b)].add(input_ids[size_t(batch_beam_idx)], double(sc[rank]), cur_len - decoder_prompt_len);
      } else {
        const size_t slot = size_t(b * num_beams_ + beam_idx);
        out.next_beam_scores[slot] = sc[rank];
        out.next_beam_tokens[slot] = token;
        out.next_beam_indices[slot] = batch_beam_idx;
        ++beam_idx;
      }
      if (beam_idx == num_beams_) break;
    }
    if (beam_idx < num_beams_)
      throw ValueError("beam search: at most " + std::to_string(sc.size()) + " tokens can be eos; too few candidates");
    const float best = *std::max_element(sc.begin(), sc.end());
    done_[size_t(b)] = done_[size_t(b)] || hyps_[size_t(b)].is_done(double(best), cur_len, decoder_prompt_len);
  }
  return out;
}

BeamSearchScorer::Final BeamSearchScorer::finalize(const std::vector<std::vector<int64_t>>& input_ids,
                                                   const std::vector<float>& final_beam_scores, int64_t pad_token_id,
                                                   const std::vector<int64_t>& eos, int64_t max_length,
                                                   int64_t decoder_prompt_len) {
  for (int64_t b = 0; b < batch_size_; ++b) {
    if (done_[size_t(b)]) continue;
    for (int64_t j = 0; j < num_beams_; ++j) {
      const size_t row = size_t(b * num_beams_ + j);
      hyps_[size_t(b)].add(input_ids[row], double(final_beam_scores[row]),
                           int64_t(input_ids[row].size()) - decoder_prompt_len);
    }
  }
  Final f;
  std::vector<std::vector<int64_t>> best;
  for (int64_t b = 0; b < batch_size_; ++b) {
    std::vector<BeamHypotheses::Hyp> sorted = hyps_[size_t(b)].beams;
    // Python: sorted(key=score) (stable), then pop() from the end, keep_ times
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.score < y.score; });
    for (int64_t j = 0; j < keep_; ++j) {
      const auto& h = sorted[sorted.size() - 1 - size_t(j)];
      best.push_back(h.ids);
      f.sequence_scores.push_back(float(h.score));
    }
  }
  size_t max_len = 0, min_len = SIZE_MAX;
  for (auto& h : best) max_len = std::max(max_len, h.size()), min_len = std::min(min_len, h.size());
  const int64_t sent_max_len = std::min<int64_t>(int64_t(max_len) + 1, max_length);
  for (auto& h : best) {
    std::vector<int64_t> row(size_t(sent_max_len), pad_token_id);
    std::copy(h.begin(), h.begin() + std::min<int64_t>(int64_t(h.size()), sent_max_len), row.begin());
    if (int64_t(h.size()) < sent_max_len && !eos.empty()) row[h.size()] = eos[0];
    f.sequences.push_back(std::move(row));
  }
  return f;
}

}  // namespace cppformers
