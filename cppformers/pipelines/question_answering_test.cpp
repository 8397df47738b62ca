#include "cppformers/pipelines/question_answering.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "cppformers/io/json.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {
namespace {

std::string case_dir() {
  const std::string dir = std::string(CPPFORMERS_SOURCE_DIR) + "/../shared/fixtures/pipelines/question_answering";
  if (!std::filesystem::is_directory(dir)) ADD_FAILURE() << "fixture folder missing: " << dir;
  return dir;
}

// Floats within 1e-4 absolute; everything else (keys, strings, ints, lengths) exact.
::testing::AssertionResult json_close(const json& a, const json& b, const std::string& path = "$") {
  if (b.is_number_float() || a.is_number_float()) {
    if (!a.is_number() || !b.is_number() || std::abs(a.get<double>() - b.get<double>()) > 1e-4)
      return ::testing::AssertionFailure() << path << ": " << a.dump() << " != " << b.dump();
    return ::testing::AssertionSuccess();
  }
  if (b.is_object()) {
    if (!a.is_object() || a.size() != b.size()) return ::testing::AssertionFailure() << path << ": " << a.dump() << " != " << b.dump();
    for (auto& [k, v] : b.items()) {
      if (!a.contains(k)) return ::testing::AssertionFailure() << path << ": missing key " << k;
      auto r = json_close(a[k], v, path + "." + k);
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (b.is_array()) {
    if (!a.is_array() || a.size() != b.size())
      return ::testing::AssertionFailure() << path << ": " << a.dump().substr(0, 400) << " != " << b.dump().substr(0, 400);
    for (size_t i = 0; i < b.size(); ++i) {
      auto r = json_close(a[i], b[i], path + "[" + std::to_string(i) + "]");
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (a != b) return ::testing::AssertionFailure() << path << ": " << a.dump() << " != " << b.dump();
  return ::testing::AssertionSuccess();
}

class QuestionAnsweringTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pipe_ = pipeline("question-answering", case_dir()).release(); }
  static void TearDownTestSuite() {
    delete pipe_;
    pipe_ = nullptr;
  }
  static Pipeline* pipe_;
};
Pipeline* QuestionAnsweringTest::pipe_ = nullptr;

TEST_F(QuestionAnsweringTest, ReplaysEveryGoldenCall) {
  const json calls = io::read_json_file(case_dir() + "/pipeline_golden.json");
  size_t replayed = 0;
  for (const json& c : calls) {
    SCOPED_TRACE(c["id"].get<std::string>());
    ASSERT_FALSE(c.contains("error"));
    EXPECT_TRUE(json_close(pipe_->call(c["inputs"], c["kwargs"]), c["output"]));
    ++replayed;
  }
  EXPECT_EQ(replayed, 9u);
}

TEST_F(QuestionAnsweringTest, TypedCallAndKeywordInputs) {
  auto& qa = dynamic_cast<QuestionAnsweringPipeline&>(*pipe_);
  const std::string q = "Where does Sarah live?";
  const std::string c = "My name is Sarah and I live in London. I work as a nurse at the city hospital.";
  QuestionAnsweringOptions o;
  o.top_k = 3;
  const auto answers = qa(q, c, o);
  ASSERT_EQ(answers.size(), 3u);
  EXPECT_EQ(answers[0].answer, "London. I work as a nurse at the");
  EXPECT_EQ(answers[0].start, 31);
  EXPECT_EQ(answers[0].end, 63);
  EXPECT_NEAR(answers[0].score, 0.014739441685378551, 1e-4);
  EXPECT_GE(answers[0].score, answers[1].score);
  EXPECT_GE(answers[1].score, answers[2].score);
  // question= / context= keyword arguments, as Python accepts them
  const json by_kwargs = pipe_->call(nullptr, {{"question", q}, {"context", c}});
  EXPECT_EQ(by_kwargs, answers[0].to_json());
  const json two = pipe_->call(nullptr, {{"question", json::array({q, q})}, {"context", c}});
  ASSERT_TRUE(two.is_array());
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0], two[1]);
  // a list of one example returns that example's result, as Python
  EXPECT_EQ(pipe_->call(json::array({{{"question", q}, {"context", c}}}), json::object()), by_kwargs);
  // batching windows does not change the answers
  const json ctx = json::parse(R"("The Golden Gate Bridge is a suspension bridge spanning the Golden Gate, the one mile wide strait connecting San Francisco Bay and the Pacific Ocean. The structure links the city of San Francisco, on the northern tip of the San Francisco Peninsula, to Marin County.")");
  const json in = {{"question", "What does the bridge span?"}, {"context", ctx}};
  const json a1 = pipe_->call(in, {{"max_seq_len", 32}, {"doc_stride", 8}, {"top_k", 4}});
  const json a4 = pipe_->call(in, {{"max_seq_len", 32}, {"doc_stride", 8}, {"top_k", 4}, {"batch_size", 4}});
  EXPECT_TRUE(json_close(a4, a1));
}

TEST_F(QuestionAnsweringTest, AnswerSpansFollowTheLegacyCharacterMapping) {
  auto& qa = dynamic_cast<QuestionAnsweringPipeline&>(*pipe_);
  // several spaces after a word: the end points past the word (whitespace maps to the word before)
  const std::string c = "Alpha   beta gamma";
  QuestionAnsweringOptions o;
  o.top_k = 50;
  o.max_answer_len = 30;
  const auto answers = qa("Which?", c, o);
  ASSERT_FALSE(answers.empty());
  for (const auto& a : answers) {
    if (a.answer == "Alpha") {
      EXPECT_EQ(a.start, 0);
      EXPECT_EQ(a.end, 7);  // the last of the three spaces
    } else if (a.answer == "gamma") {
      EXPECT_EQ(a.start, 13);
      EXPECT_EQ(a.end, 17);  // last character of the context: its index, not one past it
    } else if (a.answer == "Alpha beta gamma") {
      EXPECT_EQ(a.start, 0);  // words joined by single spaces
      EXPECT_EQ(a.end, 17);
    }
  }
  // impossible answer: the null answer is a candidate
  o.top_k = 100;
  o.handle_impossible_answer = true;
  const auto with_null = qa("Which?", c, o);
  bool has_null = false;
  for (const auto& a : with_null) has_null |= a.answer.empty() && a.start == 0 && a.end == 0;
  EXPECT_TRUE(has_null);
}

TEST_F(QuestionAnsweringTest, RejectsBadArguments) {
  const json in = {{"question", "Who?"}, {"context", "Nobody here."}};
  EXPECT_THROW(pipe_->call(in, {{"top_k", 0}}), ValueError);
  EXPECT_THROW(pipe_->call(in, {{"max_answer_len", 0}}), ValueError);
  EXPECT_THROW(pipe_->call(in, {{"doc_stride", 65}}), ValueError);
  EXPECT_THROW(pipe_->call(in, {{"max_seq_len", 4}}), ValueError);
  EXPECT_THROW(pipe_->call(in, {{"bogus", 1}}), ValueError);
  EXPECT_THROW(pipe_->call(json{{"question", "Who?"}}, json::object()), KeyError);
  EXPECT_THROW(pipe_->call(json{{"question", ""}, {"context", "x"}}, json::object()), ValueError);
  EXPECT_THROW(pipe_->call("just a string", json::object()), ValueError);
}

}  // namespace
}  // namespace cppformers
