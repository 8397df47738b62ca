#include "cppformers/core/tensor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "cppformers/ops/ops.hpp"

namespace cppformers {
namespace {

TEST(Tensor, FactoriesAndMetadata) {
  Tensor t = Tensor::zeros({2, 3});
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.strides(), (Shape{3, 1}));
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.dtype(), kF32);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.size(-1), 3);
  EXPECT_THROW(t.size(2), ValueError);
  Tensor a = Tensor::arange(5);
  EXPECT_EQ(a.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_THROW(Tensor::from_vector<float>({1, 2, 3}, {2, 2}), ValueError);
}

TEST(Tensor, CopySharesStorageViewsShareData) {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor u = t;  // a handle: same tensor
  u.narrow(1, 1, 1).fill_(9);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 9, 3, 4, 9, 6}));
  Tensor tt = t.transpose(0, 1);
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_EQ(tt.shape(), (Shape{3, 2}));
  EXPECT_EQ(tt.contiguous().to_vector<float>(), (std::vector<float>{1, 4, 9, 9, 3, 6}));
  EXPECT_EQ(tt.storage().get(), t.storage().get());
  EXPECT_EQ(t.select(0, 1).to_vector<float>(), (std::vector<float>{4, 9, 6}));
  EXPECT_EQ(t.reshape({3, 2}).storage().get(), t.storage().get());        // viewable: no copy
  EXPECT_NE(tt.reshape({6}).storage().get(), t.storage().get());          // not viewable: a copy
  EXPECT_THROW(tt.view({6}), ValueError);
  EXPECT_EQ(t.view({-1}).shape(), (Shape{6}));
  EXPECT_THROW(t.view({4, -1}), ValueError);
}

TEST(Tensor, DtypeConversions) {
  Tensor t = Tensor::from_vector<float>({1.5f, -2.25f, 65504.0f, 1e-8f}, {4});
  auto bf = t.to(kBF16).to(kF32).to_vector<float>();
  EXPECT_FLOAT_EQ(bf[0], 1.5f);
  EXPECT_FLOAT_EQ(bf[1], -2.25f);
  auto h = t.to(kF16).to(kF32).to_vector<float>();
  EXPECT_FLOAT_EQ(h[2], 65504.0f);
  EXPECT_NEAR(h[3], 1e-8f, 1e-8f);  // subnormal in f16 rounds to 0 or the nearest step
  EXPECT_EQ(t.to(kI64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 65504, 0}));
  EXPECT_EQ(Tensor::from_vector<float>({0, 2}, {2}).to(kBool).to_vector<uint8_t>()[1], 1);
  // bf16 rounding: round-to-nearest-even of 1 + 2^-8 (exactly halfway) gives 1
  EXPECT_EQ(f32_to_bf16(1.0f + 1.0f / 256), f32_to_bf16(1.0f));
  EXPECT_EQ(f16_to_f32(f32_to_f16(0.1f)), 0.0999755859375f);
}

// The f32 <-> bf16 conversions of to()/copy_ (SIMD rows when contiguous) match the scalar
// element conversion bit for bit: long (threaded) and strided inputs, rounding ties, NaN, inf.
TEST(Tensor, Bf16ConversionsMatchScalarReference) {
  const int64_t rows = 37, cols = 2053;  // > the threaded grain; odd so SIMD tails are hit
  std::vector<float> v(size_t(rows * cols));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(float(i) * 0.37f) * float(1 + i % 1000);
  v[1] = 1.0f + 1.0f / 256;  // a tie: rounds to even
  v[2] = std::numeric_limits<float>::quiet_NaN();
  v[3] = -std::numeric_limits<float>::infinity();
  v[4] = std::numeric_limits<float>::max();
  v[5] = 1e-40f;  // subnormal
  Tensor t = Tensor::from_vector<float>(v, {rows, cols});
  auto check = [](const Tensor& f, const Tensor& b) {
    const std::vector<float> fv = f.contiguous().to_vector<float>();
    const Tensor bc = b.contiguous();
    ASSERT_EQ(bc.dtype(), kBF16);
    ASSERT_EQ(size_t(bc.numel()), fv.size());
    const uint16_t* bv = static_cast<const uint16_t*>(bc.raw_data());
    for (size_t i = 0; i < fv.size(); ++i) ASSERT_EQ(bv[i], f32_to_bf16(fv[i])) << "element " << i;
  };
  Tensor b = t.to(kBF16);
  check(t, b);
  Tensor tt = t.transpose(0, 1);  // strided rows
  check(tt, tt.to(kBF16));
  Tensor nar = t.narrow(1, 3, 1000);  // contiguous rows with a row stride
  check(nar, nar.to(kBF16));
  Tensor back = b.to(kF32);
  const uint16_t* bv = static_cast<const uint16_t*>(b.raw_data());
  const std::vector<float> fv = back.to_vector<float>();
  for (size_t i = 0; i < fv.size(); ++i) {
    const float want = bf16_to_f32(bv[i]);
    ASSERT_TRUE(std::memcmp(&fv[i], &want, 4) == 0) << "element " << i;
  }
}

TEST(Tensor, PrintingShowsValuesShapeAndDtype) {
  Tensor t = Tensor::from_vector<int64_t>({1, 2, 3, 4}, {2, 2});
  const std::string s = t.to_string();
  EXPECT_NE(s.find("[[1, 2]"), std::string::npos) << s;
  EXPECT_NE(s.find("dtype=int64"), std::string::npos) << s;
  EXPECT_NE(Tensor::zeros({3}).to_string().find("0.0000"), std::string::npos);
}

}  // namespace
}  // namespace cppformers
