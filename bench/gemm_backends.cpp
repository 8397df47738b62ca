// bench_gemm_backends: cppformers::cpu::gemm (oneDNN) against OpenBLAS's cblas_sgemm, f32,
// on one 1024^3 GEMM and on the GEMM shapes of BERT-base (tokens M = 128 and 1024 = batch 8 x
// seq 128; Linear layers: x[M,K] @ W[N,K]^T, W stored as PyTorch does).
//
//   bench_gemm_backends [--threads T] [--reps N] [--llama1b]
//
// --llama1b times instead the GEMM sequence of a Llama-1.1B prefill (see llama_prefill_sequence).
//
// OpenBLAS picks its kernels from OPENBLAS_CORETYPE when set (these machines may set Haswell,
// i.e. AVX2 kernels on an AVX-512 CPU); run it again with OPENBLAS_CORETYPE=SkylakeX to see
// its AVX-512 kernels. oneDNN picks its ISA itself.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cppformers/core/threads.hpp"
#include "cppformers/ops/cpu/gemm.hpp"
#include "peak.hpp"
#include "stats.hpp"

extern "C" {
void openblas_set_num_threads(int);
char* openblas_get_corename(void);
char* openblas_get_config(void);
}

namespace {

struct Shape {
  const char* what;
  int64_t M, N, K;
  bool b_transposed;  // B given as [N, K] (a Linear weight)
};

template <class F>
double best_gflops(int reps, double flops, F&& f) {
  f();  // warm-up (oneDNN builds its primitive here)
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = bench::now_s();
    f();
    best = std::min(best, bench::now_s() - t0);
  }
  return flops / best * 1e-9;
}

void settle() {  // let the other library's spinning threads go to sleep
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
}

// The GEMMs of one 128-token prefill of TinyLlama-1.1B's shape (22 layers of q, k, v, o with the
// residual, gate with SiLU, up, down with the residual; f32 weights stored [N, K] as a checkpoint
// has them, a distinct set per layer so every layer's weights come from DRAM), through
// cppformers::cpu::gemm (read-only weights, repacked once as the model does) and through
// OpenBLAS's cblas_sgemm (what PyTorch's f32 F.linear runs). The time of the sequence bounds the
// prefill's tokens/s from above, whatever the rest of the model costs.
void llama_prefill_sequence(int reps, double peak_gflops) {
  struct Op {
    int64_t N, K;
    cppformers::cpu::Activation act;
    bool residual;
  };
  const int64_t M = 128, H = 2048, I = 5632, KV = 256, L = 22;
  const std::vector<Op> layer = {{H, H, cppformers::cpu::Activation::kNone, false},
                                 {KV, H, cppformers::cpu::Activation::kNone, false},
                                 {KV, H, cppformers::cpu::Activation::kNone, false},
                                 {H, H, cppformers::cpu::Activation::kNone, true},
                                 {I, H, cppformers::cpu::Activation::kSilu, false},
                                 {I, H, cppformers::cpu::Activation::kNone, false},
                                 {H, I, cppformers::cpu::Activation::kNone, true}};
  double flops = 0;
  std::vector<std::shared_ptr<std::vector<float>>> weights;
  for (int64_t l = 0; l < L; ++l)
    for (const Op& op : layer) {
      auto w = std::make_shared<std::vector<float>>(size_t(op.N * op.K));
      for (size_t i = 0; i < w->size(); ++i) (*w)[i] = float(int((i + l) % 89) - 44) * 0.001f;
      weights.push_back(w);
      flops += 2.0 * M * op.N * op.K;
    }
  std::vector<float> a(M * I), c(M * I), res(M * H);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i % 97) - 48) * 0.01f;
  for (size_t i = 0; i < res.size(); ++i) res[i] = float(int(i % 31) - 15) * 0.01f;
  auto run_dnnl = [&] {
    for (size_t g = 0; g < weights.size(); ++g) {
      const Op& op = layer[g % layer.size()];
      cppformers::cpu::Epilogue ep;
      ep.activation = op.act;
      ep.residual = op.residual ? res.data() : nullptr;
      cppformers::cpu::MatrixView av{a.data(), {op.K, 1}};
      cppformers::cpu::MatrixView bv{weights[g]->data(), {1, op.K}, weights[g]};
      cppformers::cpu::gemm({}, M, op.N, op.K, av, bv, c.data(), {op.N, 1}, ep);
    }
  };
  auto run_oblas = [&] {
    for (size_t g = 0; g < weights.size(); ++g) {
      const Op& op = layer[g % layer.size()];
      if (op.residual) std::copy(res.begin(), res.end(), c.begin());
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, op.N, op.K, 1.0f, a.data(), op.K,
                  weights[g]->data(), op.K, op.residual ? 1.0f : 0.0f, c.data(), op.N);
      if (op.act == cppformers::cpu::Activation::kSilu)
        for (int64_t i = 0; i < M * op.N; ++i) c[i] = c[i] / (1 + std::exp(-c[i]));
    }
  };
  auto median_s = [&](auto&& f) {
    f();  // warm-up: oneDNN builds its primitives and repacks the weights here
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
      const double t0 = bench::now_s();
      f();
      t.push_back(bench::now_s() - t0);
    }
    return bench::median(t);
  };
  settle();
  const double td = median_s(run_dnnl);
  settle();
  const double to = median_s(run_oblas);
  std::printf("Llama-1.1B prefill GEMMs (M=%lld, %lld layers x 7, %.1f GFLOP, f32 weights), median of %d:\n",
              (long long)M, (long long)L, flops * 1e-9, reps);
  std::printf("  %-9s %8.1f ms %7.1f GFLOP/s %4.0f%% peak -> at most %6.1f prompt tok/s\n", "oneDNN", td * 1e3,
              flops / td * 1e-9, 100 * flops / td * 1e-9 / peak_gflops, double(M) / td);
  std::printf("  %-9s %8.1f ms %7.1f GFLOP/s %4.0f%% peak -> at most %6.1f prompt tok/s\n", "OpenBLAS", to * 1e3,
              flops / to * 1e-9, 100 * flops / to * 1e-9 / peak_gflops, double(M) / to);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, reps = 10;
  bool llama = false;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--llama1b") llama = true;
    else if (k == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (k == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "bench_gemm_backends: unknown or incomplete option %s\n", k.c_str());
      return 2;
    }
  }
  cppformers::set_num_threads(threads);
  openblas_set_num_threads(threads);
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("bench_gemm_backends: %d threads; OPENBLAS_CORETYPE=%s -> OpenBLAS core %s (%s)\n", threads,
              coretype ? coretype : "(unset)", openblas_get_corename(), openblas_get_config());
  const bench::FmaPeak peak = bench::fma_peak(threads);
  std::printf("fp32 FMA peak: %.0f GFLOP/s (%s loop)\n\n", peak.gflops, peak.isa.c_str());
  if (llama) {
    llama_prefill_sequence(reps, peak.gflops);
    return 0;
  }

  const std::vector<Shape> shapes = {
      {"square 1024^3", 1024, 1024, 1024, false},
      {"qkv fused   M=128", 128, 2304, 768, true},
      {"q/k/v/out   M=128", 128, 768, 768, true},
      {"intermediate M=128", 128, 3072, 768, true},
      {"output      M=128", 128, 768, 3072, true},
      {"qkv fused   M=1024", 1024, 2304, 768, true},
      {"q/k/v/out   M=1024", 1024, 768, 768, true},
      {"intermediate M=1024", 1024, 3072, 768, true},
      {"output      M=1024", 1024, 768, 3072, true},
  };
  std::printf("%-20s %5s %5s %5s %12s %12s %9s %8s\n", "shape", "M", "N", "K", "oneDNN GF/s", "OpenBLAS GF/s",
              "oneDNN/OB", "%peak");
  for (const Shape& s : shapes) {
    std::vector<float> a(s.M * s.K), b(s.K * s.N), c1(s.M * s.N), c2(s.M * s.N);
    for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i % 97) - 48) * 0.01f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = float(int(i % 89) - 44) * 0.01f;
    const double flops = 2.0 * s.M * s.N * s.K;
    // B[k, n] = b[n * K + k] when transposed, b[k * N + n] otherwise.
    const cppformers::cpu::MatrixView av{a.data(), {s.K, 1}};
    const cppformers::cpu::MatrixView bv = s.b_transposed ? cppformers::cpu::MatrixView{b.data(), {1, s.K}}
                                                          : cppformers::cpu::MatrixView{b.data(), {s.N, 1}};
    settle();
    const double dnnl = best_gflops(reps, flops, [&] {
      cppformers::cpu::gemm({}, s.M, s.N, s.K, av, bv, c1.data(), {s.N, 1});
    });
    settle();
    const double oblas = best_gflops(reps, flops, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, s.b_transposed ? CblasTrans : CblasNoTrans, s.M, s.N, s.K, 1.0f,
                  a.data(), s.K, b.data(), s.b_transposed ? s.K : s.N, 0.0f, c2.data(), s.N);
    });
    double maxdiff = 0;
    for (size_t i = 0; i < c1.size(); ++i) maxdiff = std::max(maxdiff, double(std::abs(c1[i] - c2[i])));
    std::printf("%-20s %5lld %5lld %5lld %12.1f %12.1f %9.2f %4.0f/%-3.0f%s\n", s.what, (long long)s.M,
                (long long)s.N, (long long)s.K, dnnl, oblas, dnnl / oblas, 100 * dnnl / peak.gflops,
                100 * oblas / peak.gflops, maxdiff > 1e-3 ? "  RESULTS DIFFER" : "");
  }
  std::printf("\n%%peak: oneDNN/OpenBLAS against the FMA peak above. Best of %d after one warm-up.\n", reps);
  return 0;
}
