// Tokenizer benchmark: encode throughput (one thread, and a batch on all cores) and load time of
// tokenizer.json files, against the Rust `tokenizers` 0.22.2 through its Node binding
// (bench/peers/rust_tokenizers.js, npm @anush008/tokenizers) on the same corpus and files,
// measured in the same run. Prints a table of ratios (cppformers / Rust; > 1 is better for
// throughput, < 1 is better for load time) and how batch encoding scales ("cf scale": our batch
// rate over our one-thread rate).
//
//   bench_tokenizers [--fixtures DIR] [--tokenizers gpt2,qwen3,...] [--reps N] [--no-peer]
//                    [--corpus-out FILE] [--node PATH]
//
// The corpus: every file in /usr/share/common-licenses (real English text, split into
// paragraphs) plus the 405 fixture texts (../shared/fixtures/tokenizers/texts.jsonl: many scripts,
// emoji, code, whitespace and control characters) repeated 10 times. It is written to a JSON file
// that the peer reads, so both encode exactly the same strings.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/stats.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"

namespace fs = std::filesystem;
using cppformers::tokenizers::Tokenizer;
using json = nlohmann::json;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> make_corpus(const std::string& fixtures) {
  std::vector<std::string> items;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator("/usr/share/common-licenses"))
    if (e.is_regular_file() && !e.is_symlink()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    std::string text = read_file(f);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t e = text.find("\n\n", pos);
      if (e == std::string::npos) e = text.size();
      if (e > pos) items.push_back(text.substr(pos, e - pos));
      pos = e + 2;
    }
  }
  std::vector<std::string> texts;
  std::ifstream f(fixtures + "/texts.jsonl");
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) texts.push_back(json::parse(line)["text"].get<std::string>());
  for (int r = 0; r < 10; ++r) items.insert(items.end(), texts.begin(), texts.end());
  return items;
}

struct Result {
  double load_s = 0, single_mbs = 0, batch_mbs = 0;
  size_t tokens = 0;
};

Result bench_cpp(const std::string& path, const std::vector<std::string>& corpus, size_t bytes, int reps) {
  Result r;
  std::vector<double> loads;
  for (int i = 0; i < 5; ++i) {
    double t0 = now();
    Tokenizer t = Tokenizer::from_file(path);
    loads.push_back(now() - t0);
  }
  r.load_s = bench::median(loads);
  Tokenizer tok = Tokenizer::from_file(path);
  // Warm-up (fills the BPE cache, as the peer's own cache fills on its warm-up).
  for (const auto& s : corpus) r.tokens += tok.encode(s, true).size();
  double best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    double t0 = now();
    size_t n = 0;
    for (const auto& s : corpus) n += tok.encode(s, true).size();
    best = std::min(best, now() - t0);
    if (n != r.tokens) std::fprintf(stderr, "warning: token count changed between runs\n");
  }
  r.single_mbs = bytes / best / 1e6;
  best = 1e30;
  for (int rep = 0; rep < reps; ++rep) {
    double t0 = now();
    auto encs = tok.encode_batch(corpus, true);
    best = std::min(best, now() - t0);
  }
  r.batch_mbs = bytes / best / 1e6;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string fixtures = std::string(CPPFORMERS_SOURCE_DIR) + "/../shared/fixtures/tokenizers";
  std::string names = "gpt2,qwen3,deepseek_v3,roberta_bpe,bert_wordpiece,llama_bpe_bytefallback,t5_unigram,xlmr_unigram_precompiled";
  std::string corpus_out = (fs::temp_directory_path() / "cppformers_tok_corpus.json").string();
  std::string node = "node";
  int reps = 3;
  bool peer = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--fixtures") fixtures = val();
    else if (a == "--tokenizers") names = val();
    else if (a == "--reps") reps = std::stoi(val());
    else if (a == "--no-peer") peer = false;
    else if (a == "--corpus-out") corpus_out = val();
    else if (a == "--node") node = val();
    else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
  }
  std::vector<std::string> list;
  for (size_t p = 0; p <= names.size();) {
    size_t e = names.find(',', p);
    if (e == std::string::npos) e = names.size();
    if (e > p) list.push_back(names.substr(p, e - p));
    p = e + 1;
  }
  auto corpus = make_corpus(fixtures);
  size_t bytes = 0;
  for (auto& s : corpus) bytes += s.size();
  {
    std::ofstream o(corpus_out, std::ios::binary);
    o << json(corpus).dump();
  }
  std::printf("corpus: %zu texts, %.2f MB (%s); threads for batch: %d; best of %d runs\n", corpus.size(), bytes / 1e6,
              corpus_out.c_str(), omp_get_max_threads(), reps);

  std::vector<Result> ours, theirs(list.size());
  std::vector<bool> have_peer(list.size(), false);
  for (auto& n : list) {
    ours.push_back(bench_cpp(fixtures + "/" + n + "/tokenizer.json", corpus, bytes, reps));
    std::fflush(stdout);
  }
  if (peer) {
    std::string script = std::string(CPPFORMERS_SOURCE_DIR) + "/bench/peers/rust_tokenizers.js";
    std::string cmd = node + " '" + script + "' --corpus '" + corpus_out + "' --reps " + std::to_string(reps);
    for (auto& n : list) cmd += " '" + fixtures + "/" + n + "/tokenizer.json'";
    std::FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    if (p) {
      char buf[4096];
      size_t k;
      while ((k = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, k);
      if (pclose(p) != 0) std::fprintf(stderr, "peer failed: %s\n", cmd.c_str());
    }
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] != '{') continue;
      json j = json::parse(line);
      for (size_t i = 0; i < list.size(); ++i) {
        if (j["file"] == fixtures + "/" + list[i] + "/tokenizer.json") {
          theirs[i] = {j["load_s"], j["single_mbs"], j["batch_mbs"], j["tokens"]};
          have_peer[i] = true;
        }
      }
    }
  }
  std::printf("\n%-26s | %-30s | %-30s | %-9s | %-30s | %s\n", "tokenizer", "encode 1 thread MB/s (cf rust x)",
              "encode batch MB/s (cf rust x)", "cf scale", "load ms (cf rust rust/cf)", "tokens equal");
  for (size_t i = 0; i < list.size(); ++i) {
    const Result& a = ours[i];
    const Result& b = theirs[i];
    if (have_peer[i]) {
      std::printf("%-26s | %8.2f %8.2f %8.2fx    | %8.2f %8.2f %8.2fx    | %7.2fx  | %8.1f %8.1f %8.2fx    | %s\n",
                  list[i].c_str(), a.single_mbs, b.single_mbs, a.single_mbs / b.single_mbs, a.batch_mbs, b.batch_mbs,
                  a.batch_mbs / b.batch_mbs, a.batch_mbs / a.single_mbs, a.load_s * 1e3, b.load_s * 1e3, b.load_s / a.load_s,
                  a.tokens == b.tokens ? "yes" : ("NO (" + std::to_string(a.tokens) + " vs " + std::to_string(b.tokens) + ")").c_str());
    } else {
      std::printf("%-26s | %8.2f %8s %9s    | %8.2f %8s %9s    | %7.2fx  | %8.1f %8s %9s    | %zu tokens\n",
                  list[i].c_str(), a.single_mbs, "-", "-", a.batch_mbs, "-", "-", a.batch_mbs / a.single_mbs, a.load_s * 1e3,
                  "-", "-", a.tokens);
    }
  }
  return 0;
}
