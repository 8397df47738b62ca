#include "cppformers/pipelines/whisper_asr.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include "cppformers/autograd/node.hpp"
#include "cppformers/models/whisper/config.hpp"

namespace cppformers {

namespace whisper_asr {

std::vector<int64_t> find_longest_common_sequence(const std::vector<std::vector<int64_t>>& sequences) {
  if (sequences.empty()) return {};
  std::vector<int64_t> left = sequences[0], total;
  for (size_t s = 1; s < sequences.size(); ++s) {
    const std::vector<int64_t>& right = sequences[s];
    const int64_t L = int64_t(left.size()), R = int64_t(right.size());
    double best = 0.0;
    int64_t ls = L, le = L, rs = 0, re = 0;  // the chosen overlap: left[ls:le] against right[rs:re]
    for (int64_t i = 1; i < L + R; ++i) {
      const double eps = double(i) / 10000.0;  // favours long perfect matches
      const int64_t left_start = std::max<int64_t>(0, L - i), left_stop = std::min(L, L + R - i);
      const int64_t right_start = std::max<int64_t>(0, i - L), right_stop = std::min(R, i);
      int64_t matches = 0;
      for (int64_t k = 0; k < left_stop - left_start; ++k)
        matches += left[size_t(left_start + k)] == right[size_t(right_start + k)];
      const double matching = double(matches) / double(i) + eps;
      if (matches > 1 && matching > best) {
        best = matching;
        ls = left_start, le = left_stop, rs = right_start, re = right_stop;
      }
    }
    // the overlap is split in its middle: the left sequence is trusted on the left half
    const int64_t left_mid = (le + ls) / 2, right_mid = (re + rs) / 2;
    total.insert(total.end(), left.begin(), left.begin() + left_mid);
    left.assign(right.begin() + right_mid, right.end());
  }
  total.insert(total.end(), left.begin(), left.end());
  return total;
}

double round2(double x) {
  if (!std::isfinite(x)) return x;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", x);  // glibc: exact binary value, ties to even, as CPython's round
  return std::strtod(buf, nullptr);
}

WhisperTokens WhisperTokens::from(const AutoTokenizer& tok) {
  WhisperTokens t;
  t.tokenizer = &tok;
  auto nt = tok.token_to_id("<|notimestamps|>");
  if (!nt && tok.unk_token) nt = tok.token_to_id(*tok.unk_token);  // convert_tokens_to_ids' unknown-token fallback
  t.timestamp_begin = nt ? *nt + 1 : int64_t(tok.backend().vocab_size(true));
  for (const auto& a : tok.backend().added_vocabulary().tokens())
    if (a.special && int64_t(a.id) < t.timestamp_begin) t.special_ids.insert(int64_t(a.id));
  for (const auto* s : {&tok.bos_token, &tok.eos_token, &tok.unk_token, &tok.pad_token, &tok.sep_token, &tok.cls_token,
                        &tok.mask_token})
    if (*s)
      if (auto id = tok.token_to_id(**s); id && *id < t.timestamp_begin) t.special_ids.insert(*id);
  t.startofprev = tok.token_to_id("<|startofprev|>");
  t.startoftranscript = tok.token_to_id("<|startoftranscript|>");
  return t;
}

std::string WhisperTokens::decode(const std::vector<int64_t>& ids) const {
  static const std::regex timestamp_pattern(R"(<\|(\d+\.\d+)\|>)");
  return std::regex_replace(tokenizer->decode(ids, false), timestamp_pattern, "");
}

namespace {

std::optional<std::string> language_name(const std::string& code) {
  for (auto& [c, name] : whisper_languages())
    if (c == code) return name;
  return std::nullopt;
}

struct Chunk {
  std::optional<std::string> language;
  std::optional<double> start, end;
  std::string text;
};

}  // namespace

json decode_asr(const WhisperTokens& tok, const std::vector<ChunkTokens>& outputs, bool return_timestamps,
                bool return_language, double time_precision) {
  const int64_t tb = tok.timestamp_begin;
  const double segment_size = 1500;
  std::optional<std::string> last_language;
  auto new_chunk = [&] { return Chunk{last_language, std::nullopt, std::nullopt, ""}; };
  std::vector<Chunk> chunks;
  Chunk chunk = new_chunk();
  double time_offset = 0.0;
  std::vector<std::vector<int64_t>> previous_tokens;
  bool skip = false;
  auto flush = [&](std::vector<int64_t>* current) {  // closes the chunk with the merged text
    chunk.text = tok.decode(find_longest_common_sequence(previous_tokens));
    chunks.push_back(chunk);
    previous_tokens.clear();
    if (current) current->clear();
    chunk = new_chunk();
  };
  for (const ChunkTokens& out : outputs) {
    std::vector<int64_t> ids = out.tokens;
    // a previous-text prompt (<|startofprev|> ...) is dropped up to <|startoftranscript|>
    if (!ids.empty() && tok.startofprev && ids[0] == *tok.startofprev) {
      auto it = tok.startoftranscript ? std::find(ids.begin(), ids.end(), *tok.startoftranscript) : ids.end();
      ids = it == ids.end() ? std::vector<int64_t>{} : std::vector<int64_t>(it, ids.end());
    }
    std::optional<int64_t> last_timestamp;  // timestamps from here on fall in the right stride
    double first_timestamp = double(tb);
    double cur_max_timestamp = 0.0, prev_segments_len = 0.0, penultimate_timestamp = 0.0;
    double chunk_len = 0, stride_left = 0, stride_right = 0;
    if (out.stride) {
      std::tie(chunk_len, stride_left, stride_right) = std::tuple((*out.stride)[0], (*out.stride)[1], (*out.stride)[2]);
      time_offset -= stride_left;
      const double right_stride_start = chunk_len - stride_right;
      if (stride_left != 0) first_timestamp = stride_left / time_precision + double(tb);
      if (stride_right != 0)
        for (auto it = ids.rbegin(); it != ids.rend(); ++it)
          if (*it >= tb) {
            // several timestamps can sit in the right stride; the last one is always skipped
            if (last_timestamp && double(*it - tb) * time_precision < right_stride_start) break;
            last_timestamp = *it;
          }
    }
    std::vector<int64_t> current;
    for (size_t i = 0; i < ids.size(); ++i) {
      const int64_t token = ids[i];
      if (tok.special_ids.count(token)) {
        std::string text = tok.tokenizer->decode({token}, false);
        text = text.size() >= 4 ? text.substr(2, text.size() - 4) : "";
        if (auto language = language_name(text)) {
          if (last_language && *language != *last_language && !return_timestamps) {
            previous_tokens.push_back(current);
            flush(&current);
          }
          chunk.language = language;
          last_language = language;
        }
      } else if (token >= tb) {
        const double timestamp = double(token - tb) * time_precision;
        if (timestamp < cur_max_timestamp) {  // a next segment has started (long-form output)
          const bool last_was_single_ending = i >= 2 && !(ids[i - 1] >= tb && ids[i - 2] >= tb);
          if (last_was_single_ending) {
            prev_segments_len += time_precision * segment_size;
          } else {
            cur_max_timestamp = penultimate_timestamp;
            prev_segments_len += penultimate_timestamp;
          }
        }
        penultimate_timestamp = cur_max_timestamp;
        cur_max_timestamp = timestamp;
        const double time = round2(double(token - tb) * time_precision + time_offset + prev_segments_len);
        if (last_timestamp && token >= *last_timestamp) {
          skip = true;  // inside the right stride: resolved by the next chunk (timestamps come in pairs)
        } else if (skip || (!previous_tokens.empty() && double(token) < first_timestamp)) {
          skip = false;
        } else if (!chunk.start) {
          chunk.start = time;
        } else if (time != *chunk.start) {  // a repeated start is not an end
          chunk.end = time;
          previous_tokens.push_back(current);
          flush(&current);
        }
      } else {
        current.push_back(token);
      }
    }
    if (out.stride) time_offset += chunk_len - stride_right;
    if (!current.empty()) {
      previous_tokens.push_back(current);
    } else {
      bool any = false;
      for (auto& p : previous_tokens) any = any || !p.empty();
      if (!any) {
        chunk = new_chunk();
        previous_tokens.clear();
      }
    }
  }
  if (!previous_tokens.empty()) flush(nullptr);  // no ending timestamp (or none asked)

  std::string full;
  for (auto& c : chunks) full += c.text;
  json result = json::object();
  result["text"] = full;
  if (return_timestamps || return_language) {
    json list = json::array();
    for (auto& c : chunks) {
      json o = json::object();
      if (return_language) o["language"] = c.language ? json(*c.language) : json(nullptr);
      if (return_timestamps)
        o["timestamp"] = json::array({c.start ? json(*c.start) : json(nullptr), c.end ? json(*c.end) : json(nullptr)});
      o["text"] = c.text;
      list.push_back(o);
    }
    result["chunks"] = list;
  }
  return result;
}

std::vector<Window> chunk_windows(int64_t n, int64_t chunk_len, int64_t stride_left, int64_t stride_right) {
  const int64_t step = chunk_len - stride_left - stride_right;
  if (step <= 0) throw ValueError("automatic-speech-recognition: chunk_length_s must be larger than the strides");
  std::vector<Window> out;
  for (int64_t start = 0; start < n; start += step) {
    const int64_t end = std::min(n, start + chunk_len);
    const bool last = start + chunk_len >= n;
    const int64_t left = start == 0 ? 0 : stride_left, right = last ? 0 : stride_right;
    if (end - start > left) out.push_back({start, end, left, right});
    if (last) break;
  }
  return out;
}

}  // namespace whisper_asr

WhisperSpeechRecognitionPipeline::WhisperSpeechRecognitionPipeline(std::shared_ptr<PreTrainedModel> model,
                                                                   AutoTokenizer tok,
                                                                   processors::WhisperFeatureExtractor fe,
                                                                   GenerationConfig gc, WhisperGenerationConfig wc,
                                                                   Seq2SeqGenerationExtras ex)
    : Pipeline("automatic-speech-recognition", std::move(model), std::move(tok), 1), feature_extractor(std::move(fe)),
      generation_config(std::move(gc)), whisper_config(std::move(wc)), extras(std::move(ex)) {
  if (!dynamic_cast<Seq2SeqLM*>(model_.get()))
    throw NotSupportedError("automatic-speech-recognition: " + model_->class_name() + " is not a Whisper model");
  tokens = whisper_asr::WhisperTokens::from(*tokenizer_);
}

std::vector<int64_t> WhisperSpeechRecognitionPipeline::generate_ids(const Tensor& features, const json& gen_kwargs,
                                                                    bool return_timestamps) {
  GenerationConfig cfg = generation_config;
  WhisperGenerationConfig w = whisper_config;
  Seq2SeqGenerationExtras ex = extras;
  if (gen_kwargs.is_object()) {
    cfg.update(gen_kwargs, "generate_kwargs");
    w.update(gen_kwargs, "generate_kwargs");
    ex.update(gen_kwargs);
  }
  if (return_timestamps) w.return_timestamps = true;
  GenerateOutput g = whisper_generate(dynamic_cast<Seq2SeqLM&>(*model_), features, cfg, w, ex);
  return g.sequences.at(0);
}

json WhisperSpeechRecognitionPipeline::transcribe(const std::vector<float>& wave, const json& kwargs) {
  autograd::NoGradGuard no_grad;
  // return_timestamps: True -> segment timestamps; "word" needs cross-attention DTW; "char" is CTC-only
  bool return_timestamps = false;
  if (kwargs.contains("return_timestamps") && !kwargs["return_timestamps"].is_null()) {
    const json& r = kwargs["return_timestamps"];
    if (r.is_string() && r.get<std::string>() == "char")
      throw ValueError("Whisper cannot return `char` timestamps, only word level or segment level timestamps. Use "
                       "`return_timestamps='word'` or `return_timestamps=True` respectively.");
    if (r.is_string() && r.get<std::string>() == "word")
      throw NotSupportedError("automatic-speech-recognition: Whisper word-level timestamps (return_timestamps='word') "
                              "are not implemented; use return_timestamps=True for segment timestamps");
    if (!r.is_boolean()) throw ValueError("automatic-speech-recognition: return_timestamps must be true, false or 'word'");
    return_timestamps = r.get<bool>();
  }
  const bool return_language = kwarg<bool>(kwargs, "return_language", false);
  json gen = kwargs.contains("generate_kwargs") && kwargs["generate_kwargs"].is_object() ? kwargs["generate_kwargs"]
                                                                                        : json::object();
  if (kwargs.contains("max_new_tokens") && !kwargs["max_new_tokens"].is_null()) {
    if (gen.contains("max_new_tokens"))
      throw ValueError("`max_new_tokens` is defined both as an argument and inside `generate_kwargs` argument, please "
                       "use only 1 version");
    gen["max_new_tokens"] = kwargs["max_new_tokens"];
  }
  const double chunk_s = kwarg<double>(kwargs, "chunk_length_s", 0.0);
  const double sr = double(feature_extractor.sampling_rate);
  std::vector<whisper_asr::ChunkTokens> outputs;
  if (chunk_s > 0) {
    double left_s = chunk_s / 6, right_s = chunk_s / 6;
    if (kwargs.contains("stride_length_s") && !kwargs["stride_length_s"].is_null()) {
      const json& s = kwargs["stride_length_s"];
      if (s.is_array() && s.size() == 2 && s[0].is_number() && s[1].is_number()) left_s = s[0].get<double>(), right_s = s[1].get<double>();
      else if (s.is_number()) left_s = right_s = s.get<double>();
      else throw ValueError("automatic-speech-recognition: stride_length_s must be a number or [left, right]");
    }
    // Whisper's config has no inputs_to_logits_ratio: windows align to single samples
    const int64_t chunk_len = int64_t(std::nearbyint(chunk_s * sr)), left = int64_t(std::nearbyint(left_s * sr)),
                  right = int64_t(std::nearbyint(right_s * sr));
    if (chunk_len < left + right) throw ValueError("Chunk length must be superior to stride length");
    for (const auto& win : whisper_asr::chunk_windows(int64_t(wave.size()), chunk_len, left, right)) {
      std::vector<float> piece(wave.begin() + win.start, wave.begin() + win.end);
      Tensor features = feature_extractor({piece});
      outputs.push_back({generate_ids(features, gen, return_timestamps),
                         std::array<double, 3>{double(win.end - win.start) / sr, double(win.stride_left) / sr,
                                               double(win.stride_right) / sr}});
    }
  } else {
    if (int64_t(wave.size()) > feature_extractor.n_samples)
      throw NotSupportedError("automatic-speech-recognition: audio longer than " +
                              std::to_string(feature_extractor.chunk_length) +
                              " s needs chunk_length_s (Whisper's sequential long-form decoding is not implemented); "
                              "pass e.g. chunk_length_s=30");
    outputs.push_back({generate_ids(feature_extractor({wave}), gen, return_timestamps), std::nullopt});
  }
  int64_t max_source_positions = 1500;
  if (auto* c = dynamic_cast<const WhisperConfig*>(&model_->config())) max_source_positions = c->max_source_positions;
  const double time_precision = double(feature_extractor.chunk_length) / double(max_source_positions);
  return whisper_asr::decode_asr(tokens, outputs, return_timestamps, return_language, time_precision);
}

json WhisperSpeechRecognitionPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"chunk_length_s", "stride_length_s", "return_timestamps", "return_language", "generate_kwargs",
                        "max_new_tokens", "batch_size", "ignore_warning"});
  const json kw = kwargs.is_object() ? kwargs : json::object();
  auto one = [&](const json& x) -> json {
    const int64_t sr = feature_extractor.sampling_rate;
    if (x.is_string()) return transcribe(processors::load_audio(x.get<std::string>(), sr), kw);
    if (x.is_object() && x.contains("sampling_rate") && (x.contains("raw") || x.contains("array"))) {
      const json& a = x.contains("raw") ? x["raw"] : x["array"];
      if (!a.is_array() || !x["sampling_rate"].is_number_integer())
        throw ValueError("automatic-speech-recognition: {'raw': [samples], 'sampling_rate': int} expected");
      std::vector<float> wave;
      wave.reserve(a.size());
      for (const json& v : a) {
        if (!v.is_number()) throw ValueError("automatic-speech-recognition: 'raw' must hold numbers");
        wave.push_back(v.get<float>());
      }
      const int64_t in_sr = x["sampling_rate"].get<int64_t>();
      if (in_sr <= 0) throw ValueError("automatic-speech-recognition: 'sampling_rate' must be positive");
      return transcribe(in_sr == sr ? wave : processors::resample(wave, in_sr, sr), kw);
    }
    throw ValueError("automatic-speech-recognition: an input must be an audio file path or {'raw': [...], "
                     "'sampling_rate': N}");
  };
  if (inputs.is_array()) {
    json out = json::array();
    for (const json& x : inputs) out.push_back(one(x));
    return out;
  }
  return one(inputs);
}

}  // namespace cppformers
