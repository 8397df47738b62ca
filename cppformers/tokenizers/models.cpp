#include "cppformers/tokenizers/models.hpp"

#include "cppformers/tokenizers/model_bpe.hpp"
#include "cppformers/tokenizers/model_simple.hpp"
#include "cppformers/tokenizers/model_unigram.hpp"

namespace cppformers::tokenizers {
namespace {

template <typename T>
Registry<Model>::Factory factory() {
  return [](const json& j, const std::string& w) -> std::unique_ptr<Model> { return std::make_unique<T>(j, w); };
}

const Registry<Model>& registry() {
  static const Registry<Model> r = [] {
    Registry<Model> reg;
    reg.add("BPE", factory<BPE>());
    reg.add("WordPiece", factory<WordPiece>());
    reg.add("WordLevel", factory<WordLevel>());
    reg.add("Unigram", factory<Unigram>());
    return reg;
  }();
  return r;
}

}  // namespace

std::unique_ptr<Model> make_model(const json& j, const std::string& where) {
  if (j.is_object() && !j.contains("type")) {
    // Files written by old versions of the library may omit the model type: infer it.
    json copy = j;
    if (j.contains("merges")) copy["type"] = "BPE";
    else if (j.contains("vocab") && j["vocab"].is_array()) copy["type"] = "Unigram";
    else if (j.contains("continuing_subword_prefix") || j.contains("max_input_chars_per_word")) copy["type"] = "WordPiece";
    else if (j.contains("vocab")) copy["type"] = "WordLevel";
    else jsonutil::fail(where + ".type", "missing and cannot be inferred");
    // The copy takes the large fields the loader read for `j`.
    const LargeFields* large = LargeFields::current(j);
    struct Alias {
      const LargeFields* f;
      ~Alias() {
        if (f) f->alias = nullptr;
      }
    } alias{large};
    if (large) large->alias = &copy;
    return registry().create(copy, where, "model");
  }
  return registry().create(j, where, "model");
}

}  // namespace cppformers::tokenizers
