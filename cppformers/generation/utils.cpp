#include "cppformers/generation/utils.hpp"

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>


#include "cppformers/autograd/node.hpp"
#include "cppformers/core/allocator.hpp"
#include "cppformers/generation/beam_search.hpp"
#include "cppformers/nn/kv_cache.hpp"

namespace cppformers {

LogitsProcessorList make_logits_processors(const GenerationConfig& c, int64_t prompt_length) {
  LogitsProcessorList list;
  using std::make_shared;
  if (c.repetition_penalty != 1.0) list.add(make_shared<RepetitionPenaltyLogitsProcessor>(c.repetition_penalty));
  if (c.no_repeat_ngram_size > 0) list.add(make_shared<NoRepeatNGramLogitsProcessor>(c.no_repeat_ngram_size));
  if (!c.bad_words_ids.empty()) list.add(make_shared<NoBadWordsLogitsProcessor>(c.bad_words_ids, c.eos_token_id));
  if (c.min_length > 0 && !c.eos_token_id.empty())
    list.add(make_shared<MinLengthLogitsProcessor>(c.min_length, c.eos_token_id));
  if (c.min_new_tokens && *c.min_new_tokens > 0 && !c.eos_token_id.empty())
    list.add(make_shared<MinNewTokensLengthLogitsProcessor>(prompt_length, *c.min_new_tokens, c.eos_token_id));
  if (c.forced_bos_token_id) list.add(make_shared<ForcedBOSLogitsProcessor>(*c.forced_bos_token_id));
  if (c.forced_eos_token_id)
    list.add(make_shared<ForcedEOSLogitsProcessor>(c.effective_max_length(prompt_length), *c.forced_eos_token_id));
  if (!c.suppress_tokens.empty()) list.add(make_shared<SuppressTokensLogitsProcessor>(c.suppress_tokens));
  if (c.do_sample) {
    const int64_t keep = c.num_beams > 1 ? 2 : 1;
    if (c.temperature != 1.0) list.add(make_shared<TemperatureLogitsWarper>(c.temperature));
    if (c.top_k != 0) list.add(make_shared<TopKLogitsWarper>(c.top_k, keep));
    if (c.top_p < 1.0) list.add(make_shared<TopPLogitsWarper>(c.top_p, keep));
    if (c.min_p) list.add(make_shared<MinPLogitsWarper>(*c.min_p, keep));
  }
  if (c.renormalize_logits) list.add(make_shared<LogitNormalization>());
  return list;
}

namespace {

// Runs the model on what is new since the last call (all of it without a cache) and returns
// the last position's logits, [rows, vocab] f32.
class Stepper {
 public:
  Stepper(PreTrainedModel& model, bool use_cache, int64_t capacity) : model_(model), use_cache_(use_cache), cache_(capacity) {}

  Tensor next_logits(const Sequences& seqs, const Sequences& mask) {
    const int64_t N = int64_t(seqs.size()), L = int64_t(seqs[0].size());
    const int64_t past = use_cache_ ? cache_.length(0) : 0;
    const int64_t S = L - past;
    std::vector<int64_t> ids(size_t(N * S)), pos(size_t(N * S)), m(size_t(N * L));
    for (int64_t r = 0; r < N; ++r) {
      int64_t count = 0;
      for (int64_t t = 0; t < L; ++t) {
        const int64_t mv = mask[size_t(r)][size_t(t)];
        m[size_t(r * L + t)] = mv;
        count += mv;  // position = cumsum(mask) - 1, pads set to 1
        if (t >= past) {
          ids[size_t(r * S + t - past)] = seqs[size_t(r)][size_t(t)];
          pos[size_t(r * S + t - past)] = mv == 0 ? 1 : count - 1;
        }
      }
    }
    ModelInputs in;
    in.input_ids = Tensor::from_vector(ids, {N, S});
    in.position_ids = Tensor::from_vector(pos, {N, S});
    in.attention_mask = Tensor::from_vector(m, {N, L});
    in.past_key_values = use_cache_ ? &cache_ : nullptr;
    in.num_logits_to_keep = 1;
    ModelOutput out = model_.forward(in);
    if (!out.logits.defined() || out.logits.dim() != 3)
      throw NotSupportedError("generate: " + model_.class_name() + " does not return [batch, seq, vocab] logits");
    return out.logits.select(1, out.logits.size(1) - 1).to(kF32).contiguous().clone();
  }
  void reorder(const std::vector<int64_t>& rows) {
    if (use_cache_) cache_.reorder(Tensor::from_vector(rows, {int64_t(rows.size())}));
  }

 private:
  PreTrainedModel& model_;
  bool use_cache_;
  nn::KVCache cache_;
};

std::string number_str(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

constexpr int64_t kInitialCacheRoom = 1024;  // new positions preallocated in the KV cache

bool contains(const std::vector<int64_t>& v, int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// Index of the first maximum, as torch.argmax.
int64_t argmax_row(const float* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best] || (std::isnan(row[i]) && !std::isnan(row[best]))) best = i;
  return best;
}

// As torch.multinomial, which generate() samples with: probabilities that are NaN, infinite or
// negative (logits holding NaN or +inf, or all -inf) are an error.
void check_probs(const std::vector<float>& p, int64_t step, int64_t row) {
  for (float v : p)
    if (!std::isfinite(v) || v < 0)
      throw ValueError("generate: sampling new token " + std::to_string(step + 1) + " (step " + std::to_string(step) +
                       ", row " + std::to_string(row) + "): the probability tensor contains either inf, nan or element < 0; the model's logits are "
                       "not finite (check the weights and config.json)");
}

int64_t sample_row(const float* scores, int64_t n, ops::Generator& gen, int64_t step, int64_t row) {
  std::vector<float> p(scores, scores + n);
  softmax_inplace(p.data(), n);
  check_probs(p, step, row);
  double total = 0;
  for (float v : p) total += v;
  std::uniform_real_distribution<double> U(0.0, total);
  double u = U(gen.engine()), acc = 0;
  int64_t last_nonzero = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (p[size_t(i)] <= 0) continue;
    last_nonzero = i;
    acc += p[size_t(i)];
    if (u < acc) return i;
  }
  return last_nonzero;
}

struct StopChecker {
  const GenerationConfig& c;
  const AutoTokenizer* tok;
  int64_t prompt_len, max_length;
  // Whether row `seq` (just extended) is finished.
  bool row_done(const std::vector<int64_t>& seq) const {
    if (!c.eos_token_id.empty() && contains(c.eos_token_id, seq.back())) return true;
    if (!c.stop_strings.empty() && tok) {
      std::vector<int64_t> fresh(seq.begin() + prompt_len, seq.end());
      const std::string text = tok->decode(fresh);
      for (const std::string& s : c.stop_strings)
        if (!s.empty() && text.size() >= s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0) return true;
    }
    return false;
  }
};

GenerateOutput greedy_or_sample(Stepper& step, Sequences seqs, Sequences mask, const GenerationConfig& c,
                                const LogitsProcessorList& procs, const GenerateOptions& o, int64_t prompt_len,
                                int64_t max_length, ops::Generator& gen) {
  const int64_t N = int64_t(seqs.size());
  const int64_t pad = c.pad_token_id.value_or(c.eos_token_id.empty() ? 0 : c.eos_token_id[0]);
  const bool has_eos = !c.eos_token_id.empty();
  std::vector<bool> unfinished(static_cast<size_t>(N), true);
  StopChecker stop{c, o.tokenizer, prompt_len, max_length};
  GenerateOutput out;
  if (o.streamer) o.streamer->put(seqs[0]);
  while (int64_t(seqs[0].size()) < max_length) {
    Tensor logits;
    try {
      logits = step.next_logits(seqs, mask);
    } catch (const Error& e) {
      const int64_t done = int64_t(seqs[0].size()) - prompt_len;
      if (done == 0) throw;
      if (o.streamer) o.streamer->end();
      out.sequences = seqs;
      throw GenerationError("generate: stopped after " + std::to_string(done) + " new token(s): " + e.what(), out);
    }
    const int64_t V = logits.size(1);
    // rows that finish early are padded with pad_token_id, which the next steps feed to the model
    if (has_eos && N > 1 && (pad < 0 || pad >= V))
      throw ValueError("generate: pad_token_id = " + std::to_string(pad) + " is not a token id of the model (its "
                       "vocabulary has " + std::to_string(V) + " tokens), and rows that end early are padded with it; "
                       "fix pad_token_id in generation_config.json / config.json or pass a valid one");
    float* s = logits.data<float>();
    procs.process(seqs, s, N, V);
    if (c.output_scores) out.scores.push_back(logits.clone());
    const int64_t step_no = int64_t(seqs[0].size()) - prompt_len;
    for (int64_t r = 0; r < N; ++r) {
      int64_t t = c.do_sample ? sample_row(s + r * V, V, gen, step_no, r)
                              : argmax_row(s + r * V, V);
      if (has_eos && !unfinished[size_t(r)]) t = pad;
      seqs[size_t(r)].push_back(t);
      mask[size_t(r)].push_back(1);
    }
    if (o.streamer) o.streamer->put({seqs[0].back()});
    bool any = false;
    for (int64_t r = 0; r < N; ++r) {
      if (unfinished[size_t(r)] && stop.row_done(seqs[size_t(r)])) unfinished[size_t(r)] = false;
      any = any || unfinished[size_t(r)];
    }
    if (!any) break;
  }
  if (o.streamer) o.streamer->end();
  out.sequences = std::move(seqs);
  return out;
}

GenerateOutput beam_search(Stepper& step, Sequences seqs, Sequences mask, const GenerationConfig& c,
                           const LogitsProcessorList& procs, int64_t batch, int64_t prompt_len, int64_t max_length,
                           ops::Generator& gen) {
  const int64_t K = c.num_beams, N = batch * K;
  const int64_t pad = c.pad_token_id.value_or(c.eos_token_id.empty() ? 0 : c.eos_token_id[0]);
  BeamSearchScorer scorer(batch, K, c.length_penalty, c.early_stopping, c.num_return_sequences, max_length);
  std::vector<float> beam_scores(static_cast<size_t>(N), 0.0f);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t j = 1; j < K; ++j) beam_scores[size_t(b * K + j)] = -1e9f;
  const int64_t keep = std::max<int64_t>(2, 1 + int64_t(c.eos_token_id.size())) * K;
  GenerateOutput out;
  while (true) {
    Tensor logits = step.next_logits(seqs, mask);
    const int64_t V = logits.size(1);
    float* s = logits.data<float>();
    for (int64_t r = 0; r < N; ++r) log_softmax_inplace(s + r * V, V);
    procs.process(seqs, s, N, V);
    if (c.output_scores) out.scores.push_back(logits.clone());
    for (int64_t r = 0; r < N; ++r)
      for (int64_t v = 0; v < V; ++v) s[r * V + v] += beam_scores[size_t(r)];
    std::vector<std::vector<float>> cand_scores(static_cast<size_t>(batch));
    std::vector<std::vector<int64_t>> cand_tokens(static_cast<size_t>(batch)), cand_beams(static_cast<size_t>(batch));
    for (int64_t b = 0; b < batch; ++b) {
      const float* flat = s + b * K * V;
      const int64_t n = K * V, k = std::min(keep, n);
      std::vector<int64_t> idx;
      if (c.do_sample) {  // multinomial without replacement over softmax(scores), then best first
        std::vector<float> p(flat, flat + n);
        softmax_inplace(p.data(), n);
        check_probs(p, int64_t(seqs[0].size()) - prompt_len, b * K);
        for (int64_t draw = 0; draw < k; ++draw) {
          double total = 0;
          for (float v : p) total += v;
          if (total <= 0) break;
          std::uniform_real_distribution<double> U(0.0, total);
          double u = U(gen.engine()), acc = 0;
          int64_t pick = -1;
          for (int64_t i = 0; i < n; ++i) {
            if (p[size_t(i)] <= 0) continue;
            pick = i;
            acc += p[size_t(i)];
            if (u < acc) break;
          }
          idx.push_back(pick);
          p[size_t(pick)] = 0;
        }
        std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t bb) { return flat[a] > flat[bb]; });
      } else {  // topk, sorted; ties by index
        idx.resize(size_t(n));
        std::iota(idx.begin(), idx.end(), 0);
        std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t bb) {
          return flat[a] > flat[bb] || (flat[a] == flat[bb] && a < bb);
        });
        idx.resize(size_t(k));
      }
      for (int64_t i : idx) {
        cand_scores[size_t(b)].push_back(flat[i]);
        cand_tokens[size_t(b)].push_back(i % V);
        cand_beams[size_t(b)].push_back(i / V);
      }
    }
    BeamStep bs = scorer.process(seqs, cand_scores, cand_tokens, cand_beams, pad, c.eos_token_id, prompt_len);
    Sequences next(static_cast<size_t>(N));
    for (int64_t r = 0; r < N; ++r) {
      next[size_t(r)] = seqs[size_t(bs.next_beam_indices[size_t(r)])];
      next[size_t(r)].push_back(bs.next_beam_tokens[size_t(r)]);
      mask[size_t(r)].push_back(1);
    }
    seqs = std::move(next);
    step.reorder(bs.next_beam_indices);
    beam_scores = bs.next_beam_scores;
    if (scorer.is_done() || int64_t(seqs[0].size()) >= max_length) break;
  }
  BeamSearchScorer::Final f = scorer.finalize(seqs, beam_scores, pad, c.eos_token_id, max_length, prompt_len);
  out.sequences = std::move(f.sequences);
  out.sequences_scores = std::move(f.sequence_scores);
  return out;
}

}  // namespace

void check_rows_fit_in_memory(const PreTrainedModel& model, int64_t B, int64_t rep, int64_t L, int64_t cache_len,
                              int64_t encoder_len, int64_t encoder_width) {
  const nlohmann::json j = model.config().to_json();
  auto num = [&](std::initializer_list<const char*> keys, double fallback) {
    for (const char* k : keys)
      if (j.contains(k) && j[k].is_number() && j[k].get<double>() > 0) return j[k].get<double>();
    return fallback;
  };
  // decoder-only (Llama, GPT-2) and encoder-decoder (T5, BART, Whisper) spellings, decoder first
  const double layers = num({"num_decoder_layers", "decoder_layers", "num_hidden_layers", "n_layer", "num_layers"}, 1);
  const double heads = num({"decoder_attention_heads", "num_attention_heads", "n_head", "num_heads"}, 1);
  const double kv = num({"num_key_value_heads"}, heads);
  const double hd = num({"head_dim", "d_kv"}, num({"hidden_size", "n_embd", "d_model"}, 64) / heads);
  const double vocab = num({"vocab_size"}, 1);
  const double rows = double(B) * double(rep);
  // self-attention cache, cross-attention cache and the row's copy of the encoder output, logits, ids
  const double per_row = layers * 2 * kv * hd * double(cache_len + encoder_len) * 4 +
                         double(encoder_len) * double(encoder_width) * 4 + vocab * 4 * 2 + double(L) * 16;
  const double need = rows * per_row, mem = double(allocator::physical_memory_bytes());
  if (mem > 0 && need > mem) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%.4g rows would need about %.3g GiB (KV cache, logits, ids), more than this machine's %.3g GiB of memory",
                  rows, need / double(1ull << 30), mem / double(1ull << 30));
    throw ValueError("generate: a batch of " + std::to_string(B) + " x " + std::to_string(rep) + " (num_beams / " +
                     "num_return_sequences) = " + buf);
  }
}

std::vector<int64_t> infer_attention_mask(const std::vector<int64_t>& ids, std::optional<int64_t> pad_token_id,
                                          const std::vector<int64_t>& eos_token_id) {
  std::vector<int64_t> m(ids.size(), 1);
  if (!pad_token_id || contains(eos_token_id, *pad_token_id) || !contains(ids, *pad_token_id)) return m;
  for (size_t i = 0; i < ids.size(); ++i) m[i] = ids[i] != *pad_token_id ? 1 : 0;
  return m;
}

GenerateOutput generate(PreTrainedModel& model, const Tensor& input_ids, const Tensor& attention_mask,
                        const GenerationConfig& config, const GenerateOptions& o) {
  GenerationConfig c = config;
  c.validate();
  if (!input_ids.defined() || input_ids.dim() != 2 || input_ids.size(0) == 0 || input_ids.size(1) == 0)
    throw ValueError("generate: input_ids must be a non-empty [batch, seq] tensor");
  if (is_floating(input_ids.dtype()) || input_ids.dtype() == kBool)
    throw ValueError(std::string("generate: input_ids must be an integer tensor (token ids), got ") +
                     dtype_name(input_ids.dtype()));
  if (attention_mask.defined() && attention_mask.shape() != input_ids.shape())
    throw ValueError("generate: attention_mask " + shape_str(attention_mask.shape()) + " does not match input_ids " +
                     shape_str(input_ids.shape()));
  if (!c.stop_strings.empty() && !o.tokenizer)
    throw ValueError("generate: stop_strings need a tokenizer (GenerateOptions::tokenizer)");
  const int64_t B = input_ids.size(0), L = input_ids.size(1);
  if (o.streamer && (B != 1 || c.num_beams > 1))
    throw ValueError("generate: a streamer needs a batch of 1 and no beam search");
  if (!c.pad_token_id && !c.eos_token_id.empty()) c.pad_token_id = c.eos_token_id[0];
  const int64_t max_length = c.effective_max_length(L);
  if (L >= max_length)  // as transformers 4.45's _validate_generated_length
    throw ValueError("generate: input length of input_ids is " + std::to_string(L) + ", but max_length is set to " +
                     std::to_string(max_length) + "; increase max_length or, better, set max_new_tokens");
  const std::vector<int64_t> ids = input_ids.to_vector<int64_t>();
  std::vector<int64_t> m;
  if (attention_mask.defined()) {
    const std::vector<double> mv = attention_mask.to_vector<double>();
    m.resize(mv.size());
    for (size_t i = 0; i < mv.size(); ++i) {
      if (mv[i] != 0 && mv[i] != 1)
        throw ValueError("generate: attention_mask must hold only 0 and 1, found " + number_str(mv[i]) + " at [" +
                         std::to_string(int64_t(i) / L) + ", " + std::to_string(int64_t(i) % L) + "]");
      m[i] = int64_t(mv[i]);
    }
  } else {
    m = infer_attention_mask(ids, c.pad_token_id, c.eos_token_id);
  }
  // expand: num_beams rows per prompt (beam search), or num_return_sequences (sampling / greedy)
  const int64_t rep = c.num_beams > 1 ? c.num_beams : c.num_return_sequences;
  check_rows_fit_in_memory(model, B, rep, L, std::min(max_length, L + kInitialCacheRoom));
  Sequences seqs, mask;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < rep; ++k) {
      seqs.emplace_back(ids.begin() + b * L, ids.begin() + (b + 1) * L);
      mask.emplace_back(m.begin() + b * L, m.begin() + (b + 1) * L);
    }
  autograd::NoGradGuard no_grad;
  struct ModeRestore {  // back to training mode afterwards, also when generation throws
    PreTrainedModel& m;
    bool training;
    ~ModeRestore() {
      if (training) m.train();
    }
  } restore{model, model.is_training()};
  model.eval();
  LogitsProcessorList procs = make_logits_processors(c, L);
  if (o.logits_processor) procs.add(o.logits_processor);
  ops::Generator local(c.seed.value_or(0));
  ops::Generator& gen = o.generator ? *o.generator : (c.seed ? local : ops::default_generator());
  // The cache grows as needed: a huge max_new_tokens that eos cuts short costs no memory up front.
  Stepper step(model, c.use_cache, std::min(max_length, L + kInitialCacheRoom));
  GenerateOutput out;
  if (c.num_beams > 1) {
    out = beam_search(step, seqs, mask, c, procs, B, L, max_length, gen);
  } else {
    out = greedy_or_sample(step, seqs, mask, c, procs, o, L, max_length, gen);
  }
  return out;
}

std::string generate_text(PreTrainedModel& model, const AutoTokenizer& tok, const std::string& prompt,
                          const GenerationConfig& config, const GenerateOptions& options) {
  std::vector<int64_t> ids = tok.encode(prompt);
  if (ids.empty()) {
    if (!config.bos_token_id) throw ValueError("generate: the prompt is empty and there is no bos_token_id to start from");
    ids.push_back(*config.bos_token_id);
  }
  GenerateOptions o = options;
  if (!o.tokenizer) o.tokenizer = &tok;
  GenerateOutput out = generate(model, Tensor::from_vector(ids, {1, int64_t(ids.size())}), Tensor(), config, o);
  std::vector<int64_t> fresh(out.sequences[0].begin() + int64_t(ids.size()), out.sequences[0].end());
  return tok.decode(fresh, true);
}

}  // namespace cppformers
