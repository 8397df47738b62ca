// Replays the committed fuzzing corpus (fuzz_corpus/) through the libFuzzer entry point: no
// input may crash or throw anything but cppformers::Error (the sanitizer build,
// -DCPPFORMERS_SANITIZE=ON, also checks memory errors).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppformers/tokenizers/fuzz_entry.hpp"

namespace cppformers::tokenizers {
namespace {

TEST(FuzzCorpus, ReplaysWithoutCrashing) {
  std::filesystem::path dir = std::filesystem::path(CPPFORMERS_SOURCE_DIR) / "cppformers/tokenizers/fuzz_corpus";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream f(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string bytes = ss.str();
    SCOPED_TRACE(entry.path().filename().string());
    EXPECT_NO_THROW(fuzz::fuzz_one(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    ++n;
  }
  EXPECT_GE(n, 20u);
}

}  // namespace
}  // namespace cppformers::tokenizers
