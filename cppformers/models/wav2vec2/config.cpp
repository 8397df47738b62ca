#include "cppformers/models/wav2vec2/config.hpp"

#include "cppformers/io/json.hpp"
#include "cppformers/nn/layers.hpp"

namespace cppformers {

Wav2Vec2Config Wav2Vec2Config::from_json(const nlohmann::json& j, const std::string& file) {
  Wav2Vec2Config c;
  c.parse_common(j, file);
  using io::json_get;
  c.vocab_size = json_get<int64_t>(j, "vocab_size", c.vocab_size, file);
  c.hidden_size = json_get<int64_t>(j, "hidden_size", c.hidden_size, file);
  c.num_hidden_layers = json_get<int64_t>(j, "num_hidden_layers", c.num_hidden_layers, file);
  c.num_attention_heads = json_get<int64_t>(j, "num_attention_heads", c.num_attention_heads, file);
  c.intermediate_size = json_get<int64_t>(j, "intermediate_size", c.intermediate_size, file);
  c.hidden_act = json_get<std::string>(j, "hidden_act", c.hidden_act, file);
  c.feat_extract_activation = json_get<std::string>(j, "feat_extract_activation", c.feat_extract_activation, file);
  c.feat_extract_norm = json_get<std::string>(j, "feat_extract_norm", c.feat_extract_norm, file);
  c.layer_norm_eps = json_get<double>(j, "layer_norm_eps", c.layer_norm_eps, file);
  c.initializer_range = json_get<double>(j, "initializer_range", c.initializer_range, file);
  c.conv_dim = json_get<std::vector<int64_t>>(j, "conv_dim", c.conv_dim, file);
  c.conv_stride = json_get<std::vector<int64_t>>(j, "conv_stride", c.conv_stride, file);
  c.conv_kernel = json_get<std::vector<int64_t>>(j, "conv_kernel", c.conv_kernel, file);
  c.conv_bias = json_get<bool>(j, "conv_bias", c.conv_bias, file);
  c.do_stable_layer_norm = json_get<bool>(j, "do_stable_layer_norm", c.do_stable_layer_norm, file);
  c.num_conv_pos_embeddings = json_get<int64_t>(j, "num_conv_pos_embeddings", c.num_conv_pos_embeddings, file);
  c.num_conv_pos_embedding_groups = json_get<int64_t>(j, "num_conv_pos_embedding_groups", c.num_conv_pos_embedding_groups, file);
  c.ctc_loss_reduction = json_get<std::string>(j, "ctc_loss_reduction", c.ctc_loss_reduction, file);
  c.ctc_zero_infinity = json_get<bool>(j, "ctc_zero_infinity", c.ctc_zero_infinity, file);
  if (c.conv_dim.size() != c.conv_stride.size() || c.conv_dim.size() != c.conv_kernel.size() || c.conv_dim.empty())
    throw FormatError(file + ": 'conv_dim', 'conv_stride' and 'conv_kernel' must have the same, non-zero length");
  if (c.feat_extract_norm != "group" && c.feat_extract_norm != "layer")
    throw FormatError(file + ": 'feat_extract_norm' must be 'group' or 'layer', got '" + c.feat_extract_norm + "'");
  if (c.hidden_size <= 0 || c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads)
    throw FormatError(file + ": 'hidden_size' must be a positive multiple of 'num_attention_heads'");
  if (c.hidden_size % c.num_conv_pos_embedding_groups)
    throw FormatError(file + ": 'hidden_size' must be a multiple of 'num_conv_pos_embedding_groups'");
  for (auto* a : {&c.hidden_act, &c.feat_extract_activation})
    if (!nn::is_known_activation(*a)) throw NotSupportedError(file + ": activation '" + *a + "' is not supported");
  if (json_get<bool>(j, "add_adapter", false, file))
    throw NotSupportedError(file + ": Wav2Vec2 adapters ('add_adapter': true) are not supported");
  return c;
}

nlohmann::json Wav2Vec2Config::to_json() const {
  nlohmann::json j;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = hidden_act;
  j["feat_extract_activation"] = feat_extract_activation;
  j["feat_extract_norm"] = feat_extract_norm;
  j["layer_norm_eps"] = layer_norm_eps;
  j["initializer_range"] = initializer_range;
  j["conv_dim"] = conv_dim;
  j["conv_stride"] = conv_stride;
  j["conv_kernel"] = conv_kernel;
  j["conv_bias"] = conv_bias;
  j["do_stable_layer_norm"] = do_stable_layer_norm;
  j["num_conv_pos_embeddings"] = num_conv_pos_embeddings;
  j["num_conv_pos_embedding_groups"] = num_conv_pos_embedding_groups;
  j["ctc_loss_reduction"] = ctc_loss_reduction;
  j["ctc_zero_infinity"] = ctc_zero_infinity;
  write_common(j);
  return j;
}

int64_t Wav2Vec2Config::output_length(int64_t n) const {
  for (size_t i = 0; i < conv_kernel.size(); ++i) n = (n - conv_kernel[i]) / conv_stride[i] + 1;  // floor for n >= k
  return n;
}

}  // namespace cppformers
