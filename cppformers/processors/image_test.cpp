#include "cppformers/processors/image.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "cppformers/io/safetensors.hpp"
#include "cppformers/processors/image_processor.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers::processors {
namespace {

const std::string& dir() {
  static const std::string d = testing::hf_fixture("processors");
  return d;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// (1, 3, H, W) int64 golden vs an Image: max difference in intensity levels.
int64_t max_level_diff(const Image& img, const Tensor& golden) {
  auto g = golden.to_vector<int64_t>();
  const int64_t H = golden.size(2), W = golden.size(3);
  EXPECT_EQ(img.height, H);
  EXPECT_EQ(img.width, W);
  int64_t worst = 0;
  for (int c = 0; c < 3; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        worst = std::max(worst, std::abs(int64_t(img.at(y, x, c)) - g[size_t((c * H + y) * W + x)]));
  return worst;
}

TEST(Image, DecodesPngAsPil) {
  auto gold = io::load_file(dir() + "/golden.safetensors");
  Image img = load_image(dir() + "/image.png");
  ASSERT_EQ(img.width, 50);
  ASSERT_EQ(img.height, 37);
  auto g = gold.at("image.rgb").to_vector<int64_t>();
  for (size_t i = 0; i < g.size(); ++i) ASSERT_EQ(int64_t(img.rgb[i]), g[i]) << i;
}

TEST(Image, ViTResizeMatchesPilBilinearExactly) {
  auto gold = io::load_file(dir() + "/golden.safetensors");
  auto p = ImageProcessor::from_pretrained(dir() + "/vit");
  Image img = load_image(dir() + "/image.png");
  EXPECT_EQ(max_level_diff(p.resize_and_crop(img), gold.at("vit.resized")), 0);
  EXPECT_TRUE(testing::all_close(p(img), gold.at("vit.pixel_values"), 1e-6, 1e-6));
}

TEST(Image, CLIPResizeCropMatchesPilBicubicExactly) {
  auto gold = io::load_file(dir() + "/golden.safetensors");
  auto p = ImageProcessor::from_pretrained(dir() + "/clip");
  Image img = load_image(dir() + "/image.png");
  EXPECT_EQ(max_level_diff(p.resize_and_crop(img), gold.at("clip.resized_cropped")), 0);
  EXPECT_TRUE(testing::all_close(p(img), gold.at("clip.pixel_values"), 1e-6, 1e-6));
}

TEST(Image, CorruptAndTruncatedFilesGiveClearErrors) {
  auto bytes = file_bytes(dir() + "/image.png");
  // truncated PNG
  EXPECT_THROW(decode_image(bytes.data(), bytes.size() / 2, "cut.png"), FormatError);
  // garbage
  std::vector<uint8_t> junk(100, 0x42);
  try {
    decode_image(junk.data(), junk.size(), "junk.bin");
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.bin"), std::string::npos);
  }
  EXPECT_THROW(decode_image(junk.data(), 0, "empty.png"), FormatError);
  // a corrupted PNG header (bytes flipped after the signature)
  auto bad = bytes;
  for (size_t i = 16; i < 24 && i < bad.size(); ++i) bad[i] = 0xff;
  EXPECT_THROW(decode_image(bad.data(), bad.size(), "bad.png"), FormatError);
  EXPECT_THROW(load_image("/nonexistent/x.png"), IOError);
}

TEST(Image, ResizeIdentityAndDownscale) {
  Image img;
  img.width = 4, img.height = 2;
  img.rgb.assign(24, 100);
  Image same = resize(img, 4, 2, Resample::kBicubic);
  EXPECT_EQ(same.rgb, img.rgb);
  Image small = resize(img, 2, 1, Resample::kBilinear);
  ASSERT_EQ(small.rgb.size(), 6u);
  for (auto v : small.rgb) EXPECT_EQ(v, 100);  // constant images stay constant
  EXPECT_THROW(resize(img, 0, 1, Resample::kBilinear), ValueError);
}

}  // namespace
}  // namespace cppformers::processors
