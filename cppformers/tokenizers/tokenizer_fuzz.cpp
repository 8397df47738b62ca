// libFuzzer target for the tokenizer.json loader and the encoder/decoder (see fuzz_entry.hpp for
// the input format). Not part of the CMake build (clang only); build and run from the repository
// root with:
//
//   clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fopenmp -I. \
//     cppformers/tokenizers/tokenizer_fuzz.cpp \
//     $(ls cppformers/tokenizers/*.cpp cppformers/core/*.cpp cppformers/ops/*.cpp \
//          cppformers/ops/cpu/*.cpp cppformers/autograd/*.cpp | grep -v -e _test.cpp -e _fuzz.cpp) \
//     -lpcre2-8 -lutf8proc -lsentencepiece -lfmt -ldnnl $(pkg-config --libs libhwy) \
//     $(clang++ -print-libgcc-file-name -rtlib=compiler-rt) -o /tmp/tokenizer_fuzz
//   (core/ uses ops/ for Tensor::to and the SIMD conversions; the compiler-rt builtins give
//   clang's f16 conversion helpers that Highway's f16 code calls)
//   mkdir -p /tmp/fuzz_work && /tmp/tokenizer_fuzz -max_total_time=300 -max_len=4096 \
//     /tmp/fuzz_work cppformers/tokenizers/fuzz_corpus
//
// Inputs that found bugs, and a few dozen small seeds, are committed in fuzz_corpus/ and replayed
// by fuzz_corpus_test.cpp in CI.
#include "cppformers/tokenizers/fuzz_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cppformers::tokenizers::fuzz::fuzz_one(data, size);
}
