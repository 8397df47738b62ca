#include "cppformers/training/data/records.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cppformers/core/error.hpp"

namespace cppformers {

namespace {

bool all_space(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

bool valid_utf8(const std::string& s, size_t& bad) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) {
      bad = i;
      return false;
    }
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        bad = i;
        return false;
      }
    i += n;
  }
  return true;
}

}  // namespace

std::vector<std::string> read_text_records(const std::string& path, const std::optional<std::string>& separator) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot open the text file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (size_t bad = 0; !valid_utf8(text, bad))
    throw FormatError(path + ": not valid UTF-8 (byte " + std::to_string(bad) + ")");

  std::vector<std::string> records;
  std::string current;
  bool has_line = false;
  auto flush = [&] {
    if (has_line && !all_space(current)) records.push_back(current);
    current.clear();
    has_line = false;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    std::string line = text.substr(pos, e - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = e + 1;
    if (!separator) {
      has_line = true;
      current = line;
      flush();
      continue;
    }
    if (line == *separator) {
      flush();
      continue;
    }
    if (has_line) current += "\n";
    current += line;
    has_line = true;
  }
  flush();
  return records;
}

Dataset dataset_from_record_files(const std::vector<std::string>& files, const RecordFilesOptions& options) {
  if (files.empty()) throw ValueError("dataset_from_record_files: no files");
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(std::filesystem::path(f).filename().string());
  std::vector<std::string> label_names = names;
  std::sort(label_names.begin(), label_names.end());
  label_names.erase(std::unique(label_names.begin(), label_names.end()), label_names.end());
  std::map<std::string, int64_t> label_id;
  for (size_t i = 0; i < label_names.size(); ++i) label_id[label_names[i]] = int64_t(i);

  std::vector<Example> examples;
  std::map<std::string, std::set<int64_t>> labels_of;
  for (size_t i = 0; i < files.size(); ++i) {
    for (auto& r : read_text_records(files[i], options.separator)) {
      Example e;
      e.text = std::move(r);
      e.label = label_id[names[i]];
      labels_of[e.text].insert(e.label);
      examples.push_back(std::move(e));
    }
  }
  if (options.deduplicate) {
    std::set<std::string> seen;
    std::vector<Example> kept;
    for (auto& e : examples) {
      if (labels_of[e.text].size() > 1 || !seen.insert(e.text).second) continue;
      kept.push_back(std::move(e));
    }
    examples = std::move(kept);
  }
  return Dataset(std::move(examples), label_names);
}

void write_jsonl(const Dataset& ds, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IOError(tmp + ": cannot write");
    const auto& names = ds.label_names();
    for (const Example& e : ds.examples()) {
      nlohmann::json j = {{"text", e.text}};
      if (e.text_pair) j["text_pair"] = *e.text_pair;
      if (e.label >= 0 && e.label < int64_t(names.size())) j["label"] = names[size_t(e.label)];
      out << j.dump() << "\n";
    }
    if (!out) throw IOError(tmp + ": write failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw IOError(path + ": " + ec.message());
}

}  // namespace cppformers
