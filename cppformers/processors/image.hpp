#pragma once
// Images for the vision processors: decoding (PNG, JPEG, BMP, GIF, TGA, PNM through stb_image;
// 8-bit, grayscale and alpha converted to RGB as PIL's convert("RGB") does) and PIL's
// resampling filters (Image.resize with NEAREST, BILINEAR, BICUBIC, LANCZOS, BOX, HAMMING),
// reproduced bit for bit: PIL resizes 8-bit images in fixed point, horizontal pass first.
#include <cstdint>
#include <string>
#include <vector>

namespace cppformers::processors {

// An 8-bit RGB image, rows top to bottom, pixels interleaved (H, W, 3) as PIL/numpy hold it.
struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3
  uint8_t at(int64_t y, int64_t x, int c) const { return rgb[size_t((y * width + x) * 3 + c)]; }
};

// Decodes an image file; throws IOError (unreadable) or FormatError (corrupt, truncated,
// unsupported), naming the file and stb_image's reason.
Image load_image(const std::string& path);
Image decode_image(const uint8_t* data, size_t size, const std::string& name = "<memory>");

// PIL's Image.Resampling values (as preprocessor_config.json's "resample").
enum class Resample { kNearest = 0, kLanczos = 1, kBilinear = 2, kBicubic = 3, kBox = 4, kHamming = 5 };
Resample resample_from_int(int64_t v);

// PIL's Image.resize(img, (width, height), resample) on an RGB image (reducing_gap None).
Image resize(const Image& img, int64_t width, int64_t height, Resample filter);
// The top-left crop [top, top+h) x [left, left+w); regions outside the image are zero (as HF's
// center_crop pads).
Image crop(const Image& img, int64_t top, int64_t left, int64_t height, int64_t width);

}  // namespace cppformers::processors
