#include "cppformers/models/vit/modeling.hpp"

#include <gtest/gtest.h>

#include "cppformers/models/parity_test_util.hpp"

namespace cppformers {
namespace {

TEST(ViT, MatchesPythonGolden) { testing::expect_golden_outputs("vit"); }

TEST(ViT, RejectsWrongPixelShape) {
  auto model = load_model_from_architectures(testing::hf_fixture("vit"));
  ModelInputs in;
  in.pixel_values = Tensor::zeros({1, 3, 16, 16});
  EXPECT_THROW(model->forward(in), ValueError);
  EXPECT_THROW(model->forward(ModelInputs{}), ValueError);
}

}  // namespace
}  // namespace cppformers
