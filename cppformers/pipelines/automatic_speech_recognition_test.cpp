// Replays Python's recorded automatic-speech-recognition calls (CTC, chunking, timestamps).
#include "cppformers/pipelines/automatic_speech_recognition.hpp"

#include <gtest/gtest.h>

#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(AutomaticSpeechRecognitionPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("automatic_speech_recognition");
  auto pipe = pipeline("automatic-speech-recognition", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) {
              return pipe->call(dir + "/" + c["inputs"]["$wav"].get<std::string>(), c["kwargs"]);
            }), 7);
  EXPECT_THROW(pipe->call(dir + "/config.json"), FormatError);  // not audio
}

TEST(CTCVocabulary, MergesRepeatsDropsBlanksAndSplitsWords) {
  CTCVocabulary v;
  v.id_to_token = {{0, "<pad>"}, {1, "|"}, {2, "A"}, {3, "B"}};
  std::vector<CTCVocabulary::Offset> chars, words;
  // A A <pad> A | <pad> | B B
  EXPECT_EQ(v.decode({2, 2, 0, 2, 1, 0, 1, 3, 3}, &chars, &words), "AA  B");
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0].text, "AA");
  EXPECT_EQ(words[0].start, 0);
  EXPECT_EQ(words[0].end, 4);
  EXPECT_EQ(words[1].text, "B");
  EXPECT_EQ(chars.size(), 5u);
}

}  // namespace
}  // namespace cppformers
