#include "cppformers/ops/indexing.hpp"

#include <algorithm>
#include <cstring>

#include "cppformers/autograd/node.hpp"
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers::ops {

namespace {

std::vector<int64_t> checked_indices(const Tensor& index, int64_t bound, const char* op) {
  if (is_floating(index.dtype()))
    throw ValueError(std::string(op) + ": index must be an integer tensor, got " + dtype_name(index.dtype()));
  std::vector<int64_t> idx = index.to_vector<int64_t>();
  for (int64_t& i : idx) {
    if (i < -bound || i >= bound)
      throw ValueError(std::string(op) + ": index " + std::to_string(i) + " is out of range for size " +
                       std::to_string(bound));
    if (i < 0) i += bound;
  }
  return idx;
}

struct Split {
  int64_t outer = 1, n = 1, inner = 1;
};
Split split_at(const Shape& s, int64_t dim) {
  Split r;
  for (int64_t d = 0; d < int64_t(s.size()); ++d) {
    if (d < dim) r.outer *= s[d];
    else if (d == dim) r.n = s[d];
    else r.inner *= s[d];
  }
  return r;
}

}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = normalize_dim(dim, x.dim(), "index_select");
  if (index.dim() > 1) throw ValueError("index_select: index must be 1-d, got " + shape_str(index.shape()));
  const Split s = split_at(x.shape(), dim);
  const std::vector<int64_t> idx = checked_indices(index, s.n, "index_select");
  Tensor xc = x.detach().contiguous();
  Shape os = x.shape();
  os[dim] = int64_t(idx.size());
  Tensor out = Tensor::empty(os, x.dtype());
  const size_t es = dtype_size(x.dtype()), row = size_t(s.inner) * es;
  const char* px = static_cast<const char*>(xc.raw_data());
  char* po = static_cast<char*>(out.raw_data());
  const int64_t m = int64_t(idx.size());
#pragma omp parallel for collapse(2) if (s.outer * m * s.inner >= 65536) schedule(static)
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t j = 0; j < m; ++j)
      std::memcpy(po + (o * m + j) * row, px + (o * s.n + idx[j]) * row, row);
  if (autograd::needs_grad({&x}))
    autograd::record(out, "index_select", {x}, [shape = x.shape(), dim, index](const Tensor& g) {
      return std::vector<Tensor>{index_add(Tensor::zeros(shape, kF32), dim, index, g)};
    });
  return out;
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  dim = normalize_dim(dim, x.dim(), "index_add");
  const Split s = split_at(x.shape(), dim);
  const std::vector<int64_t> idx = checked_indices(index, s.n, "index_add");
  Shape want = x.shape();
  want[dim] = int64_t(idx.size());
  if (src.shape() != want)
    throw ValueError("index_add: source " + shape_str(src.shape()) + " should be " + shape_str(want));
  Tensor out = x.detach().to(kF32).contiguous().clone();
  Tensor sc = src.detach().to(kF32).contiguous();
  float* po = out.data<float>();
  const float* ps = sc.data<float>();
  const int64_t m = int64_t(idx.size());
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t j = 0; j < m; ++j) {
      float* dst = po + (o * s.n + idx[j]) * s.inner;
      const float* from = ps + (o * m + j) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i) dst[i] += from[i];
    }
  if (autograd::needs_grad({&x, &src}))
    autograd::record(out, "index_add", {x, src}, [dim, index](const Tensor& g) {
      return std::vector<Tensor>{g, index_select(g, dim, index.flatten())};
    });
  return out;
}

Tensor embedding(const Tensor& ids, const Tensor& weight, int64_t padding_idx) {
  if (weight.dim() != 2) throw ValueError("embedding: weight must be 2-d, got " + shape_str(weight.shape()));
  if (is_floating(ids.dtype()))
    throw ValueError(std::string("embedding: ids must be integers, got ") + dtype_name(ids.dtype()));
  const int64_t num = weight.size(0);
  for (int64_t id : ids.to_vector<int64_t>())
    if (id < 0 || id >= num)
      throw ValueError("embedding: id " + std::to_string(id) + " is out of range for an embedding of " +
                       std::to_string(num) + " rows");
  Tensor flat = ids.detach().reshape({-1});
  Tensor rows = index_select(weight.detach(), 0, flat);
  if (rows.dtype() != kF32) rows = rows.to(kF32);
  Shape os = ids.shape();
  os.push_back(weight.size(1));
  Tensor out = rows.reshape(os);
  if (autograd::needs_grad({&weight}))
    autograd::record(out, "embedding", {weight}, [shape = weight.shape(), flat, padding_idx](const Tensor& g) {
      // Rows of g added into a zero table at their ids (in order, so the sums are those of
      // index_add); the padding row gets no gradient.
      const int64_t dim = shape[1];
      Tensor g2 = g.reshape({-1, dim});
      if (g2.dtype() != kF32) g2 = g2.to(kF32);
      g2 = g2.contiguous();
      const std::vector<int64_t> ids = flat.to_vector<int64_t>();
      Tensor gw = Tensor::zeros(shape, kF32);
      float* pw = gw.data<float>();
      const float* pg = g2.data<float>();
      // Threads split the columns, so every element is summed in the same order as with one.
      const int64_t m = int64_t(ids.size()), chunk = 256, nchunks = (dim + chunk - 1) / chunk;
#pragma omp parallel for if (m * dim >= 65536 && nchunks > 1) schedule(static)
      for (int64_t c = 0; c < nchunks; ++c) {
        const int64_t lo = c * chunk, hi = std::min(dim, lo + chunk);
        for (int64_t j = 0; j < m; ++j) {
          if (ids[j] == padding_idx) continue;
          float* dst = pw + ids[j] * dim;
          const float* src = pg + j * dim;
          for (int64_t i = lo; i < hi; ++i) dst[i] += src[i];
        }
      }
      return std::vector<Tensor>{gw};
    });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = normalize_dim(dim, x.dim(), "gather");
  if (index.dim() != x.dim())
    throw ValueError("gather: index " + shape_str(index.shape()) + " must have the rank of input " +
                     shape_str(x.shape()));
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d != dim && index.shape()[d] > x.shape()[d])
      throw ValueError("gather: index " + shape_str(index.shape()) + " is larger than input " +
                       shape_str(x.shape()) + " in dim " + std::to_string(d));
  const std::vector<int64_t> idx = checked_indices(index, x.shape()[dim], "gather");
  Tensor xc = x.detach().to(kF32).contiguous();
  Tensor out = Tensor::empty(index.shape(), kF32);
  const Shape xs = contiguous_strides(x.shape());
  const float* px = xc.data<float>();
  float* po = out.data<float>();
  const Shape& is = index.shape();
  std::vector<int64_t> pos(is.size(), 0);
  for (size_t k = 0; k < idx.size(); ++k) {
    int64_t off = 0;
    for (size_t d = 0; d < is.size(); ++d) off += (int64_t(d) == dim ? idx[k] : pos[d]) * xs[d];
    po[k] = px[off];
    for (int64_t d = int64_t(is.size()) - 1; d >= 0; --d) {
      if (++pos[d] < is[d]) break;
      pos[d] = 0;
    }
  }
  if (autograd::needs_grad({&x}))
    autograd::record(out, "gather", {x}, [shape = x.shape(), dim, idx, is](const Tensor& g) {
      Tensor gx = Tensor::zeros(shape, kF32);
      Tensor gc = g.contiguous();
      const float* pg = gc.data<float>();
      float* px = gx.data<float>();
      const Shape xs = contiguous_strides(shape);
      std::vector<int64_t> pos(is.size(), 0);
      for (size_t k = 0; k < idx.size(); ++k) {
        int64_t off = 0;
        for (size_t d = 0; d < is.size(); ++d) off += (int64_t(d) == dim ? idx[k] : pos[d]) * xs[d];
        px[off] += pg[k];
        for (int64_t d = int64_t(is.size()) - 1; d >= 0; --d) {
          if (++pos[d] < is[d]) break;
          pos[d] = 0;
        }
      }
      return std::vector<Tensor>{gx};
    });
  return out;
}

}  // namespace cppformers::ops
