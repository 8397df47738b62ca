#pragma once
// Helpers shared by the ops and autograd tests (header-only; included by *_test.cpp only).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "cppformers/autograd/gradcheck.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/core/tensor.hpp"

namespace cppformers::cftest {

// Uniform values in [lo, hi); with min_abs > 0, values with |v| < min_abs are pushed away from
// zero (to keep inputs off the kinks of relu/abs/...).
inline std::vector<float> uniform(int64_t n, uint64_t seed, double lo = -1, double hi = 1,
                                  double min_abs = 0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) {
    double d = dist(rng);
    if (min_abs > 0 && std::abs(d) < min_abs) d = d < 0 ? d - min_abs : d + min_abs;
    x = float(d);
  }
  return v;
}

// A float32 leaf of random values; requires grad unless told otherwise.
inline Tensor rnd(const Shape& shape, uint64_t seed, double lo = -1, double hi = 1,
                  bool grad = true, double min_abs = 0) {
  Tensor t = Tensor::from_vector<float>(uniform(shape_numel(shape), seed, lo, hi, min_abs), shape);
  if (grad) t.requires_grad_();
  return t;
}

// A float32 leaf holding a shuffled arithmetic sequence centred on 0, step `step`: no two
// elements within finite-difference reach of each other (for max/min/sort-like ops).
inline Tensor distinct(const Shape& shape, uint64_t seed, double step = 0.05, bool grad = true) {
  const int64_t n = shape_numel(shape);
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = float((double(i) - double(n) / 2) * step);
  std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
  Tensor t = Tensor::from_vector<float>(v, shape);
  if (grad) t.requires_grad_();
  return t;
}

inline std::vector<float> vals(const Tensor& t) { return t.to_vector<float>(); }
inline std::vector<double> dvals(const Tensor& t) { return t.to_vector<double>(); }

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

inline ::testing::AssertionResult grad_ok(Fn f, std::vector<Tensor> inputs, double eps = 1e-3,
                                          double atol = 1e-3, double rtol = 1e-2) {
  std::string report;
  if (autograd::gradcheck(std::move(f), std::move(inputs), eps, atol, rtol, &report))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << report;
}

// Element i of t (row-major logical order), as double.
inline double at(const Tensor& t, int64_t i) { return t.to_vector<double>()[size_t(i)]; }

}  // namespace cppformers::cftest

#define EXPECT_GRAD(f, ...) EXPECT_TRUE(::cppformers::cftest::grad_ok(f, __VA_ARGS__))
