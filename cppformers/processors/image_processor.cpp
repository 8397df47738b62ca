#include "cppformers/processors/image_processor.hpp"

#include <filesystem>

#include "cppformers/core/error.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers::processors {

ImageProcessor ImageProcessor::from_json(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
  using io::json_get;
  ImageProcessor p;
  p.image_processor_type = json_get<std::string>(j, "image_processor_type",
                                                 json_get<std::string>(j, "feature_extractor_type", p.image_processor_type, file), file);
  const bool clip = p.image_processor_type.find("CLIP") != std::string::npos;
  if (clip) {  // CLIPImageProcessor's defaults
    p.do_center_crop = true;
    p.shortest_edge = 224;
    p.resample = Resample::kBicubic;
    p.image_mean = {0.48145466, 0.4578275, 0.40821073};
    p.image_std = {0.26862954, 0.26130258, 0.27577711};
  } else {
    p.size_height = p.size_width = 224;
  }
  p.do_resize = json_get<bool>(j, "do_resize", p.do_resize, file);
  p.do_center_crop = json_get<bool>(j, "do_center_crop", p.do_center_crop, file);
  p.do_rescale = json_get<bool>(j, "do_rescale", p.do_rescale, file);
  p.do_normalize = json_get<bool>(j, "do_normalize", p.do_normalize, file);
  p.rescale_factor = json_get<double>(j, "rescale_factor", p.rescale_factor, file);
  if (j.contains("resample")) p.resample = resample_from_int(json_get<int64_t>(j, "resample", 2, file));
  if (j.contains("size")) {
    const auto& s = j["size"];
    if (s.is_number_integer()) {  // legacy int: a square for ViT, the shortest edge for CLIP
      if (clip) p.shortest_edge = s.get<int64_t>(), p.size_height.reset(), p.size_width.reset();
      else p.size_height = p.size_width = s.get<int64_t>();
    } else if (s.is_object()) {
      p.size_height.reset(), p.size_width.reset(), p.shortest_edge.reset();
      if (s.contains("shortest_edge")) p.shortest_edge = json_get<int64_t>(s, "shortest_edge", 224, file);
      if (s.contains("height")) p.size_height = json_get<int64_t>(s, "height", 224, file);
      if (s.contains("width")) p.size_width = json_get<int64_t>(s, "width", 224, file);
      if (!p.shortest_edge && !(p.size_height && p.size_width))
        throw FormatError(file + ": 'size' must have 'shortest_edge' or 'height' and 'width'");
    } else {
      throw FormatError(file + ": 'size' must be an integer or an object");
    }
  }
  if (j.contains("crop_size")) {
    const auto& s = j["crop_size"];
    if (s.is_number_integer()) p.crop_height = p.crop_width = s.get<int64_t>();
    else if (s.is_object()) {
      p.crop_height = json_get<int64_t>(s, "height", p.crop_height, file);
      p.crop_width = json_get<int64_t>(s, "width", p.crop_width, file);
    }
  }
  auto numbers = [&](const char* key, std::vector<double>& slot) {
    if (!j.contains(key) || j[key].is_null()) return;
    const auto& v = j[key];
    slot.clear();
    if (v.is_number()) slot.push_back(v.get<double>());
    else if (v.is_array())
      for (const auto& x : v) {
        if (!x.is_number()) throw FormatError(file + ": '" + key + "' must hold numbers");
        slot.push_back(x.get<double>());
      }
    else throw FormatError(file + ": '" + key + "' must be a number or a list of numbers");
  };
  numbers("image_mean", p.image_mean);
  numbers("image_std", p.image_std);
  if (p.image_mean.size() == 1) p.image_mean.assign(3, p.image_mean[0]);
  if (p.image_std.size() == 1) p.image_std.assign(3, p.image_std[0]);
  if (p.image_mean.size() != 3 || p.image_std.size() != 3)
    throw FormatError(file + ": 'image_mean' and 'image_std' must have 3 values");
  return p;
}

ImageProcessor ImageProcessor::from_pretrained(const std::string& dir) {
  const std::string file = (std::filesystem::path(dir) / "preprocessor_config.json").string();
  if (!std::filesystem::exists(file)) throw IOError(dir + ": no preprocessor_config.json in the model folder");
  return from_json(io::read_json_file(file), file);
}

Image ImageProcessor::resize_and_crop(const Image& img) const {
  Image out = img;
  if (do_resize) {
    if (shortest_edge) {
      // get_resize_output_image_size(default_to_square=False)
      const int64_t h = img.height, w = img.width;
      const int64_t short_side = std::min(h, w), long_side = std::max(h, w);
      const int64_t new_short = *shortest_edge, new_long = int64_t(double(new_short) * long_side / short_side);
      const int64_t nh = h <= w ? new_short : new_long, nw = h <= w ? new_long : new_short;
      out = resize(img, nw, nh, resample);
    } else {
      out = resize(img, *size_width, *size_height, resample);
    }
  }
  if (do_center_crop) {
    // Python's // floors; C++'s / truncates toward zero.
    auto floordiv = [](int64_t a) { return a >= 0 ? a / 2 : -((-a + 1) / 2); };
    out = crop(out, floordiv(out.height - crop_height), floordiv(out.width - crop_width), crop_height, crop_width);
  }
  return out;
}

Tensor ImageProcessor::operator()(const std::vector<Image>& images) const {
  if (images.empty()) throw ValueError("image processor: no images given");
  std::vector<Image> ready;
  for (const Image& img : images) ready.push_back(resize_and_crop(img));
  const int64_t H = ready[0].height, W = ready[0].width;
  for (const Image& r : ready)
    if (r.height != H || r.width != W)
      throw ValueError("image processor: images of different sizes after resizing cannot be batched");
  Tensor out = Tensor::empty({int64_t(ready.size()), 3, H, W});
  float* p = out.data<float>();
  float mean[3], stdv[3];
  for (int c = 0; c < 3; ++c) mean[c] = float(image_mean[c]), stdv[c] = float(image_std[c]);
  for (size_t n = 0; n < ready.size(); ++n)
    for (int c = 0; c < 3; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < W; ++x) {
          float v = float(ready[n].at(y, x, c));
          if (do_rescale) v = float(double(ready[n].at(y, x, c)) * rescale_factor);  // float64 product, as numpy
          if (do_normalize) v = (v - mean[c]) / stdv[c];                              // float32, as numpy
          p[((int64_t(n) * 3 + c) * H + y) * W + x] = v;
        }
  return out;
}

}  // namespace cppformers::processors
