#include "cppformers/processors/image.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

#include <stb_image.h>

#include "cppformers/core/error.hpp"

namespace cppformers::processors {

Image decode_image(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) throw FormatError(name + ": empty image file");
  if (size > size_t(INT32_MAX)) throw FormatError(name + ": image file too large");
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, int(size), &w, &h, &comp))
    throw FormatError(name + ": not a readable image (" + std::string(stbi_failure_reason()) +
                      "; supported: PNG, JPEG, BMP, GIF, TGA, PNM)");
  if (w <= 0 || h <= 0 || int64_t(w) * h > (int64_t(1) << 28))
    throw FormatError(name + ": image size " + std::to_string(w) + "x" + std::to_string(h) + " is not supported");
  stbi_uc* px = stbi_load_from_memory(data, int(size), &w, &h, &comp, 3);  // to RGB like PIL convert("RGB")
  if (!px) throw FormatError(name + ": corrupt or truncated image (" + std::string(stbi_failure_reason()) + ")");
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(px, px + size_t(w) * size_t(h) * 3);
  stbi_image_free(px);
  return img;
}

Image load_image(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IOError(path + ": cannot open image file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return decode_image(bytes.data(), bytes.size(), path);
}

Resample resample_from_int(int64_t v) {
  if (v < 0 || v > 5) throw ValueError("resample: expected a PIL filter 0..5, got " + std::to_string(v));
  return Resample(v);
}

namespace {

// PIL's filters (libImaging/Resample.c).
struct Filter {
  double (*fn)(double);
  double support;
};
double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }
double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}
double hamming_filter(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * M_PI;
  return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
}
double bicubic_filter(double x) {
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
double sinc_filter(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}
double lanczos_filter(double x) {
  if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
  return 0.0;
}

constexpr int kPrecisionBits = 32 - 8 - 2;

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;  // (xmin, count) per output pixel
  std::vector<int> kk;      // fixed-point weights, ksize per output pixel
};

// precompute_coeffs + normalize_coeffs_8bpc.
Coeffs precompute(int in_size, double in0, double in1, int out_size, const Filter& f) {
  const double scale = (in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = f.support * filterscale;
  Coeffs c;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  c.bounds.resize(size_t(out_size) * 2);
  c.kk.assign(size_t(out_size) * c.ksize, 0);
  std::vector<double> k(static_cast<size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = f.fn((x + xmin - center + 0.5) * ss);
      k[size_t(x)] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x)
      if (ww != 0.0) k[size_t(x)] /= ww;
    for (int x = xmax; x < c.ksize; ++x) k[size_t(x)] = 0;
    c.bounds[size_t(xx) * 2] = xmin;
    c.bounds[size_t(xx) * 2 + 1] = xmax;
    for (int x = 0; x < c.ksize; ++x) {
      const double v = k[size_t(x)] * (1 << kPrecisionBits);
      c.kk[size_t(xx) * c.ksize + x] = v < 0 ? int(-0.5 + v) : int(0.5 + v);
    }
  }
  return c;
}

inline uint8_t clip8(int64_t in) {
  if (in >= (int64_t(1) << kPrecisionBits << 8)) return 255;
  if (in <= 0) return 0;
  return uint8_t(in >> kPrecisionBits);
}

// Horizontal pass over rows [y0, y0 + out_h) of `in`.
Image resample_horizontal(const Image& in, int y0, int out_h, int out_w, const Coeffs& c) {
  Image out;
  out.width = out_w;
  out.height = out_h;
  out.rgb.resize(size_t(out_w) * out_h * 3);
  for (int yy = 0; yy < out_h; ++yy)
    for (int xx = 0; xx < out_w; ++xx) {
      const int xmin = c.bounds[size_t(xx) * 2], xmax = c.bounds[size_t(xx) * 2 + 1];
      const int* k = &c.kk[size_t(xx) * c.ksize];
      for (int ch = 0; ch < 3; ++ch) {
        int64_t ss = int64_t(1) << (kPrecisionBits - 1);
        for (int x = 0; x < xmax; ++x) ss += int64_t(in.at(yy + y0, x + xmin, ch)) * k[x];
        out.rgb[(size_t(yy) * out_w + xx) * 3 + ch] = clip8(ss);
      }
    }
  return out;
}

Image resample_vertical(const Image& in, int out_h, const Coeffs& c) {
  Image out;
  out.width = in.width;
  out.height = out_h;
  out.rgb.resize(size_t(in.width) * out_h * 3);
  for (int yy = 0; yy < out_h; ++yy) {
    const int ymin = c.bounds[size_t(yy) * 2], ymax = c.bounds[size_t(yy) * 2 + 1];
    const int* k = &c.kk[size_t(yy) * c.ksize];
    for (int64_t xx = 0; xx < in.width; ++xx)
      for (int ch = 0; ch < 3; ++ch) {
        int64_t ss = int64_t(1) << (kPrecisionBits - 1);
        for (int y = 0; y < ymax; ++y) ss += int64_t(in.at(y + ymin, xx, ch)) * k[y];
        out.rgb[(size_t(yy) * in.width + xx) * 3 + ch] = clip8(ss);
      }
  }
  return out;
}

Image resize_nearest(const Image& img, int64_t w, int64_t h) {
  // PIL's ImagingTransformAffine with NEAREST for a plain resize: source = floor((x + 0.5) * scale).
  Image out;
  out.width = w;
  out.height = h;
  out.rgb.resize(size_t(w * h * 3));
  const double sx = double(img.width) / w, sy = double(img.height) / h;
  for (int64_t y = 0; y < h; ++y) {
    const int64_t iy = std::min<int64_t>(img.height - 1, int64_t((y + 0.5) * sy));
    for (int64_t x = 0; x < w; ++x) {
      const int64_t ix = std::min<int64_t>(img.width - 1, int64_t((x + 0.5) * sx));
      for (int c = 0; c < 3; ++c) out.rgb[size_t((y * w + x) * 3 + c)] = img.at(iy, ix, c);
    }
  }
  return out;
}

}  // namespace

Image resize(const Image& img, int64_t width, int64_t height, Resample filter) {
  if (width <= 0 || height <= 0)
    throw ValueError("resize: target size " + std::to_string(width) + "x" + std::to_string(height) + " must be positive");
  if (img.width <= 0 || img.height <= 0) throw ValueError("resize: empty image");
  if (width == img.width && height == img.height) return img;
  if (filter == Resample::kNearest) return resize_nearest(img, width, height);
  Filter f{};
  switch (filter) {
    case Resample::kBox: f = {box_filter, 0.5}; break;
    case Resample::kBilinear: f = {bilinear_filter, 1.0}; break;
    case Resample::kHamming: f = {hamming_filter, 1.0}; break;
    case Resample::kBicubic: f = {bicubic_filter, 2.0}; break;
    case Resample::kLanczos: f = {lanczos_filter, 3.0}; break;
    default: break;
  }
  const bool need_h = width != img.width, need_v = height != img.height;
  Coeffs ch = precompute(int(img.width), 0, double(img.width), int(width), f);
  Coeffs cv = precompute(int(img.height), 0, double(img.height), int(height), f);
  const int ybox_first = cv.bounds[0];
  const int ybox_last = cv.bounds[size_t(height) * 2 - 2] + cv.bounds[size_t(height) * 2 - 1];
  Image cur = img;
  if (need_h) {
    for (int64_t i = 0; i < height; ++i) cv.bounds[size_t(i) * 2] -= ybox_first;
    cur = resample_horizontal(img, ybox_first, ybox_last - ybox_first, int(width), ch);
  }
  if (need_v) cur = resample_vertical(cur, int(height), cv);
  return cur;
}

Image crop(const Image& img, int64_t top, int64_t left, int64_t height, int64_t width) {
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.assign(size_t(width * height * 3), 0);
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      const int64_t sy = y + top, sx = x + left;
      if (sy < 0 || sx < 0 || sy >= img.height || sx >= img.width) continue;
      for (int c = 0; c < 3; ++c) out.rgb[size_t((y * width + x) * 3 + c)] = img.at(sy, sx, c);
    }
  return out;
}

}  // namespace cppformers::processors
