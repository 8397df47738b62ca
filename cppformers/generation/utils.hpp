#pragma once
// generate() for decoder-only causal LMs, as transformers 4.45's GenerationMixin.generate:
// greedy search, multinomial sampling, beam search and beam sampling, with the logits
// processors a GenerationConfig asks for, stopping criteria (max length, eos, stop strings), a
// streamer and batched prompts with left padding. Decoding reuses a preallocated KV cache.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppformers/generation/generation_config.hpp"
#include "cppformers/generation/logits_process.hpp"
#include "cppformers/generation/streamers.hpp"
#include "cppformers/models/pretrained.hpp"
#include "cppformers/ops/random.hpp"

namespace cppformers {

struct GenerateOptions {
  BaseStreamer* streamer = nullptr;             // batch size 1, no beams
  const AutoTokenizer* tokenizer = nullptr;     // needed for stop_strings
  std::shared_ptr<LogitsProcessorList> logits_processor;  // applied after the built-in processors
  ops::Generator* generator = nullptr;          // sampling; default: Generator(seed) or the global one
};

struct GenerateOutput {
  Sequences sequences;                 // prompt (with its padding) + new tokens, one length for all rows
  std::vector<float> sequences_scores; // beam search: each returned sequence's score
  std::vector<Tensor> scores;          // output_scores: each step's processed scores [rows, vocab]
};

// A model step failed after some tokens were generated (e.g. GPT-2 past n_positions): the
// message says why and how many; `partial` holds the sequences generated so far.
class GenerationError : public ValueError {
 public:
  GenerationError(const std::string& message, GenerateOutput partial_output)
      : ValueError(message), partial(std::move(partial_output)) {}
  GenerateOutput partial;
};

// B x rep rows (num_beams or num_return_sequences per prompt; L tokens each) hold a KV cache of
// cache_len positions, logits and ids, and, for encoder-decoder models, their copy of the encoder
// output [encoder_len, encoder_width] and its cross-attention cache: throws a ValueError saying
// how much they need when that exceeds the machine's memory (num_beams 3e9 spent minutes
// expanding the batch before failing). Reads the layer and head counts from the model's config.
void check_rows_fit_in_memory(const PreTrainedModel& model, int64_t B, int64_t rep, int64_t L, int64_t cache_len,
                              int64_t encoder_len = 0, int64_t encoder_width = 0);

// input_ids [B, L] (left-padded), attention_mask [B, L] of 0/1 (undefined: inferred from the padding,
// as infer_attention_mask).
GenerateOutput generate(PreTrainedModel& model, const Tensor& input_ids, const Tensor& attention_mask,
                        const GenerationConfig& config, const GenerateOptions& options = {});

// The attention mask transformers' generate() infers when none is given: ids != pad_token_id
// where pad_token_id is set, occurs in `ids` and is not an eos token; else all ones.
std::vector<int64_t> infer_attention_mask(const std::vector<int64_t>& ids, std::optional<int64_t> pad_token_id,
                                          const std::vector<int64_t>& eos_token_id);

// The processors `config` asks for (repetition penalty, n-gram, bad words, min length, ...;
// then temperature, top-k, top-p, min-p when sampling), in transformers' order.
LogitsProcessorList make_logits_processors(const GenerationConfig& config, int64_t prompt_length);

// Tokenizes `prompt`, generates, returns the decoded new text (special tokens skipped).
std::string generate_text(PreTrainedModel& model, const AutoTokenizer& tokenizer, const std::string& prompt,
                          const GenerationConfig& config, const GenerateOptions& options = {});

}  // namespace cppformers
