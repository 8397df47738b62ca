// Hub ids for AutoTokenizer::from_pretrained: the tokenizers library stands alone (folders only);
// this file, part of the cppformers library, installs the Hub client as its resolver. The
// linker is told to keep it (CMakeLists.txt: --undefined=cppformers_auto_tokenizer_hub), so a
// program linking the cppformers target resolves Hub ids even if it uses nothing else of the Hub.
#include <filesystem>
#include <string>
#include <vector>

#include "cppformers/io/hub.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"
#include "cppformers/tokenizers/legacy_files.hpp"

namespace cppformers {
namespace {

// The files a tokenizer can be made of: tokenizer.json, or the legacy files that
// tokenizers/legacy_files converts (vocab.txt, vocab.json + merges.txt, a SentencePiece model,
// with config.json telling the family), the configs of special tokens and the chat templates.
const std::vector<std::string>& tokenizer_patterns() {
  static const std::vector<std::string> p = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                             "added_tokens.json", "config.json", "vocab.txt", "vocab.json",
                                             "merges.txt", "*.model", "chat_template.jinja", "chat_template.json",
                                             "additional_chat_templates/*.jinja"};
  return p;
}

bool has_tokenizer(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json", ec) ||
         tokenizers::has_legacy_tokenizer_files(dir);
}

// A cached snapshot of the revision that already holds a tokenizer is used without a request
// (as resolve_model does for whole models); otherwise the tokenizer files are fetched.
std::string resolve_tokenizer(const std::string& repo_id, const io::HubOptions& hub) {
  io::HubOptions o = hub;
  if (o.allow_patterns.empty()) o.allow_patterns = tokenizer_patterns();
  if (!o.force_download) {
    io::HubOptions cached = o;
    cached.local_files_only = true;
    try {
      const std::string dir = io::resolve_model(repo_id, cached);
      if (has_tokenizer(dir)) return dir;
    } catch (const IOError&) {  // not cached: fetch below
    }
    if (o.local_files_only || io::hub_offline()) return io::resolve_model(repo_id, o);  // its "not cached" error
  }
  return io::resolve_model(repo_id, o);
}

[[maybe_unused]] const bool installed = (AutoTokenizer::set_hub_resolver(&resolve_tokenizer), true);

}  // namespace
}  // namespace cppformers

extern "C" {
// Referenced by the link options of the cppformers target so that this file is always linked.
extern const int cppformers_auto_tokenizer_hub;
const int cppformers_auto_tokenizer_hub = 1;
}
