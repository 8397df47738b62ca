#include "cppformers/models/model_io.hpp"

namespace cppformers {

const std::vector<std::string>& ModelInputs::input_names() {
  static const std::vector<std::string> names = {"input_ids", "attention_mask", "token_type_ids",
                                                 "position_ids", "labels", "start_positions",
                                                 "end_positions"};
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
  return out;
}

}  // namespace cppformers
