// cppformers train-tokenizer --from DIR_OR_ID --corpus FILE... --vocab-size N --out DIR
//     [--min-frequency N] [--limit-alphabet N] [--special-tokens A,B] [--record-separator S]
//     [--text-column C]
// Python's `AutoTokenizer.from_pretrained(FROM).train_new_from_iterator(texts, vocab_size)` +
// `save_pretrained(OUT)`: a new vocabulary (BPE or WordPiece, as FROM's model) trained on the
// corpus, with FROM's normalizer, pre-tokenizer, post-processor, decoder and special tokens;
// OUT gets tokenizer.json (which the Rust `tokenizers` library loads) and FROM's
// tokenizer_config.json / special_tokens_map.json.
//
// Corpus files: .jsonl / .json (JSON lines, the --text-column field of each), .csv / .tsv (that
// column), else plain text: with --record-separator S, records separated by lines that are
// exactly S (fortune files: %); without, one text per line, its "\n" included (as the Rust
// library's train_from_files reads files).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppformers/core/error.hpp"
#include "cppformers/io/hub.hpp"
#include "cppformers/tokenizers/tokenizer.hpp"
#include "cppformers/tokenizers/trainers.hpp"
#include "cppformers/tools/cli/command.hpp"
#include "cppformers/training/data/dataset.hpp"
#include "cppformers/training/data/records.hpp"

namespace cppformers::cli {
namespace {

struct TrainTokenizerArgs {
  std::string from, out, text_column = "text", special_tokens;
  std::vector<std::string> corpus;
  io::HubOptions hub;
  size_t vocab_size = 0;
  uint64_t min_frequency = 0;
  size_t limit_alphabet = 0;
  std::optional<std::string> separator;
};

std::string lower_ext(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  for (auto& c : e) c = char(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

// The texts of one corpus file.
void read_corpus(const std::string& path, const TrainTokenizerArgs& a, std::vector<std::string>& texts) {
  const std::string ext = lower_ext(path);
  if (ext == ".jsonl" || ext == ".json" || ext == ".csv" || ext == ".tsv" || ext == ".tab") {
    DataFileOptions fo;
    fo.text_column = a.text_column;
    fo.label_column = "";
    fo.labels_required = false;
    Dataset ds = Dataset::from_file(path, fo);
    for (const auto& e : ds.examples()) {
      texts.push_back(e.text);
      if (e.text_pair) texts.push_back(*e.text_pair);
    }
    return;
  }
  if (a.separator) {
    auto records = read_text_records(path, a.separator);
    texts.insert(texts.end(), records.begin(), records.end());
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot open the corpus file");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  size_t pos = 0;
  while (pos < s.size()) {
    size_t e = s.find('\n', pos);
    e = e == std::string::npos ? s.size() : e + 1;
    texts.push_back(s.substr(pos, e - pos));
    pos = e;
  }
}

int run_train_tokenizer(const TrainTokenizerArgs& a) {
  namespace fs = std::filesystem;
  if (a.vocab_size == 0) throw ValueError("--vocab-size must be > 0");
  std::string from = a.from;
  if (!fs::is_directory(from)) {
    io::HubOptions hub = a.hub;
    hub.allow_patterns = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"};
    from = io::resolve_model(a.from, hub);
  }
  std::vector<std::string> texts;
  for (const auto& f : a.corpus) read_corpus(f, a, texts);
  if (texts.empty()) throw ValueError("--corpus: no texts found");
  tokenizers::TrainNewOptions o;
  o.vocab_size = a.vocab_size;
  o.min_frequency = a.min_frequency;
  if (a.limit_alphabet > 0) o.limit_alphabet = a.limit_alphabet;
  std::stringstream st(a.special_tokens);
  for (std::string t; std::getline(st, t, ',');)
    if (!t.empty()) o.new_special_tokens.push_back(tokenizers::AddedToken{0, t, false, false, false, false, true});
  o.show_progress = progress_bars_enabled();
  tokenizers::train_new_tokenizer_folder(from, texts, o, a.out);
  const auto t = tokenizers::Tokenizer::from_file((fs::path(a.out) / "tokenizer.json").string());
  std::printf("%s: %zu tokens trained on %zu texts\n", a.out.c_str(), t.vocab_size(), texts.size());
  return 0;
}

CommandRegistration reg{{"train-tokenizer",
                         "Train a new tokenizer like an existing one on a corpus (train_new_from_iterator)",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<TrainTokenizerArgs>();
                           app.add_option("--from", a->from, "tokenizer folder or Hub id whose pipeline to keep")->required();
                           app.add_option("--corpus", a->corpus, "corpus files (.txt lines, records, .jsonl, .csv)")
                               ->required();
                           app.add_option("--vocab-size", a->vocab_size, "size of the new vocabulary")->required();
                           app.add_option("--out", a->out, "folder to write the tokenizer files to")->required();
                           app.add_option("--min-frequency", a->min_frequency, "merge only pairs seen this often");
                           app.add_option("--limit-alphabet", a->limit_alphabet, "keep at most this many initial characters");
                           app.add_option("--special-tokens", a->special_tokens, "extra special tokens, comma-separated");
                           app.add_option("--record-separator", a->separator,
                                          "plain-text corpus: records separated by lines equal to this (e.g. %)");
                           app.add_option("--text-column", a->text_column, "JSON lines / CSV: the text field (default text)");
                           add_hub_options(app, a->hub);
                           add_progress_options(app);
                           return [a] { return run_train_tokenizer(*a); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
