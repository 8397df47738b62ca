// safetensors reading and writing.
//
// Reading maps the whole file read-only (MAP_PRIVATE, PROT_READ) and validates the header
// before any of it is trusted: the 8-byte length, the JSON, every entry's dtype, shape and
// data_offsets (inside the data section, begin <= end, byte count == numel * dtype size,
// computed without overflow), no two tensors' bytes overlapping, and __metadata__ being an
// object of strings. Gaps between tensors and bytes after the last one are tolerated (the
// Python library refuses them; nothing here depends on their absence).
//
// The data section is then read (pread, both cores) into memory of our own, in 2 MiB pages
// (core/huge_pages.hpp), and the mapping is dropped: decoding streams every weight once per
// token, and from 4 KiB file pages it ran ~40% slower on the dev machine (a VM whose page
// monitor and shadow paging keep invalidating small-page translations; bench/RESULTS.md). The
// bytes are private, so a file changed on disk under a loaded model changes nothing. Files
// larger than half the machine's memory, or every file with CPPFORMERS_MMAP=1, stay mapped
// instead (the kernel pages them in; several processes share the page cache); then, if
// another process truncates the file, touching the lost pages raises SIGBUS.
//
// get() is zero-copy: the tensor is a read-only view into that memory, kept alive by a shared
// owner. The one exception is alignment: the data section starts at 8 + header length, and a
// writer that does not pad the header to a multiple of 8 (or packs a tensor at an offset that
// is not a multiple of its element size) leaves a tensor's first byte misaligned for its
// dtype. Such a tensor is copied into aligned heap storage (writable) instead, since kernels
// are entitled to aligned element pointers. Files written by Python's safetensors and by
// save_file below are always aligned, so this never happens for them.
#include "cppformers/io/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "cppformers/core/allocator.hpp"
#include "cppformers/core/huge_pages.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers::io {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

namespace {

// Python's safetensors refuses headers above 100 MB; so do we (a real header is kilobytes).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Valid headers nest three deep ({name: {shape: [..]}}); anything deeper is refused early.
constexpr int kMaxJsonDepth = 16;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw FormatError(path + ": " + what);
}

std::string sys_error() { return std::strerror(errno); }

// A non-negative JSON integer that fits in int64 (JSON floats such as 2.0 are refused, as
// Python's reader does).
bool as_index(const json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > uint64_t(INT64_MAX)) return false;
    *out = u;
    return true;
  }
  return false;  // negative integers, floats, strings, ...
}

std::string short_dump(const json& v) {
  std::string d = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (d.size() > 60) d = d.substr(0, 57) + "...";
  return d;
}

// The rank Python's safetensors gives each dtype (its Dtype enum order); files are written
// with larger ranks first, which puts wide types first and keeps every tensor aligned.
int python_dtype_rank(DType t) {
  switch (t) {
    case kBool: return 0;
    case kU8: return 4;
    case kF16: return 11;
    case kBF16: return 12;
    case kI32: return 13;
    case kF32: return 15;
    case kF64: return 16;
    case kI64: return 17;
  }
  return -1;
}

// The data section read into memory of our own (see the top of this file), or null when it
// stays mapped: CPPFORMERS_MMAP=1, or a section larger than half the machine's memory.
std::shared_ptr<void> read_resident(int fd, const std::string& path, uint64_t offset, size_t n) {
  const char* env = std::getenv("CPPFORMERS_MMAP");
  if (n == 0 || (env && *env && std::string(env) != "0")) return nullptr;
  const size_t ram = allocator::physical_memory_bytes();
  if (ram != 0 && n > ram / 2) return nullptr;
  std::shared_ptr<void> mem;
  try {
    mem = shared_block(n);
  } catch (const std::bad_alloc&) {
    return nullptr;  // mapped instead: the kernel pages it in
  }
  // Both cores read: a copy out of the page cache runs at about one core's memcpy rate.
  constexpr size_t kChunk = size_t{64} << 20;
  const int64_t chunks = int64_t((n + kChunk - 1) / kChunk);
  int failed_errno = 0;
  uint64_t failed_at = 0;
#pragma omp parallel for schedule(dynamic, 1) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    size_t pos = size_t(c) * kChunk;
    const size_t end = std::min(n, pos + kChunk);
    while (pos < end) {
      const ssize_t r = ::pread(fd, static_cast<char*>(mem.get()) + pos, end - pos, off_t(offset + pos));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
#pragma omp critical(cppformers_safetensors_read)
        if (!failed_errno) {
          failed_errno = r < 0 ? errno : -1;
          failed_at = offset + pos;
        }
        break;
      }
      pos += size_t(r);
    }
  }
  if (failed_errno)
    throw IOError(path + ": cannot read safetensors data at byte " + std::to_string(failed_at) + ": " +
                  (failed_errno > 0 ? std::strerror(failed_errno) : "the file ended early (truncated while loading?)"));
  return mem;
}

}  // namespace

// ---------------------------------------------------------------- reading

SafetensorsFile SafetensorsFile::open(const std::string& path, std::optional<DType> convert_to) {
  SafetensorsFile f;
  f.path_ = path;

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IOError(path + ": cannot open safetensors file: " + sys_error());
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    std::string e = sys_error();
    ::close(fd);
    throw IOError(path + ": cannot stat safetensors file: " + e);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IOError(path + ": not a regular file");
  }
  const uint64_t file_size = uint64_t(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    bad(path, "file is " + std::to_string(file_size) +
                  " bytes, shorter than the 8-byte header length that starts a safetensors file");
  }
  void* base = ::mmap(nullptr, size_t(file_size), PROT_READ, MAP_PRIVATE, fd, 0);
  int map_errno = errno;
  // Closed on every way out; the mapping stays valid without the descriptor.
  std::unique_ptr<int, void (*)(int*)> fd_guard(&fd, [](int* d) { ::close(*d); });
  if (base == MAP_FAILED)
    throw IOError(path + ": cannot map safetensors file: " + std::strerror(map_errno));
  // The owner every tensor view holds: unmaps when the last view (and this file) are gone.
  std::shared_ptr<void> mapping(base, [len = size_t(file_size)](void* p) { ::munmap(p, len); });
  const auto* bytes = static_cast<const unsigned char*>(base);

  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = header_len << 8 | bytes[i];  // little-endian
  if (header_len > kMaxHeaderBytes)
    bad(path, "header length " + std::to_string(header_len) + " is larger than the " +
                  std::to_string(kMaxHeaderBytes) + "-byte limit (corrupt or not a safetensors file)");
  if (header_len > file_size - 8)
    bad(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                  std::to_string(file_size) + " bytes, so at most " +
                  std::to_string(file_size - 8) + " header bytes)");
  if (header_len < 2) bad(path, "header length " + std::to_string(header_len) +
                                    " is too short for a JSON object");

  const char* hbegin = reinterpret_cast<const char*>(bytes + 8);
  json header;
  try {
    header = json::parse(
        hbegin, hbegin + header_len,
        [&](int depth, json::parse_event_t, json&) {
          if (depth > kMaxJsonDepth)
            bad(path, "header JSON nests deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels (expected {name: {dtype, shape, data_offsets}})");
          return true;
        });
  } catch (const json::exception& e) {
    std::string what = e.what();
    size_t at = what.find("parse error");
    bad(path, "header is not valid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
  if (!header.is_object())
    bad(path, std::string("header should be a JSON object {name: {dtype, shape, data_offsets}}, got ") +
                  header.type_name());

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file_size - data_start;

  struct Range {
    uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object())
        bad(path, std::string("'__metadata__' should be an object of strings, got ") + v.type_name());
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          bad(path, "'__metadata__' key '" + m.key() + "' should be a string, got " +
                        m.value().type_name() + " " + short_dump(m.value()));
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!v.is_object())
      bad(path, where + " should be an object {dtype, shape, data_offsets}, got " + v.type_name());

    auto dt = v.find("dtype");
    if (dt == v.end()) bad(path, where + " has no 'dtype'");
    if (!dt->is_string())
      bad(path, where + ": 'dtype' should be a string, got " + dt->type_name() + " " + short_dump(*dt));
    Entry e;
    if (!dtype_from_safetensors(dt->get<std::string>(), &e.dtype))
      bad(path, where + " has unknown dtype '" + dt->get<std::string>() +
                    "' (expected one of F32, F16, BF16, F64, I64, I32, U8, BOOL)");

    auto sh = v.find("shape");
    if (sh == v.end()) bad(path, where + " has no 'shape'");
    if (!sh->is_array())
      bad(path, where + ": 'shape' should be an array of non-negative integers, got " +
                    sh->type_name() + " " + short_dump(*sh));
    uint64_t numel = 1;
    bool overflow = false;
    for (size_t i = 0; i < sh->size(); ++i) {
      uint64_t d;
      if (!as_index((*sh)[i], &d))
        bad(path, where + ": 'shape' should be an array of non-negative integers, got " +
                      short_dump(*sh) + " (entry " + std::to_string(i) + " is " +
                      short_dump((*sh)[i]) + ")");
      e.shape.push_back(int64_t(d));
      if (__builtin_mul_overflow(numel, d, &numel)) overflow = true;
    }
    // numel (when it did not overflow) stays below 2^63 here only if bytes are checked below.

    auto off = v.find("data_offsets");
    if (off == v.end()) bad(path, where + " has no 'data_offsets'");
    uint64_t b = 0, en = 0;
    if (!off->is_array() || off->size() != 2 || !as_index((*off)[0], &b) || !as_index((*off)[1], &en))
      bad(path, where + ": 'data_offsets' should be [begin, end], two non-negative integers, got " +
                    short_dump(*off));
    if (b > en)
      bad(path, where + ": 'data_offsets' [" + std::to_string(b) + ", " + std::to_string(en) +
                    "] has begin > end");
    if (en > data_size)
      bad(path, where + ": 'data_offsets' [" + std::to_string(b) + ", " + std::to_string(en) +
                    "] run past the end of the data section (" + std::to_string(data_size) +
                    " bytes)");
    uint64_t nbytes = 0;
    if (overflow || __builtin_mul_overflow(numel, uint64_t(dtype_size(e.dtype)), &nbytes) ||
        nbytes != en - b)
      bad(path, where + " has shape " + shape_str(e.shape) + " of " + dt->get<std::string>() +
                    (overflow ? std::string(" (element count overflows)")
                              : " (" + std::to_string(numel) + " elements, " +
                                    std::to_string(nbytes) + " bytes)") +
                    " but 'data_offsets' [" + std::to_string(b) + ", " + std::to_string(en) +
                    "] span " + std::to_string(en - b) + " bytes");
    e.begin = size_t(b);
    e.end = size_t(en);
    auto [pos, inserted] = f.entries_.emplace(name, e);
    ranges.push_back({b, en, &pos->first});
  }

  // No two tensors may share bytes (empty tensors occupy none).
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const Range* prev = nullptr;
  for (const Range& r : ranges) {
    if (r.begin == r.end) continue;
    if (prev && r.begin < prev->end)
      bad(path, "tensor '" + *r.name + "' (data_offsets [" + std::to_string(r.begin) + ", " +
                    std::to_string(r.end) + "]) overlaps tensor '" + *prev->name +
                    "' (data_offsets [" + std::to_string(prev->begin) + ", " +
                    std::to_string(prev->end) + "])");
    if (!prev || r.end > prev->end) prev = &r;
  }

  for (auto& kv : f.entries_) f.names_.push_back(kv.first);  // std::map: already sorted
  // Tensors the caller converts are copied then; reading them first would only cost. (It also
  // slowed the Llama-1.1B bf16 prefill after converting from an f32 file: 263-288 vs 294-301
  // tok/s, alternating; not analysed.)
  bool converted = false;
  for (const auto& [name, e] : f.entries_) converted |= convert_to && is_floating(e.dtype) && e.dtype != *convert_to;
  if (std::shared_ptr<void> copy = converted ? nullptr : read_resident(fd, path, data_start, size_t(data_size))) {
    f.data_ = Storage::view(copy.get(), size_t(data_size), copy, /*read_only=*/true);
    return f;  // the mapping is released here
  }
  f.data_ = Storage::view(const_cast<unsigned char*>(bytes) + data_start, size_t(data_size),
                          std::move(mapping), /*read_only=*/true);
  return f;
}

bool SafetensorsFile::contains(const std::string& name) const {
  return entries_.count(name) != 0;
}

const SafetensorsFile::Entry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end())
    throw KeyError(path_ + ": no tensor named '" + name + "' (the file has " +
                   std::to_string(entries_.size()) + " tensors)");
  return it->second;
}

DType SafetensorsFile::dtype(const std::string& name) const { return entry(name).dtype; }
Shape SafetensorsFile::shape(const std::string& name) const { return entry(name).shape; }

Tensor SafetensorsFile::get(const std::string& name) const {
  const Entry& e = entry(name);
  const size_t esize = dtype_size(e.dtype);
  const auto* first = static_cast<const unsigned char*>(data_->data()) + e.begin;
  if (e.begin % esize == 0 && reinterpret_cast<uintptr_t>(first) % esize == 0)
    return Tensor::from_storage(data_, e.shape, e.dtype, int64_t(e.begin / esize));
  // Misaligned for its element type: an aligned heap copy (see the top of this file).
  Tensor t = Tensor::empty(e.shape, e.dtype);
  if (e.end > e.begin) std::memcpy(t.raw_data(), first, e.end - e.begin);
  return t;
}

StateDict load_file(const std::string& path, std::optional<DType> convert_to) {
  SafetensorsFile f = SafetensorsFile::open(path, convert_to);
  StateDict out;
  for (const auto& name : f.names()) out.emplace(name, f.get(name));
  return out;
}

// ---------------------------------------------------------------- writing

void save_file(const StateDict& tensors, const std::string& path,
               const std::map<std::string, std::string>& metadata) {
  // Python's layout: __metadata__ first, then tensors ordered by dtype (widest first, by its
  // Dtype enum) and then by name, data packed in that order with no gaps. Wide types first
  // and a header padded to a multiple of 8 keep every tensor aligned for zero-copy reading.
  struct Item {
    const std::string* name;
    Tensor data;  // contiguous
  };
  std::vector<Item> items;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__")
      throw ValueError(path + ": cannot save a tensor named '__metadata__' (reserved by the format)");
    if (!t.defined()) throw ValueError(path + ": tensor '" + name + "' is undefined");
    if (t.device() != kCPU)
      throw ValueError(path + ": tensor '" + name + "' is not on the CPU");
    items.push_back({&name, t.detach().contiguous()});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    int ra = python_dtype_rank(a.data.dtype()), rb = python_dtype_rank(b.data.dtype());
    return ra != rb ? ra > rb : *a.name < *b.name;
  });

  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json m = ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  uint64_t offset = 0;
  for (const Item& it : items) {
    uint64_t nbytes = uint64_t(it.data.numel()) * dtype_size(it.data.dtype());
    ordered_json e = ordered_json::object();
    e["dtype"] = dtype_to_safetensors(it.data.dtype());
    e["shape"] = it.data.shape();
    e["data_offsets"] = {offset, offset + nbytes};
    header[*it.name] = std::move(e);
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const ordered_json::exception& e) {  // e.g. a name that is not valid UTF-8
    throw ValueError(path + ": cannot write header: " + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = (uint64_t(text.size()) >> (8 * i)) & 0xff;

  const std::string tmp = path + ".tmp";
  FILE* fp = std::fopen(tmp.c_str(), "wb");
  if (!fp) throw IOError(path + ": cannot create '" + tmp + "': " + sys_error());
  bool ok = std::fwrite(len, 1, 8, fp) == 8 &&
            std::fwrite(text.data(), 1, text.size(), fp) == text.size();
  for (const Item& it : items) {
    if (!ok) break;
    size_t n = size_t(it.data.numel()) * dtype_size(it.data.dtype());
    if (n) ok = std::fwrite(it.data.raw_data(), 1, n, fp) == n;
  }
  int write_errno = errno;
  if (std::fclose(fp) != 0 && ok) {
    ok = false;
    write_errno = errno;
  }
  if (!ok) {
    std::remove(tmp.c_str());
    throw IOError(path + ": error writing '" + tmp + "': " + std::strerror(write_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = sys_error();
    std::remove(tmp.c_str());
    throw IOError(path + ": cannot rename '" + tmp + "' into place: " + e);
  }
}

// ---------------------------------------------------------------- checkpoints

StateDict load_checkpoint(const std::string& dir, std::optional<DType> convert_to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw IOError(dir + ": model folder does not exist or is not a directory");
  const std::string single = (fs::path(dir) / "model.safetensors").string();
  const std::string index_path = (fs::path(dir) / "model.safetensors.index.json").string();
  if (fs::exists(single, ec)) return load_file(single, convert_to);
  if (!fs::exists(index_path, ec)) {
    std::string hint;
    if (fs::exists(fs::path(dir) / "pytorch_model.bin", ec) ||
        fs::exists(fs::path(dir) / "pytorch_model.bin.index.json", ec))
      hint = " (it has pytorch_model.bin, which cppformers does not read: only safetensors "
             "weights are loaded; convert it with Python's safetensors)";
    throw IOError(dir + ": no model weights found: looked for model.safetensors and "
                        "model.safetensors.index.json" + hint);
  }

  json index = read_json_file(index_path);
  if (!index.is_object())
    bad(index_path, std::string("should be a JSON object with a 'weight_map', got ") + index.type_name());
  auto wm = index.find("weight_map");
  if (wm == index.end() || !wm->is_object())
    bad(index_path, std::string("key 'weight_map' should be an object {tensor name: shard file}, got ") +
                        (wm == index.end() ? "nothing" : wm->type_name()));

  // shard file -> the names the index promises it holds
  std::map<std::string, std::vector<std::string>> shards;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it.value().is_string())
      bad(index_path, "weight_map entry for tensor '" + it.key() +
                          "' should be a shard file name (string), got " + it.value().type_name());
    const std::string file = it.value().get<std::string>();
    if (file.empty() || file == "." || file.find('/') != std::string::npos ||
        file.find('\\') != std::string::npos || file.find("..") != std::string::npos ||
        file.find('\0') != std::string::npos)
      bad(index_path, "weight_map entry for tensor '" + it.key() + "' names shard file '" + file +
                          "', which is not a plain file name in the model folder (no path "
                          "separators or '..' allowed)");
    shards[file].push_back(it.key());
  }

  StateDict out;
  for (const auto& [file, names] : shards) {
    const std::string shard_path = (fs::path(dir) / file).string();
    if (!fs::exists(shard_path, ec))
      throw IOError(index_path + ": shard '" + file + "' (holding tensor '" + names.front() +
                    "' and " + std::to_string(names.size() - 1) +
                    " more in weight_map) does not exist: " + shard_path);
    SafetensorsFile f = SafetensorsFile::open(shard_path, convert_to);
    for (const auto& name : names)
      if (!f.contains(name))
        bad(index_path, "weight_map says tensor '" + name + "' is in shard '" + file +
                            "', but " + shard_path + " has no such tensor");
    // Like Python's from_pretrained, every tensor of a shard is loaded; a name the index
    // assigns to another shard is taken from that shard.
    for (const auto& name : f.names()) {
      auto w = wm->find(name);
      if (w != wm->end() && w->get<std::string>() != file) continue;
      if (out.count(name))
        bad(index_path, "tensor '" + name + "' appears in more than one shard ('" + file +
                            "' and another) and weight_map does not list it");
      out.emplace(name, f.get(name));
    }
  }
  return out;
}

}  // namespace cppformers::io
