#include "cppformers/generation/encoder_decoder.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include "cppformers/autograd/node.hpp"
#include "cppformers/generation/beam_search.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers {

namespace fs = std::filesystem;

namespace {

std::optional<int64_t> opt_int(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (!j[key].is_number_integer()) throw FormatError(std::string("generation config: '") + key + "' must be an integer");
  return j[key].get<int64_t>();
}
std::vector<int64_t> int_list(const nlohmann::json& j, const char* key) {
  std::vector<int64_t> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  for (const auto& v : j[key]) {
    if (!v.is_number_integer()) throw FormatError(std::string("generation config: '") + key + "' must hold integers");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

class SuppressTokensAtBeginLogitsProcessor : public LogitsProcessor {
 public:
  SuppressTokensAtBeginLogitsProcessor(std::vector<int64_t> tokens, int64_t begin) : tokens_(std::move(tokens)), begin_(begin) {}
  void process(const Sequences& ids, float* scores, int64_t rows, int64_t vocab) const override {
    if (ids.empty() || int64_t(ids[0].size()) != begin_) return;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t t : tokens_)
        if (t >= 0 && t < vocab) scores[r * vocab + t] = -std::numeric_limits<float>::infinity();
  }
  std::vector<int64_t> tokens_;
  int64_t begin_;
};

}  // namespace

Seq2SeqGenerationExtras Seq2SeqGenerationExtras::from_pretrained(const std::string& dir, const Seq2SeqLM& model) {
  Seq2SeqGenerationExtras e;
  const auto gen = fs::path(dir) / "generation_config.json";
  const auto cfg = fs::path(dir) / "config.json";
  nlohmann::json j = fs::exists(gen) ? io::read_json_file(gen.string())
                                     : (fs::exists(cfg) ? io::read_json_file(cfg.string()) : nlohmann::json::object());
  e.update(j);
  if (!e.decoder_start_token_id) e.decoder_start_token_id = model.decoder_start_token_id();
  return e;
}

void Seq2SeqGenerationExtras::update(const nlohmann::json& j) {
  if (!j.is_object()) return;
  if (auto v = opt_int(j, "decoder_start_token_id")) decoder_start_token_id = v;
  if (auto v = opt_int(j, "forced_bos_token_id")) forced_bos_token_id = v;
  if (auto v = opt_int(j, "forced_eos_token_id")) forced_eos_token_id = v;
  if (j.contains("begin_suppress_tokens")) begin_suppress_tokens = int_list(j, "begin_suppress_tokens");
  if (j.contains("forced_decoder_ids") && j["forced_decoder_ids"].is_array()) {
    forced_decoder_ids.clear();
    for (const auto& p : j["forced_decoder_ids"]) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !(p[1].is_number_integer() || p[1].is_null()))
        throw FormatError("generation config: 'forced_decoder_ids' must be [[position, token], ...]");
      // a null token (Whisper: the language, to be detected) forces nothing; the prompt stops there
      if (p[1].is_null()) break;
      forced_decoder_ids.emplace_back(p[0].get<int64_t>(), p[1].get<int64_t>());
    }
  }
}

bool is_encoder_decoder_model(const std::string& dir) {
  const auto cfg = fs::path(dir) / "config.json";
  if (!fs::exists(cfg)) return false;
  nlohmann::json j = io::read_json_file(cfg.string());
  if (!j.is_object()) return false;  // the model loader reports the bad config.json
  if (j.contains("is_encoder_decoder") && j["is_encoder_decoder"].is_boolean()) return j["is_encoder_decoder"].get<bool>();
  const auto it = j.find("model_type");
  const std::string t = it != j.end() && it->is_string() ? it->get<std::string>() : "";
  return t == "t5" || t == "mt5" || t == "bart" || t == "mbart" || t == "marian" || t == "whisper";
}

GenerateOutput generate_seq2seq(Seq2SeqLM& model, const ModelInputs& enc_in, const GenerationConfig& config,
                                const Seq2SeqGenerationExtras& extras) {
  config.validate();
  if (config.do_sample) throw NotSupportedError("generate: sampling is not implemented for encoder-decoder models yet");
  autograd::NoGradGuard no_grad;
  Seq2SeqState st = model.encode(enc_in);
  const int64_t B = st.encoder_hidden.size(0);
  // the decoder prompt: start token, then forced ids at consecutive positions (Whisper's init tokens)
  std::vector<int64_t> prompt{extras.decoder_start_token_id.value_or(model.decoder_start_token_id())};
  auto forced = extras.forced_decoder_ids;
  std::sort(forced.begin(), forced.end());
  for (auto& [pos, tok] : forced)
    if (pos == int64_t(prompt.size())) prompt.push_back(tok);
  const int64_t P = int64_t(prompt.size());
  const int64_t max_length = config.effective_max_length(P);
  const int64_t K = std::max<int64_t>(1, config.num_beams);
  check_rows_fit_in_memory(model, B, K, P, std::min<int64_t>(max_length, P + 1024), st.encoder_hidden.size(1),
                           st.encoder_hidden.size(2));
  const int64_t pad = config.pad_token_id.value_or(config.eos_token_id.empty() ? 0 : config.eos_token_id[0]);
  const auto& eos = config.eos_token_id;
  auto is_eos = [&](int64_t t) { return std::find(eos.begin(), eos.end(), t) != eos.end(); };

  LogitsProcessorList procs = make_logits_processors(config, P);
  // (make_logits_processors already applies the GenerationConfig's forced_bos/eos_token_id)
  if (extras.forced_bos_token_id && !config.forced_bos_token_id) procs.add(std::make_shared<ForcedBOSLogitsProcessor>(*extras.forced_bos_token_id));
  if (extras.forced_eos_token_id && !config.forced_eos_token_id)
    procs.add(std::make_shared<ForcedEOSLogitsProcessor>(max_length, *extras.forced_eos_token_id));
  if (!extras.begin_suppress_tokens.empty())
    procs.add(std::make_shared<SuppressTokensAtBeginLogitsProcessor>(extras.begin_suppress_tokens, P));
  for (const auto& p : extras.logits_processors) procs.add(p);

  const int64_t rows = B * K;
  st.expand(K);
  st.self_cache = std::make_unique<nn::KVCache>(std::min<int64_t>(max_length, P + 1024));  // grows as needed
  Sequences ids(size_t(rows), prompt);
  // The decoder's logits for the last position of the new tokens of every row: [rows, V] f32.
  auto step_logits = [&](bool first) {
    std::vector<int64_t> flat;
    if (first) {
      for (int64_t r = 0; r < rows; ++r) flat.insert(flat.end(), prompt.begin(), prompt.end());
    } else {
      for (auto& s : ids) flat.push_back(s.back());
    }
    const int64_t n = first ? P : 1;
    Tensor logits = model.decode_step(Tensor::from_vector(flat, {rows, n}), st);
    return logits.select(1, n - 1).to(kF32).contiguous();
  };

  GenerateOutput out;
  if (K == 1) {
    std::vector<bool> unfinished(size_t(rows), true);
    for (int64_t cur = P; cur < max_length; ++cur) {
      Tensor logits;
      try {
        logits = step_logits(cur == P);
      } catch (const Error& e) {  // e.g. Whisper past max_target_positions: keep what was generated
        if (cur == P) throw;
        out.sequences = ids;
        throw GenerationError("generate: stopped after " + std::to_string(cur - P) + " new token(s): " + e.what(), out);
      }
      const int64_t V = logits.size(1);
      std::vector<float> scores(logits.data<float>(), logits.data<float>() + rows * V);
      procs.process(ids, scores.data(), rows, V);
      if (config.output_scores) out.scores.push_back(Tensor::from_vector(scores, {rows, V}));
      bool any = false;
      for (int64_t r = 0; r < rows; ++r) {
        const float* s = scores.data() + r * V;
        int64_t best = int64_t(std::max_element(s, s + V) - s);
        if (!unfinished[size_t(r)]) best = pad;
        ids[size_t(r)].push_back(best);
        if (is_eos(best)) unfinished[size_t(r)] = false;
        any = any || unfinished[size_t(r)];
      }
      if (!any) break;
    }
    out.sequences = ids;
    return out;
  }

  // beam search
  BeamSearchScorer scorer(B, K, config.length_penalty, config.early_stopping, config.num_return_sequences, max_length);
  std::vector<float> beam_scores(size_t(rows), 0.0f);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 1; k < K; ++k) beam_scores[size_t(b * K + k)] = -1e9f;
  for (int64_t cur = P; cur < max_length; ++cur) {
    Tensor logits = step_logits(cur == P);
    const int64_t V = logits.size(1);
    std::vector<float> scores(logits.data<float>(), logits.data<float>() + rows * V);
    for (int64_t r = 0; r < rows; ++r) log_softmax_inplace(scores.data() + r * V, V);
    procs.process(ids, scores.data(), rows, V);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < V; ++v) scores[size_t(r * V + v)] += beam_scores[size_t(r)];
    const int64_t keep = std::max<int64_t>(2, 1 + int64_t(eos.size())) * K;
    std::vector<std::vector<float>> cand_scores(static_cast<size_t>(B));
    std::vector<std::vector<int64_t>> cand_tokens(static_cast<size_t>(B)), cand_beams(static_cast<size_t>(B));
    std::vector<int64_t> order(static_cast<size_t>(K * V));
    for (int64_t b = 0; b < B; ++b) {
      const float* s = scores.data() + b * K * V;
      for (int64_t i = 0; i < K * V; ++i) order[size_t(i)] = i;
      // torch.topk(sorted=True): descending; ties keep the lower index first
      std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](int64_t x, int64_t y) {
        return s[x] > s[y] || (s[x] == s[y] && x < y);
      });
      for (int64_t i = 0; i < keep; ++i) {
        cand_scores[size_t(b)].push_back(s[order[size_t(i)]]);
        cand_tokens[size_t(b)].push_back(order[size_t(i)] % V);
        cand_beams[size_t(b)].push_back(order[size_t(i)] / V);
      }
    }
    BeamStep step = scorer.process(ids, cand_scores, cand_tokens, cand_beams, pad, eos, P);
    Sequences next(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      next[size_t(r)] = ids[size_t(step.next_beam_indices[size_t(r)])];
      next[size_t(r)].push_back(step.next_beam_tokens[size_t(r)]);
    }
    ids = std::move(next);
    beam_scores = step.next_beam_scores;
    st.reorder(Tensor::from_vector(step.next_beam_indices, {rows}));
    if (scorer.is_done()) break;
  }
  auto fin = scorer.finalize(ids, beam_scores, pad, eos, max_length, P);
  out.sequences = fin.sequences;
  out.sequences_scores = fin.sequence_scores;
  return out;
}

}  // namespace cppformers
