#include "cppformers/ops/cpu/gemm.hpp"

#include <dnnl.hpp>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace cppformers::cpu {

namespace {

using Key = std::vector<int64_t>;

struct Primitive {
  dnnl::matmul prim;
  dnnl::memory::desc weights;  // the layout the primitive reads B in
};

// A constant B repacked into a primitive's preferred layout; valid while `owner` lives.
struct Packed {
  std::weak_ptr<const void> owner;
  dnnl::memory::desc source;  // the view that was repacked (a transpose shares the data pointer)
  dnnl::memory::desc desc;
  dnnl::memory mem;
  size_t bytes;
};

struct Engine {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::mutex mu;
  std::map<Key, Primitive> cache;  // one primitive per shape/stride/epilogue pattern
  std::multimap<const void*, Packed> packed;
  size_t packed_bytes = 0;
};

// Repacking pays off once the product has enough rows to amortise nothing per call; below this
// (e.g. one-token decoding) B is read in place and no copy is kept.
constexpr int64_t kPackMinRows = 16;
constexpr size_t kPackMaxBytes = size_t(8) << 30;

Engine& engine() {
  static Engine* e = new Engine();  // never destroyed: primitives may be used during exit
  return *e;
}

dnnl::algorithm eltwise_alg(Activation a) {
  switch (a) {
    case Activation::kGeluErf: return dnnl::algorithm::eltwise_gelu_erf;
    case Activation::kGeluTanh: return dnnl::algorithm::eltwise_gelu_tanh;
    case Activation::kRelu: return dnnl::algorithm::eltwise_relu;
    case Activation::kSilu: return dnnl::algorithm::eltwise_swish;
    case Activation::kNone: break;
  }
  return dnnl::algorithm::undef;
}

}  // namespace

bool native_bf16() {
  static const bool yes = [] {
    switch (dnnl::get_effective_cpu_isa()) {
      case dnnl::cpu_isa::avx512_core_bf16:
      case dnnl::cpu_isa::avx512_core_amx:
        return true;
      default:
        return false;
    }
  }();
  return yes;
}

size_t packed_weight_bytes() {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mu);
  return e.packed_bytes;
}

void clear_packed_weights() {
  Engine& e = engine();
  std::lock_guard<std::mutex> lock(e.mu);
  e.packed.clear();
  e.packed_bytes = 0;
}

void gemm(const std::vector<int64_t>& batch, int64_t M, int64_t N, int64_t K, const MatrixView& A,
          const MatrixView& B, float* C, const std::vector<int64_t>& c_strides, const Epilogue& ep) {
  using dt = dnnl::memory::data_type;
  using dims = dnnl::memory::dims;
  const size_t nb = batch.size(), nd = nb + 2;
  if (A.strides.size() != nd || B.strides.size() != nd || c_strides.size() != nd)
    throw std::invalid_argument("cpu::gemm: stride lists must have one entry per dim");
  if (A.type != B.type) throw std::invalid_argument("cpu::gemm: A and B must have the same element type");
  const dt in_type = A.type == ElemType::kBF16 ? dt::bf16 : dt::f32;
  int64_t count = M * N;
  for (int64_t b : batch) count *= b;
  if (count == 0) return;
  // oneDNN wants broadcast dims as size 1 (its strides then do not matter) and no zero strides.
  dims a_dims(nd), b_dims(nd), c_dims(nd), a_str(A.strides), b_str(B.strides), c_str(c_strides);
  for (size_t d = 0; d < nb; ++d) {
    a_dims[d] = A.strides[d] == 0 ? 1 : batch[d];
    b_dims[d] = B.strides[d] == 0 ? 1 : batch[d];
    c_dims[d] = batch[d];
  }
  a_dims[nb] = M, a_dims[nb + 1] = K;
  b_dims[nb] = K, b_dims[nb + 1] = N;
  c_dims[nb] = M, c_dims[nb + 1] = N;
  // Strides of size-1 (or broadcast) dims are free: give them the dense value oneDNN expects.
  auto fix = [&](dims& d, dims& s) {
    int64_t acc = 1;
    for (int64_t i = int64_t(nd) - 1; i >= 0; --i) {
      if (d[i] == 1) s[i] = acc;
      acc *= d[i];
    }
  };
  fix(a_dims, a_str);
  fix(b_dims, b_str);
  if (K == 0) {  // an empty sum: the epilogue of zeros
    for (int64_t e = 0; e < count; ++e) {
      int64_t rem = e, off = 0;
      for (int64_t d = int64_t(nd) - 1; d >= 0; --d) {
        off += (rem % c_dims[d]) * c_str[d];
        rem /= c_dims[d];
      }
      float v = ep.bias ? ep.bias[e % N] : 0.0f;
      switch (ep.activation) {
        case Activation::kRelu: v = v < 0 ? 0 : v; break;
        case Activation::kGeluErf: v = 0.5f * v * (1 + std::erf(v * 0.70710678f)); break;
        case Activation::kGeluTanh: v = 0.5f * v * (1 + std::tanh(0.7978845608f * (v + 0.044715f * v * v * v))); break;
        case Activation::kSilu: v = v / (1 + std::exp(-v)); break;
        case Activation::kNone: break;
      }
      C[off] = v + (ep.residual ? ep.residual[e] : 0.0f);
    }
    return;
  }
  dims r_str(nd);
  {
    int64_t acc = 1;
    for (int64_t i = int64_t(nd) - 1; i >= 0; --i) r_str[i] = acc, acc *= c_dims[i];
  }
  Key key;
  key.reserve(6 * nd + 4);
  for (auto* v : {&a_dims, &a_str, &b_dims, &b_str, &c_dims, &c_str}) key.insert(key.end(), v->begin(), v->end());
  key.push_back(ep.bias != nullptr);
  key.push_back(int64_t(ep.activation));
  key.push_back(ep.residual != nullptr);
  key.push_back(int64_t(nd));
  const bool pack = B.constant_owner && nb == 0 && M >= kPackMinRows;
  key.push_back(pack);
  key.push_back(int64_t(A.type));

  Engine& e = engine();
  dnnl::memory::desc a_md(a_dims, in_type, a_str), b_md(b_dims, in_type, b_str), c_md(c_dims, dt::f32, c_str);
  dims bias_dims(nd, 1), bias_str(nd, N);
  bias_dims[nd - 1] = N;
  bias_str[nd - 1] = 1;
  dnnl::memory::desc bias_md(bias_dims, dt::f32, bias_str), res_md(c_dims, dt::f32, r_str);
  dnnl::matmul prim;
  dnnl::memory b_mem;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    auto it = e.cache.find(key);
    if (it == e.cache.end()) {
      dnnl::post_ops po;
      // alpha: relu's slope below zero (0), swish's x * sigmoid(alpha x) (1); gelu reads none.
      if (ep.activation != Activation::kNone)
        po.append_eltwise(1.0f, eltwise_alg(ep.activation), ep.activation == Activation::kRelu ? 0.0f : 1.0f, 0.0f);
      if (ep.residual) po.append_binary(dnnl::algorithm::binary_add, res_md);
      dnnl::primitive_attr attr;
      attr.set_post_ops(po);
      const dnnl::memory::desc w_md = pack ? dnnl::memory::desc(b_dims, in_type, dnnl::memory::format_tag::any) : b_md;
      auto desc = ep.bias ? dnnl::matmul::desc(a_md, w_md, bias_md, c_md) : dnnl::matmul::desc(a_md, w_md, c_md);
      dnnl::matmul::primitive_desc pd(desc, attr, e.engine);
      if (e.cache.size() > 4096) e.cache.clear();
      it = e.cache.emplace(key, Primitive{dnnl::matmul(pd), pd.weights_desc()}).first;
    }
    prim = it->second.prim;
    if (pack) {  // find (or make) B repacked into the layout this primitive reads
      const dnnl::memory::desc& want = it->second.weights;
      auto range = e.packed.equal_range(B.data);
      for (auto p = range.first; p != range.second;) {
        if (p->second.owner.expired()) {  // its weights are gone; the address may be reused
          e.packed_bytes -= p->second.bytes;
          p = e.packed.erase(p);
          continue;
        }
        if (p->second.desc == want && p->second.source == b_md && p->second.owner.lock() == B.constant_owner)
          b_mem = p->second.mem;
        ++p;
      }
      if (!b_mem && e.packed_bytes + want.get_size() <= kPackMaxBytes) {
        dnnl::memory src(b_md, e.engine, const_cast<void*>(B.data));
        b_mem = dnnl::memory(want, e.engine);
        dnnl::stream s(e.engine);
        dnnl::reorder(src, b_mem).execute(s, src, b_mem);
        s.wait();
        e.packed.emplace(B.data, Packed{B.constant_owner, b_md, want, b_mem, want.get_size()});
        e.packed_bytes += want.get_size();
      }
    }
  }
  if (pack && !b_mem) {  // over the cap: read B in place
    MatrixView unpacked = B;
    unpacked.constant_owner = nullptr;
    return gemm(batch, M, N, K, A, unpacked, C, c_strides, ep);
  }
  thread_local dnnl::stream stream(e.engine);
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, dnnl::memory(a_md, e.engine, const_cast<void*>(A.data))},
      {DNNL_ARG_WEIGHTS, b_mem ? b_mem : dnnl::memory(b_md, e.engine, const_cast<void*>(B.data))},
      {DNNL_ARG_DST, dnnl::memory(c_md, e.engine, C)}};
  if (ep.bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(bias_md, e.engine, const_cast<float*>(ep.bias)));
  if (ep.residual) {
    const int index = ep.activation != Activation::kNone ? 1 : 0;  // position in the post-op chain
    args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(index) | DNNL_ARG_SRC_1,
                 dnnl::memory(res_md, e.engine, const_cast<float*>(ep.residual)));
  }
  prim.execute(stream, args);
  stream.wait();
}

}  // namespace cppformers::cpu
