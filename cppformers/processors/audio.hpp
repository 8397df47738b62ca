#pragma once
// Audio for the speech processors: decoding (WAV, FLAC, OGG/Vorbis, ... through libsndfile;
// integer PCM scaled to [-1, 1) as int16 / 32768), down-mixing to mono, and band-limited
// resampling (windowed sinc, torchaudio's sinc_interp_hann kernel), plus the feature
// extractors: WhisperFeatureExtractor (log-mel) and Wav2Vec2FeatureExtractor (normalised
// waveform), computed as transformers computes them.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/core/tensor.hpp"

namespace cppformers::processors {

struct Audio {
  std::vector<float> samples;  // interleaved frames: frames * channels
  int64_t sampling_rate = 0;
  int64_t channels = 1;
  int64_t frames() const { return channels ? int64_t(samples.size()) / channels : 0; }
};

// Decodes an audio file; IOError if unreadable, FormatError if corrupt or truncated.
Audio read_audio(const std::string& path);
Audio decode_audio(const uint8_t* data, size_t size, const std::string& name = "<memory>");
// The mean of the channels.
std::vector<float> to_mono(const Audio& a);
// Band-limited resampling from `from_rate` to `to_rate` Hz (torchaudio.functional.resample's
// default kernel: sinc with a Hann window, 6 zero crossings, rolloff 0.99).
std::vector<float> resample(const std::vector<float>& x, int64_t from_rate, int64_t to_rate);
// read_audio + to_mono + resample to `sampling_rate`.
std::vector<float> load_audio(const std::string& path, int64_t sampling_rate = 16000);

// Slaney-style mel filter bank [num_frequency_bins, num_mel_filters] (transformers'
// audio_utils.mel_filter_bank with norm="slaney", mel_scale="slaney"), row-major.
std::vector<double> mel_filter_bank(int64_t num_frequency_bins, int64_t num_mel_filters, double min_frequency,
                                    double max_frequency, int64_t sampling_rate);

struct WhisperFeatureExtractor {
  int64_t feature_size = 80, sampling_rate = 16000, hop_length = 160, chunk_length = 30, n_fft = 400;
  double padding_value = 0.0;
  int64_t n_samples = 480000, nb_max_frames = 3000;
  std::vector<double> mel_filters;  // [n_fft / 2 + 1, feature_size]

  WhisperFeatureExtractor();
  static WhisperFeatureExtractor from_json(const nlohmann::json& j, const std::string& file = "preprocessor_config.json");
  static WhisperFeatureExtractor from_pretrained(const std::string& dir);
  void init_filters();
  // input_features [batch, feature_size, nb_max_frames]: each waveform padded (or truncated)
  // to n_samples, log-mel as in transformers (log10, clamp to max - 8, (x + 4) / 4).
  Tensor operator()(const std::vector<std::vector<float>>& waveforms) const;
  // The log-mel of one waveform of any length (no padding): [feature_size, frames].
  std::vector<float> log_mel(const std::vector<float>& waveform, int64_t* frames) const;
};

struct Wav2Vec2FeatureExtractor {
  int64_t feature_size = 1, sampling_rate = 16000;
  double padding_value = 0.0;
  bool do_normalize = true, return_attention_mask = false;

  static Wav2Vec2FeatureExtractor from_json(const nlohmann::json& j, const std::string& file = "preprocessor_config.json");
  static Wav2Vec2FeatureExtractor from_pretrained(const std::string& dir);
  // Zero-mean unit-variance over each waveform's own samples ((x - mean) / sqrt(var + 1e-7)).
  std::vector<float> normalize(const std::vector<float>& x) const;
  // input_values [batch, longest] right-padded with padding_value; attention_mask (i64) if asked.
  Tensor operator()(const std::vector<std::vector<float>>& waveforms, Tensor* attention_mask = nullptr) const;
};

}  // namespace cppformers::processors
