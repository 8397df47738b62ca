#pragma once
// image-classification and zero-shot-image-classification, as transformers'
// ImageClassificationPipeline and ZeroShotImageClassificationPipeline. Inputs are image file
// paths (or lists of them); images go through the model's ImageProcessor.
#include "cppformers/pipelines/pipeline.hpp"
#include "cppformers/processors/image_processor.hpp"

namespace cppformers {

class ImageClassificationPipeline : public Pipeline {
 public:
  ImageClassificationPipeline(std::shared_ptr<PreTrainedModel> model, processors::ImageProcessor processor);
  // Every label with its score for one image, sorted (descending). function_to_apply: "" (the
  // model's default), "softmax", "sigmoid", "none".
  std::vector<std::pair<std::string, double>> classify(const processors::Image& image, const std::string& fn = "");
  // pipe(image_path_or_list, top_k=5, function_to_apply=None).
  json call(const json& inputs, const json& kwargs = json::object()) override;
  processors::ImageProcessor processor;
};

class ZeroShotImageClassificationPipeline : public Pipeline {
 public:
  ZeroShotImageClassificationPipeline(std::shared_ptr<PreTrainedModel> model, AutoTokenizer tokenizer,
                                      processors::ImageProcessor processor);
  // (label, score) sorted by score: softmax over the labels of logits_per_image.
  std::vector<std::pair<std::string, double>> classify(const processors::Image& image,
                                                       const std::vector<std::string>& candidate_labels,
                                                       const std::string& hypothesis_template = "This is a photo of {}.");
  // pipe(image_path_or_list, candidate_labels=[...], hypothesis_template=...).
  json call(const json& inputs, const json& kwargs = json::object()) override;
  processors::ImageProcessor processor;
};

}  // namespace cppformers
