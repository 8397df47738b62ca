#include "cppformers/tokenizers/encoding_json.hpp"

namespace cppformers::tokenizers {

json encoding_to_json(const Encoding& e, bool with_overflowing, bool with_sequence_ids) {
  json j;
  j["ids"] = e.ids;
  j["tokens"] = e.tokens;
  json offs = json::array();
  for (auto [s, t] : e.offsets) offs.push_back({s, t});
  j["offsets"] = offs;
  j["type_ids"] = e.type_ids;
  j["attention_mask"] = e.attention_mask;
  j["special_tokens_mask"] = e.special_tokens_mask;
  json words = json::array();
  for (auto& w : e.words) words.push_back(w ? json(*w) : json(nullptr));
  j["word_ids"] = words;
  if (with_sequence_ids) {
    json seq = json::array();
    for (auto& s : e.sequence_ids()) seq.push_back(s ? json(*s) : json(nullptr));
    j["sequence_ids"] = seq;
  }
  if (with_overflowing) {
    json ov = json::array();
    for (const auto& o : e.overflowing) ov.push_back(encoding_to_json(o, false, with_sequence_ids));
    j["overflowing"] = ov;
  }
  return j;
}

}  // namespace cppformers::tokenizers
