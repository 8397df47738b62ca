#include "cppformers/pipelines/question_answering.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/pipelines/tasks.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers {

namespace {

using pipelines::np_sum;

// transformers.data.processors.squad._is_whitespace
bool squad_whitespace(char32_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x202F; }

// SquadExample: whitespace-separated words and, per character, the index of its word
// (whitespace belongs to the word before it; leading whitespace to -1).
struct SquadExample {
  std::vector<std::string> doc_tokens;
  std::vector<int64_t> char_to_word;
};

SquadExample split_context(const std::string& context) {
  SquadExample ex;
  bool prev_ws = true;
  size_t i = 0;
  while (i < context.size()) {
    const size_t at = i;
    const char32_t c = tokenizers::unicode::next_char(context, i);
    if (squad_whitespace(c)) {
      prev_ws = true;
    } else {
      if (prev_ws) ex.doc_tokens.emplace_back();
      ex.doc_tokens.back().append(context, at, i - at);
      prev_ws = false;
    }
    ex.char_to_word.push_back(int64_t(ex.doc_tokens.size()) - 1);
  }
  return ex;
}

// The special tokens the tokenizer puts around a pair: prefix, middle, suffix (ids, type ids).
struct PairTemplate {
  std::vector<uint32_t> prefix, middle, suffix;
  std::vector<uint32_t> prefix_types, middle_types, suffix_types;
  uint32_t first_type = 0, second_type = 1;
  size_t added() const { return prefix.size() + middle.size() + suffix.size(); }
};

PairTemplate pair_template(const tokenizers::Tokenizer& be) {
  const tokenizers::Encoding e = be.encode("a", "b", true);
  const auto seq = e.sequence_ids();
  PairTemplate t;
  int phase = 0;  // 0: before the first sequence, 1: in it / after it, 2: in / after the second
  for (size_t i = 0; i < e.size(); ++i) {
    const std::optional<uint32_t> s = i < seq.size() ? seq[i] : std::nullopt;
    const uint32_t type = i < e.type_ids.size() ? e.type_ids[i] : 0;
    if (s) {
      if (*s == 0) {
        phase = std::max(phase, 1);
        t.first_type = type;
      } else {
        phase = 2;
        t.second_type = type;
      }
      continue;
    }
    auto& ids = phase == 0 ? t.prefix : phase == 1 ? t.middle : t.suffix;
    auto& types = phase == 0 ? t.prefix_types : phase == 1 ? t.middle_types : t.suffix_types;
    ids.push_back(e.ids[i]);
    types.push_back(type);
  }
  return t;
}

struct Feature {
  std::vector<int64_t> ids, types;
  std::vector<int> p_mask;              // 1: cannot be in an answer
  std::vector<int64_t> token_to_orig;   // per position: the word index, or -1
};

struct Candidate {
  float score;
  int64_t s, e;
};

}  // namespace

QuestionAnsweringPipeline::QuestionAnsweringPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tok,
                                                     int64_t batch_size)
    : Pipeline("question-answering", std::move(model), std::move(tok), batch_size) {}

std::vector<QAAnswer> QuestionAnsweringPipeline::operator()(const std::string& question, const std::string& context,
                                                            const QuestionAnsweringOptions& o) {
  if (o.top_k < 1) throw ValueError("top_k parameter should be >= 1 (got " + std::to_string(o.top_k) + ")");
  if (o.max_answer_len < 1)
    throw ValueError("max_answer_len parameter should be >= 1 (got " + std::to_string(o.max_answer_len) + ")");
  const size_t mml = tokenizer_->model_max_length;
  const int64_t max_seq_len = o.max_seq_len.value_or(mml == size_t(-1) ? 384 : std::min<int64_t>(int64_t(mml), 384));
  const int64_t doc_stride = o.doc_stride.value_or(std::min<int64_t>(max_seq_len / 2, 128));
  if (doc_stride > max_seq_len)
    throw ValueError("`doc_stride` (" + std::to_string(doc_stride) + ") is larger than `max_seq_len` (" +
                     std::to_string(max_seq_len) + ")");
  if (doc_stride < 1) throw ValueError("question-answering: `doc_stride` must be >= 1 (got " + std::to_string(doc_stride) + ")");
  if (o.max_question_len < 0) throw ValueError("question-answering: `max_question_len` must be >= 0");
  const auto& be = tokenizer_->backend();

  // squad_convert_example_to_features (legacy, slow-tokenizer path)
  const SquadExample ex = split_context(context);
  std::vector<uint32_t> doc_ids;
  std::vector<int64_t> tok_to_orig;
  // Python tokenizes each word with add_prefix_space=True for the RoBERTa / Longformer / BART tokenizers
  const std::string& mt = model_->config().model_type;
  const std::string word_prefix = (mt == "roberta" || mt == "longformer" || mt == "bart") ? " " : "";
  for (size_t w = 0; w < ex.doc_tokens.size(); ++w) {
    const tokenizers::Encoding e = be.encode(word_prefix + ex.doc_tokens[w], false);
    for (uint32_t id : e.ids) {
      doc_ids.push_back(id);
      tok_to_orig.push_back(int64_t(w));
    }
  }
  std::vector<uint32_t> query = be.encode(question, false).ids;
  if (int64_t(query.size()) > o.max_question_len) query.resize(size_t(o.max_question_len));
  const PairTemplate tpl = pair_template(be);
  const int64_t room = max_seq_len - int64_t(query.size()) - int64_t(tpl.added());
  if (room <= 0)
    throw ValueError("question-answering: max_seq_len (" + std::to_string(max_seq_len) +
                     ") leaves no room for the context after the question (" + std::to_string(query.size()) +
                     " tokens) and " + std::to_string(tpl.added()) + " special tokens");

  // Python's all_special_ids (from the special-token attributes; added tokens marked special)
  std::unordered_set<int64_t> special;
  for (const auto* t : {&tokenizer_->pad_token, &tokenizer_->bos_token, &tokenizer_->eos_token, &tokenizer_->unk_token,
                        &tokenizer_->sep_token, &tokenizer_->cls_token, &tokenizer_->mask_token})
    if (*t)
      if (auto id = tokenizer_->token_to_id(**t)) special.insert(*id);
  for (const auto& a : be.added_vocabulary().tokens())
    if (a.special) special.insert(a.id);
  int64_t cls_id = -1;  // none
  if (tokenizer_->cls_token) cls_id = tokenizer_->token_to_id(*tokenizer_->cls_token).value_or(-1);

  const int64_t N = int64_t(doc_ids.size());
  const int64_t ctx_off = int64_t(tpl.prefix.size() + query.size() + tpl.middle.size());
  std::vector<Feature> features;
  for (int64_t k = 0; k * doc_stride < N; ++k) {
    const int64_t start = k * doc_stride, plen = std::min(N - start, room);
    Feature f;
    auto add = [&f](uint32_t id, uint32_t type, int64_t orig) {
      f.ids.push_back(id);
      f.types.push_back(type);
      f.token_to_orig.push_back(orig);
    };
    for (size_t i = 0; i < tpl.prefix.size(); ++i) add(tpl.prefix[i], tpl.prefix_types[i], -1);
    for (uint32_t id : query) add(id, tpl.first_type, -1);
    for (size_t i = 0; i < tpl.middle.size(); ++i) add(tpl.middle[i], tpl.middle_types[i], -1);
    for (int64_t i = 0; i < plen; ++i) add(doc_ids[size_t(start + i)], tpl.second_type, tok_to_orig[size_t(start + i)]);
    for (size_t i = 0; i < tpl.suffix.size(); ++i) add(tpl.suffix[i], tpl.suffix_types[i], -1);
    // p_mask: 0 for the context, 1 for the rest and for special ids; the CLS position 0
    f.p_mask.assign(f.ids.size(), 1);
    for (int64_t i = 0; i < plen; ++i) f.p_mask[size_t(ctx_off + i)] = 0;
    for (size_t i = 0; i < f.ids.size(); ++i)
      if (special.count(f.ids[i])) f.p_mask[i] = 1;
    auto cls_at = std::find(f.ids.begin(), f.ids.end(), cls_id);
    if (cls_at == f.ids.end())
      throw ValueError("question-answering: the tokenizer's cls_token is not in its pair encoding");
    f.p_mask[size_t(cls_at - f.ids.begin())] = 0;
    features.push_back(std::move(f));
    if (N - start <= room) break;  // the rest fitted: no overflowing tokens
  }

  // Forward (batch_size windows at a time, right-padded with an attention mask), then Python's
  // select_starts_ends / decode_spans per window.
  const int64_t bs = std::max<int64_t>(1, o.batch_size > 0 ? o.batch_size : batch_size_);
  const int64_t pad_id = tokenizer_->pad_token_id().value_or(0);
  double min_null_score = 1000000;
  std::vector<QAAnswer> answers;
  autograd::NoGradGuard no_grad;
  for (size_t at = 0; at < features.size(); at += size_t(bs)) {
    const size_t stop = std::min(features.size(), at + size_t(bs));
    int64_t S = 0;
    for (size_t i = at; i < stop; ++i) S = std::max<int64_t>(S, int64_t(features[i].ids.size()));
    const int64_t B = int64_t(stop - at);
    std::vector<int64_t> ids(size_t(B * S), pad_id), mask(size_t(B * S), 0), types(size_t(B * S), 0);
    for (int64_t b = 0; b < B; ++b) {
      const Feature& f = features[at + size_t(b)];
      for (size_t t = 0; t < f.ids.size(); ++t) {
        ids[size_t(b * S) + t] = f.ids[t];
        mask[size_t(b * S) + t] = 1;
        types[size_t(b * S) + t] = f.types[t];
      }
    }
    ModelInputs in;
    in.input_ids = Tensor::from_vector(ids, {B, S});
    in.attention_mask = Tensor::from_vector(mask, {B, S});
    in.token_type_ids = Tensor::from_vector(types, {B, S});
    ModelOutput out = model_->forward(in);
    if (!out.start_logits.defined() || !out.end_logits.defined())
      throw ValueError("question-answering: the model returned no start_logits / end_logits");
    Tensor st = out.start_logits, en = out.end_logits;
    if (st.dtype() != kF32) st = st.to(kF32);
    if (en.dtype() != kF32) en = en.to(kF32);
    st = st.contiguous();
    en = en.contiguous();
    const float* ps = st.data<float>();
    const float* pe = en.data<float>();

    for (int64_t b = 0; b < B; ++b) {
      const Feature& f = features[at + size_t(b)];
      const int64_t L = int64_t(f.ids.size());
      // Python pads every window to max_seq_len; the padding (-10000) adds exact zeros to the
      // softmax sums, but numpy's pairwise summation groups by length, so sum over the same length.
      const int64_t P = std::max<int64_t>(L, max_seq_len);
      std::vector<int> usable(static_cast<size_t>(L), 0);
      for (int64_t t = 0; t < L; ++t) usable[size_t(t)] = 1 - f.p_mask[size_t(t)];
      auto softmax = [&](const float* logits) {
        std::vector<float> v(size_t(P), -10000.0f);
        for (int64_t t = 0; t < L; ++t) v[size_t(t)] = usable[size_t(t)] ? logits[t] : -10000.0f;
        const float m = *std::max_element(v.begin(), v.end());
        for (float& x : v) x = std::exp(x - m);
        const float sum = np_sum(v.data(), P);
        for (float& x : v) x /= sum;
        return v;
      };
      std::vector<float> sp = softmax(ps + b * S), ep = softmax(pe + b * S);
      if (o.handle_impossible_answer) min_null_score = std::min(min_null_score, double(sp[0] * ep[0]));
      sp[0] = ep[0] = 0.0f;
      std::vector<Candidate> cands;
      for (int64_t s = 0; s < L; ++s) {
        if (!usable[size_t(s)] || f.token_to_orig[size_t(s)] < 0) continue;
        for (int64_t e = s; e < std::min(L, s + o.max_answer_len); ++e) {
          if (!usable[size_t(e)] || f.token_to_orig[size_t(e)] < 0) continue;
          cands.push_back({sp[size_t(s)] * ep[size_t(e)], s, e});
        }
      }
      std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& c) { return a.score > c.score; });
      if (int64_t(cands.size()) > o.top_k) cands.resize(size_t(o.top_k));
      for (const Candidate& c : cands) {
        const int64_t ws = f.token_to_orig[size_t(c.s)], we = f.token_to_orig[size_t(c.e)];
        QAAnswer a;
        a.score = double(c.score);
        const auto first = std::find(ex.char_to_word.begin(), ex.char_to_word.end(), ws);
        const auto last = std::find(ex.char_to_word.rbegin(), ex.char_to_word.rend(), we);
        a.start = int64_t(first - ex.char_to_word.begin());
        a.end = int64_t(ex.char_to_word.rend() - last) - 1;
        for (int64_t w = ws; w <= we; ++w) a.answer += (w > ws ? " " : "") + ex.doc_tokens[size_t(w)];
        answers.push_back(std::move(a));
      }
    }
  }
  if (o.handle_impossible_answer) answers.push_back({min_null_score, 0, 0, ""});
  std::stable_sort(answers.begin(), answers.end(), [](const QAAnswer& a, const QAAnswer& b) { return a.score > b.score; });
  if (int64_t(answers.size()) > o.top_k) answers.resize(size_t(o.top_k));
  return answers;
}

json QuestionAnsweringPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"top_k", "topk", "doc_stride", "max_answer_len", "max_seq_len", "max_question_len",
                        "handle_impossible_answer", "align_to_words", "padding", "batch_size", "num_workers",
                        "question", "context"});
  QuestionAnsweringOptions o;
  if (kwargs.contains("top_k") && !kwargs["top_k"].is_null()) o.top_k = kwarg<int64_t>(kwargs, "top_k", 1);
  else if (kwargs.contains("topk") && !kwargs["topk"].is_null()) o.top_k = kwarg<int64_t>(kwargs, "topk", 1);
  if (o.top_k < 1) throw ValueError("top_k parameter should be >= 1 (got " + std::to_string(o.top_k) + ")");
  o.max_answer_len = kwarg<int64_t>(kwargs, "max_answer_len", 15);
  if (o.max_answer_len < 1)
    throw ValueError("max_answer_len parameter should be >= 1 (got " + std::to_string(o.max_answer_len) + ")");
  if (kwargs.contains("doc_stride") && !kwargs["doc_stride"].is_null()) o.doc_stride = kwarg<int64_t>(kwargs, "doc_stride", 0);
  if (kwargs.contains("max_seq_len") && !kwargs["max_seq_len"].is_null())
    o.max_seq_len = kwarg<int64_t>(kwargs, "max_seq_len", 0);
  o.max_question_len = kwarg<int64_t>(kwargs, "max_question_len", 64);
  o.handle_impossible_answer = kwarg<bool>(kwargs, "handle_impossible_answer", false);

  // QuestionAnsweringArgumentHandler
  json items;
  if (!inputs.is_null()) {
    items = inputs;
  } else if (kwargs.contains("question") && kwargs.contains("context")) {
    const json &q = kwargs["question"], &c = kwargs["context"];
    items = json::array();
    if (q.is_array() && c.is_string()) {
      for (const json& x : q) items.push_back({{"question", x}, {"context", c}});
    } else if (q.is_array() && c.is_array()) {
      if (q.size() != c.size()) throw ValueError("Questions and contexts don't have the same lengths");
      for (size_t i = 0; i < q.size(); ++i) items.push_back({{"question", q[i]}, {"context", c[i]}});
    } else if (q.is_string() && c.is_array()) {
      for (const json& x : c) items.push_back({{"question", q}, {"context", x}});
    } else {
      items = {{"question", q}, {"context", c}};
    }
  } else {
    throw ValueError("question-answering: give the inputs as {\"question\": ..., \"context\": ...} (or a list of "
                     "them), or question= and context= keyword arguments");
  }
  if (items.is_object()) items = json::array({items});
  if (!items.is_array())
    throw ValueError("question-answering: " + items.dump().substr(0, 80) + " argument needs to be of type (SquadExample, dict)");
  std::vector<std::pair<std::string, std::string>> examples;
  for (const json& item : items) {
    if (!item.is_object())
      throw ValueError("question-answering: " + item.dump().substr(0, 80) + " argument needs to be of type (SquadExample, dict)");
    for (const char* k : {"question", "context"}) {
      if (!item.contains(k)) throw KeyError("You need to provide a dictionary with keys {question:..., context:...}");
      if (item[k].is_null()) throw ValueError(std::string("`") + k + "` cannot be None");
      if (!item[k].is_string()) throw ValueError(std::string("question-answering: `") + k + "` must be a string");
      if (item[k].get<std::string>().empty()) throw ValueError(std::string("`") + k + "` cannot be empty");
    }
    examples.emplace_back(item["question"].get<std::string>(), item["context"].get<std::string>());
  }
  if (examples.empty()) throw ValueError("question-answering: no inputs");

  o.batch_size = kwarg<int64_t>(kwargs, "batch_size", 0);
  auto render = [](const std::vector<QAAnswer>& answers) -> json {
    if (answers.size() == 1) return answers[0].to_json();
    json list = json::array();
    for (const auto& a : answers) list.push_back(a.to_json());
    return list;
  };
  json out = json::array();
  ProgressBar bar = progress_bar(examples.size(), o.batch_size);
  for (const auto& [q, c] : examples) out.push_back(render((*this)(q, c, o))), bar.update();
  return examples.size() == 1 ? out[0] : out;
}

namespace pipelines {
std::unique_ptr<Pipeline> make_question_answering(const std::string& dir, const PipelineOptions& o) {
  return std::make_unique<QuestionAnsweringPipeline>(AutoModelForQuestionAnswering::from_pretrained(dir, o.model_options),
                                                     load_tokenizer(dir, o), o.batch_size);
}
}  // namespace pipelines

}  // namespace cppformers
