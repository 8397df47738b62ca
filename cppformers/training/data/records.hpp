#pragma once
// Text records from plain files, and a labelled Dataset made of them:
//
//   auto texts = read_text_records("/usr/share/games/fortunes/science", "%");
//   Dataset ds = dataset_from_record_files({".../science", ".../food"}, "%");   // label = file name
//
// A record file holds texts separated by lines that consist of the separator alone (the
// fortune(6) / strfile format uses "%"); without a separator every non-empty line is a record.
// A record's text is its lines joined by "\n" (no trailing newline); records that are empty or
// all whitespace are skipped.
#include <optional>
#include <string>
#include <vector>

#include "cppformers/training/data/dataset.hpp"

namespace cppformers {

// IOError names the file if it cannot be read; FormatError if it is not valid UTF-8.
std::vector<std::string> read_text_records(const std::string& path, const std::optional<std::string>& separator);

struct RecordFilesOptions {
  std::optional<std::string> separator;
  // Texts found more than once are kept once; a text found under two different labels is
  // dropped altogether (it has no single right answer).
  bool deduplicate = true;
};

// One example per record; the label of a file is its file name (labels get ids in the order
// of `files`' names sorted, as string labels do in Dataset::from_file).
Dataset dataset_from_record_files(const std::vector<std::string>& files, const RecordFilesOptions& options = {});

// Writes examples as JSON lines {"text": ..., "label": NAME} ("label" left out when the
// example has none or labels are not named).
void write_jsonl(const Dataset& ds, const std::string& path);

}  // namespace cppformers
