#include "cppformers/pipelines/automatic_speech_recognition.hpp"

#include <cmath>
#include <filesystem>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/models/wav2vec2/modeling.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/pipelines/tasks.hpp"
#include "cppformers/pipelines/whisper_asr.hpp"

namespace cppformers {

namespace fs = std::filesystem;

CTCVocabulary CTCVocabulary::from_pretrained(const std::string& dir) {
  const auto vocab_file = fs::path(dir) / "vocab.json";
  if (!fs::exists(vocab_file)) throw IOError(dir + ": no vocab.json (the CTC tokenizer's vocabulary)");
  CTCVocabulary v;
  json j = io::read_json_file(vocab_file.string());
  if (!j.is_object()) throw FormatError(vocab_file.string() + ": expected an object of token -> id");
  for (auto& [tok, id] : j.items()) {
    if (!id.is_number_integer()) throw FormatError(vocab_file.string() + ": id of '" + tok + "' is not an integer");
    v.id_to_token[id.get<int64_t>()] = tok;
  }
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const auto f = fs::path(dir) / name;
    if (!fs::exists(f)) continue;
    json c = io::read_json_file(f.string());
    auto str = [&](const char* key, std::string& slot) {
      if (!c.contains(key)) return;
      if (c[key].is_string()) slot = c[key].get<std::string>();
      else if (c[key].is_object() && c[key].contains("content")) slot = c[key]["content"].get<std::string>();
    };
    str("pad_token", v.pad_token);
    str("word_delimiter_token", v.word_delimiter_token);
  }
  // added tokens (added_tokens.json) extend the vocabulary
  const auto added = fs::path(dir) / "added_tokens.json";
  if (fs::exists(added))
    for (auto& [tok, id] : io::read_json_file(added.string()).items())
      if (id.is_number_integer()) v.id_to_token[id.get<int64_t>()] = tok;
  return v;
}

std::string CTCVocabulary::decode(const std::vector<int64_t>& ids, std::vector<Offset>* chars,
                                  std::vector<Offset>* words) const {
  // group repeats, then drop the blank (pad), then '|' -> ' '
  std::vector<Offset> groups;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = id_to_token.find(ids[i]);
    const std::string tok = it != id_to_token.end() ? it->second : "<unk>";
    if (!groups.empty() && i > 0 && ids[i] == ids[i - 1]) {
      groups.back().end = int64_t(i) + 1;
      continue;
    }
    groups.push_back({tok, int64_t(i), int64_t(i) + 1});
  }
  std::vector<Offset> kept;
  for (auto& g : groups) {
    if (g.text == pad_token) continue;
    if (g.text == word_delimiter_token) g.text = " ";
    kept.push_back(g);
  }
  std::string text;
  for (auto& k : kept) text += k.text;
  const size_t b = text.find_first_not_of(" \t\n\r\f\v"), e = text.find_last_not_of(" \t\n\r\f\v");
  text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  if (chars) *chars = kept;
  if (words) {  // Wav2Vec2CTCTokenizer._get_word_offsets
    words->clear();
    std::string state_last = "SPACE", word;
    int64_t start = 0, end = 0;
    for (auto& k : kept) {
      const std::string state = k.text == " " ? "SPACE" : "WORD";
      if (state == state_last) {
        end = k.end;
        word += k.text;
      } else if (state == "SPACE") {
        words->push_back({word, start, end});
      } else {
        start = k.start, end = k.end, word = k.text;
      }
      state_last = state;
    }
    if (state_last == "WORD") words->push_back({word, start, end});
  }
  return text;
}

AutomaticSpeechRecognitionPipeline::AutomaticSpeechRecognitionPipeline(std::shared_ptr<PreTrainedModel> model,
                                                                       CTCVocabulary v,
                                                                       processors::Wav2Vec2FeatureExtractor fe)
    : Pipeline("automatic-speech-recognition", std::move(model), std::nullopt, 1), vocab(std::move(v)),
      feature_extractor(fe) {
  if (auto* w = dynamic_cast<const Wav2Vec2Config*>(&model_->config())) {
    inputs_to_logits_ratio = 1;
    for (int64_t s : w->conv_stride) inputs_to_logits_ratio *= s;
  }
}

std::vector<int64_t> AutomaticSpeechRecognitionPipeline::frame_ids(const std::vector<float>& wave, double chunk_s,
                                                                   double left_s, double right_s) {
  autograd::NoGradGuard no_grad;
  auto run = [&](const std::vector<float>& x) {
    ModelInputs in;
    Tensor mask;
    in.input_values = feature_extractor({x}, &mask);
    if (feature_extractor.return_attention_mask) in.attention_mask = mask;
    Tensor ids = ops::argmax(model_->forward(in).logits, -1);
    return ids.to_vector<int64_t>();
  };
  if (wave.empty()) throw ValueError("automatic-speech-recognition: empty audio");
  if (chunk_s <= 0) return run(wave);
  const double sr = double(feature_extractor.sampling_rate), ratio = double(inputs_to_logits_ratio);
  if (left_s < 0) left_s = right_s = chunk_s / 6;
  auto samples = [&](double s) { return int64_t(std::nearbyint(s * sr / ratio) * ratio); };  // Python's round
  const int64_t chunk_len = samples(chunk_s), left = samples(left_s), right = samples(right_s);
  if (chunk_len < left + right) throw ValueError("automatic-speech-recognition: chunk_length_s must be larger than the strides");
  const int64_t n = int64_t(wave.size()), step = chunk_len - left - right;
  std::vector<int64_t> out;
  for (int64_t start = 0; start < n; start += step) {
    const int64_t end = std::min(n, start + chunk_len);
    std::vector<float> chunk(wave.begin() + start, wave.begin() + end);
    const int64_t sl = start == 0 ? 0 : left;
    const bool last = start + chunk_len >= n;
    const int64_t sr_ = last ? 0 : right;
    const int64_t len = int64_t(chunk.size());
    if (len > sl) {
      std::vector<int64_t> ids = run(chunk);
      const int64_t token_n = int64_t(std::nearbyint(double(len) / ratio));
      const int64_t l = int64_t(std::nearbyint(double(sl) / double(len) * double(token_n)));
      const int64_t r = int64_t(std::nearbyint(double(sr_) / double(len) * double(token_n)));
      const int64_t stop = std::min<int64_t>(int64_t(ids.size()), token_n - r);
      for (int64_t i = l; i < stop; ++i) out.push_back(ids[size_t(i)]);
    }
    if (last) break;
  }
  return out;
}

json AutomaticSpeechRecognitionPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"chunk_length_s", "stride_length_s", "return_timestamps", "batch_size"});
  auto one = [&](const json& x) -> json {
    if (!x.is_string()) throw ValueError("automatic-speech-recognition: an input must be an audio file path");
    std::vector<float> wave = processors::load_audio(x.get<std::string>(), feature_extractor.sampling_rate);
    const double chunk = kwarg<double>(kwargs, "chunk_length_s", 0.0);
    double l = -1, r = -1;
    if (kwargs.contains("stride_length_s") && !kwargs["stride_length_s"].is_null()) {
      const json& s = kwargs["stride_length_s"];
      if (s.is_array() && s.size() == 2) l = s[0].get<double>(), r = s[1].get<double>();
      else if (s.is_number()) l = r = s.get<double>();
      else throw ValueError("automatic-speech-recognition: stride_length_s must be a number or [left, right]");
    }
    std::vector<int64_t> ids = frame_ids(wave, chunk, l, r);
    const std::string ts = kwargs.contains("return_timestamps") && kwargs["return_timestamps"].is_string()
                               ? kwargs["return_timestamps"].get<std::string>() : "";
    std::vector<CTCVocabulary::Offset> chars, words;
    json out;
    out["text"] = vocab.decode(ids, &chars, &words);
    if (!ts.empty()) {
      if (ts != "char" && ts != "word")
        throw ValueError("automatic-speech-recognition: return_timestamps must be 'char' or 'word' for CTC models");
      json chunks = json::array();
      const double k = double(inputs_to_logits_ratio), sr = double(feature_extractor.sampling_rate);
      for (auto& o : ts == "char" ? chars : words)
        chunks.push_back(json{{"text", o.text}, {"timestamp", json::array({double(o.start) * k / sr, double(o.end) * k / sr})}});
      out["chunks"] = chunks;
    }
    return out;
  };
  if (inputs.is_array()) {
    json out = json::array();
    ProgressBar bar = progress_bar(inputs.size(), kwarg<int64_t>(kwargs, "batch_size", 0));
    for (const json& x : inputs) out.push_back(one(x)), bar.update();
    return out;
  }
  return one(inputs);
}

namespace pipelines {
std::unique_ptr<Pipeline> make_automatic_speech_recognition(const std::string& dir, const PipelineOptions& o) {
  const auto cfg = fs::path(dir) / "config.json";
  if (fs::exists(cfg) && [&] {
        const nlohmann::json j = io::read_json_file(cfg.string());
        return j.is_object() && j.contains("model_type") && j["model_type"] == "whisper";
      }()) {
    auto model = AutoModelForSpeechSeq2Seq::from_pretrained(dir, o.model_options);
    auto& s2s = dynamic_cast<Seq2SeqLM&>(*model);
    return std::make_unique<WhisperSpeechRecognitionPipeline>(
        model, load_tokenizer(dir, o), processors::WhisperFeatureExtractor::from_pretrained(dir),
        GenerationConfig::from_pretrained(dir, &model->config()), WhisperGenerationConfig::from_pretrained(dir),
        Seq2SeqGenerationExtras::from_pretrained(dir, s2s));
  }
  return std::make_unique<AutomaticSpeechRecognitionPipeline>(AutoModelForCTC::from_pretrained(dir, o.model_options),
                                                              CTCVocabulary::from_pretrained(dir),
                                                              processors::Wav2Vec2FeatureExtractor::from_pretrained(dir));
}
}  // namespace pipelines

}  // namespace cppformers
