#pragma once
// Beam search bookkeeping with transformers 4.45's BeamSearchScorer / BeamHypotheses semantics
// (length_penalty, early_stopping true / false / "never", num_return_sequences).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cppformers {

// The n best finished hypotheses of one prompt.
class BeamHypotheses {
 public:
  BeamHypotheses(int64_t num_beams, double length_penalty, int early_stopping, int64_t max_length);
  // Adds a hypothesis (ids without the final eos) scored sum_logprobs / generated_len^length_penalty.
  void add(const std::vector<int64_t>& hyp, double sum_logprobs, int64_t generated_len);
  // Whether no unfinished beam can still beat the worst kept hypothesis.
  bool is_done(double best_sum_logprobs, int64_t cur_len, int64_t decoder_prompt_len) const;
  size_t size() const { return beams.size(); }

  struct Hyp {
    double score;
    std::vector<int64_t> ids;
  };
  std::vector<Hyp> beams;
  double worst_score = 1e9;

 private:
  int64_t num_beams_;
  double length_penalty_;
  int early_stopping_;
  int64_t max_length_;
};

struct BeamStep {
  std::vector<float> next_beam_scores;    // [batch * num_beams]
  std::vector<int64_t> next_beam_tokens;  // [batch * num_beams]
  std::vector<int64_t> next_beam_indices; // [batch * num_beams]: the row each new beam continues
};

class BeamSearchScorer {
 public:
  BeamSearchScorer(int64_t batch_size, int64_t num_beams, double length_penalty, int early_stopping,
                   int64_t num_beam_hyps_to_keep, int64_t max_length);
  // One step: candidates (2 * num_beams or more per prompt, best first) as scores, tokens and
  // the beam (0..num_beams-1) each extends; input_ids are the current beams' sequences.
  BeamStep process(const std::vector<std::vector<int64_t>>& input_ids, const std::vector<std::vector<float>>& next_scores,
                   const std::vector<std::vector<int64_t>>& next_tokens, const std::vector<std::vector<int64_t>>& next_indices,
                   int64_t pad_token_id, const std::vector<int64_t>& eos_token_id, int64_t decoder_prompt_len);
  bool is_done() const;
  struct Final {
    std::vector<std::vector<int64_t>> sequences;  // [batch * num_beam_hyps_to_keep], padded to one length
    std::vector<float> sequence_scores;
  };
  Final finalize(const std::vector<std::vector<int64_t>>& input_ids, const std::vector<float>& final_beam_scores,
                 int64_t pad_token_id, const std::vector<int64_t>& eos_token_id, int64_t max_length,
                 int64_t decoder_prompt_len);

 private:
  int64_t batch_size_, num_beams_, keep_;
  std::vector<BeamHypotheses> hyps_;
  std::vector<bool> done_;
};

}  // namespace cppformers
