#include "cppformers/models/model_io.hpp"

namespace cppformers {

const std::vector<std::string>& ModelInputs::input_names() {
  static const std::vector<std::string> names = {"input_ids", "attention_mask", "token_type_ids",
                                                 "position_ids", "labels", "start_positions",
                                                 "end_positions", "pixel_values", "input_features",
                                                 "input_values", "decoder_input_ids", "decoder_attention_mask"};
  return names;
}

ModelInputs ModelInputs::from_tensors(const io::StateDict& named) {
  ModelInputs in;
  auto pick = [&](const char* name, Tensor& slot) {
    auto it = named.find(name);
    if (it != named.end()) slot = it->second;
  };
  pick("input_ids", in.input_ids);
  pick("attention_mask", in.attention_mask);
  pick("token_type_ids", in.token_type_ids);
  pick("position_ids", in.position_ids);
  pick("labels", in.labels);
  pick("start_positions", in.start_positions);
  pick("end_positions", in.end_positions);
  pick("pixel_values", in.pixel_values);
  pick("input_features", in.input_features);
  pick("input_values", in.input_values);
  pick("decoder_input_ids", in.decoder_input_ids);
  pick("decoder_attention_mask", in.decoder_attention_mask);
  return in;
}

std::vector<std::pair<std::string, Tensor>> ModelOutput::named() const {
  std::vector<std::pair<std::string, Tensor>> out;
  auto add = [&](const char* name, const Tensor& t) {
    if (t.defined()) out.emplace_back(name, t);
  };
  add("loss", loss);
  add("logits", logits);
  add("start_logits", start_logits);
  add("end_logits", end_logits);
  add("last_hidden_state", last_hidden_state);
  add("pooler_output", pooler_output);
  for (size_t i = 0; i < hidden_states.size(); ++i)
    out.emplace_back("hidden_states." + std::to_string(i), hidden_states[i]);
  for (size_t i = 0; i < attentions.size(); ++i)
    out.emplace_back("attentions." + std::to_string(i), attentions[i]);
  add("encoder_last_hidden_state", encoder_last_hidden_state);
  auto add_all = [&](const std::string& name, const std::vector<Tensor>& ts) {
    for (size_t i = 0; i < ts.size(); ++i) out.emplace_back(name + "." + std::to_string(i), ts[i]);
  };
  add_all("encoder_hidden_states", encoder_hidden_states);
  add_all("encoder_attentions", encoder_attentions);
  add_all("decoder_hidden_states", decoder_hidden_states);
  add_all("decoder_attentions", decoder_attentions);
  add_all("cross_attentions", cross_attentions);
  add("logits_per_image", logits_per_image);
  add("logits_per_text", logits_per_text);
  add("text_embeds", text_embeds);
  add("image_embeds", image_embeds);
  for (auto [prefix, sub] : {std::pair{"text_model_output.", &text_model_output}, {"vision_model_output.", &vision_model_output}})
    if (*sub)
      for (auto& [n, t] : (*sub)->named()) out.emplace_back(prefix + n, t);
  return out;
}

}  // namespace cppformers
