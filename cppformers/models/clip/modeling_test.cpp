#include "cppformers/models/clip/modeling.hpp"

#include <gtest/gtest.h>

#include "cppformers/models/parity_test_util.hpp"
#include "cppformers/ops/ops.hpp"

namespace cppformers {
namespace {

TEST(CLIP, MatchesPythonGolden) { testing::expect_golden_outputs("clip"); }

TEST(CLIP, FeaturesAreTheUnnormalisedProjections) {
  const std::string dir = testing::hf_fixture("clip");
  auto model = std::dynamic_pointer_cast<CLIPModel>(load_model_from_architectures(dir));
  ASSERT_TRUE(model);
  auto gold = io::load_file(dir + "/golden.safetensors");
  ModelInputs in = ModelInputs::from_tensors(gold);
  autograd::NoGradGuard no_grad;
  Tensor t = model->get_text_features(in), i = model->get_image_features(in);
  auto norm = [](const Tensor& x) { return x / ops::sqrt(ops::sum(x * x, {-1}, true)); };
  EXPECT_TRUE(testing::all_close(norm(t), gold.at("text_embeds")));
  EXPECT_TRUE(testing::all_close(norm(i), gold.at("image_embeds")));
}

}  // namespace
}  // namespace cppformers
