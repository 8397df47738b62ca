// Hub ids for AutoTokenizer::from_pretrained: the tokenizers library stands alone (folders only);
// this file, part of the cppformers library, installs the Hub client as its resolver. The
// linker is told to keep it (CMakeLists.txt: --undefined=cppformers_auto_tokenizer_hub), so a
// program linking the cppformers target resolves Hub ids even if it uses nothing else of the Hub.
#include "cppformers/io/hub.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"

namespace cppformers {
namespace {

// The files a tokenizer is made of. One glob, so that a cached snapshot holding any of them
// (a tokenizer download, or a whole model's) is used without a request.
std::string resolve_tokenizer(const std::string& repo_id, const io::HubOptions& hub) {
  io::HubOptions o = hub;
  if (o.allow_patterns.empty()) o.allow_patterns = {"tokenizer*.json"};
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
