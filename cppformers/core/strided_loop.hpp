#pragma once
// Walks N same-shaped strided views row by row: for every index of the leading dims it calls
// row(offsets, n, inner_strides) where offsets[i] is operand i's element offset of the row start,
// n the length of the row and inner_strides[i] operand i's stride along it. Dims that are
// contiguous in every operand are collapsed first, so contiguous operands make one long row.
// With `parallel`, rows (or chunks of one long row) are spread over the OpenMP threads when the
// work is large enough; `row` must then be safe to call concurrently on disjoint outputs.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace cppformers {

inline constexpr int64_t kParallelGrain = 32768;  // elements below which threads cost more than they give

template <size_t N, class Row>
void strided_loop(const std::vector<int64_t>& shape, const std::array<std::vector<int64_t>, N>& strides,
                  Row&& row, bool parallel = false) {
  std::vector<int64_t> sh;
  std::array<std::vector<int64_t>, N> st;
  int64_t total = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    total *= shape[d];
    if (shape[d] == 1) continue;
    bool merge = !sh.empty();
    for (size_t i = 0; i < N && merge; ++i) merge = st[i].back() == strides[i][d] * shape[d];
    if (merge) {
      sh.back() *= shape[d];
      for (size_t i = 0; i < N; ++i) st[i].back() = strides[i][d];
    } else {
      sh.push_back(shape[d]);
      for (size_t i = 0; i < N; ++i) st[i].push_back(strides[i][d]);
    }
  }
  if (total == 0) return;
  if (sh.empty()) {  // a scalar
    sh.push_back(1);
    for (size_t i = 0; i < N; ++i) st[i].push_back(0);
  }
  const int64_t nd = int64_t(sh.size());
  std::array<int64_t, N> inner_st;
  for (size_t i = 0; i < N; ++i) inner_st[i] = st[i][nd - 1];

  // Rows of dims [1, nd-1) under a fixed index of dim 0 (or of the whole shape when nd == 1).
  auto walk = [&](int64_t first, std::array<int64_t, N> off) {
    if (nd == 1) return;
    for (size_t i = 0; i < N; ++i) off[i] += first * st[i][0];
    std::vector<int64_t> idx(nd, 0);
    while (true) {
      row(off, sh[nd - 1], inner_st);
      int64_t d = nd - 2;
      for (; d >= 1; --d) {
        if (++idx[d] < sh[d]) {
          for (size_t i = 0; i < N; ++i) off[i] += st[i][d];
          break;
        }
        for (size_t i = 0; i < N; ++i) off[i] -= st[i][d] * (sh[d] - 1);
        idx[d] = 0;
      }
      if (d < 1) return;
    }
  };
  const std::array<int64_t, N> zero{};
  const bool par = parallel && total >= kParallelGrain;
  if (nd == 1) {  // one long row: split it into chunks
    const int64_t n = sh[0], chunk = par ? kParallelGrain / 2 : n;
    const int64_t nchunks = (n + chunk - 1) / chunk;
#pragma omp parallel for if (par && nchunks > 1) schedule(static)
    for (int64_t c = 0; c < nchunks; ++c) {
      std::array<int64_t, N> off;
      for (size_t i = 0; i < N; ++i) off[i] = c * chunk * inner_st[i];
      row(off, std::min(chunk, n - c * chunk), inner_st);
    }
    return;
  }
#pragma omp parallel for if (par && sh[0] > 1) schedule(static)
  for (int64_t i0 = 0; i0 < sh[0]; ++i0) walk(i0, zero);
}

}  // namespace cppformers
