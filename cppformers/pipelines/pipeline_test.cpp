// The pipeline registry and `cppformers run` end to end (the built program, as a user runs it).
#include "cppformers/pipelines/pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sys/wait.h>

#include "cppformers/testing/fake_hub.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

std::string run_cli(const std::string& args, int* status) {
  const std::string cmd = std::string(CPPFORMERS_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  *status = pclose(p);
  return out;
}

TEST(Pipelines, TasksAliasesAndDefaults) {
  const auto tasks = supported_tasks();
  for (const char* t : {"text-classification", "sentiment-analysis", "ner", "question-answering", "fill-mask",
                        "feature-extraction", "zero-shot-classification", "text-generation"})
    EXPECT_NE(std::find(tasks.begin(), tasks.end(), t), tasks.end()) << t;
  EXPECT_EQ(default_model_for("sentiment-analysis"), "distilbert/distilbert-base-uncased-finetuned-sst-2-english");
  EXPECT_THROW(default_model_for("no-such-task"), NotSupportedError);
}

TEST(RunCommand, ReplaysACallAndReadsArgumentsAndStdin) {
  const std::string dir = testing::pipeline_fixture("text_classification");
  int status = 0;
  // --inputs-json + --kwargs: Python's object as one JSON document
  std::string out = run_cli("run text-classification --model " + dir +
                                " --inputs-json '\"The meeting has been moved to Thursday afternoon.\"'"
                                " --kwargs '{\"function_to_apply\": \"sigmoid\", \"top_k\": null}'",
                            &status);
  ASSERT_EQ(status, 0) << out;
  json got = json::parse(out);
  ASSERT_TRUE(got.is_array());
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0]["label"], "neutral");
  EXPECT_NEAR(got[0]["score"].get<double>(), 0.531193196773529, 1e-4);  // Python's recorded value
  // positional inputs: one line each; a shortcut flag maps to the kwarg
  out = run_cli("run sentiment-analysis --model " + dir + " --top-k 1 'first text' 'second text'", &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  // bad input: exit code 1 and a message naming the problem
  out = run_cli("run text-classification --model " + dir + " --inputs-json '\"x\"' --kwargs '{\"topk\": 1}'", &status);
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(out.find("unknown keyword argument 'topk'"), std::string::npos) << out;
  out = run_cli("run no-such-task --model " + dir + " x", &status);
  EXPECT_EQ(WEXITSTATUS(status), 4);  // not supported
  EXPECT_NE(out.find("unknown task 'no-such-task'"), std::string::npos) << out;
}

// Exit codes a script can rely on (README, "Exit codes"): one "cppformers: error: ..." line.
TEST(RunCommand, ExitCodes) {
  const std::string dir = testing::pipeline_fixture("text_classification");
  testing::CliRun r = testing::run_cli("run text-classification --model /no/such/folder x");
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(r.err, "cppformers: error: /no/such/folder: no such model folder\n");
  r = testing::run_cli("run text-classification --model " + dir + " --inputs-json '[1'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--inputs-json: not valid JSON"), std::string::npos) << r.err;
  r = testing::run_cli("run text-classification --model " + dir + " --no-such-flag x");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
  r = testing::run_cli("run --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--no-progress"), std::string::npos) << r.out;
}

std::string last_frame(const std::string& s) {
  size_t at = s.rfind('\r');
  return at == std::string::npos ? s : s.substr(at + 1);
}

class PipelineProgress : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* v = std::getenv("CPPFORMERS_PROGRESS");
    saved_ = v ? std::optional<std::string>(v) : std::nullopt;
    ::unsetenv("CPPFORMERS_PROGRESS");
    dir_ = testing::pipeline_fixture("text_classification");
    for (int i = 0; i < 9; ++i) nine_.push_back("ticket number " + std::to_string(i) + " about a refund");
  }
  void TearDown() override {
    if (saved_) ::setenv("CPPFORMERS_PROGRESS", saved_->c_str(), 1);
    else ::unsetenv("CPPFORMERS_PROGRESS");
  }
  std::optional<std::string> saved_;
  std::string dir_;
  json nine_ = json::array();
};

TEST_F(PipelineProgress, ABarOnStderrForManyInputsWhenForced) {
  PipelineOptions o;
  o.batch_size = 2;  // more than 4 x 2 inputs get a bar
  o.progress = true;
  auto clf = pipeline("text-classification", dir_, o);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const json out = clf->call(nine_);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(out.size(), 9u);
  const std::string end = last_frame(err);
  EXPECT_EQ(end.rfind("text-classification: 100%|", 0), 0u) << err;
  EXPECT_NE(end.find("| 9/9 ["), std::string::npos) << err;
  EXPECT_EQ(err.rfind("\rtext-classification:   0%|", 0), 0u) << err;  // drawn at the start (then at most every 100 ms)

  json eight = nine_;
  eight.erase(eight.begin());
  ::testing::internal::CaptureStderr();
  clf->call(eight);  // 8 = 4 x batch_size: no bar
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");

  o.progress_min_inputs = 2;
  auto low = pipeline("text-classification", dir_, o);
  ::testing::internal::CaptureStderr();
  low->call(json::array({"a", "b", "c"}));
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("3/3"), std::string::npos);
}

TEST_F(PipelineProgress, OffByDefaultWhenStderrIsNotATerminal) {
  PipelineOptions o;
  o.batch_size = 2;
  auto clf = pipeline("text-classification", dir_, o);
  ::testing::internal::CaptureStderr();  // a file, not a terminal
  clf->call(nine_);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST_F(PipelineProgress, TheCommandKeepsStdoutCleanJson) {
  const std::string call = "run text-classification --model " + dir_ + " --batch-size 2 --inputs-json '" + nine_.dump() + "'";
  testing::CliRun quiet = testing::run_cli(call);
  ASSERT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.err, "");  // stderr is a file here: no bar by default
  testing::CliRun forced = testing::run_cli(call + " --progress");
  ASSERT_EQ(forced.code, 0) << forced.err;
  EXPECT_EQ(forced.out, quiet.out);  // the same single JSON line
  EXPECT_EQ(json::parse(forced.out).size(), 9u);
  EXPECT_NE(last_frame(forced.err).find("| 9/9 ["), std::string::npos) << forced.err;
  ::setenv("CPPFORMERS_PROGRESS", "1", 1);
  testing::CliRun by_env = testing::run_cli(call);
  testing::CliRun off = testing::run_cli(call + " --no-progress");
  ::unsetenv("CPPFORMERS_PROGRESS");
  EXPECT_NE(by_env.err.find("9/9"), std::string::npos) << by_env.err;
  EXPECT_EQ(off.err, "");
  // Positional inputs, one call each: a bar over them too when there are many.
  std::string many;
  for (int i = 0; i < 5; ++i) many += " 'text " + std::to_string(i) + "'";
  testing::CliRun args = testing::run_cli("run text-classification --model " + dir_ + " --progress" + many);
  ASSERT_EQ(args.code, 0) << args.err;
  EXPECT_NE(args.err.find("5/5"), std::string::npos) << args.err;
}

}  // namespace
}  // namespace cppformers
