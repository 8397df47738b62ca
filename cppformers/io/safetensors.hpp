#pragma once
// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// ({"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}),
// then the data. The data section is read into memory of our own in 2 MiB pages (mapped
// instead when larger than half the machine's memory, or with CPPFORMERS_MMAP=1; see
// safetensors.cpp), and tensors are zero-copy read-only views that keep that
// memory alive. Everything in the header is validated before it is trusted.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::io {

using StateDict = std::map<std::string, Tensor>;

class SafetensorsFile {
 public:
  // Opens, maps and validates the file, then reads its data into memory of its own (see
  // safetensors.cpp); throws IOError / FormatError naming the file. `convert_to`: the dtype the
  // caller converts floating tensors to; a file holding floating tensors of another dtype then
  // stays mapped, since the conversion copies them anyway.
  static SafetensorsFile open(const std::string& path, std::optional<DType> convert_to = std::nullopt);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& names() const { return names_; }  // sorted
  bool contains(const std::string& name) const;
  // The tensor as stored (its own dtype), a read-only view of the mapping.
  Tensor get(const std::string& name) const;
  // The DType and shape without touching the data.
  DType dtype(const std::string& name) const;
  Shape shape(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Entry {
    DType dtype;
    Shape shape;
    size_t begin, end;  // offsets into the data section
  };
  const Entry& entry(const std::string& name) const;
  std::string path_;
  std::shared_ptr<Storage> data_;  // the data section of the mapping
  std::map<std::string, Entry> entries_;
  std::vector<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

// Every tensor of a file, as zero-copy views.
StateDict load_file(const std::string& path, std::optional<DType> convert_to = std::nullopt);
// Writes tensors (any layout; written contiguous in their dtype) in the Python library's
// order (__metadata__ first, then by dtype, widest first, then by name; data packed in that
// order, which keeps every tensor aligned) with the header space-padded to a multiple of 8:
// the same bytes Python's safetensors writes. Atomic: a temp file, then rename.
void save_file(const StateDict& tensors, const std::string& path,
               const std::map<std::string, std::string>& metadata = {});
// The weights of a model folder: model.safetensors, or the shards named by
// model.safetensors.index.json (each shard validated; a name the index maps to a shard
// that lacks it is an error). Throws IOError naming the folder if neither exists.
StateDict load_checkpoint(const std::string& dir, std::optional<DType> convert_to = std::nullopt);

}  // namespace cppformers::io
