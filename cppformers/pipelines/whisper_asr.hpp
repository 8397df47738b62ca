#pragma once
// automatic-speech-recognition for Whisper, as transformers 4.45's
// AutomaticSpeechRecognitionPipeline with type "seq2seq_whisper": audio -> 16 kHz mono ->
// WhisperFeatureExtractor (one 30-second window, or chunks of chunk_length_s with strides) ->
// Whisper generate() (language / task / return_timestamps from generate_kwargs) ->
// WhisperTokenizer._decode_asr, which merges the chunks' token sequences
// (_find_longest_common_sequence) and cuts segments at timestamp tokens.
#include <array>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cppformers/generation/whisper.hpp"
#include "cppformers/pipelines/pipeline.hpp"
#include "cppformers/processors/audio.hpp"

namespace cppformers {

namespace whisper_asr {

// The generated ids of one window with, when chunked, its (chunk length, left stride, right
// stride) in seconds.
struct ChunkTokens {
  std::vector<int64_t> tokens;
  std::optional<std::array<double, 3>> stride;
};

// tokenization_whisper._find_longest_common_sequence (without token timestamps): each next
// sequence is slid along the end of the merged one, the best-matching overlap (more than one
// equal token, ratio + i/10000) is split in its middle.
std::vector<int64_t> find_longest_common_sequence(const std::vector<std::vector<int64_t>>& sequences);

// Python's round(x, 2) (correctly rounded: ties to even on the exact binary value).
double round2(double x);

// What _decode_asr needs from the tokenizer.
struct WhisperTokens {
  const AutoTokenizer* tokenizer = nullptr;
  int64_t timestamp_begin = 0;         // id of <|notimestamps|> + 1
  std::set<int64_t> special_ids;       // all_special_ids (below timestamp_begin)
  std::optional<int64_t> startofprev, startoftranscript;
  static WhisperTokens from(const AutoTokenizer& tok);
  std::string decode(const std::vector<int64_t>& ids) const;  // decode() + timestamp-pattern filter
};

// WhisperTokenizer._decode_asr: the text and, when asked, the chunks ({"text", "timestamp":
// [start, end]} and/or "language"), as the pipeline returns them.
json decode_asr(const WhisperTokens& tok, const std::vector<ChunkTokens>& outputs, bool return_timestamps,
                bool return_language, double time_precision);

// The windows chunk_iter cuts from `n` samples: (start, end, left stride, right stride) in
// samples, as the pipeline's chunk_iter (a window not longer than its left stride is skipped).
struct Window {
  int64_t start, end, stride_left, stride_right;
};
std::vector<Window> chunk_windows(int64_t n, int64_t chunk_len, int64_t stride_left, int64_t stride_right);

}  // namespace whisper_asr

class WhisperSpeechRecognitionPipeline : public Pipeline {
 public:
  WhisperSpeechRecognitionPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer,
                                   processors::WhisperFeatureExtractor fe, GenerationConfig generation_config,
                                   WhisperGenerationConfig whisper_config, Seq2SeqGenerationExtras extras);
  // The generated ids for input_features [1, num_mel_bins, frames] (one window), with the call's
  // generate_kwargs (language, task, max_new_tokens, num_beams, ...) and return_timestamps.
  std::vector<int64_t> generate_ids(const Tensor& input_features, const json& generate_kwargs, bool return_timestamps);
  // The pipeline on a 16 kHz mono waveform.
  json transcribe(const std::vector<float>& wave, const json& kwargs);
  // pipe(audio_path | {"raw"/"array": [...], "sampling_rate": N} | list, chunk_length_s=...,
  // stride_length_s=..., return_timestamps=None|True|False, return_language=...,
  // generate_kwargs={...}, max_new_tokens=...).
  json call(const json& inputs, const json& kwargs = json::object()) override;

  processors::WhisperFeatureExtractor feature_extractor;
  GenerationConfig generation_config;
  WhisperGenerationConfig whisper_config;
  Seq2SeqGenerationExtras extras;
  whisper_asr::WhisperTokens tokens;
};

}  // namespace cppformers
