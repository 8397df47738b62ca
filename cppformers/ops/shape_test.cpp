#include "cppformers/ops/shape.hpp"

#include <gtest/gtest.h>

#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/test_util.hpp"

namespace cppformers {
namespace {

using namespace cftest;
using V = std::vector<Tensor>;

TEST(Shape, CatAndStackValues) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  Tensor b = Tensor::from_vector<float>({5, 6}, {1, 2});
  Tensor c0 = ops::cat({a, b}, 0);
  EXPECT_EQ(c0.shape(), (Shape{3, 2}));
  EXPECT_EQ(vals(c0), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Tensor d = Tensor::from_vector<float>({7, 8, 9, 10, 11, 12}, {2, 3});
  Tensor c1 = ops::cat({a, d}, -1);
  EXPECT_EQ(c1.shape(), (Shape{2, 5}));
  EXPECT_EQ(vals(c1), (std::vector<float>{1, 2, 7, 8, 9, 3, 4, 10, 11, 12}));
  // non-contiguous pieces, an empty piece
  Tensor c2 = ops::cat({a.transpose(0, 1), Tensor::zeros({0, 2}), b}, 0);
  EXPECT_EQ(vals(c2), (std::vector<float>{1, 3, 2, 4, 5, 6}));
  // integer pieces stay integer
  Tensor ic = ops::cat({Tensor::arange(2), Tensor::arange(3)}, 0);
  EXPECT_EQ(ic.dtype(), kI64);
  EXPECT_EQ(ic.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0, 1, 2}));
  Tensor s0 = ops::stack({a, a * 10.0}, 0);
  EXPECT_EQ(s0.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(vals(s0), (std::vector<float>{1, 2, 3, 4, 10, 20, 30, 40}));
  Tensor s2 = ops::stack({a, a * 10.0}, -1);
  EXPECT_EQ(s2.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(vals(s2), (std::vector<float>{1, 10, 2, 20, 3, 30, 4, 40}));
  Tensor s1 = ops::stack({a, a * 10.0, a * 100.0}, 1);
  EXPECT_EQ(s1.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(vals(s1), (std::vector<float>{1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400}));
  EXPECT_THROW(ops::cat({}, 0), ValueError);
  EXPECT_THROW(ops::cat({a, b}, 1), ValueError);
  EXPECT_THROW(ops::cat({a, Tensor::zeros({2})}, 0), ValueError);
  EXPECT_THROW(ops::stack({a, b}, 0), ValueError);
  EXPECT_THROW(ops::stack({a}, 3), ValueError);
}

TEST(Shape, ViewsShareStorageAndIndexCorrectly) {
  Tensor x = Tensor::arange(24).to(kF32).reshape({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});  // [4, 2, 3]
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.storage().get(), x.storage().get());
  EXPECT_EQ(at(p, (3 * 2 + 1) * 3 + 2), (1 * 3 + 2) * 4 + 3);  // p[3,1,2] == x[1,2,3]
  EXPECT_THROW(x.permute({0, 1}), ValueError);
  EXPECT_THROW(x.permute({0, 1, 1}), ValueError);
  Tensor n = x.narrow(2, -3, 2);  // negative start counts from the end
  EXPECT_EQ(vals(n.select(0, 0).select(0, 0)), (std::vector<float>{1, 2}));
  EXPECT_THROW(x.narrow(2, 3, 2), ValueError);
  EXPECT_EQ(vals(x.select(1, -1).select(0, 1)), (std::vector<float>{20, 21, 22, 23}));
  EXPECT_THROW(x.select(1, 3), ValueError);
  EXPECT_EQ(x.unsqueeze(0).shape(), (Shape{1, 2, 3, 4}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 3, 4, 1}));
  EXPECT_EQ(x.unsqueeze(1).unsqueeze(1).squeeze(1).shape(), (Shape{2, 1, 3, 4}));
  EXPECT_EQ(x.squeeze(0).shape(), (Shape{2, 3, 4}));  // not size 1: unchanged
  Tensor e = x.narrow(1, 0, 1).expand({2, 5, 4});
  EXPECT_EQ(e.shape(), (Shape{2, 5, 4}));
  EXPECT_EQ(e.strides()[1], 0);
  EXPECT_EQ(at(e, (1 * 5 + 4) * 4 + 2), 14);
  EXPECT_EQ(x.expand({3, -1, -1, -1}).shape(), (Shape{3, 2, 3, 4}));
  EXPECT_THROW(x.expand({2, 2, 4}), ValueError);
  EXPECT_EQ(x.flatten().shape(), (Shape{24}));
  EXPECT_EQ(x.flatten(1).shape(), (Shape{2, 12}));
  EXPECT_EQ(x.flatten(0, 1).shape(), (Shape{6, 4}));
  EXPECT_EQ(vals(p.flatten()), vals(p.contiguous()));
  Tensor c = x.clone();
  EXPECT_NE(c.storage().get(), x.storage().get());
  EXPECT_TRUE(x.contiguous().same(x));
  EXPECT_TRUE(x.to(kF32).same(x));
}

TEST(Shape, ToString) {
  Tensor f = Tensor::from_vector<float>({1.5f, -2, 0.25f, 3}, {2, 2});
  const std::string s = f.to_string();
  EXPECT_NE(s.find("[[1.5000, -2.0000],"), std::string::npos) << s;
  EXPECT_NE(s.find("[0.2500, 3.0000]]"), std::string::npos) << s;
  EXPECT_NE(s.find("shape=[2, 2]"), std::string::npos) << s;
  EXPECT_EQ(s.find("dtype"), std::string::npos) << s;  // f32 is the default, as torch omits it
  Tensor g = f.clone().requires_grad_();
  EXPECT_NE(g.to_string().find("requires_grad=True"), std::string::npos);
  Tensor b = ops::gt(f, Tensor::scalar(0.0));
  EXPECT_NE(b.to_string().find("[[1, 0]"), std::string::npos) << b.to_string();
  EXPECT_NE(b.to_string().find("dtype=bool"), std::string::npos) << b.to_string();
  EXPECT_NE(Tensor::scalar(2.0).to_string().find("tensor(2.0000"), std::string::npos) << Tensor::scalar(2.0).to_string();
  // large tensors are elided in the middle
  const std::string big = Tensor::arange(5000).to_string();
  EXPECT_NE(big.find("[0, 1, 2, ..., 4997, 4998, 4999]"), std::string::npos) << big.substr(0, 200);
  EXPECT_LT(big.size(), 200u);
  EXPECT_EQ(Tensor().to_string(), "tensor(undefined)");
  std::ostringstream os;
  os << Tensor::arange(2);
  EXPECT_NE(os.str().find("[0, 1]"), std::string::npos);
}

TEST(ShapeGrad, Views) {
  Tensor x = rnd({2, 3, 4}, 1);
  std::vector<std::function<Tensor(const Tensor&)>> views{
      [](const Tensor& t) { return t.view({6, 4}); },
      [](const Tensor& t) { return t.view({-1}); },
      [](const Tensor& t) { return t.reshape({4, 6}); },
      [](const Tensor& t) { return t.transpose(0, 2).reshape({-1}); },  // reshape that copies
      [](const Tensor& t) { return t.transpose(0, 2); },
      [](const Tensor& t) { return t.transpose(-1, 1); },
      [](const Tensor& t) { return t.permute({1, 2, 0}); },
      [](const Tensor& t) { return t.narrow(1, 1, 2); },
      [](const Tensor& t) { return t.narrow(2, 0, 1); },
      [](const Tensor& t) { return t.select(0, 1); },
      [](const Tensor& t) { return t.select(2, -1); },
      [](const Tensor& t) { return t.unsqueeze(1); },
      [](const Tensor& t) { return t.unsqueeze(-1); },
      [](const Tensor& t) { return t.narrow(1, 2, 1).squeeze(1); },
      [](const Tensor& t) { return t.unsqueeze(0).expand({3, 2, 3, 4}); },
      [](const Tensor& t) { return t.narrow(1, 0, 1).expand({2, 5, 4}); },
      [](const Tensor& t) { return t.flatten(); },
      [](const Tensor& t) { return t.flatten(1, 2); },
      [](const Tensor& t) { return t.transpose(0, 1).contiguous(); },
      [](const Tensor& t) { return t.contiguous(); },
      [](const Tensor& t) { return t.clone(); },
      [](const Tensor& t) { return t.to(kF32); },
      [](const Tensor& t) { return t.permute({2, 0, 1}).narrow(0, 1, 2).transpose(1, 2).reshape({2, 6}); },
  };
  for (size_t i = 0; i < views.size(); ++i)
    EXPECT_GRAD([&](const V& in) { return views[i](in[0]) * 1.0; }, {x}) << "view " << i;
}

TEST(ShapeGrad, ViewsOfViewsAccumulate) {
  // two overlapping narrow views of one tensor, combined
  Tensor x = rnd({5, 3}, 2);
  EXPECT_GRAD([](const V& in) { return in[0].narrow(0, 0, 3) * in[0].narrow(0, 2, 3); }, {x});
  EXPECT_GRAD([](const V& in) { return in[0].select(1, 0) + in[0].select(1, 2) * in[0].select(1, 0); }, {x});
}

TEST(ShapeGrad, CatStack) {
  Tensor a = rnd({2, 3}, 10), b = rnd({1, 3}, 11), c = rnd({2, 2}, 12);
  EXPECT_GRAD([](const V& in) { return ops::cat({in[0], in[1]}, 0); }, {a, b});
  EXPECT_GRAD([](const V& in) { return ops::cat({in[0], in[1], in[0]}, 1); }, {a, c});
  EXPECT_GRAD([](const V& in) { return ops::cat({in[0].transpose(0, 1), in[1]}, 1); }, {a, rnd({3, 1}, 13)});
  // only some pieces require grad
  Tensor frozen = rnd({2, 3}, 14, -1, 1, false);
  EXPECT_GRAD([frozen](const V& in) { return ops::cat({frozen, in[0]}, -1); }, {a});
  Tensor d = rnd({2, 3}, 15);
  for (int dim : {0, 1, 2, -1})
    EXPECT_GRAD([dim](const V& in) { return ops::stack({in[0], in[1], in[0]}, dim); }, {a, d});
}

}  // namespace
}  // namespace cppformers
