// `cppformers tokenize` and `cppformers decode`: the tokenizers from the command line.
//
//   cppformers tokenize --tokenizer DIR_OR_ID [--pair] [--no-special-tokens] [--max-length N --truncation S]
//                       [--padding longest|max_length]
//     stdin: JSON lines, {"text": ...} or {"text": ..., "text_pair": ...}, or a JSON list of such
//     objects (one padded batch). stdout: one JSON line per encoding with the goldens' fields
//     (ids, tokens, offsets, type_ids, attention_mask, special_tokens_mask, word_ids, sequence_ids).
//   cppformers decode --tokenizer DIR_OR_ID [--skip-special-tokens]
//   (a Hub id: its tokenizer files are fetched with --revision/--token/--cache-dir/--local-files-only)
//     stdin: JSON lines, each a list of ids (or {"ids": [...]}); stdout: one JSON string per line.
#include <iostream>
#include <optional>
#include <string>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"
#include "cppformers/tokenizers/encoding_json.hpp"
#include "cppformers/tools/cli/command.hpp"

namespace cppformers::cli {
namespace {

using tokenizers::json;

struct TokenizeArgs {
  std::string dir;
  io::HubOptions hub;
  bool pair = false, no_special = false;
  std::optional<size_t> max_length;
  std::string truncation, padding;
};

tokenizers::EncodeInput parse_input(const json& j, bool want_pair, size_t line) {
  std::string where = "stdin line " + std::to_string(line);
  if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
    throw ValueError(where + ": expected {\"text\": string" + std::string(want_pair ? ", \"text_pair\": string}" : "}"));
  tokenizers::EncodeInput in{j["text"].get<std::string>(), std::nullopt};
  if (j.contains("text_pair") && !j["text_pair"].is_null()) {
    if (!j["text_pair"].is_string()) throw ValueError(where + ": text_pair must be a string");
    in.text_pair = j["text_pair"].get<std::string>();
  } else if (want_pair) {
    throw ValueError(where + ": --pair needs \"text_pair\"");
  }
  return in;
}

int run_tokenize(const TokenizeArgs& a) {
  AutoTokenizer tok = AutoTokenizer::from_pretrained(a.dir, a.hub);
  tokenizers::CallOptions opt;
  opt.add_special_tokens = !a.no_special;
  opt.max_length = a.max_length;
  if (!a.truncation.empty()) opt.truncation = tokenizers::TruncationOption(a.truncation);
  else if (a.max_length) opt.truncation = true;
  if (!a.padding.empty()) opt.padding = tokenizers::PaddingOption(a.padding);
  std::string line;
  size_t n = 0;
  std::ios::sync_with_stdio(false);
  while (std::getline(std::cin, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      throw ValueError("stdin line " + std::to_string(n) + ": invalid JSON: " + e.what());
    }
    std::vector<tokenizers::EncodeInput> inputs;
    if (j.is_array()) {
      for (const auto& x : j) inputs.push_back(parse_input(x, a.pair, n));
    } else {
      inputs.push_back(parse_input(j, a.pair, n));
    }
    auto batch = tok(inputs, opt);
    for (const auto& e : batch.encodings)
      std::cout << tokenizers::encoding_to_json(e, !e.overflowing.empty()).dump(-1, ' ', false, json::error_handler_t::replace)
                << '\n';
  }
  std::cout.flush();
  return 0;
}

int run_decode(const std::string& dir, const io::HubOptions& hub, bool skip) {
  AutoTokenizer tok = AutoTokenizer::from_pretrained(dir, hub);
  std::string line;
  size_t n = 0;
  while (std::getline(std::cin, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      throw ValueError("stdin line " + std::to_string(n) + ": invalid JSON: " + e.what());
    }
    if (j.is_object() && j.contains("ids")) j = j["ids"];
    if (!j.is_array()) throw ValueError("stdin line " + std::to_string(n) + ": expected a list of token ids");
    std::vector<int64_t> ids;
    for (const auto& x : j) {
      if (!x.is_number_integer()) throw ValueError("stdin line " + std::to_string(n) + ": ids must be integers");
      ids.push_back(x.get<int64_t>());
    }
    std::cout << json(tok.decode(ids, skip, false)).dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  }
  std::cout.flush();
  return 0;
}

CommandRegistration tokenize_cmd{Command{
    "tokenize", "Tokenize JSON lines from stdin with a tokenizer folder", [](CLI::App& app) {
      auto a = std::make_shared<TokenizeArgs>();
      auto max_len = std::make_shared<size_t>(0);
      app.add_option("--tokenizer", a->dir, "tokenizer folder (tokenizer.json [+ tokenizer_config.json]) or Hub id")->required();
      add_hub_options(app, a->hub);
      add_progress_options(app);
      app.add_flag("--pair", a->pair, "inputs are {\"text\", \"text_pair\"} pairs");
      app.add_flag("--no-special-tokens", a->no_special, "do not add the post-processor's special tokens");
      auto* ml = app.add_option("--max-length", *max_len, "maximum length (truncation / max_length padding)");
      app.add_option("--truncation", a->truncation, "longest_first | only_first | only_second")
          ->check(CLI::IsMember({"longest_first", "only_first", "only_second", "do_not_truncate"}));
      app.add_option("--padding", a->padding, "longest | max_length")->check(CLI::IsMember({"longest", "max_length"}));
      return std::function<int()>([a, max_len, ml] {
        if (ml->count()) a->max_length = *max_len;
        return run_tokenize(*a);
      });
    }}};

CommandRegistration decode_cmd{Command{
    "decode", "Decode JSON lists of token ids from stdin", [](CLI::App& app) {
      auto dir = std::make_shared<std::string>();
      auto skip = std::make_shared<bool>(false);
      auto hub = std::make_shared<io::HubOptions>();
      app.add_option("--tokenizer", *dir, "tokenizer folder or Hub id")->required();
      app.add_flag("--skip-special-tokens", *skip, "drop special tokens");
      add_hub_options(app, *hub);
      add_progress_options(app);
      return std::function<int()>([dir, skip, hub] { return run_decode(*dir, *hub, *skip); });
    }}};

}  // namespace
}  // namespace cppformers::cli
