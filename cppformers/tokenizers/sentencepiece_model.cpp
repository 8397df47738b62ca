#include "cppformers/tokenizers/sentencepiece_model.hpp"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppformers/core/error.hpp"
#include "cppformers/tokenizers/unicode.hpp"

#if CPPFORMERS_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace cppformers::tokenizers {

namespace {

// A bounds-checked reader of the protobuf wire format, for the few fields we need.
class ProtoReader {
 public:
  ProtoReader(std::string_view data, const std::string& where) : data_(data), where_(where) {}
  bool done() const { return pos_ >= data_.size(); }

  // Next field: number and wire type.
  std::pair<uint32_t, int> tag() {
    uint64_t t = varint();
    uint64_t field = t >> 3;
    if (field == 0 || field > 0x1FFFFFFF) bad("invalid field number");
    return {static_cast<uint32_t>(field), static_cast<int>(t & 7)};
  }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) bad("truncated varint");
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    bad("varint longer than 10 bytes");
  }
  std::string_view bytes() {
    uint64_t n = varint();
    if (n > data_.size() - pos_) bad("length " + std::to_string(n) + " runs past the end");
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  float fixed32_float() {
    if (data_.size() - pos_ < 4) bad("truncated fixed32");
    float f;
    std::memcpy(&f, data_.data() + pos_, 4);  // little-endian, as this machine
    pos_ += 4;
    return f;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); break;
      case 1:
        if (data_.size() - pos_ < 8) bad("truncated fixed64");
        pos_ += 8;
        break;
      case 2: bytes(); break;
      case 5:
        if (data_.size() - pos_ < 4) bad("truncated fixed32");
        pos_ += 4;
        break;
      default: bad("unsupported wire type " + std::to_string(wire));
    }
  }
  // Expects wire type `want` for field `field`.
  void expect(int wire, int want, const char* field) {
    if (wire != want) bad(std::string(field) + ": unexpected wire type " + std::to_string(wire));
  }
  [[noreturn]] void bad(const std::string& what) const {
    throw FormatError(where_ + ": malformed SentencePiece model (" + what + " at byte " + std::to_string(pos_) + ")");
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  const std::string& where_;
};

int32_t as_int32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

}  // namespace

SentencePieceModel parse_sentencepiece_proto(const std::string& data, const std::string& name) {
  SentencePieceModel m;
  ProtoReader r(data, name);
  while (!r.done()) {
    auto [field, wire] = r.tag();
    if (field == 1) {  // pieces
      r.expect(wire, 2, "pieces");
      std::string where = name + ": pieces[" + std::to_string(m.pieces.size()) + "]";
      ProtoReader p(r.bytes(), where);
      SentencePieceModel::Piece piece;
      while (!p.done()) {
        auto [f, w] = p.tag();
        if (f == 1) { p.expect(w, 2, "piece"); piece.piece = std::string(p.bytes()); }
        else if (f == 2) { p.expect(w, 5, "score"); piece.score = p.fixed32_float(); }
        else if (f == 3) { p.expect(w, 0, "type"); piece.type = as_int32(p.varint()); }
        else p.skip(w);
      }
      if (piece.type < 1 || piece.type > 6) p.bad("unknown piece type " + std::to_string(piece.type));
      if (unicode::find_invalid_utf8(piece.piece) != std::string::npos) p.bad("piece is not valid UTF-8");
      m.pieces.push_back(std::move(piece));
    } else if (field == 2) {  // trainer_spec
      r.expect(wire, 2, "trainer_spec");
      ProtoReader t(r.bytes(), name + ": trainer_spec");
      while (!t.done()) {
        auto [f, w] = t.tag();
        if (f == 3) { t.expect(w, 0, "model_type"); m.model_type = as_int32(t.varint()); }
        else if (f == 35) { t.expect(w, 0, "byte_fallback"); m.byte_fallback = t.varint() != 0; }
        else if (f == 40) { t.expect(w, 0, "unk_id"); m.unk_id = as_int32(t.varint()); }
        else if (f == 45) { t.expect(w, 2, "unk_piece"); m.unk_piece = std::string(t.bytes()); }
        else t.skip(w);
      }
    } else if (field == 3) {  // normalizer_spec
      r.expect(wire, 2, "normalizer_spec");
      ProtoReader n(r.bytes(), name + ": normalizer_spec");
      while (!n.done()) {
        auto [f, w] = n.tag();
        if (f == 1) { n.expect(w, 2, "name"); m.normalizer_name = std::string(n.bytes()); }
        else if (f == 2) { n.expect(w, 2, "precompiled_charsmap"); m.precompiled_charsmap = std::string(n.bytes()); }
        else if (f == 3) { n.expect(w, 0, "add_dummy_prefix"); m.add_dummy_prefix = n.varint() != 0; }
        else if (f == 4) { n.expect(w, 0, "remove_extra_whitespaces"); m.remove_extra_whitespaces = n.varint() != 0; }
        else n.skip(w);
      }
    } else {
      r.skip(wire);
    }
  }
  if (m.pieces.empty()) throw FormatError(name + ": SentencePiece model has no pieces");
  if (m.unk_id < 0 || static_cast<size_t>(m.unk_id) >= m.pieces.size())
    throw FormatError(name + ": trainer_spec.unk_id " + std::to_string(m.unk_id) + " is not a piece id (model has " +
                      std::to_string(m.pieces.size()) + " pieces)");
  return m;
}

#if CPPFORMERS_HAVE_SENTENCEPIECE

bool sentencepiece_available() { return true; }

SentencePieceModel read_sentencepiece_model(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IOError(path + ": cannot open SentencePiece model");
  std::stringstream ss;
  ss << f.rdbuf();
  std::string bytes = ss.str();
  sentencepiece::SentencePieceProcessor sp;
  auto status = sp.LoadFromSerializedProto(bytes);
  if (!status.ok()) throw FormatError(path + ": not a valid SentencePiece model: " + status.ToString());
  // The library accepted it; the fields its API does not expose come from the proto itself, and
  // what it does expose must agree.
  SentencePieceModel m = parse_sentencepiece_proto(bytes, path);
  if (static_cast<size_t>(sp.GetPieceSize()) != m.pieces.size())
    throw FormatError(path + ": libsentencepiece reports " + std::to_string(sp.GetPieceSize()) + " pieces, the file has " +
                      std::to_string(m.pieces.size()));
  for (int i = 0; i < sp.GetPieceSize(); ++i) {
    const auto& p = m.pieces[i];
    if (sp.IdToPiece(i) != p.piece || sp.GetScore(i) != p.score || sp.IsUnknown(i) != (p.type == SentencePieceModel::Unknown) ||
        sp.IsControl(i) != (p.type == SentencePieceModel::Control) || sp.IsByte(i) != (p.type == SentencePieceModel::Byte))
      throw FormatError(path + ": piece " + std::to_string(i) + " reads differently through libsentencepiece");
  }
  if (sp.unk_id() != m.unk_id) throw FormatError(path + ": unk_id differs between libsentencepiece and the file");
  return m;
}

#else

bool sentencepiece_available() { return false; }

SentencePieceModel read_sentencepiece_model(const std::string& path) {
  throw Error(path + ": this build of cppformers has no SentencePiece support (libsentencepiece-dev was not found "
              "when it was configured; scripts/setup installs it)");
}

#endif

}  // namespace cppformers::tokenizers
