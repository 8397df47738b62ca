// The progress bar: shown on stderr only when forced or when stderr is a terminal; counts end at N/N.
#include "cppformers/core/progress.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <optional>
#include <string>

namespace cppformers {
namespace {

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* v = std::getenv("CPPFORMERS_PROGRESS");
    saved_ = v ? std::optional<std::string>(v) : std::nullopt;
    ::unsetenv("CPPFORMERS_PROGRESS");
    set_progress_bars(std::nullopt);
  }
  void TearDown() override {
    if (saved_) ::setenv("CPPFORMERS_PROGRESS", saved_->c_str(), 1);
    else ::unsetenv("CPPFORMERS_PROGRESS");
    set_progress_bars(std::nullopt);
  }
  std::optional<std::string> saved_;
};

// The text after the last '\r' (what a terminal shows at the end).
std::string last_frame(const std::string& s) {
  size_t at = s.rfind('\r');
  return at == std::string::npos ? s : s.substr(at + 1);
}

TEST_F(ProgressTest, ForcedOnByTheEnvironmentCountsToTheTotal) {
  ::setenv("CPPFORMERS_PROGRESS", "1", 1);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  {
    ProgressBar bar("texts", 7);
    EXPECT_TRUE(bar.enabled());
    for (int i = 0; i < 7; ++i) bar.update();
    EXPECT_EQ(bar.count(), 7u);
  }  // closed by the destructor
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");  // never on stdout
  EXPECT_NE(err.find("texts:   0%|"), std::string::npos) << err;  // drawn when made
  const std::string end = last_frame(err);
  EXPECT_EQ(end.substr(0, 12), "texts: 100%|") << end;
  EXPECT_NE(end.find("| 7/7 ["), std::string::npos) << end;
  EXPECT_EQ(end.back(), '\n');
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);  // one line, redrawn in place
}

TEST_F(ProgressTest, OffByDefaultWhenStderrIsNotATerminal) {
  ::testing::internal::CaptureStderr();  // stderr is now a file
  EXPECT_FALSE(progress_bars_enabled());
  {
    ProgressBar bar("texts", 3);
    EXPECT_FALSE(bar.enabled());
    bar.update(3);
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(ProgressTest, TheProgramsChoiceBeatsTheEnvironment) {
  ::setenv("CPPFORMERS_PROGRESS", "1", 1);
  set_progress_bars(false);  // --no-progress
  EXPECT_FALSE(progress_bars_enabled());
  ::setenv("CPPFORMERS_PROGRESS", "0", 1);
  set_progress_bars(true);  // --progress
  EXPECT_TRUE(progress_bars_enabled());
  set_progress_bars(std::nullopt);
  EXPECT_FALSE(progress_bars_enabled());  // CPPFORMERS_PROGRESS=0
  ProgressBar explicit_on("x", 1, ProgressUnit::kItems, true);
  EXPECT_TRUE(explicit_on.enabled());
  explicit_on.close();
}

TEST_F(ProgressTest, BytesUnknownTotalsAndResets) {
  ProgressBar bytes("model.safetensors", 2000000, ProgressUnit::kBytes, false);
  bytes.update(500000);
  EXPECT_NE(bytes.render().find(" 25%|#######"), std::string::npos) << bytes.render();
  EXPECT_NE(bytes.render().find("500.0kB/2.0MB ["), std::string::npos) << bytes.render();
  bytes.reset(0);  // the server ignored Range: start over
  EXPECT_NE(bytes.render().find("  0%|"), std::string::npos) << bytes.render();
  ProgressBar unknown("lines", 0, ProgressUnit::kItems, false);
  unknown.update(12);
  EXPECT_EQ(unknown.render().substr(0, 12), "lines: 12 [0") << unknown.render();
  ProgressBar moved = std::move(unknown);
  EXPECT_EQ(moved.count(), 12u);
}

}  // namespace
}  // namespace cppformers
