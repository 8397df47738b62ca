#include "cppformers/pipelines/token_classification.hpp"

#include <algorithm>
#include <cmath>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/pipelines/tasks.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers {

json TokenEntity::to_json() const {
  json j;
  j[grouped ? "entity_group" : "entity"] = entity;
  j["score"] = double(score);
  if (!grouped && index) j["index"] = *index;
  j["word"] = word;
  j["start"] = start ? json(*start) : json(nullptr);
  j["end"] = end ? json(*end) : json(nullptr);
  return j;
}

namespace {

enum class Strategy { None, Simple, First, Average, Max };

Strategy parse_strategy(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (s == "none") return Strategy::None;
  if (s == "simple") return Strategy::Simple;
  if (s == "first") return Strategy::First;
  if (s == "average") return Strategy::Average;
  if (s == "max") return Strategy::Max;
  throw ValueError("token-classification: aggregation_strategy must be one of none, simple, first, average, max; got '" +
                   s + "'");
}

using pipelines::np_sum;

int64_t argmax(const std::vector<float>& v) {
  return int64_t(std::max_element(v.begin(), v.end()) - v.begin());  // first of equal maxima, as numpy
}

// The python slice text[start:end] over code points (clamped as Python clamps).
std::string slice_chars(const std::u32string& text, int64_t start, int64_t end) {
  const int64_t n = int64_t(text.size());
  auto clamp = [n](int64_t i) { return i < 0 ? std::max<int64_t>(0, n + i) : std::min(i, n); };
  const int64_t s = clamp(start), e = clamp(end);
  std::string out;
  for (int64_t i = s; i < e; ++i) tokenizers::unicode::append_utf8(out, text[size_t(i)]);
  return out;
}

struct PreEntity {
  std::string word;
  uint32_t id = 0;
  std::vector<float> scores;
  std::optional<int64_t> start, end;
  int64_t index = 0;
  bool is_subword = false;
};

// An entity before output (entity name, score, token words and ids for convert_tokens_to_string).
struct Ent {
  std::string entity;
  float score = 0;
  std::optional<int64_t> index;
  std::string word;
  std::vector<std::string> tokens;  // the tokens behind `word`
  std::vector<uint32_t> ids;
  std::optional<int64_t> start, end;
};

std::pair<char, std::string> get_tag(const std::string& name) {
  if (name.rfind("B-", 0) == 0) return {'B', name.substr(2)};
  if (name.rfind("I-", 0) == 0) return {'I', name.substr(2)};
  return {'I', name};  // not in B-/I- format: a continuation
}

std::string label_of(const PretrainedConfig& cfg, int64_t k) {
  auto it = cfg.id2label.find(k);
  return it != cfg.id2label.end() ? it->second : "LABEL_" + std::to_string(k);
}

// One window of one text: its encoding and its row in a forward batch.
struct Window {
  size_t text = 0;
  const tokenizers::Encoding* enc = nullptr;
  std::vector<float> logits;  // [len, num_labels]
};

}  // namespace

TokenClassificationPipeline::TokenClassificationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tok,
                                                         int64_t batch_size)
    : Pipeline("token-classification", std::move(model), std::move(tok), batch_size) {
  // Is this a WordPiece tokenizer (decoder drops the "##" continuation prefix)? Then
  // convert_tokens_to_string is BertTokenizer's: tokens joined by spaces, " ##" removed.
  const auto& be = tokenizer_->backend();
  std::optional<uint32_t> plain, cont;
  const size_t n = be.vocab_size(false);
  for (uint32_t i = 0; i < n && !(plain && cont); ++i) {
    auto t = be.id_to_token(i);
    if (!t || t->empty()) continue;
    const bool ascii_alpha = std::all_of(t->begin(), t->end(), [](unsigned char c) { return std::isalpha(c); });
    if (!cont && t->size() > 2 && t->rfind("##", 0) == 0 &&
        std::all_of(t->begin() + 2, t->end(), [](unsigned char c) { return std::isalpha(c); }))
      cont = i;
    else if (!plain && ascii_alpha && !be.added_vocabulary().token_to_id(*t))
      plain = i;
  }
  if (plain && cont && be.has_decoder()) {
    const std::string a = *be.id_to_token(*plain), b = *be.id_to_token(*cont);
    try {
      if (be.decode({*plain, *cont}, false) == a + b.substr(2)) wordpiece_prefix_ = "##";
    } catch (const std::exception&) {
    }
  }
}

std::string TokenClassificationPipeline::tokens_to_string(const std::vector<std::string>& tokens,
                                                          const std::vector<uint32_t>& ids) const {
  if (!wordpiece_prefix_.empty() || !tokenizer_->backend().has_decoder()) {
    std::string s;
    for (size_t i = 0; i < tokens.size(); ++i) s += (i ? " " : "") + tokens[i];
    if (!wordpiece_prefix_.empty()) {
      const std::string pat = " " + wordpiece_prefix_;
      std::string out;
      for (size_t i = 0; i < s.size();) {
        if (s.compare(i, pat.size(), pat) == 0) {
          i += pat.size();
        } else {
          out += s[i++];
        }
      }
      s = std::move(out);
    }
    const auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    size_t b = 0, e = s.size();
    while (b < e && ws(s[b])) ++b;
    while (e > b && ws(s[e - 1])) --e;
    return s.substr(b, e - b);
  }
  return tokenizer_->backend().decode(ids, false);
}

std::vector<TokenEntity> TokenClassificationPipeline::operator()(const std::string& text,
                                                                const TokenClassificationOptions& o) {
  std::vector<std::vector<std::pair<int64_t, int64_t>>> maps;
  if (o.offset_mapping) maps.push_back(*o.offset_mapping);
  return classify({text}, o, maps)[0];
}

std::vector<std::vector<TokenEntity>> TokenClassificationPipeline::classify(
    const std::vector<std::string>& texts, const TokenClassificationOptions& o,
    const std::vector<std::vector<std::pair<int64_t, int64_t>>>& offset_mappings) {
  const Strategy strategy = parse_strategy(o.aggregation_strategy);
  if (texts.empty()) throw ValueError("token-classification: At least one input is required.");
  std::vector<std::vector<std::pair<int64_t, int64_t>>> maps = offset_mappings;
  if (maps.empty() && o.offset_mapping) maps.push_back(*o.offset_mapping);
  if (!maps.empty() && maps.size() != texts.size())
    throw ValueError("token-classification: offset_mapping should have the same batch size as the input");
  const size_t max_len = tokenizer_->model_max_length;
  if (o.stride) {
    if (*o.stride < 0) throw ValueError("token-classification: `stride` must be >= 0");
    if (max_len != size_t(-1) && size_t(*o.stride) >= max_len)
      throw ValueError(
          "`stride` must be less than `tokenizer.model_max_length` (or even lower if the tokenizer adds special tokens)");
  }
  // Python's fast-tokenizer behaviour: offsets from the tokenizer.
  const bool fast_path = o.stride.has_value() || strategy == Strategy::First || strategy == Strategy::Average ||
                         strategy == Strategy::Max;
  std::vector<std::string> ignore = o.ignore_labels.value_or(std::vector<std::string>{"O"});

  // Tokenize: truncated to model_max_length (always, as Python); with stride, every overflowing window.
  const auto& be = tokenizer_->backend();
  std::vector<tokenizers::Encoding> encs(texts.size());
  tokenizers::TruncationParams tp;
  const bool truncate = max_len != size_t(-1);
  if (truncate) {
    tp.max_length = max_len;
    tp.stride = o.stride ? size_t(*o.stride) : 0;
    tp.direction = tokenizer_->truncation_side == "left" ? tokenizers::TruncationDirection::Left
                                                        : tokenizers::TruncationDirection::Right;
  }
  for (size_t i = 0; i < texts.size(); ++i) encs[i] = be.encode_with({texts[i], std::nullopt}, true, truncate ? &tp : nullptr, nullptr);
  std::vector<Window> windows;
  for (size_t i = 0; i < texts.size(); ++i) {
    windows.push_back({i, &encs[i], {}});
    if (o.stride)
      for (const auto& ov : encs[i].overflowing) windows.push_back({i, &ov, {}});
  }

  // Forward, batch_size windows at a time (right padding, as Python's collate).
  const int64_t bs = std::max<int64_t>(1, o.batch_size > 0 ? o.batch_size : batch_size_);
  const int64_t pad_id = tokenizer_->pad_token_id().value_or(0);
  const int64_t n_labels = model_->config().num_labels();
  {
    autograd::NoGradGuard no_grad;
    ProgressBar bar = progress_bar(windows.size(), bs);  // windows: the texts, and their strides
    for (size_t at = 0; at < windows.size(); at += size_t(bs)) {
      const size_t end = std::min(windows.size(), at + size_t(bs));
      int64_t S = 0;
      for (size_t w = at; w < end; ++w) S = std::max<int64_t>(S, int64_t(windows[w].enc->size()));
      const int64_t B = int64_t(end - at);
      std::vector<int64_t> ids(size_t(B * S), pad_id), mask(size_t(B * S), 0), types(size_t(B * S), 0);
      for (int64_t b = 0; b < B; ++b) {
        const auto& e = *windows[at + size_t(b)].enc;
        for (size_t t = 0; t < e.size(); ++t) {
          ids[size_t(b * S) + t] = e.ids[t];
          mask[size_t(b * S) + t] = e.attention_mask.empty() ? 1 : e.attention_mask[t];
          types[size_t(b * S) + t] = e.type_ids.empty() ? 0 : e.type_ids[t];
        }
      }
      ModelInputs in;
      in.input_ids = Tensor::from_vector(ids, {B, S});
      in.attention_mask = Tensor::from_vector(mask, {B, S});
      in.token_type_ids = Tensor::from_vector(types, {B, S});
      Tensor logits = model_->forward(in).logits;
      if (logits.dtype() != kF32) logits = logits.to(kF32);
      logits = logits.contiguous();
      if (logits.dim() != 3 || logits.size(0) != B || logits.size(1) != S || logits.size(2) != n_labels)
        throw ValueError("token-classification: the model returned logits of an unexpected shape " +
                         logits.to_string().substr(0, 80));
      const float* p = logits.data<float>();
      for (int64_t b = 0; b < B; ++b) {
        Window& w = windows[at + size_t(b)];
        w.logits.assign(p + b * S * n_labels, p + (b * S + int64_t(w.enc->size())) * n_labels);
      }
      bar.update(size_t(B));
    }
  }

  const PretrainedConfig& cfg = model_->config();
  int64_t unk_id = -1;  // none
  if (tokenizer_->unk_token) unk_id = tokenizer_->token_to_id(*tokenizer_->unk_token).value_or(-1);
  std::vector<std::vector<Ent>> per_text(texts.size());
  std::vector<size_t> n_windows(texts.size(), 0);
  std::vector<std::u32string> u32(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) u32[i] = tokenizers::unicode::to_u32(texts[i]);

  for (const Window& w : windows) {
    const auto& e = *w.enc;
    const std::u32string& sentence = u32[w.text];
    n_windows[w.text]++;
    // gather_pre_entities
    std::vector<PreEntity> pre;
    std::optional<uint32_t> prev_word;
    bool have_prev = false;
    for (size_t idx = 0; idx < e.size(); ++idx) {
      if (!e.special_tokens_mask.empty() && e.special_tokens_mask[idx]) continue;
      PreEntity pe;
      pe.word = e.tokens[idx];
      pe.id = e.ids[idx];
      pe.index = int64_t(idx);
      // numpy float32 softmax with max subtraction
      const float* row = w.logits.data() + idx * size_t(n_labels);
      const float m = *std::max_element(row, row + n_labels);
      pe.scores.resize(size_t(n_labels));
      for (int64_t k = 0; k < n_labels; ++k) pe.scores[size_t(k)] = std::exp(row[k] - m);
      const float sum = np_sum(pe.scores.data(), n_labels);
      for (float& v : pe.scores) v /= sum;
      std::optional<std::pair<int64_t, int64_t>> off;
      if (!maps.empty()) {
        const auto& mp = maps[w.text];
        if (idx >= mp.size())
          throw ValueError("token-classification: offset_mapping has " + std::to_string(mp.size()) +
                           " entries but the input has " + std::to_string(e.size()) + " tokens");
        off = mp[idx];
      } else if (fast_path) {
        off = std::pair<int64_t, int64_t>(int64_t(e.offsets[idx].first), int64_t(e.offsets[idx].second));
      }
      if (off) {
        pe.start = off->first;
        pe.end = off->second;
        if (int64_t(pe.id) == unk_id) pe.word = slice_chars(sentence, off->first, off->second);
      }
      // words: the tokenizer's word ids (a token continuing the previous token's word is a subword)
      const std::optional<uint32_t> word = idx < e.words.size() ? e.words[idx] : std::nullopt;
      pe.is_subword = have_prev && word && prev_word && *word == *prev_word;
      if (int64_t(pe.id) == unk_id && (!maps.empty() || fast_path)) pe.is_subword = false;
      prev_word = word;
      have_prev = true;
      pre.push_back(std::move(pe));
    }

    // aggregate
    std::vector<Ent> ents;
    if (strategy == Strategy::None || strategy == Strategy::Simple) {
      for (const PreEntity& pe : pre) {
        const int64_t k = argmax(pe.scores);
        ents.push_back({label_of(cfg, k), pe.scores[size_t(k)], pe.index, pe.word, {pe.word}, {pe.id}, pe.start, pe.end});
      }
    } else {
      // aggregate_words: groups of a word's tokens, one entity per word
      auto aggregate_word = [&](const std::vector<const PreEntity*>& g) {
        Ent out;
        for (const PreEntity* pe : g) {
          out.tokens.push_back(pe->word);
          out.ids.push_back(pe->id);
        }
        out.word = tokens_to_string(out.tokens, out.ids);
        out.tokens = {out.word};  // a word is one "token" for the later grouping
        if (strategy == Strategy::First) {
          const int64_t k = argmax(g[0]->scores);
          out.entity = label_of(cfg, k);
          out.score = g[0]->scores[size_t(k)];
        } else if (strategy == Strategy::Max) {
          const PreEntity* best = g[0];
          float best_v = *std::max_element(best->scores.begin(), best->scores.end());
          for (const PreEntity* pe : g) {
            const float v = *std::max_element(pe->scores.begin(), pe->scores.end());
            if (v > best_v) best = pe, best_v = v;
          }
          const int64_t k = argmax(best->scores);
          out.entity = label_of(cfg, k);
          out.score = best->scores[size_t(k)];
        } else {  // average: np.nanmean over the word's tokens (float32 sum, divided in double)
          std::vector<float> avg(size_t(n_labels), 0.0f);
          for (const PreEntity* pe : g)
            for (size_t k = 0; k < avg.size(); ++k) avg[k] += pe->scores[k];
          for (float& v : avg) v = float(double(v) / double(g.size()));
          const int64_t k = argmax(avg);
          out.entity = label_of(cfg, k);
          out.score = avg[size_t(k)];
        }
        out.start = g.front()->start;
        out.end = g.back()->end;
        return out;
      };
      std::vector<const PreEntity*> group;
      for (const PreEntity& pe : pre) {
        if (!group.empty() && !pe.is_subword) {
          ents.push_back(aggregate_word(group));
          group.clear();
        }
        group.push_back(&pe);
      }
      if (!group.empty()) ents.push_back(aggregate_word(group));
    }
    if (strategy != Strategy::None) {
      // group_entities: adjacent entities with the same tag, unless the next one is B-
      std::vector<Ent> groups;
      std::vector<const Ent*> cur;
      auto flush = [&] {
        Ent g;
        const std::string& first = cur[0]->entity;
        const size_t dash = first.find('-');
        g.entity = dash == std::string::npos ? first : first.substr(dash + 1);
        std::vector<float> s;
        for (const Ent* x : cur) {
          s.push_back(x->score);
          g.tokens.insert(g.tokens.end(), x->tokens.begin(), x->tokens.end());
          g.ids.insert(g.ids.end(), x->ids.begin(), x->ids.end());
        }
        g.score = float(double(np_sum(s.data(), int64_t(s.size()))) / double(s.size()));
        g.word = tokens_to_string(g.tokens, g.ids);
        g.start = cur.front()->start;
        g.end = cur.back()->end;
        groups.push_back(std::move(g));
      };
      for (const Ent& x : ents) {
        if (!cur.empty()) {
          const auto [bi, tag] = get_tag(x.entity);
          if (!(tag == get_tag(cur.back()->entity).second && bi != 'B')) {
            flush();
            cur.clear();
          }
        }
        cur.push_back(&x);
      }
      if (!cur.empty()) flush();
      ents = std::move(groups);
    }
    for (Ent& x : ents)
      if (std::find(ignore.begin(), ignore.end(), x.entity) == ignore.end()) per_text[w.text].push_back(std::move(x));
  }

  std::vector<std::vector<TokenEntity>> out(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<Ent>& ents = per_text[i];
    if (n_windows[i] > 1 && !ents.empty()) {
      // aggregate_overlapping_entities: by start; of overlapping ones keep the longest, then the best
      std::stable_sort(ents.begin(), ents.end(), [](const Ent& a, const Ent& b) { return a.start < b.start; });
      std::vector<Ent> kept;
      Ent prev = ents[0];
      for (const Ent& x : ents) {
        if (*prev.start <= *x.start && *x.start < *prev.end) {
          const int64_t cur_len = *x.end - *x.start, prev_len = *prev.end - *prev.start;
          if (cur_len > prev_len || (cur_len == prev_len && x.score > prev.score)) prev = x;
        } else {
          kept.push_back(prev);
          prev = x;
        }
      }
      kept.push_back(prev);
      ents = std::move(kept);
    }
    for (const Ent& x : ents)
      out[i].push_back({x.entity, strategy != Strategy::None, x.score, strategy == Strategy::None ? x.index : std::nullopt,
                        x.word, x.start, x.end});
  }
  return out;
}

json TokenClassificationPipeline::call(const json& inputs, const json& kwargs) {
  check_kwargs(kwargs, {"aggregation_strategy", "ignore_labels", "offset_mapping", "stride", "grouped_entities",
                        "ignore_subwords", "batch_size", "num_workers"});
  TokenClassificationOptions o;
  std::optional<std::string> strategy;
  if (kwargs.contains("aggregation_strategy") && !kwargs["aggregation_strategy"].is_null())
    strategy = kwarg<std::string>(kwargs, "aggregation_strategy", "none");
  const bool has_grouped = kwargs.contains("grouped_entities") && !kwargs["grouped_entities"].is_null();
  const bool has_ignore_sub = kwargs.contains("ignore_subwords") && !kwargs["ignore_subwords"].is_null();
  if (has_grouped || has_ignore_sub) {  // deprecated flags override aggregation_strategy, as in Python
    const bool grouped = kwarg<bool>(kwargs, "grouped_entities", false);
    const bool ignore_sub = kwarg<bool>(kwargs, "ignore_subwords", false);
    strategy = grouped && ignore_sub ? "first" : grouped ? "simple" : "none";
  }
  if (strategy) {
    o.aggregation_strategy = *strategy;
    parse_strategy(*strategy);  // validates
  }
  if (kwargs.contains("ignore_labels") && !kwargs["ignore_labels"].is_null())
    o.ignore_labels = kwarg<std::vector<std::string>>(kwargs, "ignore_labels", {});
  if (kwargs.contains("stride") && !kwargs["stride"].is_null()) {
    o.stride = kwarg<int64_t>(kwargs, "stride", 0);
    if (strategy && parse_strategy(*strategy) == Strategy::None)
      throw ValueError("`stride` was provided to process all the text but `aggregation_strategy=\"none\"`, please "
                       "select another one instead.");
  }
  o.batch_size = kwarg<int64_t>(kwargs, "batch_size", 0);

  std::vector<std::string> texts;
  const bool single = inputs.is_string();
  if (single) {
    texts.push_back(inputs.get<std::string>());
  } else if (inputs.is_array() && !inputs.empty()) {
    for (const json& x : inputs) {
      if (!x.is_string())
        throw ValueError("token-classification: inputs must be strings, got " + x.dump().substr(0, 80));
      texts.push_back(x.get<std::string>());
    }
  } else {
    throw ValueError("At least one input is required.");
  }

  // offset_mapping: one list of (start, end) pairs (a single text), or one such list per text.
  std::vector<std::vector<std::pair<int64_t, int64_t>>> maps;
  if (kwargs.contains("offset_mapping") && !kwargs["offset_mapping"].is_null() && !kwargs["offset_mapping"].empty()) {
    const json& m = kwargs["offset_mapping"];
    auto one = [](const json& list) {
      std::vector<std::pair<int64_t, int64_t>> r;
      if (!list.is_array()) throw ValueError("token-classification: offset_mapping must be a list of (start, end) pairs");
      for (const json& p : list) {
        if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number_integer())
          throw ValueError("token-classification: offset_mapping must be a list of (start, end) pairs, got " +
                           p.dump().substr(0, 40));
        r.emplace_back(p[0].get<int64_t>(), p[1].get<int64_t>());
      }
      return r;
    };
    if (!m.is_array()) throw ValueError("token-classification: offset_mapping must be a list of (start, end) pairs");
    const bool nested = m[0].is_array() && !m[0].empty() && m[0][0].is_array();
    if (nested)
      for (const json& x : m) maps.push_back(one(x));
    else
      maps.push_back(one(m));
    if (maps.size() != texts.size())
      throw ValueError("offset_mapping should have the same batch size as the input");
  }

  const auto results = classify(texts, o, maps);
  auto render = [](const std::vector<TokenEntity>& r) {
    json list = json::array();
    for (const auto& e : r) list.push_back(e.to_json());
    return list;
  };
  if (single) return render(results[0]);
  json out = json::array();
  for (const auto& r : results) out.push_back(render(r));
  return out;
}

namespace pipelines {
std::unique_ptr<Pipeline> make_token_classification(const std::string& dir, const PipelineOptions& o) {
  return std::make_unique<TokenClassificationPipeline>(AutoModelForTokenClassification::from_pretrained(dir, o.model_options),
                                                       load_tokenizer(dir, o), o.batch_size);
}
}  // namespace pipelines

}  // namespace cppformers
