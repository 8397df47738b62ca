#pragma once
// Tensor: a handle to (storage, shape, strides, offset, dtype, device) plus autograd state.
// Copying a Tensor copies the handle (both name the same tensor, as in PyTorch); views
// (reshape, transpose, narrow, ...) are new tensors sharing the storage. Execution is eager.
//
// The data-movement and math methods below are thin wrappers over the free functions in
// ops/ (defined in ops/tensor_methods.cpp); backward() lives in autograd/engine.cpp.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cppformers/core/device.hpp"
#include "cppformers/core/dtype.hpp"
#include "cppformers/core/error.hpp"
#include "cppformers/core/storage.hpp"

namespace cppformers {

namespace autograd { struct Node; }

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);  // "[2, 3]"
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);

class Tensor;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- construction
  static Tensor empty(const Shape& shape, DType dtype = kF32, Device device = kCPU);
  static Tensor zeros(const Shape& shape, DType dtype = kF32);
  static Tensor ones(const Shape& shape, DType dtype = kF32);
  static Tensor full(const Shape& shape, double value, DType dtype = kF32);
  static Tensor arange(int64_t n, DType dtype = kI64);
  static Tensor scalar(double value, DType dtype = kF32);
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  // A tensor over existing storage (no copy). Checks that the view fits in the storage.
  static Tensor from_storage(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype,
                             int64_t offset_elems = 0);

  // ---- metadata
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t dim() const { return int64_t(shape().size()); }
  int64_t size(int64_t d) const;   // negative d counts from the end
  int64_t numel() const;
  int64_t offset() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const;
  TensorImpl* impl() const { return impl_.get(); }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // ---- data access (CPU)
  void* raw_data() const;  // pointer to the first element (storage + offset)
  template <class T> T* data() const;  // checks dtype
  template <class T> std::vector<T> to_vector() const;  // any layout, converts dtype
  double item() const;  // a one-element tensor's value

  // ---- views and copies (record autograd when needed)
  Tensor view(const Shape& shape) const;     // -1 allowed once; must be viewable
  Tensor reshape(const Shape& shape) const;  // view if possible, else a copy
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor expand(const Shape& shape) const;
  Tensor flatten(int64_t start = 0, int64_t end = -1) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor detach() const;  // same data, no autograd history

  // ---- autograd
  bool requires_grad() const;
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  void set_grad_fn(std::shared_ptr<autograd::Node> fn) const;
  // Backpropagates from this tensor (a scalar unless `gradient` is given).
  void backward(const Tensor& gradient = Tensor()) const;

  // ---- in-place helpers (no autograd; for optimizers and initialisation)
  void copy_(const Tensor& src) const;  // broadcasts src, converts dtype
  void fill_(double value) const;
  void zero_() const { fill_(0.0); }

  std::string to_string() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape, strides;
  int64_t offset = 0;  // in elements
  DType dtype = kF32;
  // autograd
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Operators (broadcasting; see ops/elementwise.hpp).
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator*(double a, const Tensor& b);
Tensor operator-(const Tensor& a);

// ---- template definitions
template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = kF32; };
template <> struct DTypeOf<double> { static constexpr DType value = kF64; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = kI64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = kI32; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = kU8; };
template <> struct DTypeOf<bool> { static constexpr DType value = kBool; };

template <class T>
T* Tensor::data() const {
  if (dtype() != DTypeOf<T>::value)
    throw ValueError(std::string("Tensor::data: tensor is ") + dtype_name(dtype()) +
                     ", asked for " + dtype_name(DTypeOf<T>::value));
  return static_cast<T*>(raw_data());
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  if (int64_t(values.size()) != shape_numel(shape))
    throw ValueError("Tensor::from_vector: " + std::to_string(values.size()) +
                     " values for shape " + shape_str(shape));
  Tensor t = empty(shape, DTypeOf<T>::value);
  T* p = static_cast<T*>(t.raw_data());
  for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  return t;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = to(DTypeOf<T>::value).contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}

}  // namespace cppformers
