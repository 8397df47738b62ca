#include "cppformers/ops/matmul.hpp"

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/autocast.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"
#include "cppformers/ops/cpu/convert.hpp"
#include "cppformers/ops/cpu/gemv.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>

namespace cppformers::ops {

namespace {

Tensor f32(const Tensor& t) { return t.dtype() == kF32 ? t : t.detach().to(kF32); }
// Whether t's elements fill one dense block in some order of its dims (contiguous, or a
// transpose / permutation of a contiguous tensor): then they are the numel() values from
// raw_data() on, and the strides say where each one sits.
bool dense_permuted(const Tensor& t) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of the dims that are not 1
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.size(d) != 1) dims.emplace_back(t.strides()[size_t(d)], t.size(d));
  std::sort(dims.begin(), dims.end());
  int64_t expect = 1;
  for (auto [stride, size] : dims) {
    if (stride != expect) return false;
    expect *= size;
  }
  return true;
}

// Rounded to bf16 (nearest even), for the operands of a bf16 product; f32 through the SIMD
// conversion. A dense f32 view keeps its layout (a transposed operand is converted as it lies,
// not copied into row-major order first); other views are made contiguous first.
Tensor bf16(const Tensor& t) {
  if (t.dtype() == kBF16) return t.detach();
  if (t.dtype() != kF32) return t.detach().to(kBF16);
  const Tensor src = dense_permuted(t) ? t.detach() : t.detach().contiguous();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(size_t(src.numel()) * 2);
  impl->shape = src.shape();
  impl->strides = src.strides();
  impl->dtype = kBF16;
  cpu::f32_to_bf16(static_cast<const float*>(src.raw_data()), static_cast<uint16_t*>(impl->storage->data()), src.numel());
  return Tensor(impl);
}

// t ([batch..., R, C], f32 or bf16) as a strided batch of matrices, read in place unless
// neither inner stride is 1 (then copied contiguous first).
cpu::MatrixView matrix_view(Tensor& t) {
  const int64_t nd = t.dim();
  const Shape& sh = t.shape();
  const Shape& st = t.strides();
  const bool ok = st[nd - 1] == 1 || st[nd - 2] == 1 || sh[nd - 1] == 1 || sh[nd - 2] == 1;
  if (!ok) t = t.contiguous();
  return {t.raw_data(), t.strides(), nullptr, t.dtype() == kBF16 ? cpu::ElemType::kBF16 : cpu::ElemType::kF32};
}

// The batch shape and the operands expanded to it, for a @ b with a, b of >= 2 dims.
struct Operands {
  Shape batch;
  Tensor a, b;
  int64_t M, N, K;
};
// Under bf16 autocast both operands are rounded to bf16 (before any broadcast is expanded).
Operands prepare(const Tensor& a0, const Tensor& b0) {
  const bool low = autocast_bf16();
  Tensor a = low ? bf16(a0) : f32(a0), b = low ? bf16(b0) : f32(b0);
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  if (b.size(-2) != K)
    throw ValueError("matmul: shapes " + shape_str(a.shape()) + " and " + shape_str(b.shape()) +
                     " cannot be multiplied (" + std::to_string(K) + " != " + std::to_string(b.size(-2)) + ")");
  Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Operands o{broadcast_shapes(ab, bb), {}, {}, M, N, K};
  Shape ae = o.batch, be = o.batch;
  ae.insert(ae.end(), {M, K});
  be.insert(be.end(), {K, N});
  o.a = a.detach().expand(ae);
  o.b = b.detach().expand(be);
  return o;
}

Tensor matmul_nd(const Tensor& a0, const Tensor& b0) {
  Operands o = prepare(a0, b0);
  Shape os = o.batch;
  os.insert(os.end(), {o.M, o.N});
  Tensor out = Tensor::empty(os, kF32);
  cpu::gemm(o.batch, o.M, o.N, o.K, matrix_view(o.a), matrix_view(o.b), out.data<float>(), out.strides());
  return out;
}

}  // namespace

void matmul_into(const Tensor& a, const Tensor& b, const Tensor& out) {
  if (a.dim() < 2 || b.dim() < 2) throw ValueError("matmul_into: both arguments need at least 2 dims");
  Operands o = prepare(a, b);
  Shape os = o.batch;
  os.insert(os.end(), {o.M, o.N});
  if (out.dtype() != kF32 || out.shape() != os)
    throw ValueError("matmul_into: out must be float32 of shape " + shape_str(os) + ", got " +
                     dtype_name(out.dtype()) + " " + shape_str(out.shape()));
  cpu::gemm(o.batch, o.M, o.N, o.K, matrix_view(o.a), matrix_view(o.b), out.data<float>(), out.strides());
}

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
    autograd::record(out, "matmul", {a, b}, [a = a.detach(), b = b.detach(), low = autocast_bf16()](const Tensor& g) {
      AutocastGuard precision(low);  // the backward products in the forward's precision
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

Tensor activate(const Tensor& x, Activation a) {
  switch (a) {
    case Activation::kNone: return x;
    case Activation::kGeluErf: return gelu(x);
    case Activation::kGeluTanh: return gelu(x, "tanh");
    case Activation::kRelu: return relu(x);
    case Activation::kSilu: return silu(x);
  }
  return x;
}

namespace {

// Weights the few-row kernel streams in their stored type: rows contiguous, f32/bf16/f16.
bool gemv_weight(const Tensor& w, cpu::WeightType* wt) {
  if (w.strides()[1] != 1 && w.strides()[0] != 1) return false;
  switch (w.dtype()) {
    case DType::kF32: *wt = cpu::WeightType::kF32; return true;
    case DType::kBF16: *wt = cpu::WeightType::kBF16; return true;
    case DType::kF16: *wt = cpu::WeightType::kF16; return true;
    default: return false;
  }
}

// Read-only bf16/f16 weights (a checkpoint kept in its own dtype) widened to f32 once for the
// many-row products, and kept while the weights live; few-row products read them as stored.
Tensor widened_weight(const Tensor& w) {
  if (w.dtype() == kF32 || !w.storage()->read_only()) return f32(w).detach();
  struct Entry {
    std::weak_ptr<const void> owner;
    Shape shape, strides;  // the view that was widened (a transposed view shares its data pointer)
    Tensor f32;
  };
  static std::mutex mu;
  static std::multimap<const void*, Entry> cache;
  std::lock_guard<std::mutex> lock(mu);
  // Drop the copies of weights that are gone, so that they do not outlive their model.
  for (auto it = cache.begin(); it != cache.end();) it = it->second.owner.expired() ? cache.erase(it) : std::next(it);
  const std::shared_ptr<const void> owner = w.storage();
  auto [first, last] = cache.equal_range(w.raw_data());
  for (auto it = first; it != last; ++it)
    if (it->second.owner.lock() == owner && it->second.shape == w.shape() && it->second.strides == w.strides())
      return it->second.f32;
  Tensor wide = w.detach().to(kF32).contiguous();
  cache.emplace(w.raw_data(), Entry{owner, w.shape(), w.strides(), wide});
  return wide;
}

}  // namespace

static Tensor linear_plain(const Tensor& x, const Tensor& weight, const Tensor& bias, const LinearEpilogue& ep) {
  const int64_t in = weight.size(1), outf = weight.size(0);
  Tensor x2 = f32(x).detach().reshape({-1, in});
  Tensor bvec = bias.defined() ? f32(bias).detach().contiguous() : Tensor();
  Tensor res = ep.residual.defined() ? f32(ep.residual).detach().contiguous() : Tensor();
  Shape os = x.shape();
  os.back() = outf;
  if (res.defined() && res.shape() != os)
    throw ValueError("linear: residual " + shape_str(res.shape()) + " does not match the output " + shape_str(os));
  Tensor out = Tensor::empty(os, kF32);
  const cpu::Epilogue e{bvec.defined() ? bvec.data<float>() : nullptr, ep.activation,
                        res.defined() ? res.data<float>() : nullptr};
  cpu::WeightType wt;
  if (x2.size(0) >= 1 && x2.size(0) <= cpu::kGemvMaxRows && gemv_weight(weight, &wt)) {
    // Few rows: stream the weights once, in their stored dtype.
    x2 = x2.contiguous();
    cpu::gemv(x2.size(0), outf, in, x2.data<float>(), in, weight.raw_data(), wt, weight.strides()[0],
              weight.strides()[1], out.data<float>(), outf, e);
    return out;
  }
  if (autocast_bf16() || (weight.dtype() == kBF16 && native_bf16_gemm())) {
    // bf16 product, f32 accumulation: bf16 weights as stored (repacked once when read-only),
    // f32 ones rounded per call under autocast; the input rounded to bf16.
    Tensor xb = bf16(x2).contiguous(), wb = bf16(weight);
    bool constant = weight.dtype() == kBF16 && weight.storage()->read_only();
    if (wb.strides()[0] != 1 && wb.strides()[1] != 1) wb = wb.contiguous(), constant = false;
    const cpu::MatrixView av{xb.raw_data(), {in, 1}, nullptr, cpu::ElemType::kBF16};
    const cpu::MatrixView bv{wb.raw_data(), {wb.strides()[1], wb.strides()[0]},
                             constant ? std::shared_ptr<const void>(wb.storage()) : nullptr, cpu::ElemType::kBF16};
    cpu::gemm({}, xb.size(0), outf, in, av, bv, out.data<float>(), {outf, 1}, e);
    return out;
  }
  Tensor w = widened_weight(weight);
  // Read-only weights (loaded from a checkpoint) and their cached f32 widening never change, so
  // the GEMM may keep them repacked.
  bool constant = weight.storage()->read_only();
  if (w.strides()[0] != 1 && w.strides()[1] != 1) w = w.contiguous(), constant = false;
  // B = weight^T: element (k, n) is weight[n, k].
  const cpu::MatrixView bv{w.raw_data(), {w.strides()[1], w.strides()[0]},
                           constant ? std::shared_ptr<const void>(w.storage()) : nullptr};
  cpu::gemm({}, x2.size(0), outf, in, matrix_view(x2), bv, out.data<float>(), {outf, 1}, e);
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const LinearEpilogue& ep) {
  if (weight.dim() != 2 || x.dim() == 0 || x.size(-1) != weight.size(1))
    throw ValueError("linear: input " + shape_str(x.shape()) + " does not match weight " +
                     shape_str(weight.shape()) + " ([out_features, in_features])");
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
    throw ValueError("linear: bias " + shape_str(bias.shape()) + " does not match weight " +
                     shape_str(weight.shape()));
  const bool grad = autograd::needs_grad({&x, &weight, &bias, &ep.residual});
  if (!grad) return linear_plain(x, weight, bias, ep);
  if (ep.activation != Activation::kNone || ep.residual.defined()) {  // composed, with autograd
    Tensor y = activate(linear(x, weight, bias), ep.activation);
    return ep.residual.defined() ? add(y, ep.residual) : y;
  }
  Tensor out = linear_plain(x, weight, bias, {});
  autograd::record(out, "linear", {x, weight, bias},
                   [x = x.detach(), w = weight.detach(), has_bias = bias.defined(), low = autocast_bf16()](const Tensor& g) {
                     AutocastGuard precision(low);  // the backward products in the forward's precision
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
