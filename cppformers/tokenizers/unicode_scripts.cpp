#include "cppformers/tokenizers/unicode_scripts.hpp"

#include <algorithm>
#include <vector>

namespace cppformers::tokenizers {

namespace unicode {
namespace {

struct ScriptRange {
  uint32_t first, last;
  uint8_t script;
};

#include "cppformers/tokenizers/unicode_scripts_table.inc"

constexpr size_t kNumScripts = sizeof(kScriptNames) / sizeof(kScriptNames[0]);

uint8_t index_of(std::string_view name) {
  for (size_t i = 0; i < kNumScripts; ++i)
    if (name == kScriptNames[i]) return static_cast<uint8_t>(i);
  return 0;
}

}  // namespace

uint8_t script(char32_t c) {
  const ScriptRange* end = kScriptRanges + sizeof(kScriptRanges) / sizeof(kScriptRanges[0]);
  // The first range whose last code point is >= c.
  const ScriptRange* r =
      std::lower_bound(kScriptRanges, end, static_cast<uint32_t>(c), [](const ScriptRange& a, uint32_t v) { return a.last < v; });
  return r != end && r->first <= c ? r->script : 0;
}

std::string_view script_name(uint8_t s) { return s < kNumScripts ? kScriptNames[s] : "Any"; }

uint8_t pre_tokenizer_script(char32_t c) {
  static const uint8_t han = index_of("Han"), hiragana = index_of("Hiragana"), katakana = index_of("Katakana");
  if (c == 0x30FC) return han;  // KATAKANA-HIRAGANA PROLONGED SOUND MARK
  if (c == U' ') return 0;
  uint8_t s = script(c);
  return s == hiragana || s == katakana ? han : s;
}

}  // namespace unicode

namespace {

class UnicodeScripts : public PreTokenizer {
 public:
  void pre_tokenize(PreTokenizedString& p) const override {
    p.split_normalized([](size_t, NormalizedString&& s) {
      const std::string& t = s.get();
      // Start of every piece: each character whose script is not Any and differs from the last
      // non-Any script seen (the first such character included); then the end of the string.
      std::vector<size_t> cuts;
      int last = -1;  // no script seen yet
      for (size_t i = 0; i < t.size();) {
        size_t at = i;
        uint8_t sc = unicode::pre_tokenizer_script(unicode::next_char(t, i));
        if (sc == 0) continue;
        if (sc != last) cuts.push_back(at);
        last = sc;
      }
      cuts.push_back(t.size());
      std::vector<NormalizedString> out;
      out.reserve(cuts.size());
      for (size_t k = 0; k + 1 < cuts.size(); ++k)
        if (auto piece = s.slice(cuts[k], cuts[k + 1])) out.push_back(std::move(*piece));
      return out;
    });
  }
};

}  // namespace

std::unique_ptr<PreTokenizer> make_unicode_scripts_pre_tokenizer() { return std::make_unique<UnicodeScripts>(); }

}  // namespace cppformers::tokenizers
