#include "cppformers/nn/f32_param.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "cppformers/autograd/node.hpp"
#include "cppformers/core/dtype.hpp"
#include "cppformers/core/storage.hpp"

namespace cppformers::nn {
namespace {

// A read-only bf16 tensor, as load_state_dict leaves a parameter it converted.
Tensor read_only_bf16(const std::vector<float>& values) {
  Tensor t = Tensor::from_vector(values, {int64_t(values.size())}).to(kBF16).contiguous();
  return Tensor::from_storage(Storage::view(t.raw_data(), values.size() * 2, t.storage(), true), t.shape(), kBF16);
}

TEST(F32Param, ReadOnlyHalfParameterIsWidenedOnceAndKept) {
  autograd::NoGradGuard no_grad;
  const std::vector<float> values{1.0f, -2.5f, 0.333333f, 1e-3f, 65504.0f};
  Tensor p = read_only_bf16(values);
  Tensor a = f32_param(p);
  ASSERT_EQ(a.dtype(), kF32);
  ASSERT_EQ(a.shape(), p.shape());
  const std::vector<float> got = a.to_vector<float>();
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(got[i], bf16_to_f32(f32_to_bf16(values[i]))) << i;
  EXPECT_EQ(f32_param(p).raw_data(), a.raw_data());  // the same copy on the next call
  // Another view of the same storage gets its own copy.
  Tensor tail = p.narrow(0, 2, 3);
  const std::vector<float> t = f32_param(tail).to_vector<float>();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], got[2]);
  EXPECT_EQ(t[2], got[4]);
}

TEST(F32Param, OtherParametersAreReturnedAsTheyAre) {
  autograd::NoGradGuard no_grad;
  Tensor f = Tensor::from_vector(std::vector<float>{1, 2}, {2});
  EXPECT_EQ(f32_param(f).raw_data(), f.raw_data());  // already f32
  Tensor writable = f.to(kBF16);                     // may change in place: no cache
  EXPECT_EQ(f32_param(writable).dtype(), kBF16);
  EXPECT_FALSE(f32_param(Tensor()).defined());
}

TEST(F32Param, AParameterThatTakesAGradientIsNotReplaced) {
  Tensor p = read_only_bf16({1.0f, 2.0f});
  p.requires_grad_(true);
  EXPECT_EQ(f32_param(p).dtype(), kBF16);  // grad mode on: the op must see the parameter itself
  autograd::NoGradGuard no_grad;
  EXPECT_EQ(f32_param(p).dtype(), kF32);
}

}  // namespace
}  // namespace cppformers::nn
