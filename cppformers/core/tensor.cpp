#include "cppformers/core/tensor.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <type_traits>

#include "cppformers/core/strided_loop.hpp"
#include "cppformers/ops/cpu/convert.hpp"

namespace cppformers {

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int64_t i = int64_t(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

static const std::shared_ptr<TensorImpl>& checked(const std::shared_ptr<TensorImpl>& p) {
  if (!p) throw ValueError("use of an undefined Tensor");
  return p;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape)
    if (d < 0) throw ValueError("Tensor::empty: negative dimension in shape " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(size_t(shape_numel(shape)) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor Tensor::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill_(value);
  return t;
}
Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::arange(int64_t n, DType dtype) {
  Tensor t = empty({n}, kI64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  return dtype == kI64 ? t : t.to(dtype);
}

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype,
                            int64_t offset_elems) {
  int64_t n = shape_numel(shape);
  if (offset_elems < 0 ||
      (uint64_t(offset_elems) + uint64_t(n)) * dtype_size(dtype) > storage->nbytes())
    throw ValueError("Tensor::from_storage: shape " + shape_str(shape) + " of " +
                     dtype_name(dtype) + " at offset " + std::to_string(offset_elems) +
                     " does not fit in " + std::to_string(storage->nbytes()) + " bytes");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->offset = offset_elems;
  impl->dtype = dtype;
  return Tensor(impl);
}

const Shape& Tensor::shape() const { return checked(impl_)->shape; }
const Shape& Tensor::strides() const { return checked(impl_)->strides; }
int64_t Tensor::numel() const { return shape_numel(shape()); }
int64_t Tensor::offset() const { return checked(impl_)->offset; }
DType Tensor::dtype() const { return checked(impl_)->dtype; }
Device Tensor::device() const { return checked(impl_)->storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked(impl_)->storage; }

int64_t Tensor::size(int64_t d) const {
  int64_t n = dim();
  if (d < -n || d >= n)
    throw ValueError("Tensor::size: dim " + std::to_string(d) + " out of range for shape " +
                     shape_str(shape()));
  return shape()[d < 0 ? d + n : d];
}

bool Tensor::is_contiguous() const {
  const auto& sh = shape();
  const auto& st = strides();
  int64_t acc = 1;
  for (int64_t i = int64_t(sh.size()) - 1; i >= 0; --i) {
    if (sh[i] != 1 && st[i] != acc) return false;
    acc *= sh[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  const auto& p = checked(impl_);
  return static_cast<char*>(p->storage->data()) + p->offset * int64_t(dtype_size(p->dtype));
}

// ---- element conversion between any two dtypes over any two layouts
namespace {
template <class T> inline double load_as_double(const void* p) {
  return double(*static_cast<const T*>(p));
}
inline double load(DType t, const char* p) {
  switch (t) {
    case kF32: return load_as_double<float>(p);
    case kF64: return load_as_double<double>(p);
    case kF16: return f16_to_f32(*reinterpret_cast<const uint16_t*>(p));
    case kBF16: return bf16_to_f32(*reinterpret_cast<const uint16_t*>(p));
    case kI64: return double(*reinterpret_cast<const int64_t*>(p));
    case kI32: return load_as_double<int32_t>(p);
    case kU8: return load_as_double<uint8_t>(p);
    case kBool: return *reinterpret_cast<const uint8_t*>(p) ? 1.0 : 0.0;
  }
  return 0;
}
inline void store(DType t, char* p, double v) {
  switch (t) {
    case kF32: *reinterpret_cast<float*>(p) = float(v); break;
    case kF64: *reinterpret_cast<double*>(p) = v; break;
    case kF16: *reinterpret_cast<uint16_t*>(p) = f32_to_f16(float(v)); break;
    case kBF16: *reinterpret_cast<uint16_t*>(p) = f32_to_bf16(float(v)); break;
    case kI64: *reinterpret_cast<int64_t*>(p) = int64_t(v); break;
    case kI32: *reinterpret_cast<int32_t*>(p) = int32_t(v); break;
    case kU8: *reinterpret_cast<uint8_t*>(p) = uint8_t(int64_t(v)); break;
    case kBool: *reinterpret_cast<uint8_t*>(p) = v != 0; break;
  }
}

// Whether every element of t has its own address (no 0 stride over a dim longer than 1), so
// that rows written by different threads never meet.
bool distinct_elements(const Tensor& t) {
  for (size_t d = 0; d < t.shape().size(); ++d)
    if (t.shape()[d] > 1 && t.strides()[d] == 0) return false;
  return true;
}

// The element conversions as lambda types (a function pointer would be called per element).
struct F32ToBF16 {
  uint16_t operator()(float x) const { return f32_to_bf16(x); }
};

template <class S, class D, class Conv>
void convert_rows(const Tensor& src, const Tensor& dst, Conv conv) {
  const S* s = static_cast<const S*>(src.raw_data());
  D* d = static_cast<D*>(dst.raw_data());
  strided_loop<2>(dst.shape(), {dst.strides(), src.strides()},
                  [&](auto off, int64_t n, auto st) {
                    D* dp = d + off[0];
                    const S* sp = s + off[1];
                    if (st[0] == 1 && st[1] == 1) {
                      if constexpr (std::is_same_v<S, float> && std::is_same_v<D, uint16_t> &&
                                    std::is_same_v<Conv, F32ToBF16>) {
                        cpu::f32_to_bf16(sp, dp, n);  // SIMD, same bits as the scalar rounding
                      } else {
                        for (int64_t i = 0; i < n; ++i) dp[i] = conv(sp[i]);
                      }
                    } else {
                      for (int64_t i = 0; i < n; ++i) dp[i * st[0]] = conv(sp[i * st[1]]);
                    }
                  },
                  /*parallel=*/distinct_elements(dst));
}
}  // namespace

// Copies src into dst elementwise; src already has dst's shape (strides may be 0 for broadcast).
static void copy_convert(const Tensor& src, const Tensor& dst) {
  DType sd = src.dtype(), dd = dst.dtype();
  if (sd == dd && dtype_size(sd) == 4) {
    convert_rows<uint32_t, uint32_t>(src, dst, [](uint32_t x) { return x; });
  } else if (sd == dd && dtype_size(sd) == 8) {
    convert_rows<uint64_t, uint64_t>(src, dst, [](uint64_t x) { return x; });
  } else if (sd == dd && dtype_size(sd) == 2) {
    convert_rows<uint16_t, uint16_t>(src, dst, [](uint16_t x) { return x; });
  } else if (sd == dd) {
    convert_rows<uint8_t, uint8_t>(src, dst, [](uint8_t x) { return x; });
  } else if (sd == kBF16 && dd == kF32) {
    convert_rows<uint16_t, float>(src, dst, [](uint16_t x) { return bf16_to_f32(x); });
  } else if (sd == kF16 && dd == kF32) {
    convert_rows<uint16_t, float>(src, dst, [](uint16_t x) { return f16_to_f32(x); });
  } else if (sd == kF32 && dd == kBF16) {
    convert_rows<float, uint16_t>(src, dst, F32ToBF16{});
  } else if (sd == kI64 && dd == kF32) {
    convert_rows<int64_t, float>(src, dst, [](int64_t x) { return float(x); });
  } else {  // the general (slow) path
    const char* s = static_cast<const char*>(src.raw_data());
    char* d = static_cast<char*>(dst.raw_data());
    const int64_t ss = int64_t(dtype_size(sd)), ds = int64_t(dtype_size(dd));
    strided_loop<2>(dst.shape(), {dst.strides(), src.strides()},
                    [&](auto off, int64_t n, auto st) {
                      for (int64_t i = 0; i < n; ++i)
                        store(dd, d + (off[0] + i * st[0]) * ds, load(sd, s + (off[1] + i * st[1]) * ss));
                    });
  }
}

void Tensor::copy_(const Tensor& src) const {
  if (storage()->read_only())
    throw ValueError("Tensor::copy_: destination is a read-only view (e.g. mmap'd weights)");
  // broadcast src to our shape without autograd (metadata only)
  const Shape& sh = shape();
  const Shape& ssh = src.shape();
  if (ssh.size() > sh.size())
    throw ValueError("Tensor::copy_: cannot broadcast " + shape_str(ssh) + " to " + shape_str(sh));
  Shape st(sh.size(), 0);
  size_t lead = sh.size() - ssh.size();
  for (size_t i = 0; i < ssh.size(); ++i) {
    if (ssh[i] == sh[lead + i]) st[lead + i] = src.strides()[i];
    else if (ssh[i] != 1)
      throw ValueError("Tensor::copy_: cannot broadcast " + shape_str(ssh) + " to " + shape_str(sh));
  }
  auto v = std::make_shared<TensorImpl>(*src.impl());
  v->shape = sh;
  v->strides = st;
  v->grad_fn = nullptr;
  v->grad = Tensor();
  copy_convert(Tensor(v), *this);
}

namespace {
// Writes one element's bit pattern over every element of t (any layout), memset when it is zero.
template <class U>
void fill_pattern(const Tensor& t, U bits) {
  U* d = static_cast<U*>(t.raw_data());
  strided_loop<1>(t.shape(), {t.strides()},
                  [&](auto off, int64_t n, auto st) {
                    U* p = d + off[0];
                    if (st[0] == 1) {
                      if (bits == U(0)) std::memset(p, 0, size_t(n) * sizeof(U));
                      else std::fill_n(p, n, bits);
                    } else {
                      for (int64_t i = 0; i < n; ++i) p[i * st[0]] = bits;
                    }
                  },
                  /*parallel=*/true);
}
}  // namespace

void Tensor::fill_(double value) const {
  if (storage()->read_only())
    throw ValueError("Tensor::fill_: destination is a read-only view (e.g. mmap'd weights)");
  // The value converted once, as copy_ from a double scalar would convert it.
  alignas(8) char elem[8] = {};
  store(dtype(), elem, value);
  switch (dtype_size(dtype())) {
    case 1: fill_pattern(*this, *reinterpret_cast<uint8_t*>(elem)); break;
    case 2: fill_pattern(*this, *reinterpret_cast<uint16_t*>(elem)); break;
    case 4: fill_pattern(*this, *reinterpret_cast<uint32_t*>(elem)); break;
    default: fill_pattern(*this, *reinterpret_cast<uint64_t*>(elem)); break;
  }
}

Tensor Tensor::detach() const {
  auto v = std::make_shared<TensorImpl>();
  const auto& p = checked(impl_);
  v->storage = p->storage;
  v->shape = p->shape;
  v->strides = p->strides;
  v->offset = p->offset;
  v->dtype = p->dtype;
  return Tensor(v);
}

double Tensor::item() const {
  if (numel() != 1)
    throw ValueError("Tensor::item: tensor of shape " + shape_str(shape()) + " has " +
                     std::to_string(numel()) + " elements, not 1");
  return load(dtype(), static_cast<const char*>(raw_data()));
}

bool Tensor::requires_grad() const { return checked(impl_)->requires_grad; }
Tensor& Tensor::requires_grad_(bool on) {
  if (on && !is_floating(dtype()))
    throw ValueError(std::string("requires_grad_: only floating tensors can require grad, not ") +
                     dtype_name(dtype()));
  checked(impl_)->requires_grad = on;
  return *this;
}
Tensor Tensor::grad() const { return checked(impl_)->grad; }
void Tensor::set_grad(const Tensor& g) const { checked(impl_)->grad = g; }
const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const { return checked(impl_)->grad_fn; }
void Tensor::set_grad_fn(std::shared_ptr<autograd::Node> fn) const {
  checked(impl_)->grad_fn = std::move(fn);
}

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  const Shape& sh = shape();
  Tensor c = to(is_floating(dtype()) ? kF64 : kI64).contiguous();
  const bool fl = is_floating(dtype());
  const int64_t n = c.numel();
  const int64_t edge = n > 1000 ? 3 : INT64_MAX;
  os << "tensor(";
  std::vector<int64_t> idx(sh.size(), 0);
  std::function<void(size_t, int64_t)> rec = [&](size_t d, int64_t base) {
    if (d == sh.size()) {
      char buf[32];
      if (fl) std::snprintf(buf, sizeof buf, "%.4f", c.data<double>()[base]);
      else std::snprintf(buf, sizeof buf, "%lld", (long long)c.data<int64_t>()[base]);
      os << buf;
      return;
    }
    os << "[";
    int64_t stride = c.strides()[d];
    for (int64_t i = 0; i < sh[d]; ++i) {
      if (sh[d] > 2 * edge && i == edge) {  // "a, b, c, ..., x, y, z", as torch prints
        os << (d + 1 == sh.size() ? ", ..." : ",\n" + std::string(8 + d, ' ') + "...");
        i = sh[d] - edge;
      }
      if (i) os << (d + 1 == sh.size() ? ", " : ",\n" + std::string(8 + d, ' '));
      rec(d + 1, base + i * stride);
    }
    os << "]";
  };
  rec(0, 0);
  os << ", shape=" << shape_str(sh);
  if (dtype() != kF32) os << ", dtype=" << dtype_name(dtype());
  if (requires_grad()) os << ", requires_grad=True";
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace cppformers
