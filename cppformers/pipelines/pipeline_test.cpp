// The pipeline registry and `cppformers run` end to end (the built program, as a user runs it).
#include "cppformers/pipelines/pipeline.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <sys/wait.h>

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
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(out.find("unknown task 'no-such-task'"), std::string::npos) << out;
}

}  // namespace
}  // namespace cppformers
