#pragma once
// Whisper's generate(), as transformers 4.45's WhisperGenerationMixin on audio of at most one
// 30-second window (the short-form path): the decoder prompt (init tokens) built from
// generation_config.json's forced_decoder_ids / lang_to_id / task_to_id / no_timestamps_token_id
// and the call's language / task / return_timestamps (with language detection when a
// multilingual model is given none), then the encoder-decoder generate() with Whisper's logits
// processors: suppress_tokens, begin_suppress_tokens and, for timestamps,
// WhisperTimeStampLogitsProcessor. Returned sequences start with the init tokens.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/generation/encoder_decoder.hpp"
#include "cppformers/generation/logits_process.hpp"

namespace cppformers {

// The generation_config.json fields only Whisper reads, plus the call's language/task.
struct WhisperGenerationConfig {
  std::optional<int64_t> no_timestamps_token_id, max_initial_timestamp_index;
  std::optional<std::map<std::string, int64_t>> lang_to_id, task_to_id;  // "<|en|>" -> id, "transcribe" -> id
  std::optional<bool> is_multilingual;
  // (position, token); a null token (language to detect) is std::nullopt.
  std::optional<std::vector<std::pair<int64_t, std::optional<int64_t>>>> forced_decoder_ids;
  // config.json's forced_decoder_ids, used when generation_config.json has none (as Python).
  std::optional<std::vector<std::pair<int64_t, std::optional<int64_t>>>> config_forced_decoder_ids;
  std::optional<std::string> language, task;
  bool return_timestamps = false;

  // DIR/generation_config.json (absent: the defaults above) and config.json's forced_decoder_ids.
  static WhisperGenerationConfig from_pretrained(const std::string& dir);
  // Reads the keys above from a generation_config.json object or a call's kwargs
  // ("language", "task", "return_timestamps", "is_multilingual", ...).
  void update(const nlohmann::json& j, const std::string& where = "generate kwargs");
};

// The language names and codes Whisper knows, as tokenization_whisper.LANGUAGES (code -> name).
const std::vector<std::pair<std::string, std::string>>& whisper_languages();
// "fr", "french" or "<|fr|>" -> the id of that language's token in lang_to_id (ValueError if unknown).
int64_t whisper_language_to_id(const std::string& language, const std::map<std::string, int64_t>& lang_to_id);

// transformers' WhisperTimeStampLogitsProcessor: timestamps come in pairs (except right before
// eos) and never decrease, the first generated token is a timestamp (at most
// max_initial_timestamp_index), and text is banned when the timestamps' total probability beats
// every single text token.
class WhisperTimeStampLogitsProcessor : public LogitsProcessor {
 public:
  WhisperTimeStampLogitsProcessor(int64_t no_timestamps_token_id, int64_t eos_token_id, int64_t begin_index,
                                  std::optional<int64_t> max_initial_timestamp_index)
      : no_timestamps_token_id(no_timestamps_token_id), timestamp_begin(no_timestamps_token_id + 1),
        eos_token_id(eos_token_id), begin_index(begin_index), max_initial_timestamp_index(max_initial_timestamp_index) {}
  void process(const Sequences& input_ids, float* scores, int64_t rows, int64_t vocab) const override;
  int64_t no_timestamps_token_id, timestamp_begin, eos_token_id, begin_index;
  std::optional<int64_t> max_initial_timestamp_index;
};

// The init tokens (decoder prompt) of each row: start token, language, task, <|notimestamps|>,
// as WhisperGenerationMixin._retrieve_init_tokens. Language detection (a multilingual model,
// no language given or forced) runs `model` once on `input_features`.
std::vector<std::vector<int64_t>> whisper_init_tokens(Seq2SeqLM& model, const Tensor& input_features,
                                                      const GenerationConfig& config,
                                                      const WhisperGenerationConfig& whisper,
                                                      int64_t decoder_start_token_id);

// Language token ids chosen by the model for each row (WhisperGenerationMixin.detect_language).
std::vector<int64_t> whisper_detect_language(Seq2SeqLM& model, const Tensor& input_features,
                                             const std::map<std::string, int64_t>& lang_to_id,
                                             int64_t decoder_start_token_id);

// generate() on input_features [B, num_mel_bins, frames] of at most one window. `extras`
// carries decoder_start_token_id and begin_suppress_tokens (its forced_decoder_ids are
// replaced by the init tokens). Rows whose init tokens differ are generated separately.
GenerateOutput whisper_generate(Seq2SeqLM& model, const Tensor& input_features, const GenerationConfig& config,
                                const WhisperGenerationConfig& whisper, const Seq2SeqGenerationExtras& extras);

}  // namespace cppformers
