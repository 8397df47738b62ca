#include "cppformers/ops/indexing.hpp"

#include <gtest/gtest.h>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;
using I = std::vector<int64_t>;

TEST(Embedding, LooksUpRows) {
  Tensor w = Tensor::from_vector<float>({0, 1, 10, 11, 20, 21, 30, 31}, {4, 2});
  Tensor ids = Tensor::from_vector<int64_t>({3, 0, 3, 1, 2, 0}, {2, 3});
  Tensor e = ops::embedding(ids, w);
  EXPECT_EQ(e.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(vals(e), (std::vector<float>{30, 31, 0, 1, 30, 31, 10, 11, 20, 21, 0, 1}));
  // i32 ids, a 0-d id, a bf16 table (computed in f32)
  Tensor ids32 = Tensor::from_vector<int32_t>({2, 1}, {2});
  EXPECT_EQ(vals(ops::embedding(ids32, w)), (std::vector<float>{20, 21, 10, 11}));
  EXPECT_EQ(ops::embedding(Tensor::scalar(1, kI64), w).shape(), (Shape{2}));
  Tensor e16 = ops::embedding(ids, w.to(kBF16));
  EXPECT_EQ(e16.dtype(), kF32);
  EXPECT_EQ(vals(e16), vals(e));
}

TEST(Embedding, OutOfRangeIdsAreErrors) {
  Tensor w = Tensor::zeros({4, 2});
  try {
    ops::embedding(Tensor::from_vector<int64_t>({1, 4}, {2}), w);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ops::embedding(Tensor::from_vector<int64_t>({-1}, {1}), w), ValueError);
  EXPECT_THROW(ops::embedding(Tensor::from_vector<float>({1}, {1}), w), ValueError);
  EXPECT_THROW(ops::embedding(Tensor::from_vector<int64_t>({1}, {1}), Tensor::zeros({4})), ValueError);
}

TEST(Embedding, GradientAccumulatesRepeatsAndSkipsPadding) {
  Tensor w = rnd({5, 3}, 1);
  Tensor ids = Tensor::from_vector<int64_t>({1, 4, 1, 0, 2, 1}, {2, 3});
  EXPECT_GRAD([ids](const V& in) { return ops::embedding(ids, in[0]); }, {w});
  // padding_idx: torch's gradient to the padding row is zero although the forward reads it, so
  // check by finite differences a function that does not depend on that row's lookups
  Tensor not_pad = ops::ne(ids, Tensor::scalar(1, kI64)).unsqueeze(-1);
  EXPECT_GRAD([ids, not_pad](const V& in) { return ops::embedding(ids, in[0], 1) * not_pad; }, {w});
  // exact: padding row gets zero, repeated rows add up, unused rows are zero
  w.set_grad(Tensor());
  ops::sum(ops::embedding(ids, w, /*padding_idx=*/0)).backward();
  auto g = vals(w.grad());
  const std::vector<float> per_row{0, 3, 1, 0, 1};  // row 0 is padding, row 3 unused
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 3; ++c) EXPECT_EQ(g[r * 3 + c], per_row[r]) << "row " << r;
}

TEST(IndexSelect, ValuesAndErrors) {
  Tensor x = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {3, 4});
  EXPECT_EQ(vals(ops::index_select(x, 0, Tensor::from_vector<int64_t>({2, 0, 2}, {3}))),
            (std::vector<float>{8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  Tensor c = ops::index_select(x, 1, Tensor::from_vector<int64_t>({3, -4}, {2}));
  EXPECT_EQ(c.shape(), (Shape{3, 2}));
  EXPECT_EQ(vals(c), (std::vector<float>{3, 0, 7, 4, 11, 8}));
  EXPECT_EQ(vals(ops::index_select(x.transpose(0, 1), 0, Tensor::from_vector<int64_t>({1}, {1}))),
            (std::vector<float>{1, 5, 9}));
  Tensor xi = Tensor::arange(6).reshape({2, 3});
  Tensor si = ops::index_select(xi, 1, Tensor::from_vector<int64_t>({2}, {1}));
  EXPECT_EQ(si.dtype(), kI64);
  EXPECT_EQ(si.to_vector<int64_t>(), (I{2, 5}));
  EXPECT_THROW(ops::index_select(x, 0, Tensor::from_vector<int64_t>({3}, {1})), ValueError);
  EXPECT_THROW(ops::index_select(x, 1, Tensor::from_vector<int64_t>({-5}, {1})), ValueError);
  EXPECT_THROW(ops::index_select(x, 2, Tensor::from_vector<int64_t>({0}, {1})), ValueError);
  EXPECT_THROW(ops::index_select(x, 0, Tensor::from_vector<int64_t>({0, 1}, {1, 2})), ValueError);
}

TEST(Gather, MatchesLoop) {
  Tensor x = rnd({3, 4, 5}, 5, -1, 1, false);
  auto vx = vals(x);
  for (int dim = 0; dim < 3; ++dim) {
    Shape is{3, 4, 5};
    is[dim] = 2;
    is[(dim + 1) % 3] -= 1;  // smaller than x in another dim, as torch allows
    std::vector<int64_t> idx(size_t(shape_numel(is)));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = int64_t((i * 7 + 3) % size_t(x.shape()[dim]));
    Tensor index = Tensor::from_vector<int64_t>(idx, is);
    auto got = vals(ops::gather(x, dim, index));
    const Shape st = contiguous_strides(is);
    for (int64_t k = 0; k < shape_numel(is); ++k) {
      int64_t p[3] = {k / st[0], (k / st[1]) % is[1], k % is[2]};
      p[dim] = idx[k];
      ASSERT_EQ(got[k], vx[(p[0] * 4 + p[1]) * 5 + p[2]]) << "dim " << dim << " k " << k;
    }
  }
  EXPECT_THROW(ops::gather(x, 0, Tensor::zeros({3, 4}, kI64)), ValueError);
  EXPECT_THROW(ops::gather(x, 0, Tensor::full({1, 1, 1}, 3, kI64)), ValueError);
  EXPECT_THROW(ops::gather(x, 0, Tensor::zeros({1, 5, 1}, kI64)), ValueError);
}

TEST(IndexAdd, AccumulatesDuplicates) {
  Tensor x = Tensor::ones({4, 2});
  Tensor src = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor out = ops::index_add(x, 0, Tensor::from_vector<int64_t>({3, 0, 3}, {3}), src);
  EXPECT_EQ(vals(out), (std::vector<float>{4, 5, 1, 1, 1, 1, 7, 9}));
  EXPECT_EQ(vals(x), std::vector<float>(8, 1.0f));  // not in place
  Tensor o1 = ops::index_add(x, 1, Tensor::from_vector<int64_t>({1}, {1}), Tensor::full({4, 1}, 2));
  EXPECT_EQ(vals(o1), (std::vector<float>{1, 3, 1, 3, 1, 3, 1, 3}));
  EXPECT_THROW(ops::index_add(x, 0, Tensor::from_vector<int64_t>({0}, {1}), src), ValueError);
}

TEST(IndexingGrad, IndexSelectGatherIndexAdd) {
  Tensor x = rnd({4, 3, 2}, 10);
  Tensor idx = Tensor::from_vector<int64_t>({2, 0, 2, 3}, {4});  // a repeat
  for (int dim : {0, 1, -1}) {
    Tensor ix = dim == 0 ? idx : Tensor::from_vector<int64_t>({1, 1, 0}, {3});
    if (dim == -1) ix = Tensor::from_vector<int64_t>({1, 0, 1}, {3});
    EXPECT_GRAD([dim, ix](const V& in) { return ops::index_select(in[0], dim, ix); }, {x});
  }
  Tensor gidx = Tensor::from_vector<int64_t>({0, 1, 1, 1, 0, 1}, {2, 3, 1});
  EXPECT_GRAD([gidx](const V& in) { return ops::gather(in[0], 2, gidx); }, {x});
  Tensor gidx0 = Tensor::from_vector<int64_t>({3, 3, 0, 1, 2, 0}, {1, 3, 2});
  EXPECT_GRAD([gidx0](const V& in) { return ops::gather(in[0], 0, gidx0); }, {x});
  Tensor base = rnd({5, 2}, 11), src = rnd({3, 2}, 12);
  Tensor aidx = Tensor::from_vector<int64_t>({4, 1, 4}, {3});
  EXPECT_GRAD([aidx](const V& in) { return ops::index_add(in[0], 0, aidx, in[1]); }, {base, src});
  EXPECT_GRAD([aidx](const V& in) { return ops::index_add(in[0] * in[0], 0, aidx, in[1] * 2.0); }, {base, src});
}

}  // namespace
}  // namespace cppformers
