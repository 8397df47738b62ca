#include "cppformers/training/data/dataset.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cppformers/core/error.hpp"

namespace cppformers {

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot open the data file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lower_ext(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return e;
}

std::optional<int64_t> parse_int(const std::string& s) {
  int64_t v = 0;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  while (b < e && *b == ' ') ++b;
  while (e > b && e[-1] == ' ') --e;
  if (b == e) return std::nullopt;
  auto r = std::from_chars(b, e, v);
  if (r.ec != std::errc() || r.ptr != e) return std::nullopt;
  return v;
}

// A raw label as read: a string (from CSV or a JSON string) or an integer.
struct RawLabel {
  std::string text;
  std::optional<int64_t> number;
  std::string where;  // "FILE:LINE" for errors
};

// Assigns ids to raw labels: by `names` when given (an integer in range also accepted), else
// integers stay as they are and strings get sorted-order ids. Returns the label names.
std::vector<std::string> resolve_labels(std::vector<RawLabel*> raws, const std::vector<std::string>& names,
                                        std::vector<int64_t*> outs) {
  if (!names.empty()) {
    std::map<std::string, int64_t> index;
    for (size_t i = 0; i < names.size(); ++i) index[names[i]] = int64_t(i);
    for (size_t k = 0; k < raws.size(); ++k) {
      const RawLabel& r = *raws[k];
      auto it = index.find(r.number && r.text.empty() ? std::to_string(*r.number) : r.text);
      if (it != index.end()) {
        *outs[k] = it->second;
        continue;
      }
      std::optional<int64_t> n = r.number ? r.number : parse_int(r.text);
      if (n && *n >= 0 && *n < int64_t(names.size())) {
        *outs[k] = *n;
        continue;
      }
      std::string known;
      for (const auto& nm : names) known += (known.empty() ? "" : ", ") + nm;
      throw FormatError(r.where + ": label '" + (r.text.empty() && r.number ? std::to_string(*r.number) : r.text) +
                        "' is not one of the known labels (" + known + ")");
    }
    return names;
  }
  bool all_int = true;
  for (const RawLabel* r : raws)
    if (!(r->number || parse_int(r->text))) all_int = false;
  if (all_int) {
    for (size_t k = 0; k < raws.size(); ++k) {
      const int64_t v = raws[k]->number ? *raws[k]->number : *parse_int(raws[k]->text);
      if (v < 0 && v != -100) throw FormatError(raws[k]->where + ": label " + std::to_string(v) + " is negative");
      *outs[k] = v;
    }
    return {};
  }
  std::set<std::string> unique;
  for (const RawLabel* r : raws) unique.insert(r->number && r->text.empty() ? std::to_string(*r->number) : r->text);
  std::vector<std::string> sorted(unique.begin(), unique.end());
  return resolve_labels(raws, sorted, outs);
}

struct RawRow {
  Example ex;
  std::optional<RawLabel> label;
  std::vector<RawLabel> word_labels;
};

Dataset finish(std::vector<RawRow>& rows, const DataFileOptions& o) {
  std::vector<RawLabel*> raws;
  std::vector<int64_t*> outs;
  for (RawRow& r : rows) {
    if (r.label) {
      raws.push_back(&*r.label);
      outs.push_back(&r.ex.label);
    }
    r.ex.word_labels.assign(r.word_labels.size(), -100);
    for (size_t i = 0; i < r.word_labels.size(); ++i) {
      raws.push_back(&r.word_labels[i]);
      outs.push_back(&r.ex.word_labels[i]);
    }
  }
  std::vector<std::string> names = raws.empty() ? o.label_names : resolve_labels(raws, o.label_names, outs);
  std::vector<Example> ex;
  ex.reserve(rows.size());
  for (RawRow& r : rows) ex.push_back(std::move(r.ex));
  return Dataset(std::move(ex), std::move(names));
}

Dataset read_delimited(const std::string& path, char delim, const DataFileOptions& o) {
  const auto rows = parse_delimited(read_text(path), delim, path);
  if (rows.empty()) throw FormatError(path + ": no header row");
  const auto& header = rows[0];
  auto column = [&](const std::string& name, bool required) -> int {
    if (name.empty()) return -1;
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return int(i);
    if (!required) return -1;
    std::string cols;
    for (const auto& h : header) cols += (cols.empty() ? "" : ", ") + h;
    throw FormatError(path + ": no column '" + name + "' (columns: " + cols + ")");
  };
  if (!o.tokens_column.empty())
    throw NotSupportedError(path + ": token classification data (tokens_column) is read from JSON lines");
  const int text = column(o.text_column, true);
  const int pair = column(o.text_pair_column, true);
  const int label = column(o.label_column, o.labels_required);
  std::vector<RawRow> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() == 1 && row[0].empty()) continue;  // blank line
    const std::string where = path + ":" + std::to_string(r + 1);
    if (row.size() != header.size())
      throw FormatError(where + ": row has " + std::to_string(row.size()) + " fields, the header " +
                        std::to_string(header.size()));
    RawRow rr;
    rr.ex.text = row[text];
    if (pair >= 0) rr.ex.text_pair = row[pair];
    if (label >= 0) rr.label = RawLabel{row[label], std::nullopt, where};
    out.push_back(std::move(rr));
  }
  return finish(out, o);
}

RawLabel json_label(const nlohmann::json& v, const std::string& where, const std::string& key) {
  if (v.is_string()) return RawLabel{v.get<std::string>(), std::nullopt, where};
  if (v.is_number_integer()) return RawLabel{"", v.get<int64_t>(), where};
  if (v.is_number_float() && v.get<double>() == double(int64_t(v.get<double>())))
    return RawLabel{"", int64_t(v.get<double>()), where};
  throw FormatError(where + ": key '" + key + "' should be a string or an integer label, got " + v.type_name());
}

Dataset read_json_lines(const std::string& path, const DataFileOptions& o) {
  const std::string text = read_text(path);
  std::vector<RawRow> out;
  size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      if (end == text.size()) break;
      continue;
    }
    const std::string where = path + ":" + std::to_string(line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw FormatError(where + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw FormatError(where + ": each line should be a JSON object");
    auto get_string = [&](const std::string& key, bool required) -> std::optional<std::string> {
      if (key.empty()) return std::nullopt;
      if (!j.contains(key) || j[key].is_null()) {
        if (required) throw FormatError(where + ": key '" + key + "' is missing");
        return std::nullopt;
      }
      if (!j[key].is_string()) throw FormatError(where + ": key '" + key + "' should be a string, got " + j[key].type_name());
      return j[key].get<std::string>();
    };
    RawRow rr;
    if (!o.tokens_column.empty()) {
      if (!j.contains(o.tokens_column) || !j[o.tokens_column].is_array())
        throw FormatError(where + ": key '" + o.tokens_column + "' should be a list of words");
      for (const auto& w : j[o.tokens_column]) {
        if (!w.is_string()) throw FormatError(where + ": key '" + o.tokens_column + "' should hold strings");
        rr.ex.words.push_back(w.get<std::string>());
      }
      if (!o.label_column.empty() && j.contains(o.label_column)) {
        const auto& tags = j[o.label_column];
        if (!tags.is_array() || tags.size() != rr.ex.words.size())
          throw FormatError(where + ": key '" + o.label_column + "' should be a list of one label per word (" +
                            std::to_string(rr.ex.words.size()) + ")");
        for (const auto& t : tags) rr.word_labels.push_back(json_label(t, where, o.label_column));
      } else if (o.labels_required && !o.label_column.empty()) {
        throw FormatError(where + ": key '" + o.label_column + "' is missing");
      }
    } else {
      rr.ex.text = *get_string(o.text_column, true);
      rr.ex.text_pair = get_string(o.text_pair_column, true);
      if (!o.label_column.empty()) {
        if (j.contains(o.label_column) && !j[o.label_column].is_null())
          rr.label = json_label(j[o.label_column], where, o.label_column);
        else if (o.labels_required)
          throw FormatError(where + ": key '" + o.label_column + "' is missing");
      }
    }
    out.push_back(std::move(rr));
    if (end == text.size()) break;
  }
  return finish(out, o);
}

// The number of code points in UTF-8 text.
size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::vector<std::vector<std::string>> parse_delimited(const std::string& text, char delim, const std::string& file) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  size_t line = 1;
  size_t i = 0;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // UTF-8 BOM
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
    } else if (c == delim) {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      rows.push_back(std::move(row));
      row.clear();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted) throw FormatError(file + ":" + std::to_string(line) + ": unterminated quoted field");
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

Dataset::Dataset(std::vector<Example> examples, std::vector<std::string> label_names)
    : examples_(std::move(examples)), label_names_(std::move(label_names)) {}

Dataset Dataset::from_file(const std::string& path, const DataFileOptions& o) {
  std::string fmt = o.format;
  if (fmt.empty()) {
    const std::string e = lower_ext(path);
    if (e == ".csv") fmt = "csv";
    else if (e == ".tsv" || e == ".tab") fmt = "tsv";
    else if (e == ".jsonl" || e == ".json" || e == ".ndjson") fmt = "jsonl";
    else throw NotSupportedError(path + ": cannot tell the data format from the extension '" + e +
                                 "' (use .csv, .tsv or .jsonl, or give the format)");
  }
  if (fmt == "csv") return read_delimited(path, ',', o);
  if (fmt == "tsv") return read_delimited(path, '\t', o);
  if (fmt == "jsonl" || fmt == "json") return read_json_lines(path, o);
  throw NotSupportedError(path + ": unknown data format '" + fmt + "' (csv, tsv, jsonl)");
}

int64_t Dataset::num_labels() const {
  if (!label_names_.empty()) return int64_t(label_names_.size());
  int64_t m = -1;
  for (const Example& e : examples_) {
    m = std::max(m, e.label);
    for (int64_t l : e.word_labels) m = std::max(m, l);
  }
  return m + 1;
}

std::map<int64_t, std::string> Dataset::id2label() const {
  std::map<int64_t, std::string> m;
  if (label_names_.empty()) {
    for (int64_t i = 0; i < num_labels(); ++i) m[i] = "LABEL_" + std::to_string(i);
  } else {
    for (size_t i = 0; i < label_names_.size(); ++i) m[int64_t(i)] = label_names_[i];
  }
  return m;
}

Dataset Dataset::select(const std::vector<size_t>& indices) const {
  std::vector<Example> ex;
  ex.reserve(indices.size());
  for (size_t i : indices) {
    if (i >= examples_.size())
      throw ValueError("Dataset::select: index " + std::to_string(i) + " out of range for " +
                       std::to_string(examples_.size()) + " examples");
    ex.push_back(examples_[i]);
  }
  return Dataset(std::move(ex), label_names_);
}

static std::vector<size_t> permutation(size_t n, uint64_t seed) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  std::mt19937_64 rng(seed);
  for (size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng() % i]);
  return idx;
}

Dataset Dataset::shuffle(uint64_t seed) const { return select(permutation(examples_.size(), seed)); }

Dataset::Split Dataset::train_test_split(double test_size, uint64_t seed, bool stratify) const {
  const size_t n = examples_.size();
  if (!(test_size > 0)) throw ValueError("train_test_split: test_size must be > 0");
  size_t n_test = test_size < 1 ? size_t(std::ceil(test_size * double(n))) : size_t(test_size);
  if (n_test >= n || n_test == 0)
    throw ValueError("train_test_split: test_size " + std::to_string(test_size) + " leaves no train or test examples of " +
                     std::to_string(n));
  std::vector<size_t> train_idx, test_idx;
  if (!stratify) {
    const auto perm = permutation(n, seed);
    test_idx.assign(perm.begin(), perm.begin() + n_test);
    train_idx.assign(perm.begin() + n_test, perm.end());
  } else {
    // Each class contributes round(share * n_test) (largest remainders fill the rest), as
    // sklearn's StratifiedShuffleSplit allocates.
    std::map<int64_t, std::vector<size_t>> by_label;
    const auto perm = permutation(n, seed);
    for (size_t i : perm) {
      if (examples_[i].label == -100)
        throw ValueError("train_test_split: stratify needs one class label per example");
      by_label[examples_[i].label].push_back(i);
    }
    std::vector<std::pair<double, int64_t>> remainders;
    std::map<int64_t, size_t> take;
    size_t taken = 0;
    for (auto& [label, idx] : by_label) {
      const double exact = double(idx.size()) * double(n_test) / double(n);
      take[label] = size_t(std::floor(exact));
      taken += take[label];
      remainders.push_back({exact - std::floor(exact), label});
    }
    std::stable_sort(remainders.begin(), remainders.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (size_t k = 0; taken < n_test && k < remainders.size(); ++k) {
      const int64_t label = remainders[k].second;
      if (take[label] < by_label[label].size()) {
        ++take[label];
        ++taken;
      }
    }
    for (auto& [label, idx] : by_label) {
      test_idx.insert(test_idx.end(), idx.begin(), idx.begin() + take[label]);
      train_idx.insert(train_idx.end(), idx.begin() + take[label], idx.end());
    }
    // mix the classes again, reproducibly
    auto mix = [&](std::vector<size_t>& v, uint64_t s) {
      const auto p = permutation(v.size(), s);
      std::vector<size_t> out(v.size());
      for (size_t i = 0; i < v.size(); ++i) out[i] = v[p[i]];
      v = std::move(out);
    };
    mix(train_idx, seed + 1);
    mix(test_idx, seed + 2);
  }
  return Split{select(train_idx), select(test_idx)};
}

Dataset& Dataset::map(const std::function<void(std::span<Example>)>& fn, size_t batch_size) {
  if (batch_size == 0) batch_size = examples_.size();
  for (size_t b = 0; b < examples_.size(); b += batch_size)
    fn(std::span<Example>(examples_.data() + b, std::min(batch_size, examples_.size() - b)));
  return *this;
}

Dataset& Dataset::tokenize(const AutoTokenizer& tok, size_t batch_size) {
  tokenizers::CallOptions o;
  o.truncation = true;
  return tokenize(tok, o, batch_size);
}

Dataset& Dataset::tokenize(const AutoTokenizer& tok, const tokenizers::CallOptions& options, size_t batch_size) {
  tokenizers::CallOptions o = options;
  o.padding = false;  // collators pad per batch
  const bool words = !examples_.empty() && !examples_[0].words.empty();
  if (words) o.return_offsets_mapping = true;
  return map(
      [&](std::span<Example> batch) {
        std::vector<tokenizers::EncodeInput> inputs;
        inputs.reserve(batch.size());
        // word spans in code points of the joined text (words joined by one space)
        std::vector<std::vector<std::pair<size_t, size_t>>> spans(batch.size());
        for (size_t k = 0; k < batch.size(); ++k) {
          Example& e = batch[k];
          if (!e.words.empty()) {
            std::string joined;
            size_t cp = 0;
            for (size_t w = 0; w < e.words.size(); ++w) {
              if (w) {
                joined += ' ';
                ++cp;
              }
              const size_t len = code_points(e.words[w]);
              spans[k].push_back({cp, cp + len});
              joined += e.words[w];
              cp += len;
            }
            inputs.push_back({joined, std::nullopt});
          } else {
            inputs.push_back({e.text, e.text_pair});
          }
        }
        const tokenizers::BatchEncoding enc = tok(inputs, o);
        for (size_t k = 0; k < batch.size(); ++k) {
          Example& e = batch[k];
          e.input_ids = enc.input_ids[k];
          e.attention_mask = enc.attention_mask[k];
          e.token_type_ids = k < enc.token_type_ids.size() ? enc.token_type_ids[k] : std::vector<int64_t>();
          const auto& sm = enc.encodings[k].special_tokens_mask;
          e.special_tokens_mask.assign(sm.begin(), sm.end());
          e.special_tokens_mask.resize(e.input_ids.size(), 0);
          if (!e.words.empty()) {
            // First token of each word takes the word's label; specials and continuations -100.
            e.labels.assign(e.input_ids.size(), -100);
            const auto& offs = enc.encodings[k].offsets;
            size_t w = 0;
            int64_t last_word = -1;
            for (size_t t = 0; t < e.input_ids.size() && t < offs.size(); ++t) {
              if (e.special_tokens_mask[t] || offs[t].first == offs[t].second) continue;
              while (w < spans[k].size() && spans[k][w].second <= offs[t].first) ++w;
              if (w >= spans[k].size()) break;
              if (offs[t].first < spans[k][w].first) continue;  // inside the separating space
              if (int64_t(w) != last_word) {
                e.labels[t] = w < e.word_labels.size() ? e.word_labels[w] : -100;
                last_word = int64_t(w);
              }
            }
          }
        }
      },
      batch_size);
}

}  // namespace cppformers
