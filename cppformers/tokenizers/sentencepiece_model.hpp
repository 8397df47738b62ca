#pragma once
// SentencePiece model files (`spiece.model`, `tokenizer.model`, `sentencepiece.bpe.model`): loaded
// and validated by libsentencepiece, then described by what transformers' slow -> fast converters
// read from them (pieces with scores and types, the trainer's model type, unk and byte fallback,
// the normalizer's precompiled charsmap). legacy_files.cpp turns this into a tokenizer.
#include <string>
#include <vector>

namespace cppformers::tokenizers {

struct SentencePieceModel {
  // ModelProto.SentencePiece.Type
  enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };
  struct Piece {
    std::string piece;
    float score = 0;
    int type = Normal;
  };
  // TrainerSpec.ModelType
  enum ModelType { Unigram = 1, Bpe = 2, Word = 3, Char = 4 };

  std::vector<Piece> pieces;
  int model_type = Unigram;
  bool byte_fallback = false;
  int unk_id = 0;
  std::string unk_piece = "<unk>";
  std::string normalizer_name;
  std::string precompiled_charsmap;  // raw bytes; empty when the model has none (identity)
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
};

// Whether this build links libsentencepiece (CMake found it through pkg-config).
bool sentencepiece_available();

// Reads a .model file. Throws IOError when it cannot be read and FormatError (naming the file)
// when libsentencepiece rejects it or its contents are inconsistent; throws Error when this build
// has no libsentencepiece.
SentencePieceModel read_sentencepiece_model(const std::string& path);

// The ModelProto fields above from serialized bytes (no libsentencepiece needed); `name` is used in
// errors. read_sentencepiece_model uses it for what the library's API does not expose.
SentencePieceModel parse_sentencepiece_proto(const std::string& bytes, const std::string& name);

}  // namespace cppformers::tokenizers
