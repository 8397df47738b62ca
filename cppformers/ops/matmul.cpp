#include "cppformers/ops/matmul.hpp"

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/cpu/gemm.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers::ops {

namespace {

Tensor f32(const Tensor& t) { return t.dtype() == kF32 ? t : t.detach().to(kF32); }

// t ([batch..., R, C], batch dims already expanded to `batch`) as a strided batch of matrices.
// Copies when the batch dims cannot be described by one stride or no inner stride is 1.
cpu::MatrixView matrix_view(Tensor& t, int64_t nbatch_dims) {
  const Shape& sh = t.shape();
  const Shape& st = t.strides();
  const int64_t nd = t.dim();
  bool ok = st[nd - 1] == 1 || st[nd - 2] == 1 || sh[nd - 1] == 1 || sh[nd - 2] == 1;
  int64_t bstride = 0;
  bool have = false;
  for (int64_t d = nbatch_dims - 1; d >= 0 && ok; --d) {
    if (sh[d] == 1) continue;
    if (!have) {
      bstride = st[d];
      have = true;
    } else {
      int64_t inner = 1;
      for (int64_t e = d + 1; e < nbatch_dims; ++e) inner *= sh[e];
      ok = st[d] == bstride * inner;
    }
  }
  if (!ok) {
    t = t.contiguous();
    return matrix_view(t, nbatch_dims);
  }
  int64_t rs = st[nd - 2], cs = st[nd - 1];
  if (sh[nd - 1] == 1) cs = 1;  // degenerate dims: any stride works, prefer unit
  if (sh[nd - 2] == 1 && cs != 1) rs = 1;
  return {static_cast<const float*>(t.raw_data()), bstride, rs, cs};
}

Tensor matmul_nd(const Tensor& a0, const Tensor& b0) {
  Tensor a = f32(a0), b = f32(b0);
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  if (b.size(-2) != K)
    throw ValueError("matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                     " cannot be multiplied (" + std::to_string(K) + " != " + std::to_string(b.size(-2)) + ")");
  Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ab, bb);
  Shape ae = batch, be = batch;
  ae.insert(ae.end(), {M, K});
  be.insert(be.end(), {K, N});
  Tensor ax = a.detach().expand(ae), bx = b.detach().expand(be);
  const int64_t nb = int64_t(batch.size());
  cpu::MatrixView av = matrix_view(ax, nb), bv = matrix_view(bx, nb);
  Shape os = batch;
  os.insert(os.end(), {M, N});
  Tensor out = Tensor::empty(os, kF32);
  cpu::gemm(shape_numel(batch), M, N, K, av, bv, nullptr, out.data<float>());
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() == 0 || b.dim() == 0) throw ValueError("matmul: both arguments need at least 1 dim");
  Tensor out;
  if (a.dim() == 1 && b.dim() == 1) {
    out = matmul_nd(a.detach().unsqueeze(0), b.detach().unsqueeze(1)).reshape({});
  } else if (a.dim() == 1) {
    out = matmul_nd(a.detach().unsqueeze(0), b.detach()).squeeze(-2);
  } else if (b.dim() == 1) {
    out = matmul_nd(a.detach(), b.detach().unsqueeze(1)).squeeze(-1);
  } else {
    out = matmul_nd(a.detach(), b.detach());
  }
  out = out.detach();
  if (autograd::needs_grad({&a, &b}))
    autograd::record(out, "matmul", {a, b}, [a = a.detach(), b = b.detach()](const Tensor& g) {
      Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a, b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
      Tensor g2 = g;
      if (a.dim() == 1 && b.dim() == 1) g2 = g.reshape({1, 1});
      else if (a.dim() == 1) g2 = g.unsqueeze(-2);
      else if (b.dim() == 1) g2 = g.unsqueeze(-1);
      Tensor ga = matmul(g2, b2.transpose(-1, -2)), gb = matmul(a2.transpose(-1, -2), g2);
      ga = sum_to(ga, a2.shape()).reshape(a.shape());
      gb = sum_to(gb, b2.shape()).reshape(b.shape());
      return std::vector<Tensor>{ga, gb};
    });
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.dim() != 2 || x.dim() == 0 || x.size(-1) != weight.size(1))
    throw ValueError("linear: input " + shape_str(x.shape()) + " does not match weight " +
                     shape_str(weight.shape()) + " ([out_features, in_features])");
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    throw ValueError("linear: bias " + shape_str(bias.shape()) + " does not match weight " +
                     shape_str(weight.shape()));
  const int64_t in = weight.size(1), outf = weight.size(0);
  Tensor x2 = f32(x).detach().reshape({-1, in});
  Tensor w = f32(weight).detach();
  Tensor bvec = bias.defined() ? f32(bias).detach().contiguous() : Tensor();
  cpu::MatrixView av = matrix_view(x2, 0);
  // B = weight^T: element (k, n) is weight[n, k]
  cpu::MatrixView bv{static_cast<const float*>(w.raw_data()), 0, w.strides()[1], w.strides()[0]};
  if (w.strides()[0] != 1 && w.strides()[1] != 1) {
    w = w.contiguous();
    bv = {static_cast<const float*>(w.raw_data()), 0, 1, in};
  }
  Shape os = x.shape();
  os.back() = outf;
  Tensor out = Tensor::empty(os, kF32);
  cpu::gemm(1, x2.size(0), outf, in, av, bv, bvec.defined() ? bvec.data<float>() : nullptr,
            out.data<float>());
  if (autograd::needs_grad({&x, &weight, &bias}))
    autograd::record(out, "linear", {x, weight, bias},
                     [x = x.detach(), w = weight.detach(), has_bias = bias.defined()](const Tensor& g) {
                       const int64_t in = w.size(1), outf = w.size(0);
                       Tensor g2 = g.reshape({-1, outf});
                       Tensor gx = matmul(g2, w).reshape(x.shape());
                       Tensor gw = matmul(g2.transpose(0, 1), x.reshape({-1, in}));
                       Tensor gb = has_bias ? sum(g2, {0}) : Tensor();
                       return std::vector<Tensor>{gx, gw, gb};
                     });
  return out;
}

}  // namespace cppformers::ops
