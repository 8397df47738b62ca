// Views and copies of Tensor (the methods declared in core/tensor.hpp), with their backward,
// and cat/stack.
#include "cppformers/ops/shape.hpp"

#include <numeric>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers {

using ops::normalize_dim;

namespace {

// A new tensor sharing x's storage with the given geometry (no autograd).
Tensor make_view(const Tensor& x, Shape shape, Shape strides, int64_t offset) {
  auto v = std::make_shared<TensorImpl>();
  v->storage = x.storage();
  v->shape = std::move(shape);
  v->strides = std::move(strides);
  v->offset = offset;
  v->dtype = x.dtype();
  return Tensor(v);
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) throw ValueError(std::string(op) + ": only one dimension can be -1");
      infer = int64_t(i);
    } else if (out[i] < 0) {
      throw ValueError(std::string(op) + ": invalid dimension in " + shape_str(shape));
    } else {
      known *= out[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known)
      throw ValueError(std::string(op) + ": shape " + shape_str(shape) + " is invalid for input of size " +
                       std::to_string(numel));
    out[infer] = numel / known;
  } else if (known != numel) {
    throw ValueError(std::string(op) + ": shape " + shape_str(shape) + " is invalid for input of size " +
                     std::to_string(numel));
  }
  return out;
}

// Strides for viewing (old shape, old strides) as new_shape without a copy, if possible
// (the chunk-matching rule torch uses). Returns false if a copy is needed.
bool view_strides(const Shape& os, const Shape& ost, const Shape& ns, Shape* out) {
  Shape nst(ns.size());
  if (shape_numel(os) == 0 || os.empty()) {
    *out = contiguous_strides(ns);
    return true;
  }
  int64_t view_d = int64_t(ns.size()) - 1;
  int64_t chunk_base = ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || ns[view_d] == 1)) {
        nst[view_d] = view_numel * chunk_base;
        view_numel *= ns[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return false;
  *out = nst;
  return true;
}

}  // namespace

Tensor Tensor::view(const Shape& shape0) const {
  const Shape shape = infer_shape(shape0, numel(), "view");
  Shape st;
  if (!view_strides(this->shape(), strides(), shape, &st))
    throw ValueError("view: shape " + shape_str(shape) + " is not compatible with the input's size and "
                     "strides (" + shape_str(this->shape()) + "); use reshape");
  Tensor out = make_view(*this, shape, st, offset());
  autograd::record(out, "view", {*this}, [in = this->shape()](const Tensor& g) {
    return std::vector<Tensor>{g.reshape(in)};
  });
  return out;
}

Tensor Tensor::reshape(const Shape& shape0) const {
  const Shape shape = infer_shape(shape0, numel(), "reshape");
  Shape st;
  if (view_strides(this->shape(), strides(), shape, &st)) return view(shape);
  return contiguous().view(shape);
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = normalize_dim(d0, dim(), "transpose");
  d1 = normalize_dim(d1, dim(), "transpose");
  std::vector<int64_t> perm(dim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[d0], perm[d1]);
  return permute(perm);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims0) const {
  if (int64_t(dims0.size()) != dim())
    throw ValueError("permute: " + std::to_string(dims0.size()) + " dims given for a " +
                     std::to_string(dim()) + "-d tensor");
  std::vector<int64_t> dims(dims0.size()), inverse(dims0.size(), -1);
  Shape sh(dims.size()), st(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) {
    dims[i] = normalize_dim(dims0[i], dim(), "permute");
    if (inverse[dims[i]] != -1) throw ValueError("permute: repeated dim " + std::to_string(dims[i]));
    inverse[dims[i]] = int64_t(i);
    sh[i] = shape()[dims[i]];
    st[i] = strides()[dims[i]];
  }
  Tensor out = make_view(*this, sh, st, offset());
  autograd::record(out, "permute", {*this}, [inverse](const Tensor& g) {
    return std::vector<Tensor>{g.permute(inverse)};
  });
  return out;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = normalize_dim(d, dim(), "narrow");
  const int64_t n = shape()[d];
  if (start < 0) start += n;
  if (start < 0 || length < 0 || start + length > n)
    throw ValueError("narrow: [" + std::to_string(start) + ", " + std::to_string(start + length) +
                     ") out of range for dim " + std::to_string(d) + " of size " + std::to_string(n));
  Shape sh = shape();
  sh[d] = length;
  Tensor out = make_view(*this, sh, strides(), offset() + start * strides()[d]);
  autograd::record(out, "narrow", {*this}, [in = shape(), d, start, length](const Tensor& g) {
    Tensor z = Tensor::zeros(in, g.dtype());
    z.narrow(d, start, length).copy_(g);
    return std::vector<Tensor>{z};
  });
  return out;
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = normalize_dim(d, dim(), "select");
  const int64_t n = shape()[d];
  if (index < -n || index >= n)
    throw ValueError("select: index " + std::to_string(index) + " out of range for dim " +
                     std::to_string(d) + " of size " + std::to_string(n));
  return narrow(d, index < 0 ? index + n : index, 1).squeeze(d);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = normalize_dim(d, dim() + 1, "unsqueeze");
  Shape sh = shape();
  sh.insert(sh.begin() + d, 1);
  Shape st = strides();
  st.insert(st.begin() + d, d < dim() ? st[d] * shape()[d] : 1);
  Tensor out = make_view(*this, sh, st, offset());
  autograd::record(out, "unsqueeze", {*this}, [d](const Tensor& g) {
    return std::vector<Tensor>{g.squeeze(d)};
  });
  return out;
}

Tensor Tensor::squeeze(int64_t d) const {
  d = normalize_dim(d, dim(), "squeeze");
  if (dim() == 0 || shape()[d] != 1) return *this;
  Shape sh = shape(), st = strides();
  sh.erase(sh.begin() + d);
  st.erase(st.begin() + d);
  Tensor out = make_view(*this, sh, st, offset());
  autograd::record(out, "squeeze", {*this}, [d](const Tensor& g) {
    return std::vector<Tensor>{g.unsqueeze(d)};
  });
  return out;
}

Tensor Tensor::expand(const Shape& shape0) const {
  if (shape0.size() < size_t(dim()))
    throw ValueError("expand: target " + shape_str(shape0) + " has fewer dims than " + shape_str(shape()));
  Shape sh = shape0, st(sh.size(), 0);
  const size_t lead = sh.size() - size_t(dim());
  for (size_t i = 0; i < sh.size(); ++i) {
    if (i < lead) {
      if (sh[i] < 0) throw ValueError("expand: -1 not allowed in new leading dims");
      continue;
    }
    const int64_t cur = shape()[i - lead];
    if (sh[i] == -1) sh[i] = cur;
    if (cur == sh[i]) st[i] = strides()[i - lead];
    else if (cur != 1)
      throw ValueError("expand: cannot expand " + shape_str(shape()) + " to " + shape_str(shape0));
  }
  Tensor out = make_view(*this, sh, st, offset());
  autograd::record(out, "expand", {*this}, [in = shape()](const Tensor& g) {
    return std::vector<Tensor>{ops::sum_to(g, in)};
  });
  return out;
}

Tensor Tensor::flatten(int64_t start, int64_t end) const {
  if (dim() == 0) return reshape({1});
  start = normalize_dim(start, dim(), "flatten");
  end = normalize_dim(end, dim(), "flatten");
  Shape sh;
  for (int64_t d = 0; d < start; ++d) sh.push_back(shape()[d]);
  int64_t m = 1;
  for (int64_t d = start; d <= end; ++d) m *= shape()[d];
  sh.push_back(m);
  for (int64_t d = end + 1; d < dim(); ++d) sh.push_back(shape()[d]);
  return reshape(sh);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = Tensor::empty(shape(), dtype());
  out.copy_(*this);
  autograd::record(out, "clone", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor Tensor::to(DType dt) const {
  if (dt == dtype()) return *this;
  Tensor out = Tensor::empty(shape(), dt);
  out.copy_(*this);
  if (is_floating(dt))
    autograd::record(out, "to", {*this}, [src = dtype()](const Tensor& g) {
      return std::vector<Tensor>{g.to(src)};
    });
  return out;
}

Tensor operator+(const Tensor& a, const Tensor& b) { return ops::add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return ops::sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return ops::mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return ops::div(a, b); }
Tensor operator+(const Tensor& a, double b) { return ops::add(a, ops::scalar_like(b, a)); }
Tensor operator-(const Tensor& a, double b) { return ops::sub(a, ops::scalar_like(b, a)); }
Tensor operator*(const Tensor& a, double b) { return ops::mul(a, ops::scalar_like(b, a)); }
Tensor operator/(const Tensor& a, double b) { return ops::div(a, ops::scalar_like(b, a)); }
Tensor operator*(double a, const Tensor& b) { return ops::mul(ops::scalar_like(a, b), b); }
Tensor operator-(const Tensor& a) { return ops::neg(a); }

namespace ops {

Tensor cat(const std::vector<Tensor>& ts, int64_t dim) {
  if (ts.empty()) throw ValueError("cat: expected a non-empty list of tensors");
  const Tensor& first = ts[0];
  dim = normalize_dim(dim, first.dim(), "cat");
  Shape sh = first.shape();
  int64_t total = 0;
  DType dt = first.dtype();
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    if (t.dim() != first.dim())
      throw ValueError("cat: tensor " + std::to_string(i) + " has " + std::to_string(t.dim()) +
                       " dims, expected " + std::to_string(first.dim()));
    for (int64_t d = 0; d < t.dim(); ++d)
      if (d != dim && t.shape()[d] != sh[d])
        throw ValueError("cat: tensor " + std::to_string(i) + " has shape " + shape_str(t.shape()) +
                         ", expected " + shape_str(sh) + " except in dim " + std::to_string(dim));
    total += t.shape()[dim];
    if (is_floating(t.dtype())) dt = kF32;
  }
  sh[dim] = total;
  Tensor out = Tensor::empty(sh, dt);
  std::vector<int64_t> sizes;
  int64_t at = 0;
  for (const Tensor& t : ts) {
    out.narrow(dim, at, t.shape()[dim]).copy_(t);
    sizes.push_back(t.shape()[dim]);
    at += t.shape()[dim];
  }
  autograd::record(out, "cat", ts, [sizes, dim](const Tensor& g) {
    std::vector<Tensor> gs;
    int64_t at = 0;
    for (int64_t s : sizes) {
      gs.push_back(g.narrow(dim, at, s));
      at += s;
    }
    return gs;
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& ts, int64_t dim) {
  if (ts.empty()) throw ValueError("stack: expected a non-empty list of tensors");
  dim = normalize_dim(dim, ts[0].dim() + 1, "stack");
  std::vector<Tensor> us;
  for (const Tensor& t : ts) {
    if (t.shape() != ts[0].shape())
      throw ValueError("stack: all tensors must have the same shape; got " + shape_str(ts[0].shape()) +
                       " and " + shape_str(t.shape()));
    us.push_back(t.unsqueeze(dim));
  }
  return cat(us, dim);
}

}  // namespace ops
}  // namespace cppformers
