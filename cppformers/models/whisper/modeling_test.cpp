#include "cppformers/models/whisper/modeling.hpp"

#include <gtest/gtest.h>

#include "cppformers/models/parity_test_util.hpp"

namespace cppformers {
namespace {

TEST(Whisper, MatchesPythonGolden) { testing::expect_golden_outputs("whisper"); }

TEST(Whisper, RejectsWrongFeatureLength) {
  auto model = load_model_from_architectures(testing::hf_fixture("whisper"));
  ModelInputs in;
  in.input_features = Tensor::zeros({1, 80, 31});
  in.decoder_input_ids = Tensor::from_vector<int64_t>({1}, {1, 1});
  EXPECT_THROW(model->forward(in), ValueError);
}

}  // namespace
}  // namespace cppformers
