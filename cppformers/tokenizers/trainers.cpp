#include "cppformers/tokenizers/trainers.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_set>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/byte_level.hpp"
#include "cppformers/tokenizers/normalizers.hpp"
#include "cppformers/tokenizers/pre_tokenizers.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using ojson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// WordCounts

void WordCounts::add(std::string_view word, uint64_t n) {
  auto it = index_.find(std::string(word));
  if (it != index_.end()) {
    entries_[it->second].second += n;
    return;
  }
  index_.emplace(std::string(word), entries_.size());
  entries_.emplace_back(std::string(word), n);
}

void WordCounts::merge(const WordCounts& other) {
  for (const auto& [w, n] : other.entries_) add(w, n);
}

std::optional<uint64_t> WordCounts::count(std::string_view word) const {
  auto it = index_.find(std::string(word));
  if (it == index_.end()) return std::nullopt;
  return entries_[it->second].second;
}

std::vector<char32_t> byte_level_alphabet() {
  std::vector<char32_t> a;
  for (int b = 0; b < 256; ++b) a.push_back(byte_level::byte_to_char(static_cast<uint8_t>(b)));
  return a;
}

// ---------------------------------------------------------------------------------------------
// BPE training (the Rust BpeTrainer, step by step)

namespace {

using Pair = uint64_t;  // (left id << 32) | right id: comparing keys compares pairs as Rust's (u32, u32)
inline Pair make_pair_key(uint32_t a, uint32_t b) { return (uint64_t(a) << 32) | b; }
inline uint32_t pair_left(Pair p) { return uint32_t(p >> 32); }
inline uint32_t pair_right(Pair p) { return uint32_t(p & 0xffffffffu); }

// A word as symbol ids, each with its length in characters (for max_token_length).
struct TrainWord {
  std::vector<uint32_t> c;
  std::vector<size_t> len;

  // Word::merge: replaces every (c1, c2) left to right and reports the pair-count changes.
  void merge(uint32_t c1, uint32_t c2, uint32_t repl, size_t max_length, std::vector<std::pair<Pair, int>>& changes) {
    size_t i = 0;
    while (i < c.size()) {
      if (c[i] == c1 && i + 1 < c.size() && c[i + 1] == c2) {
        const uint32_t first = c[i], second = c[i + 1];
        const size_t new_len = len[i] + len[i + 1];
        if (i > 0) {
          changes.emplace_back(make_pair_key(c[i - 1], first), -1);
          if (len[i - 1] + new_len < max_length) changes.emplace_back(make_pair_key(c[i - 1], repl), 1);
        }
        c[i] = repl;
        len[i] = new_len;
        c.erase(c.begin() + long(i) + 1);
        len.erase(len.begin() + long(i) + 1);
        if (i + 1 < c.size()) {
          changes.emplace_back(make_pair_key(second, c[i + 1]), -1);
          if (len[i + 1] + new_len < max_length) changes.emplace_back(make_pair_key(repl, c[i + 1]), 1);
        }
      }
      ++i;
    }
  }
};

// A queue entry (the Rust `Merge`): ordered by count, then by the smaller pair.
struct QueueEntry {
  uint64_t count;
  Pair pair;
  std::vector<uint32_t> pos;  // word indices, distinct
};
struct QueueLess {  // a < b in Rust's Ord, so that std::*_heap keeps the greatest on top
  bool operator()(const QueueEntry& a, const QueueEntry& b) const {
    if (a.count != b.count) return a.count < b.count;
    return a.pair > b.pair;
  }
};

class Queue {
 public:
  bool empty() const { return v_.empty(); }
  void push(QueueEntry e) {
    v_.push_back(std::move(e));
    std::push_heap(v_.begin(), v_.end(), QueueLess{});
  }
  QueueEntry pop() {
    std::pop_heap(v_.begin(), v_.end(), QueueLess{});
    QueueEntry e = std::move(v_.back());
    v_.pop_back();
    return e;
  }

 private:
  std::vector<QueueEntry> v_;
};

std::vector<uint32_t> distinct(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

class Vocabulary {
 public:
  std::optional<uint32_t> find(const std::string& s) const {
    auto it = ids_.find(s);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  bool contains(const std::string& s) const { return ids_.count(s) > 0; }
  uint32_t add(const std::string& s) {  // inserts if absent; returns the id
    auto [it, inserted] = ids_.emplace(s, uint32_t(tokens_.size()));
    if (inserted) tokens_.push_back(s);
    return it->second;
  }
  size_t size() const { return tokens_.size(); }
  const std::string& token(uint32_t id) const { return tokens_[id]; }
  std::vector<std::string> release() { return std::move(tokens_); }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> tokens_;
};

void compute_alphabet(const WordCounts& wc, const BpeTrainerOptions& o, Vocabulary& vocab) {
  std::unordered_map<char32_t, uint64_t> alphabet;
  for (const auto& [word, count] : wc.entries()) {
    size_t i = 0;
    while (i < word.size()) {
      uint64_t& n = alphabet[unicode::next_char(word, i)];
      n = n > UINT64_MAX - count ? UINT64_MAX : n + count;
    }
  }
  for (char32_t c : o.initial_alphabet) alphabet[c] = UINT64_MAX;
  std::vector<std::pair<char32_t, uint64_t>> kept(alphabet.begin(), alphabet.end());
  size_t to_remove = 0;
  if (o.limit_alphabet && alphabet.size() > *o.limit_alphabet) to_remove = alphabet.size() - *o.limit_alphabet;
  if (to_remove > 0) {
    // Least frequent first (Rust: an unstable sort by count, ties in hash order; here: code point).
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second < b.second : a.first < b.first;
    });
    kept.erase(kept.begin(), kept.begin() + long(to_remove));
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [c, n] : kept) vocab.add(unicode::to_utf8(c));
}

// The symbols of a word: its characters that are in the alphabet, the non-first ones with the
// prefix, the last one with the suffix (Rust: tokenize_words). Calls f(symbol string).
template <typename F>
void for_each_symbol(const std::string& word, const BpeTrainerOptions& o, const Vocabulary& vocab, F&& f) {
  std::vector<std::string> chars;
  size_t i = 0;
  while (i < word.size()) {
    size_t s = i;
    unicode::next_char(word, i);
    chars.emplace_back(word.substr(s, i - s));
  }
  for (size_t k = 0; k < chars.size(); ++k) {
    if (!vocab.contains(chars[k])) continue;
    std::string s = chars[k];
    if (k > 0 && o.continuing_subword_prefix) s = *o.continuing_subword_prefix + s;
    if (k + 1 == chars.size() && o.end_of_word_suffix) s += *o.end_of_word_suffix;
    f(s);
  }
}

struct Progress {
  bool on;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  void report(const char* what, size_t done, size_t total, bool force = false) {
    if (!on) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last < std::chrono::milliseconds(250)) return;
    last = now;
    std::fprintf(stderr, "\r%-16s %zu / %zu", what, done, total);
    if (force) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }
};

}  // namespace

BpeTrainResult train_bpe(const WordCounts& wc, const BpeTrainerOptions& o) {
  Vocabulary vocab;
  const size_t max_length = o.max_token_length.value_or(SIZE_MAX);
  Progress progress{o.show_progress};

  // 1. Special tokens, 2. the alphabet.
  for (const auto& t : o.special_tokens) vocab.add(t.content);
  compute_alphabet(wc, o, vocab);

  // 3. The words as symbol ids. The decorated characters ("##a") get ids in the order asked
  // for, then in code-point order (the Rust trainer: the order its hash map yields the words).
  if (o.continuing_subword_prefix || o.end_of_word_suffix) {
    std::set<std::string> decorated;
    for (const auto& [word, count] : wc.entries())
      for_each_symbol(word, o, vocab, [&](const std::string& s) {
        if (!vocab.contains(s)) decorated.insert(s);
      });
    for (const auto& s : o.decorated_alphabet_order)
      if (decorated.erase(s)) vocab.add(s);
    for (const auto& s : decorated) vocab.add(s);
  }
  std::vector<TrainWord> words(wc.size());
  std::vector<uint64_t> counts(wc.size());
  for (size_t w = 0; w < wc.size(); ++w) {
    const auto& [word, count] = wc.entries()[w];
    counts[w] = count;
    for_each_symbol(word, o, vocab, [&](const std::string& s) {
      words[w].c.push_back(*vocab.find(s));
      words[w].len.push_back(1);
    });
  }

  // 4. Pair counts and where each pair occurs.
  std::unordered_map<Pair, int64_t> pair_counts;
  std::unordered_map<Pair, std::vector<uint32_t>> where_to_update;
  for (size_t w = 0; w < words.size(); ++w) {
    const auto& c = words[w].c;
    for (size_t k = 0; k + 1 < c.size(); ++k) {
      Pair p = make_pair_key(c[k], c[k + 1]);
      pair_counts[p] += int64_t(counts[w]);
      auto& pos = where_to_update[p];
      if (pos.empty() || pos.back() != w) pos.push_back(uint32_t(w));
    }
  }
  Queue queue;
  for (auto& [pair, pos] : where_to_update) {
    int64_t count = pair_counts[pair];
    if (count > 0) queue.push({uint64_t(count), pair, distinct(std::move(pos))});
  }
  where_to_update.clear();

  // 5. Merges.
  std::vector<std::pair<Pair, uint32_t>> merges;
  std::vector<std::pair<Pair, int>> changes;
  while (vocab.size() < o.vocab_size && !queue.empty()) {
    QueueEntry top = queue.pop();
    const int64_t current = pair_counts[top.pair];
    if (top.count != uint64_t(current)) {  // stale: re-queue with the current count
      top.count = uint64_t(current);
      queue.push(std::move(top));
      continue;
    }
    if (top.count < 1 || o.min_frequency > top.count) break;

    const std::string& part_a = vocab.token(pair_left(top.pair));
    std::string part_b = vocab.token(pair_right(top.pair));
    if (o.continuing_subword_prefix && part_b.rfind(*o.continuing_subword_prefix, 0) == 0)
      part_b = part_b.substr(o.continuing_subword_prefix->size());
    const uint32_t new_id = vocab.add(part_a + part_b);
    merges.emplace_back(top.pair, new_id);

    for (uint32_t w : top.pos) {
      changes.clear();
      words[w].merge(pair_left(top.pair), pair_right(top.pair), new_id, max_length, changes);
      for (const auto& [pair, change] : changes) {
        pair_counts[pair] += int64_t(change) * int64_t(counts[w]);
        if (change > 0) {
          auto& pos = where_to_update[pair];
          if (pos.empty() || pos.back() != w) pos.push_back(w);
        }
      }
    }
    for (auto& [pair, pos] : where_to_update) {
      int64_t count = pair_counts[pair];
      if (count > 0) queue.push({uint64_t(count), pair, distinct(std::move(pos))});
    }
    where_to_update.clear();
    progress.report("Compute merges", vocab.size(), o.vocab_size);
  }
  progress.report("Compute merges", vocab.size(), o.vocab_size, true);

  // The model's merges are a map pair -> (rank, id): a pair merged twice keeps its last rank.
  std::unordered_map<Pair, size_t> last_rank;
  for (size_t r = 0; r < merges.size(); ++r) last_rank[merges[r].first] = r;
  BpeTrainResult result;
  for (size_t r = 0; r < merges.size(); ++r) {
    Pair p = merges[r].first;
    if (last_rank[p] != r) continue;
    result.merges.emplace_back(vocab.token(pair_left(p)), vocab.token(pair_right(p)));
  }
  result.continuing_subword_prefix = o.continuing_subword_prefix;
  result.end_of_word_suffix = o.end_of_word_suffix;
  result.vocab = vocab.release();
  return result;
}

BpeTrainResult train_wordpiece(const WordCounts& words, BpeTrainerOptions options) {
  if (!options.continuing_subword_prefix) options.continuing_subword_prefix = "##";
  BpeTrainResult r = train_bpe(words, options);
  r.merges.clear();
  return r;
}

// ---------------------------------------------------------------------------------------------
// Words from texts

WordCounts count_training_words(const json& j, const std::vector<std::string>& texts, const std::string& name) {
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  if (const json* n = jsonutil::find(j, "normalizer")) normalizer = make_normalizer(*n, name + ": normalizer");
  if (const json* p = jsonutil::find(j, "pre_tokenizer")) pre_tokenizer = make_pre_tokenizer(*p, name + ": pre_tokenizer");

  const size_t n = texts.size();
  const size_t chunks = std::max<size_t>(1, std::min<size_t>(n, size_t(omp_get_max_threads()) * 8));
  std::vector<WordCounts> partial(chunks);
  std::vector<std::string> errors(chunks);
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1)
  for (long c = 0; c < long(chunks); ++c) {
    const size_t begin = n * size_t(c) / chunks, end = n * size_t(c + 1) / chunks;
    try {
      for (size_t i = begin; i < end; ++i) {
        const std::string& text = texts[i];
        if (size_t bad = unicode::find_invalid_utf8(text); bad != std::string::npos)
          throw ValueError("training text " + std::to_string(i) + " is not valid UTF-8 (byte " +
                           std::to_string(bad) + ")");
        PreTokenizedString p(text);
        if (normalizer) p.normalize([&](NormalizedString& s) { normalizer->normalize(s); });
        if (pre_tokenizer) pre_tokenizer->pre_tokenize(p);
        for (const auto& split : p.splits()) partial[c].add(split.normalized.get());
      }
    } catch (const std::exception& e) {
      errors[c] = e.what();
    }
  }
  for (const auto& e : errors)
    if (!e.empty()) throw ValueError(e);
  WordCounts all;
  for (const auto& p : partial) all.merge(p);
  return all;
}

// ---------------------------------------------------------------------------------------------
// train_new_from_iterator

namespace {

bool has_byte_level(const ojson& pre) {
  if (!pre.is_object()) return false;
  auto t = pre.find("type");
  if (t == pre.end() || !t->is_string()) return false;
  if (*t == "ByteLevel") return true;
  if (*t == "Sequence") {
    auto seq = pre.find("pretokenizers");
    if (seq != pre.end() && seq->is_array())
      for (const auto& p : *seq)
        if (has_byte_level(p)) return true;
  }
  return false;
}

std::string mapped(const std::map<std::string, std::string>& m, const std::string& s) {
  auto it = m.find(s);
  return it == m.end() ? s : it->second;
}

// Puts the new ids of the special tokens into a post-processor (TemplateProcessing's
// special_tokens, BertProcessing / RobertaProcessing's cls and sep; inside a Sequence too).
void update_post_processor(ojson& pp, const std::map<std::string, std::string>& special_map,
                           const std::function<std::optional<uint32_t>(const std::string&)>& id_of,
                           const std::string& where) {
  if (!pp.is_object()) return;
  if (auto st = pp.find("special_tokens"); st != pp.end() && st->is_object()) {
    for (auto& [key, entry] : st->items()) {
      if (!entry.is_object() || !entry.contains("tokens") || !entry["tokens"].is_array()) continue;
      ojson ids = ojson::array(), tokens = ojson::array();
      for (const auto& t : entry["tokens"]) {
        if (!t.is_string()) jsonutil::fail(where + ".special_tokens." + key, "expected string tokens");
        std::string tok = mapped(special_map, t.get<std::string>());
        auto id = id_of(tok);
        if (!id)
          throw ValueError(where + ": special token '" + tok + "' of the post-processor is not in the trained vocabulary");
        tokens.push_back(tok);
        ids.push_back(*id);
      }
      entry["tokens"] = tokens;
      entry["ids"] = ids;
    }
  }
  for (const char* key : {"cls", "sep"}) {
    auto it = pp.find(key);
    if (it == pp.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string()) continue;
    std::string tok = mapped(special_map, (*it)[0].get<std::string>());
    auto id = id_of(tok);
    if (!id) throw ValueError(where + ": special token '" + tok + "' of the post-processor is not in the trained vocabulary");
    *it = ojson::array({tok, *id});
  }
  if (auto seq = pp.find("processors"); seq != pp.end() && seq->is_array())
    for (size_t i = 0; i < seq->size(); ++i)
      update_post_processor((*seq)[i], special_map, id_of, where + ".processors[" + std::to_string(i) + "]");
}

bool get_flag(const ojson& o, const char* key, bool def) {
  auto it = o.find(key);
  return it != o.end() && it->is_boolean() ? it->get<bool>() : def;
}

}  // namespace

std::string train_new_from_iterator(const std::string& text, const std::vector<std::string>& texts,
                                    const TrainNewOptions& opt, const std::string& name) {
  ojson tj;
  try {
    tj = ojson::parse(text);
  } catch (const std::exception& e) {
    throw FormatError(name + ": invalid JSON: " + e.what());
  }
  if (!tj.is_object()) jsonutil::fail(name, "expected a JSON object");
  if (!tj.contains("model") || !tj["model"].is_object()) jsonutil::fail(name + ": model", "missing (expected an object)");
  const json plain = json::parse(text);  // for the normalizer and pre-tokenizer factories
  ojson& model = tj["model"];
  const std::string type = model.value("type", std::string());
  if (type != "BPE" && type != "WordPiece")
    throw NotSupportedError(name + ": model.type: training a '" + type +
                            "' model is not supported (BPE and WordPiece are)");

  // The old special tokens (non-special added tokens are dropped, as Python does).
  std::vector<AddedToken> specials;
  if (auto at = tj.find("added_tokens"); at != tj.end() && at->is_array()) {
    for (const auto& t : *at) {
      if (!t.is_object() || !get_flag(t, "special", false)) continue;
      AddedToken a;
      a.content = mapped(opt.special_tokens_map, t.value("content", std::string()));
      a.single_word = get_flag(t, "single_word", false);
      a.lstrip = get_flag(t, "lstrip", false);
      a.rstrip = get_flag(t, "rstrip", false);
      a.normalized = get_flag(t, "normalized", false);
      a.special = true;
      specials.push_back(a);
    }
  }
  for (AddedToken a : opt.new_special_tokens) {
    a.special = true;
    specials.push_back(a);
  }
  if (auto unk = model.find("unk_token"); unk != model.end() && unk->is_string())
    *unk = mapped(opt.special_tokens_map, unk->get<std::string>());

  BpeTrainerOptions bo;
  bo.vocab_size = opt.vocab_size;
  bo.min_frequency = opt.min_frequency;
  bo.special_tokens = specials;
  bo.limit_alphabet = opt.limit_alphabet;
  bo.max_token_length = opt.max_token_length;
  bo.show_progress = opt.show_progress;
  if (type == "BPE") {
    bo.continuing_subword_prefix = opt.continuing_subword_prefix;
    bo.end_of_word_suffix = opt.end_of_word_suffix;
    if (!bo.continuing_subword_prefix && model.contains("continuing_subword_prefix") &&
        model["continuing_subword_prefix"].is_string())
      bo.continuing_subword_prefix = model["continuing_subword_prefix"].get<std::string>();
    if (!bo.end_of_word_suffix && model.contains("end_of_word_suffix") && model["end_of_word_suffix"].is_string())
      bo.end_of_word_suffix = model["end_of_word_suffix"].get<std::string>();
  } else {
    bo.continuing_subword_prefix = opt.continuing_subword_prefix.value_or("##");
  }
  if (tj.contains("pre_tokenizer") && has_byte_level(tj["pre_tokenizer"])) bo.initial_alphabet = byte_level_alphabet();
  bo.initial_alphabet.insert(bo.initial_alphabet.end(), opt.initial_alphabet.begin(), opt.initial_alphabet.end());

  WordCounts words = count_training_words(plain, texts, name);
  BpeTrainResult r = type == "BPE" ? train_bpe(words, bo) : train_wordpiece(words, bo);

  std::unordered_map<std::string, uint32_t> ids;
  for (size_t i = 0; i < r.vocab.size(); ++i) ids.emplace(r.vocab[i], uint32_t(i));
  auto id_of = [&](const std::string& s) -> std::optional<uint32_t> {
    auto it = ids.find(s);
    if (it == ids.end()) return std::nullopt;
    return it->second;
  };

  // The model: the old options, the trained vocabulary (id order) and merges (rank order).
  ojson vocab = ojson::object();
  for (size_t i = 0; i < r.vocab.size(); ++i) vocab[r.vocab[i]] = i;
  ojson new_model = ojson::object();
  for (auto& [k, v] : model.items()) {
    if (k == "vocab") new_model[k] = vocab;
    else if (k == "merges") continue;
    else if (k == "continuing_subword_prefix") new_model[k] = r.continuing_subword_prefix ? ojson(*r.continuing_subword_prefix) : ojson();
    else if (k == "end_of_word_suffix" && type == "BPE") new_model[k] = r.end_of_word_suffix ? ojson(*r.end_of_word_suffix) : ojson();
    else new_model[k] = v;
  }
  if (!new_model.contains("vocab")) new_model["vocab"] = vocab;
  if (type == "WordPiece" && !new_model.contains("continuing_subword_prefix"))
    new_model["continuing_subword_prefix"] = *r.continuing_subword_prefix;
  if (type == "BPE") {
    ojson merges = ojson::array();
    for (const auto& [a, b] : r.merges) merges.push_back(ojson::array({a, b}));
    new_model["merges"] = merges;
  }

  ojson added = ojson::array();
  std::set<uint32_t> seen;
  std::vector<std::pair<uint32_t, ojson>> entries;
  for (const auto& a : specials) {
    uint32_t id = *id_of(a.content);
    if (!seen.insert(id).second) continue;
    entries.emplace_back(id, ojson{{"id", id}, {"content", a.content}, {"single_word", a.single_word},
                                   {"lstrip", a.lstrip}, {"rstrip", a.rstrip}, {"normalized", a.normalized},
                                   {"special", true}});
  }
  std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& e : entries) added.push_back(std::move(e.second));

  ojson out = ojson::object();
  out["version"] = tj.value("version", ojson("1.0"));
  out["truncation"] = tj.value("truncation", ojson());
  ojson padding = tj.value("padding", ojson());
  if (padding.is_object() && padding.contains("pad_token") && padding["pad_token"].is_string()) {
    std::string pad = mapped(opt.special_tokens_map, padding["pad_token"].get<std::string>());
    padding["pad_token"] = pad;
    if (auto id = id_of(pad)) padding["pad_id"] = *id;
  }
  out["padding"] = padding;
  out["added_tokens"] = added;
  out["normalizer"] = tj.value("normalizer", ojson());
  out["pre_tokenizer"] = tj.value("pre_tokenizer", ojson());
  ojson pp = tj.value("post_processor", ojson());
  update_post_processor(pp, opt.special_tokens_map, id_of, name + ": post_processor");
  out["post_processor"] = pp;
  out["decoder"] = tj.value("decoder", ojson());
  out["model"] = new_model;
  return out.dump(2);
}

void train_new_tokenizer_folder(const std::string& from_dir, const std::vector<std::string>& texts,
                                const TrainNewOptions& options, const std::string& out_dir) {
  namespace fs = std::filesystem;
  auto read = [](const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw IOError(p.string() + ": cannot read");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  auto write = [](const fs::path& p, const std::string& s) {
    const fs::path tmp = p.string() + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      if (!f) throw IOError(tmp.string() + ": cannot write");
      f << s;
      if (!f) throw IOError(tmp.string() + ": write failed");
    }
    fs::rename(tmp, p);
  };
  const fs::path from = from_dir, out = out_dir;
  if (!fs::exists(from / "tokenizer.json")) throw IOError((from / "tokenizer.json").string() + ": not found");
  const std::string trained =
      train_new_from_iterator(read(from / "tokenizer.json"), texts, options, (from / "tokenizer.json").string());
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw IOError(out.string() + ": cannot create the folder: " + ec.message());
  write(out / "tokenizer.json", trained + "\n");

  if (fs::exists(from / "special_tokens_map.json") && fs::absolute(from) != fs::absolute(out))
    write(out / "special_tokens_map.json", read(from / "special_tokens_map.json"));
  if (fs::exists(from / "tokenizer_config.json")) {
    const std::string cfg_path = (from / "tokenizer_config.json").string();
    ojson cfg;
    try {
      cfg = ojson::parse(read(from / "tokenizer_config.json"));
    } catch (const std::exception& e) {
      throw FormatError(cfg_path + ": invalid JSON: " + e.what());
    }
    if (cfg.is_object() && cfg.contains("added_tokens_decoder")) {
      // Keyed by id: rebuilt from the new added tokens.
      const ojson t = ojson::parse(trained);
      ojson dec = ojson::object();
      for (const auto& a : t["added_tokens"]) {
        ojson e = a;
        e.erase("id");
        dec[std::to_string(a["id"].get<uint32_t>())] = e;
      }
      cfg["added_tokens_decoder"] = dec;
    }
    write(out / "tokenizer_config.json", cfg.dump(2) + "\n");
  }
}

}  // namespace cppformers::tokenizers
