#include "cppformers/pipelines/feature_extraction.hpp"

#include <gtest/gtest.h>

#include "cppformers/io/json.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(FeatureExtractionPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("feature_extraction");
  auto pipe = pipeline("feature-extraction", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) { return pipe->call(c["inputs"], c["kwargs"]); }), 3);
}

TEST(SentenceTransformer, MeanPooledNormalisedEmbeddingsMatchTheGolden) {
  const std::string dir = testing::pipeline_fixture("feature_extraction");
  const json g = io::read_json_file(dir + "/sentence_embeddings_golden.json");
  auto st = SentenceTransformer::from_pretrained(dir);
  EXPECT_EQ(st.pooling, "mean");
  EXPECT_TRUE(st.normalize);
  EXPECT_EQ(st.max_seq_length, g["max_seq_length"].get<int64_t>());
  const auto sentences = g["sentences"].get<std::vector<std::string>>();
  const Tensor e = st.encode(sentences, 8);
  const auto want = g["batched_padded"]["embeddings"];
  ASSERT_EQ(e.size(0), int64_t(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    for (size_t d = 0; d < want[i].size(); ++d) {
      const double w = want[i][d].get<double>();
      EXPECT_NEAR(e.select(0, int64_t(i)).select(0, int64_t(d)).item(), w, 1e-4 + 1e-4 * std::abs(w)) << i << "," << d;
    }
}

}  // namespace
}  // namespace cppformers
