#pragma once
// ViTImageProcessor and CLIPImageProcessor (one class; preprocessor_config.json says which
// steps run): convert to RGB, resize with PIL's filter, center crop, rescale, normalize,
// channels first -> pixel_values [batch, 3, H, W] float32, computed as numpy does.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/core/tensor.hpp"
#include "cppformers/processors/image.hpp"

namespace cppformers::processors {

struct ImageProcessor {
  std::string image_processor_type = "ViTImageProcessor";
  bool do_resize = true, do_center_crop = false, do_rescale = true, do_normalize = true;
  // size: either height/width, or shortest_edge (the short side scaled to it, aspect kept).
  std::optional<int64_t> size_height, size_width, shortest_edge;
  int64_t crop_height = 224, crop_width = 224;
  Resample resample = Resample::kBilinear;
  double rescale_factor = 1.0 / 255.0;
  std::vector<double> image_mean{0.5, 0.5, 0.5}, image_std{0.5, 0.5, 0.5};

  static ImageProcessor from_json(const nlohmann::json& j, const std::string& file = "preprocessor_config.json");
  // DIR/preprocessor_config.json.
  static ImageProcessor from_pretrained(const std::string& dir);

  // Resize (and center crop) only: the uint8 image the model sees before rescale/normalize.
  Image resize_and_crop(const Image& img) const;
  // pixel_values [N, 3, H, W].
  Tensor operator()(const std::vector<Image>& images) const;
  Tensor operator()(const Image& image) const { return (*this)(std::vector<Image>{image}); }
};

}  // namespace cppformers::processors
