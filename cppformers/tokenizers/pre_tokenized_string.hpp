#pragma once
// PreTokenizedString: the input cut into splits (each a NormalizedString, possibly already
// tokenized, e.g. an added token), which pre-tokenizers refine and the model then tokenizes.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cppformers/tokenizers/encoding.hpp"
#include "cppformers/tokenizers/normalized_string.hpp"

namespace cppformers::tokenizers {

struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;
};

class PreTokenizedString {
 public:
  explicit PreTokenizedString(const std::string& s);

  // Replaces every not-yet-tokenized split by what f returns (empty pieces are dropped).
  // f gets the split's index and the split itself.
  void split(const std::function<std::vector<Split>(size_t, NormalizedString&&)>& f);
  void split_normalized(const std::function<std::vector<NormalizedString>(size_t, NormalizedString&&)>& f);
  // Applies f to every not-yet-tokenized split in place.
  void normalize(const std::function<void(NormalizedString&)>& f);
  void tokenize(const std::function<std::vector<Token>(const std::string&)>& f);
  // Builds the encoding; offsets are converted to code points of the original input when
  // char_offsets is true (the Python/Node `Encoding.offsets`).
  Encoding into_encoding(uint32_t type_id, bool char_offsets) const;

  const std::vector<Split>& splits() const { return splits_; }
  std::vector<Split>& splits() { return splits_; }
  const std::string& original() const { return original_; }

 private:
  std::string original_;
  std::vector<Split> splits_;
};

}  // namespace cppformers::tokenizers
