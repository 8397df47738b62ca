#include "cppformers/models/gpt2/config.hpp"

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

GPT2Config GPT2Config::from_json(const nlohmann::json& j, const std::string& file) {
  using io::json_get;
  GPT2Config c;
  c.parse_common(j, file);
  c.model_type = "gpt2";
  if (!j.contains("bos_token_id")) c.bos_token_id = 50256;
  if (!j.contains("eos_token_id")) c.eos_token_id = 50256;
  c.vocab_size = json_get<int64_t>(j, "vocab_size", c.vocab_size, file);
  c.n_positions = json_get<int64_t>(j, "n_positions", c.n_positions, file);
  c.n_embd = json_get<int64_t>(j, "n_embd", c.n_embd, file);
  c.n_layer = json_get<int64_t>(j, "n_layer", c.n_layer, file);
  c.n_head = json_get<int64_t>(j, "n_head", c.n_head, file);
  c.n_inner = json_get<int64_t>(j, "n_inner", 0, file);
  c.activation_function = json_get<std::string>(j, "activation_function", c.activation_function, file);
  c.resid_pdrop = json_get<double>(j, "resid_pdrop", c.resid_pdrop, file);
  c.embd_pdrop = json_get<double>(j, "embd_pdrop", c.embd_pdrop, file);
  c.attn_pdrop = json_get<double>(j, "attn_pdrop", c.attn_pdrop, file);
  c.layer_norm_epsilon = json_get<double>(j, "layer_norm_epsilon", c.layer_norm_epsilon, file);
  c.initializer_range = json_get<double>(j, "initializer_range", c.initializer_range, file);
  c.scale_attn_weights = json_get<bool>(j, "scale_attn_weights", c.scale_attn_weights, file);
  c.scale_attn_by_inverse_layer_idx =
      json_get<bool>(j, "scale_attn_by_inverse_layer_idx", c.scale_attn_by_inverse_layer_idx, file);
  c.reorder_and_upcast_attn = json_get<bool>(j, "reorder_and_upcast_attn", c.reorder_and_upcast_attn, file);
  if (c.n_embd <= 0 || c.n_head <= 0 || c.n_embd % c.n_head)
    throw FormatError(file + ": 'n_embd' (" + std::to_string(c.n_embd) + ") must be a positive multiple of 'n_head' (" +
                      std::to_string(c.n_head) + ")");
  if (c.vocab_size <= 0 || c.n_layer < 0 || c.n_positions <= 0)
    throw FormatError(file + ": sizes ('vocab_size', 'n_layer', 'n_positions') must be positive");
  {  // sizes that imply more parameters than the memory holds would hang or fail to allocate
    const double e = double(c.n_embd), inner = c.n_inner > 0 ? double(c.n_inner) : 4 * e;
    check_parameters_fit_in_memory(
        (double(c.vocab_size) + double(c.n_positions)) * e + double(c.n_layer) * (4 * e * e + 2 * e * inner), file,
        "vocab_size " + std::to_string(c.vocab_size) + ", n_positions " + std::to_string(c.n_positions) + ", n_embd " +
            std::to_string(c.n_embd) + ", n_layer " + std::to_string(c.n_layer) + ", n_inner " + std::to_string(c.n_inner));
  }
  if (!nn::is_known_activation(c.activation_function))
    throw NotSupportedError(file + ": 'activation_function' '" + c.activation_function + "' is not supported");
  return c;
}

nlohmann::json GPT2Config::to_json() const {
  nlohmann::json j;
  j["vocab_size"] = vocab_size;
  j["n_positions"] = n_positions;
  j["n_embd"] = n_embd;
  j["n_layer"] = n_layer;
  j["n_head"] = n_head;
  j["n_inner"] = n_inner > 0 ? nlohmann::json(n_inner) : nlohmann::json();
  j["activation_function"] = activation_function;
  j["resid_pdrop"] = resid_pdrop;
  j["embd_pdrop"] = embd_pdrop;
  j["attn_pdrop"] = attn_pdrop;
  j["layer_norm_epsilon"] = layer_norm_epsilon;
  j["initializer_range"] = initializer_range;
  j["scale_attn_weights"] = scale_attn_weights;
  j["scale_attn_by_inverse_layer_idx"] = scale_attn_by_inverse_layer_idx;
  j["reorder_and_upcast_attn"] = reorder_and_upcast_attn;
  write_common(j);
  return j;
}

}  // namespace cppformers
