#pragma once
// generate() for encoder-decoder models (T5, BART, Whisper), as transformers 4.45: the encoder
// runs once, the decoder steps over a key/value cache with cached cross-attention keys/values;
// greedy and beam search with the decoder-only path's logits processors and BeamSearchScorer,
// plus the encoder-decoder ones: forced BOS/EOS, begin_suppress_tokens, and a decoder prompt
// (decoder_start_token_id, then forced_decoder_ids such as Whisper's language/task tokens).
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cppformers/generation/generation_config.hpp"
#include "cppformers/generation/logits_process.hpp"
#include "cppformers/generation/utils.hpp"
#include "cppformers/models/seq2seq.hpp"

namespace cppformers {

// The generation_config.json / config.json fields that only encoder-decoders use.
struct Seq2SeqGenerationExtras {
  std::optional<int64_t> decoder_start_token_id, forced_bos_token_id, forced_eos_token_id;
  std::vector<int64_t> begin_suppress_tokens;
  std::vector<std::pair<int64_t, int64_t>> forced_decoder_ids;  // (position, token), position 1 = after the start token
  // Applied after every other processor (Python's generate(logits_processor=...)).
  std::vector<std::shared_ptr<LogitsProcessor>> logits_processors;
  // generation_config.json if present, else config.json (and the model's decoder start).
  static Seq2SeqGenerationExtras from_pretrained(const std::string& dir, const Seq2SeqLM& model);
  void update(const nlohmann::json& kwargs);
};

// Whether DIR/config.json describes an encoder-decoder model (is_encoder_decoder, or a known type).
bool is_encoder_decoder_model(const std::string& dir);

// Generates for the encoder inputs (input_ids + attention_mask, or input_features). Returned
// sequences start with the decoder prompt (decoder start token included), as Python's.
GenerateOutput generate_seq2seq(Seq2SeqLM& model, const ModelInputs& encoder_inputs, const GenerationConfig& config,
                                const Seq2SeqGenerationExtras& extras);

}  // namespace cppformers
