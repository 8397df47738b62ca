#include "cppformers/models/wav2vec2/modeling.hpp"

#include <gtest/gtest.h>

#include "cppformers/models/parity_test_util.hpp"

namespace cppformers {
namespace {

TEST(Wav2Vec2, LayerNormVariantWithMaskMatchesPythonGolden) { testing::expect_golden_outputs("wav2vec2"); }
TEST(Wav2Vec2, GroupNormVariantMatchesPythonGolden) { testing::expect_golden_outputs("wav2vec2_base"); }

TEST(Wav2Vec2, CtcLossOfATrivialAlignment) {
  // one frame per label, certain predictions: loss 0; labels padded with -100 are ignored
  Tensor lp = Tensor::full({1, 3, 3}, -1e4);
  float* p = lp.data<float>();
  p[0 * 3 + 1] = 0, p[1 * 3 + 0] = 0, p[2 * 3 + 2] = 0;  // 1, blank, 2
  Tensor labels = Tensor::from_vector<int64_t>({1, 2, -100}, {1, 3});
  EXPECT_NEAR(ctc_loss(lp, labels, {3}, 0, "mean", false).item(), 0.0, 1e-6);
  EXPECT_TRUE(std::isinf(ctc_loss(lp, labels, {1}, 0, "sum", false).item()));
  EXPECT_EQ(ctc_loss(lp, labels, {1}, 0, "sum", true).item(), 0.0);
}

TEST(Wav2Vec2, RejectsTooShortInput) {
  auto model = load_model_from_architectures(testing::hf_fixture("wav2vec2_base"));
  ModelInputs in;
  in.input_values = Tensor::zeros({1, 20});
  EXPECT_THROW(model->forward(in), ValueError);
}

}  // namespace
}  // namespace cppformers
