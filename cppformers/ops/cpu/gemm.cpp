#include "cppformers/ops/cpu/gemm.hpp"

#include <dnnl.hpp>
#include <map>
#include <mutex>
#include <array>
#include <unordered_map>

namespace cppformers::cpu {

namespace {

using Key = std::array<int64_t, 13>;

struct Engine {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::mutex mu;
  std::map<Key, dnnl::matmul> cache;  // one primitive per shape/stride pattern
};

Engine& engine() {
  static Engine e;
  return e;
}

thread_local dnnl::stream* t_stream = nullptr;

}  // namespace

void gemm(int64_t batch, int64_t M, int64_t N, int64_t K, MatrixView A, MatrixView B,
          const float* bias, float* C) {
  using dt = dnnl::memory::data_type;
  using dims = dnnl::memory::dims;
  if (M == 0 || N == 0 || batch == 0) return;
  if (K == 0) {
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) C[(b * M + i) * N + j] = bias ? bias[j] : 0.0f;
    return;
  }
  // oneDNN wants a non-zero batch stride for a batch of 1 and broadcasting as a batch dim of 1.
  const int64_t bsA = A.batch_stride, bsB = B.batch_stride;
  const int64_t bA = (batch > 1 && bsA == 0) ? 1 : batch, bB = (batch > 1 && bsB == 0) ? 1 : batch;
  Engine& e = engine();
  dims a_dims{bA, M, K}, a_str{bsA ? bsA : M * K, A.row_stride, A.col_stride};
  dims b_dims{bB, K, N}, b_str{bsB ? bsB : K * N, B.row_stride, B.col_stride};
  dims c_dims{batch, M, N}, c_str{M * N, N, 1};
  dnnl::memory::desc a_md(a_dims, dt::f32, a_str), b_md(b_dims, dt::f32, b_str),
      c_md(c_dims, dt::f32, c_str), bias_md({1, 1, N}, dt::f32, dims{N, N, 1});
  const Key key{batch, M, N, K, bA, a_str[0], A.row_stride, A.col_stride,
                bB, b_str[0], B.row_stride, B.col_stride, bias != nullptr};
  dnnl::matmul prim;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    auto it = e.cache.find(key);
    if (it == e.cache.end()) {
      auto desc = bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md) : dnnl::matmul::desc(a_md, b_md, c_md);
      dnnl::matmul::primitive_desc pd(desc, e.engine);
      if (e.cache.size() > 4096) e.cache.clear();
      it = e.cache.emplace(key, dnnl::matmul(pd)).first;
    }
    prim = it->second;
  }
  if (!t_stream) t_stream = new dnnl::stream(e.engine);
  dnnl::memory am(a_md, e.engine, const_cast<float*>(A.data)), bm(b_md, e.engine, const_cast<float*>(B.data)),
      cm(c_md, e.engine, C);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
  if (bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_md, e.engine, const_cast<float*>(bias)));
  prim.execute(*t_stream, args);
  t_stream->wait();
}

}  // namespace cppformers::cpu
