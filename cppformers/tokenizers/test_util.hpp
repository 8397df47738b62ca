#pragma once
// Helpers for the tokenizer tests: fixture paths and reading gzipped JSON lines (through zcat,
// so the tests need no zlib).
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cppformers::tokenizers::testing {

inline std::string fixtures_dir() { return std::string(CPPFORMERS_SOURCE_DIR) + "/../shared/fixtures/tokenizers"; }

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::string text;
  if (path.size() > 3 && path.substr(path.size() - 3) == ".gz") {
    std::FILE* f = popen(("zcat '" + path + "'").c_str(), "r");
    if (!f) throw std::runtime_error("cannot run zcat on " + path);
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    int rc = pclose(f);
    if (rc != 0) throw std::runtime_error("zcat failed on " + path);
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    text.assign(std::istreambuf_iterator<char>(f), {});
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    if (e > pos) out.push_back(nlohmann::json::parse(text.begin() + pos, text.begin() + e));
    pos = e + 1;
  }
  return out;
}

}  // namespace cppformers::tokenizers::testing
