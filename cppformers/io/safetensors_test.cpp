#include "cppformers/io/safetensors.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace cppformers::io {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kFixtures = CPPFORMERS_SOURCE_DIR "/../shared/fixtures/hf";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char((n >> (8 * i)) & 0xff);
  return s;
}

// A safetensors file from a header text and a data section (header length as given).
std::string st_bytes(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

// The raw bytes of a tensor, contiguous.
std::string tensor_bytes(const Tensor& t) {
  Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()),
                     size_t(c.numel()) * dtype_size(c.dtype()));
}

// An independent reader: the header parsed by hand, the bytes of one tensor read with ifstream.
struct RawTensor {
  std::string dtype;
  Shape shape;
  std::string bytes;
};
RawTensor read_by_hand(const std::string& path, const std::string& name) {
  std::ifstream in(path, std::ios::binary);
  unsigned char len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | len[i];
  std::string header(n, '\0');
  in.read(header.data(), std::streamsize(n));
  json h = json::parse(header);
  const json& e = h.at(name);
  RawTensor r;
  r.dtype = e.at("dtype").get<std::string>();
  r.shape = e.at("shape").get<Shape>();
  uint64_t b = e.at("data_offsets")[0].get<uint64_t>(), en = e.at("data_offsets")[1].get<uint64_t>();
  r.bytes.resize(en - b);
  in.seekg(std::streamoff(8 + n + b));
  in.read(r.bytes.data(), std::streamsize(en - b));
  EXPECT_TRUE(in.good());
  return r;
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cf_safetensors_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  // Writes `bytes` as NAME and expects open() to throw Err with a message naming the file and
  // containing every one of `needles`.
  template <class Err>
  void expect_open_error(const std::string& name, const std::string& bytes,
                         std::vector<std::string> needles) {
    std::string path = file(name);
    write_bytes(path, bytes);
    try {
      SafetensorsFile::open(path);
      ADD_FAILURE() << name << ": open() succeeded, expected an error mentioning " << needles[0];
    } catch (const Err& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << "message does not name the file: " << msg;
      for (const auto& n : needles)
        EXPECT_NE(msg.find(n), std::string::npos) << "message lacks '" << n << "': " << msg;
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << ": wrong exception type: " << e.what();
    }
  }

  std::string dir_;
};

// A tensor of the given dtype and shape with distinct, valid contents.
Tensor make_tensor(DType dt, const Shape& shape, uint32_t seed) {
  Tensor t = Tensor::empty(shape, dt);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-3.f, 3.f);
  int64_t n = t.numel();
  void* p = t.raw_data();
  for (int64_t i = 0; i < n; ++i) {
    switch (dt) {
      case kF32: static_cast<float*>(p)[i] = u(rng); break;
      case kF64: static_cast<double*>(p)[i] = double(u(rng)) * 1e-3; break;
      case kF16: static_cast<uint16_t*>(p)[i] = f32_to_f16(u(rng)); break;
      case kBF16: static_cast<uint16_t*>(p)[i] = f32_to_bf16(u(rng)); break;
      case kI64: static_cast<int64_t*>(p)[i] = int64_t(rng()) * 4096 - int64_t(i); break;
      case kI32: static_cast<int32_t*>(p)[i] = int32_t(rng()); break;
      case kU8: static_cast<uint8_t*>(p)[i] = uint8_t(rng()); break;
      case kBool: static_cast<bool*>(p)[i] = rng() & 1; break;
    }
  }
  return t;
}

const DType kAllDTypes[] = {kF32, kF16, kBF16, kF64, kI64, kI32, kU8, kBool};

// ------------------------------------------------------------------- round trips

TEST_F(SafetensorsTest, RoundTripEveryDtype) {
  StateDict sd;
  uint32_t seed = 1;
  for (DType dt : kAllDTypes) {
    // odd element counts so that packed narrow types would misalign what follows them
    sd[std::string("t_") + dtype_to_safetensors(dt)] = make_tensor(dt, {3, 5}, seed++);
    sd[std::string("v_") + dtype_to_safetensors(dt)] = make_tensor(dt, {7}, seed++);
  }
  std::string path = file("all.safetensors");
  save_file(sd, path, {{"format", "pt"}, {"note", "round trip"}});
  EXPECT_FALSE(fs::exists(path + ".tmp"));

  SafetensorsFile f = SafetensorsFile::open(path);
  EXPECT_EQ(f.names().size(), sd.size());
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"note", "round trip"}}));
  for (const auto& [name, t] : sd) {
    ASSERT_TRUE(f.contains(name)) << name;
    EXPECT_EQ(f.dtype(name), t.dtype()) << name;
    EXPECT_EQ(f.shape(name), t.shape()) << name;
    Tensor g = f.get(name);
    EXPECT_EQ(g.dtype(), t.dtype()) << name;
    EXPECT_EQ(g.shape(), t.shape()) << name;
    EXPECT_EQ(tensor_bytes(g), tensor_bytes(t)) << name;
    // the writer keeps every tensor aligned, so every read is zero-copy
    EXPECT_TRUE(g.storage()->read_only()) << name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(g.raw_data()) % dtype_size(g.dtype()), 0u) << name;
  }
  // load_file gives the same
  StateDict back = load_file(path);
  ASSERT_EQ(back.size(), sd.size());
  for (const auto& [name, t] : sd) EXPECT_EQ(tensor_bytes(back.at(name)), tensor_bytes(t)) << name;
}

TEST_F(SafetensorsTest, RoundTripNonContiguousInput) {
  Tensor a = make_tensor(kF32, {4, 6}, 7);
  Tensor b = make_tensor(kBF16, {5, 3}, 8);
  Tensor c = make_tensor(kI64, {6, 5}, 9);
  StateDict sd{{"a_t", a.transpose(0, 1)}, {"b_t", b.transpose(0, 1)},
               {"c_narrow", c.narrow(1, 1, 3)}, {"a_select", a.select(1, 2)}};
  for (const auto& [n, t] : sd) {
    if (n != "a_select") {
      EXPECT_FALSE(t.is_contiguous()) << n;
    }
  }
  std::string path = file("nc.safetensors");
  save_file(sd, path);
  StateDict back = load_file(path);
  for (const auto& [n, t] : sd) {
    EXPECT_EQ(back.at(n).shape(), t.shape()) << n;
    EXPECT_EQ(tensor_bytes(back.at(n)), tensor_bytes(t)) << n;  // logical (row-major) order
  }
  EXPECT_EQ(back.at("a_t").to_vector<float>(), a.transpose(0, 1).to_vector<float>());
  EXPECT_EQ(back.at("c_narrow").to_vector<int64_t>(), c.narrow(1, 1, 3).to_vector<int64_t>());
}

TEST_F(SafetensorsTest, RoundTripEmptyAndScalarTensors) {
  StateDict sd{{"empty_f32", Tensor::empty({0, 3}, kF32)},
               {"empty_i64", Tensor::empty({0}, kI64)},
               {"empty_bf16", Tensor::empty({2, 0, 4}, kBF16)},
               {"scalar", Tensor::scalar(2.5)},
               {"after", make_tensor(kF32, {3}, 3)}};
  std::string path = file("empty.safetensors");
  save_file(sd, path);
  SafetensorsFile f = SafetensorsFile::open(path);
  for (const auto& [n, t] : sd) {
    Tensor g = f.get(n);
    EXPECT_EQ(g.shape(), t.shape()) << n;
    EXPECT_EQ(g.dtype(), t.dtype()) << n;
    EXPECT_EQ(g.numel(), t.numel()) << n;
    EXPECT_EQ(tensor_bytes(g), tensor_bytes(t)) << n;
  }
  EXPECT_EQ(f.get("scalar").item(), 2.5);
  // a file of nothing but an empty tensor
  save_file({{"e", Tensor::empty({0}, kF32)}}, file("only_empty.safetensors"));
  EXPECT_EQ(load_file(file("only_empty.safetensors")).at("e").numel(), 0);
  // and a file with no tensors at all
  save_file({}, file("none.safetensors"));
  EXPECT_TRUE(SafetensorsFile::open(file("none.safetensors")).names().empty());
}

TEST_F(SafetensorsTest, WriterLayoutMatchesPython) {
  // Python: __metadata__ first, then tensors by dtype (widest first) then name, no gaps,
  // header padded with spaces to a multiple of 8.
  StateDict sd{{"b", make_tensor(kF32, {3}, 1)}, {"a", make_tensor(kU8, {3}, 2)},
               {"c", make_tensor(kI64, {1}, 3)}, {"d", make_tensor(kF32, {2}, 4)}};
  std::string path = file("layout.safetensors");
  save_file(sd, path, {{"format", "pt"}});
  std::string raw = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | uint8_t(raw[i]);
  EXPECT_EQ(n % 8, 0u);
  std::string header = raw.substr(8, n);
  const std::string j =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"c\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]},"
      "\"d\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[20,28]},"
      "\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[28,31]}}";
  EXPECT_EQ(header, j + std::string((8 - j.size() % 8) % 8, ' '));
  EXPECT_EQ(raw.size(), 8 + n + 31);
  // the fixture (written by Python) has the same shape of header: padded to 8
  std::string fixture = kFixtures + "/bert/golden.safetensors";
  ASSERT_TRUE(fs::exists(fixture)) << "fixture missing: " << fixture;
  std::string fr = read_bytes(fixture);
  uint64_t fn = 0;
  for (int i = 7; i >= 0; --i) fn = fn << 8 | uint8_t(fr[i]);
  EXPECT_EQ(fn % 8, 0u);
}

TEST_F(SafetensorsTest, RewritingAFixtureIsByteIdentical) {
  // Python's writer and ours produce the same bytes for the same state dict and metadata.
  for (const char* c : {"bert/model.safetensors", "bert/golden.safetensors", "bert_medium/model.safetensors"}) {
    std::string src = kFixtures + "/" + c;
    ASSERT_TRUE(fs::exists(src)) << "fixture missing: " << src;
    SafetensorsFile f = SafetensorsFile::open(src);
    StateDict sd = load_file(src);
    std::string out = file("rewritten.safetensors");
    save_file(sd, out, f.metadata());
    EXPECT_TRUE(read_bytes(out) == read_bytes(src)) << c << " differs when rewritten";
  }
}

TEST_F(SafetensorsTest, SaveFailureNamesThePath) {
  std::string path = file("no_such_dir/x.safetensors");
  try {
    save_file({{"x", Tensor::zeros({2})}}, path);
    ADD_FAILURE() << "expected IOError";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(save_file({{"__metadata__", Tensor::zeros({2})}}, file("m.safetensors")), ValueError);
  // an existing file is replaced atomically
  std::string p = file("replace.safetensors");
  save_file({{"x", Tensor::zeros({2})}}, p);
  save_file({{"y", Tensor::ones({3})}}, p);
  SafetensorsFile f = SafetensorsFile::open(p);
  EXPECT_EQ(f.names(), (std::vector<std::string>{"y"}));
  EXPECT_FALSE(fs::exists(p + ".tmp"));
}

// ------------------------------------------------------------------- real fixtures

TEST_F(SafetensorsTest, ReadsBertFixture) {
  std::string path = kFixtures + "/bert/model.safetensors";
  ASSERT_TRUE(fs::exists(path)) << "fixture missing: " << path;
  SafetensorsFile f = SafetensorsFile::open(path);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  const std::string name = "embeddings.word_embeddings.weight";
  ASSERT_TRUE(f.contains(name));
  Tensor t = f.get(name);
  EXPECT_EQ(t.shape(), (Shape{128, 32}));
  EXPECT_EQ(t.dtype(), kF32);
  RawTensor r = read_by_hand(path, name);
  EXPECT_EQ(r.dtype, "F32");
  EXPECT_EQ(r.shape, t.shape());
  EXPECT_TRUE(tensor_bytes(t) == r.bytes);
  // every tensor agrees with the hand reading
  for (const auto& n : f.names()) {
    RawTensor rn = read_by_hand(path, n);
    Tensor g = f.get(n);
    EXPECT_EQ(g.shape(), rn.shape) << n;
    EXPECT_TRUE(tensor_bytes(g) == rn.bytes) << n;
  }
  EXPECT_TRUE(std::is_sorted(f.names().begin(), f.names().end()));
  EXPECT_THROW(f.get("no.such.tensor"), KeyError);
}

TEST_F(SafetensorsTest, ReadsBf16Fixture) {
  std::string path = kFixtures + "/bert_medium/model.safetensors";
  ASSERT_TRUE(fs::exists(path)) << "fixture missing: " << path;
  SafetensorsFile f = SafetensorsFile::open(path);
  for (const auto& n : f.names()) EXPECT_EQ(f.dtype(n), kBF16) << n;
  const std::string name = "bert.embeddings.word_embeddings.weight";
  Tensor t = f.get(name);
  EXPECT_EQ(t.shape(), (Shape{1000, 384}));
  EXPECT_EQ(t.dtype(), kBF16);
  EXPECT_TRUE(t.storage()->read_only());
  RawTensor r = read_by_hand(path, name);
  EXPECT_EQ(r.dtype, "BF16");
  ASSERT_TRUE(tensor_bytes(t) == r.bytes);
  // widening to f32 is exact: compare with the raw bits
  std::vector<float> wide = t.to_vector<float>();
  for (size_t i = 0; i < wide.size(); i += 997) {
    uint16_t bits;
    std::memcpy(&bits, r.bytes.data() + 2 * i, 2);
    EXPECT_EQ(wide[i], bf16_to_f32(bits)) << i;
  }
}

TEST_F(SafetensorsTest, ZeroCopyViewsOfOneMapping) {
  std::string path = kFixtures + "/bert/model.safetensors";
  ASSERT_TRUE(fs::exists(path)) << "fixture missing: " << path;
  Tensor a, b, c;
  {
    SafetensorsFile f = SafetensorsFile::open(path);
    a = f.get("embeddings.word_embeddings.weight");
    b = f.get("embeddings.word_embeddings.weight");
    c = f.get("pooler.dense.weight");
  }  // the file object is gone; the views keep the mapping alive
  EXPECT_EQ(a.storage().get(), b.storage().get());
  EXPECT_EQ(a.raw_data(), b.raw_data());
  EXPECT_EQ(a.storage().get(), c.storage().get());  // one mapping for all tensors
  EXPECT_TRUE(a.storage()->read_only());
  EXPECT_TRUE(a.is_contiguous());
  // the data is still readable (ASan would flag a use after munmap)
  RawTensor r = read_by_hand(path, "pooler.dense.weight");
  EXPECT_TRUE(tensor_bytes(c) == r.bytes);
}

// Sets an environment variable for one scope (each test runs in its own process under ctest).
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* v) : name(n) { ::setenv(n, v, 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

TEST_F(SafetensorsTest, MisalignedTensorsAreCopiedToAlignedMemory) {
  // Header length 13 (not a multiple of 8) puts the data section at byte 21: an F32 tensor
  // at offset 0 is misaligned in the mapping (read into memory of our own, the section starts
  // aligned); a U8 one is fine; an F32 at an odd offset is misaligned either way.
  float vals[3] = {1.5f, -2.0f, 3.25f};
  std::string data(reinterpret_cast<const char*>(vals), 12);
  data += "xyz";
  data += std::string(reinterpret_cast<const char*>(vals), 8);
  json h = {{"f", {{"dtype", "F32"}, {"shape", {3}}, {"data_offsets", {0, 12}}}},
            {"u", {{"dtype", "U8"}, {"shape", {3}}, {"data_offsets", {12, 15}}}},
            {"g", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {15, 23}}}}};
  std::string header = h.dump();
  header += std::string((8 - (header.size() + 8) % 8) % 8 + 5, ' ');  // 5 mod 8 -> misaligned
  ASSERT_NE((8 + header.size()) % 4, 0u);
  std::string path = file("misaligned.safetensors");
  write_bytes(path, st_bytes(header, data));
  for (bool mapped : {true, false}) {
    SCOPED_TRACE(mapped ? "CPPFORMERS_MMAP=1" : "read into memory");
    ScopedEnv env("CPPFORMERS_MMAP", mapped ? "1" : "0");
    SafetensorsFile f = SafetensorsFile::open(path);
    Tensor t = f.get("f");
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 4, 0u);
    EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1.5f, -2.0f, 3.25f}));
    EXPECT_EQ(t.storage()->read_only(), !mapped);  // mapped: a heap copy; else zero-copy
    Tensor g = f.get("g");
    EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{1.5f, -2.0f}));
    EXPECT_FALSE(g.storage()->read_only());  // at offset 15: a heap copy either way
    Tensor u = f.get("u");
    EXPECT_TRUE(u.storage()->read_only());  // bytes are always aligned: zero-copy
    EXPECT_EQ(tensor_bytes(u), "xyz");
  }
}

// Read into memory of our own, the data section starts on a 64-byte boundary (so does every
// tensor at an offset that is a multiple of 64, as kernels' vector loads want) whatever the
// header length, and the bytes are a private copy: rewriting the file afterwards changes nothing.
TEST_F(SafetensorsTest, ReadIntoOwnMemoryAlignedAndPrivate) {
  std::vector<float> vals(1000);
  for (size_t i = 0; i < vals.size(); ++i) vals[i] = float(i) * 0.5f;
  std::string data(reinterpret_cast<const char*>(vals.data()), 4 * vals.size());
  json h = {{"a", {{"dtype", "F32"}, {"shape", {500}}, {"data_offsets", {0, 2000}}}},
            {"b", {{"dtype", "F32"}, {"shape", {500}}, {"data_offsets", {2048, 4000}}}}};
  data.insert(2000, std::string(48, '\0'));  // b at offset 2048 = 32 * 64
  h["b"]["data_offsets"] = {2048, 4048};
  std::string header = h.dump();
  header += std::string((24 - (header.size() + 8) % 64 + 64) % 64, ' ');  // data at 24 mod 64
  ASSERT_EQ((8 + header.size()) % 64, 24u);
  std::string path = file("offset24.safetensors");
  write_bytes(path, st_bytes(header, data));
  Tensor a, b;
  {
    ScopedEnv env("CPPFORMERS_MMAP", "0");
    SafetensorsFile f = SafetensorsFile::open(path);
    a = f.get("a");
    b = f.get("b");
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.raw_data()) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.raw_data()) % 64, 0u);
  EXPECT_TRUE(a.storage()->read_only());
  {  // A caller converting to another dtype copies anyway: the file stays mapped (data at 24 mod 64).
    ScopedEnv env("CPPFORMERS_MMAP", "0");
    EXPECT_EQ(reinterpret_cast<uintptr_t>(SafetensorsFile::open(path, kBF16).get("a").raw_data()) % 64, 24u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(SafetensorsFile::open(path, kF32).get("a").raw_data()) % 64, 0u);
  }
  write_bytes(path, st_bytes(header, std::string(data.size(), '\x7f')));  // same size, other bytes
  EXPECT_EQ(a.to_vector<float>(), std::vector<float>(vals.begin(), vals.begin() + 500));
  EXPECT_EQ(b.to_vector<float>(), std::vector<float>(vals.begin() + 500, vals.end()));
}

// ------------------------------------------------------------------- malformed files

std::string entry_header(const std::string& entry_json, const std::string& extra = "") {
  return "{\"w\":" + entry_json + extra + "}";
}

TEST_F(SafetensorsTest, MalformedShorterThan8Bytes) {
  expect_open_error<FormatError>("short.safetensors", std::string("\x05\0\0", 3), {"8-byte", "3 bytes"});
  expect_open_error<FormatError>("zero.safetensors", "", {"8-byte", "0 bytes"});
}

TEST_F(SafetensorsTest, MalformedHeaderCutShort) {
  std::string good = st_bytes(entry_header(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"),
                              std::string(8, '\0'));
  // cut inside the header: the header length now runs past the end
  expect_open_error<FormatError>("cut.safetensors", good.substr(0, 20), {"header length", "past the end"});
  // a header length that stops inside the JSON
  std::string shorter = good;
  shorter.replace(0, 8, le64(20));
  expect_open_error<FormatError>("cut_json.safetensors", shorter, {"not valid JSON"});
}

TEST_F(SafetensorsTest, MalformedHeaderLengthPastEnd) {
  std::string h = "{}";
  expect_open_error<FormatError>("past.safetensors", le64(1000) + h, {"header length 1000", "past the end"});
  expect_open_error<FormatError>("huge.safetensors", le64(~uint64_t(0)) + h, {"header length", "limit"});
}

TEST_F(SafetensorsTest, MalformedBadJson) {
  expect_open_error<FormatError>("badjson.safetensors", st_bytes("{\"w\": {\"dtype\": ", ""),
                                 {"not valid JSON"});
  expect_open_error<FormatError>("deep.safetensors", st_bytes(std::string(5000, '[') + std::string(5000, ']'), ""),
                                 {"JSON"});
}

TEST_F(SafetensorsTest, MalformedHeaderNotAnObject) {
  expect_open_error<FormatError>("array.safetensors", st_bytes("[1, 2, 3]", ""), {"JSON object", "array"});
  expect_open_error<FormatError>("entry.safetensors", st_bytes(R"({"w": 5})", ""), {"tensor 'w'", "object"});
}

TEST_F(SafetensorsTest, MalformedUnknownDtype) {
  expect_open_error<FormatError>(
      "dtype.safetensors",
      st_bytes(entry_header(R"({"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]})"), std::string(2, '\0')),
      {"tensor 'w'", "unknown dtype 'F8_E4M3'"});
  expect_open_error<FormatError>(
      "dtype2.safetensors",
      st_bytes(entry_header(R"({"dtype":32,"shape":[2],"data_offsets":[0,8]})"), std::string(8, '\0')),
      {"tensor 'w'", "'dtype' should be a string"});
  expect_open_error<FormatError>(
      "dtype3.safetensors",
      st_bytes(entry_header(R"({"shape":[2],"data_offsets":[0,8]})"), std::string(8, '\0')),
      {"tensor 'w'", "'dtype'"});
}

TEST_F(SafetensorsTest, MalformedShape) {
  for (const char* shape : {"[2,-4]", "[2.5,4]", "[\"2\",4]", "5", "[1e30]", "[9223372036854775808]", "[true]"}) {
    SCOPED_TRACE(shape);
    expect_open_error<FormatError>(
        "shape.safetensors",
        st_bytes(entry_header(std::string(R"({"dtype":"F32","shape":)") + shape + R"(,"data_offsets":[0,8]})"),
                 std::string(8, '\0')),
        {"tensor 'w'", "'shape' should be an array of non-negative integers"});
  }
  // dims whose product overflows 64 bits
  expect_open_error<FormatError>(
      "overflow.safetensors",
      st_bytes(entry_header(R"({"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]})"),
               std::string(8, '\0')),
      {"tensor 'w'", "overflow"});
}

TEST_F(SafetensorsTest, MalformedOffsetsOutOfRange) {
  expect_open_error<FormatError>(
      "range.safetensors",
      st_bytes(entry_header(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), std::string(8, '\0')),
      {"tensor 'w'", "data_offsets", "past the end of the data section (8 bytes)"});
  expect_open_error<FormatError>(
      "range2.safetensors",
      st_bytes(entry_header(R"({"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551616]})"),
               std::string(8, '\0')),
      {"tensor 'w'", "'data_offsets' should be [begin, end]"});
  expect_open_error<FormatError>(
      "range3.safetensors",
      st_bytes(entry_header(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})"), std::string(8, '\0')),
      {"tensor 'w'", "'data_offsets' should be [begin, end]"});
  expect_open_error<FormatError>(
      "range4.safetensors",
      st_bytes(entry_header(R"({"dtype":"F32","shape":[1],"data_offsets":[-4,0]})"), std::string(8, '\0')),
      {"tensor 'w'", "'data_offsets' should be [begin, end]"});
}

TEST_F(SafetensorsTest, MalformedOffsetsOverlapping) {
  expect_open_error<FormatError>(
      "overlap.safetensors",
      st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
               std::string(12, '\0')),
      {"tensor 'b'", "overlaps tensor 'a'"});
  // one tensor inside another
  expect_open_error<FormatError>(
      "inside.safetensors",
      st_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
               R"("b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
               std::string(16, '\0')),
      {"tensor 'b'", "overlaps tensor 'a'"});
  // identical ranges
  expect_open_error<FormatError>(
      "same.safetensors",
      st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
               std::string(8, '\0')),
      {"overlaps"});
  // empty tensors occupy no bytes: not an overlap
  std::string ok = st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                            R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                            std::string(8, '\0'));
  write_bytes(file("empty_inside.safetensors"), ok);
  EXPECT_NO_THROW(SafetensorsFile::open(file("empty_inside.safetensors")));
}

TEST_F(SafetensorsTest, MalformedBeginAfterEnd) {
  expect_open_error<FormatError>(
      "backwards.safetensors",
      st_bytes(entry_header(R"({"dtype":"F32","shape":[0],"data_offsets":[8,4]})"), std::string(8, '\0')),
      {"tensor 'w'", "begin > end"});
}

TEST_F(SafetensorsTest, MalformedByteCountMismatch) {
  expect_open_error<FormatError>(
      "count.safetensors",
      st_bytes(entry_header(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,16]})"), std::string(16, '\0')),
      {"tensor 'w'", "shape [2, 3]", "24 bytes", "span 16 bytes"});
  expect_open_error<FormatError>(
      "count_bf16.safetensors",
      st_bytes(entry_header(R"({"dtype":"BF16","shape":[3],"data_offsets":[0,12]})"), std::string(12, '\0')),
      {"tensor 'w'", "6 bytes"});
}

TEST_F(SafetensorsTest, MalformedMetadata) {
  expect_open_error<FormatError>("meta.safetensors", st_bytes(R"({"__metadata__":{"format":1}})", ""),
                                 {"__metadata__", "'format'", "string"});
  expect_open_error<FormatError>("meta2.safetensors", st_bytes(R"({"__metadata__":[1]})", ""),
                                 {"__metadata__", "object"});
}

TEST_F(SafetensorsTest, MissingFileIsIOError) {
  std::string path = file("nope.safetensors");
  try {
    SafetensorsFile::open(path);
    ADD_FAILURE();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(SafetensorsFile::open(dir_), IOError);  // a directory
}

// ------------------------------------------------------------------- checkpoints

TEST_F(SafetensorsTest, LoadCheckpointSingleAndSharded) {
  Tensor a = make_tensor(kF32, {3, 2}, 1), b = make_tensor(kI64, {4}, 2), c = make_tensor(kBF16, {5}, 3);
  fs::create_directory(file("single"));
  save_file({{"a", a}, {"b", b}}, file("single/model.safetensors"));
  StateDict s = load_checkpoint(file("single"));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(tensor_bytes(s.at("a")), tensor_bytes(a));

  fs::create_directory(file("sharded"));
  save_file({{"a", a}, {"b", b}}, file("sharded/model-00001-of-00002.safetensors"));
  save_file({{"c", c}}, file("sharded/model-00002-of-00002.safetensors"));
  json index = {{"metadata", {{"total_size", 58}}},
                {"weight_map", {{"a", "model-00001-of-00002.safetensors"},
                                {"b", "model-00001-of-00002.safetensors"},
                                {"c", "model-00002-of-00002.safetensors"}}}};
  write_bytes(file("sharded/model.safetensors.index.json"), index.dump(2));
  StateDict sh = load_checkpoint(file("sharded"));
  ASSERT_EQ(sh.size(), 3u);
  EXPECT_EQ(tensor_bytes(sh.at("a")), tensor_bytes(a));
  EXPECT_EQ(tensor_bytes(sh.at("b")), tensor_bytes(b));
  EXPECT_EQ(tensor_bytes(sh.at("c")), tensor_bytes(c));
  EXPECT_EQ(sh.at("a").storage().get(), sh.at("b").storage().get());  // one mapping per shard
  EXPECT_TRUE(sh.at("c").storage()->read_only());
}

TEST_F(SafetensorsTest, LoadCheckpointNothingThere) {
  fs::create_directory(file("empty"));
  try {
    load_checkpoint(file("empty"));
    ADD_FAILURE();
  } catch (const IOError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(file("empty")), std::string::npos) << m;
    EXPECT_NE(m.find("model.safetensors.index.json"), std::string::npos) << m;
  }
  EXPECT_THROW(load_checkpoint(file("does_not_exist")), IOError);
}

TEST_F(SafetensorsTest, ShardedIndexNamingMissingShard) {
  fs::create_directory(file("m"));
  save_file({{"a", Tensor::zeros({2})}}, file("m/model-00001-of-00002.safetensors"));
  json index = {{"weight_map", {{"a", "model-00001-of-00002.safetensors"},
                                {"b", "model-00002-of-00002.safetensors"}}}};
  write_bytes(file("m/model.safetensors.index.json"), index.dump());
  try {
    load_checkpoint(file("m"));
    ADD_FAILURE();
  } catch (const IOError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("model.safetensors.index.json"), std::string::npos) << m;
    EXPECT_NE(m.find("model-00002-of-00002.safetensors"), std::string::npos) << m;
    EXPECT_NE(m.find("'b'"), std::string::npos) << m;
  }
}

TEST_F(SafetensorsTest, ShardedIndexPromisesMissingTensor) {
  fs::create_directory(file("m"));
  save_file({{"a", Tensor::zeros({2})}}, file("m/shard.safetensors"));
  json index = {{"weight_map", {{"a", "shard.safetensors"}, {"ghost", "shard.safetensors"}}}};
  write_bytes(file("m/model.safetensors.index.json"), index.dump());
  try {
    load_checkpoint(file("m"));
    ADD_FAILURE();
  } catch (const FormatError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("model.safetensors.index.json"), std::string::npos) << m;
    EXPECT_NE(m.find("'ghost'"), std::string::npos) << m;
    EXPECT_NE(m.find("shard.safetensors"), std::string::npos) << m;
  }
}

TEST_F(SafetensorsTest, ShardedIndexTraversalRefused) {
  fs::create_directory(file("m"));
  save_file({{"a", Tensor::zeros({2})}}, file("outside.safetensors"));  // exists, outside the folder
  for (const char* bad : {"../outside.safetensors", "/etc/passwd", "sub/x.safetensors", "..", "a\\b"}) {
    SCOPED_TRACE(bad);
    json index = {{"weight_map", {{"a", bad}}}};
    write_bytes(file("m/model.safetensors.index.json"), index.dump());
    try {
      load_checkpoint(file("m"));
      ADD_FAILURE();
    } catch (const FormatError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("model.safetensors.index.json"), std::string::npos) << m;
      EXPECT_NE(m.find(std::string("'") + bad + "'"), std::string::npos) << m;
      EXPECT_NE(m.find("tensor 'a'"), std::string::npos) << m;
    }
  }
  // a malformed index is a FormatError naming it
  write_bytes(file("m/model.safetensors.index.json"), R"({"weight_map": [1]})");
  EXPECT_THROW(load_checkpoint(file("m")), FormatError);
  write_bytes(file("m/model.safetensors.index.json"), R"({"weight_map": )");
  EXPECT_THROW(load_checkpoint(file("m")), FormatError);
}

// ------------------------------------------------------------------- fuzz

TEST_F(SafetensorsTest, FuzzMutatedHeadersNeverCrash) {
  StateDict sd{{"a.weight", make_tensor(kF32, {4, 3}, 1)}, {"b", make_tensor(kBF16, {5}, 2)},
               {"c", make_tensor(kI64, {2}, 3)}, {"mask", make_tensor(kBool, {3}, 4)},
               {"e", Tensor::empty({0, 2}, kF16)}};
  std::string src = file("valid.safetensors");
  save_file(sd, src, {{"format", "pt"}});
  const std::string valid = read_bytes(src);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | uint8_t(valid[i]);
  const size_t header_end = size_t(8 + n);

  std::mt19937 rng(12345);
  const char interesting[] = "{}[]\",:-.0123456789eE \\ntfu";
  int opened = 0, refused = 0;
  std::string path = file("fuzz.safetensors");
  for (int iter = 0; iter < 2000; ++iter) {
    std::string m = valid;
    int kind = int(rng() % 4);
    if (kind == 0) {  // a random byte in the length or the header
      m[rng() % header_end] = char(rng() & 0xff);
    } else if (kind == 1) {  // a JSON-significant character in the header
      m[8 + rng() % n] = interesting[rng() % (sizeof(interesting) - 1)];
    } else if (kind == 2) {  // truncation anywhere
      m.resize(rng() % (m.size() + 1));
    } else {  // a digit of the header changed (shapes, offsets)
      size_t p = 8 + rng() % n;
      for (size_t k = 0; k < n && !std::isdigit(uint8_t(m[p])); ++k) p = 8 + (p - 8 + 1) % n;
      m[p] = char('0' + rng() % 10);
      if (rng() % 2) m.insert(p, 1, char('0' + rng() % 10));
    }
    write_bytes(path, m);
    try {
      SafetensorsFile f = SafetensorsFile::open(path);
      for (const auto& name : f.names()) {
        Tensor t = f.get(name);
        // touch every byte of the tensor
        volatile unsigned sum = 0;
        std::string bytes = tensor_bytes(t);
        for (char ch : bytes) sum = sum + uint8_t(ch);
        (void)sum;
      }
      ++opened;
    } catch (const Error&) {
      ++refused;
    }
  }
  EXPECT_EQ(opened + refused, 2000);
  EXPECT_GT(refused, 100);
  EXPECT_GT(opened, 10);
}

}  // namespace
}  // namespace cppformers::io
