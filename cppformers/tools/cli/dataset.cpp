// cppformers dataset --record-files FILE... [--record-separator S] [--labels A,B,...]
//                    [--test-size F] [--seed N] --out DIR
// Makes a text-classification dataset out of plain record files (each file a class, named by
// its file name; records separated by lines equal to S, e.g. the fortune files' "%", or one per
// line without S): duplicates dropped (a text under two labels altogether), a stratified,
// seeded train/test split of the files named in --labels (all files without it), written as
// JSON lines {"text", "label"} that `cppformers train` reads:
//   DIR/train.jsonl, DIR/test.jsonl   the labelled split
//   DIR/corpus.jsonl                  every record of every file except the test ones {"text"}
//                                     (for tokenizer training and language-model pretraining
//                                     that never see the held-out texts)
// Prints the counts per label as one JSON object.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cppformers/core/error.hpp"
#include "cppformers/tools/cli/command.hpp"
#include "cppformers/training/data/records.hpp"

namespace cppformers::cli {
namespace {

struct DatasetArgs {
  std::vector<std::string> files;
  std::optional<std::string> separator;
  std::string labels, out;
  double test_size = 0.1;
  uint64_t seed = 42;
};

int run_dataset(const DatasetArgs& a) {
  namespace fs = std::filesystem;
  std::set<std::string> wanted;
  std::stringstream ls(a.labels);
  for (std::string l; std::getline(ls, l, ',');)
    if (!l.empty()) wanted.insert(l);
  std::vector<std::string> labelled;
  for (const auto& f : a.files)
    if (wanted.empty() || wanted.count(fs::path(f).filename().string())) labelled.push_back(f);
  for (const auto& w : wanted) {
    bool found = false;
    for (const auto& f : labelled) found |= fs::path(f).filename().string() == w;
    if (!found) throw ValueError("--labels: no --record-files file is named '" + w + "'");
  }
  RecordFilesOptions ro;
  ro.separator = a.separator;
  Dataset all = dataset_from_record_files(labelled, ro);
  auto split = all.train_test_split(a.test_size, a.seed, /*stratify=*/true);

  // The corpus: every record of every file (duplicates once), minus the held-out texts.
  std::set<std::string> held_out;
  for (const auto& e : split.test.examples()) held_out.insert(e.text);
  std::vector<Example> corpus;
  std::set<std::string> seen;
  for (const auto& f : a.files)
    for (auto& r : read_text_records(f, a.separator)) {
      if (held_out.count(r) || !seen.insert(r).second) continue;
      Example e;
      e.text = std::move(r);
      corpus.push_back(std::move(e));
    }

  std::error_code ec;
  fs::create_directories(a.out, ec);
  if (ec) throw IOError(a.out + ": cannot create the folder: " + ec.message());
  write_jsonl(split.train, (fs::path(a.out) / "train.jsonl").string());
  write_jsonl(split.test, (fs::path(a.out) / "test.jsonl").string());
  const size_t n_corpus = corpus.size();
  write_jsonl(Dataset(std::move(corpus)), (fs::path(a.out) / "corpus.jsonl").string());

  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [name, ds] : {std::pair<const char*, const Dataset*>{"train", &split.train}, {"test", &split.test}}) {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& e : ds->examples()) {
      const std::string& l = all.label_names()[size_t(e.label)];
      c[l] = c.value(l, 0) + 1;
    }
    counts[name] = c;
  }
  counts["corpus"] = n_corpus;
  std::cout << counts.dump() << std::endl;
  return 0;
}

CommandRegistration reg{{"dataset", "Make a stratified train/test text-classification dataset from record files",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<DatasetArgs>();
                           app.add_option("--record-files", a->files, "text files, one class each (named by the file)")
                               ->required();
                           app.add_option("--record-separator", a->separator,
                                          "records are separated by lines equal to this (e.g. %); default one per line");
                           app.add_option("--labels", a->labels, "the files (by name) to classify, comma-separated (default all)");
                           app.add_option("--test-size", a->test_size, "held-out fraction (or count if >= 1), default 0.1");
                           app.add_option("--seed", a->seed, "split seed (default 42)");
                           app.add_option("--out", a->out, "folder for train.jsonl, test.jsonl, corpus.jsonl")->required();
                           return [a] { return run_dataset(*a); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
