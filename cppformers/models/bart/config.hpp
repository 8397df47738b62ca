#pragma once
// BartConfig with transformers' field names and defaults; also MBartConfig (model_type "mbart")
// and MarianConfig ("marian"), whose models run through the same implementation: the
// architecture differences are flags set from the model type.
#include "cppformers/models/pretrained.hpp"

namespace cppformers {

struct BartConfig : PretrainedConfig {
  int64_t vocab_size = 50265, d_model = 1024, encoder_layers = 12, decoder_layers = 12, encoder_attention_heads = 16,
          decoder_attention_heads = 16, encoder_ffn_dim = 4096, decoder_ffn_dim = 4096, max_position_embeddings = 1024;
  std::string activation_function = "gelu";
  double init_std = 0.02;
  bool scale_embedding = false;
  int64_t decoder_start_token_id = 2;
  std::optional<int64_t> forced_eos_token_id, forced_bos_token_id;
  // Marian: a separate decoder vocabulary when the embeddings are not shared (-1: vocab_size).
  int64_t decoder_vocab_size = -1;
  bool share_encoder_decoder_embeddings = true;

  // Architecture, from the model type (not config keys):
  bool normalize_before = false;           // mbart: pre-LN layers
  bool add_final_layer_norm = false;       // mbart: encoder/decoder layer_norm after the layers
  bool layernorm_embedding = true;         // bart, mbart: a layer norm after the embeddings
  bool static_position_embeddings = false;  // marian: sinusoidal positions from 0 (not learned, offset 2)

  BartConfig() { model_type = "bart"; pad_token_id = 1; bos_token_id = 0; eos_token_id = 2; }
  // The defaults of BartConfig, MBartConfig or MarianConfig and that type's architecture flags.
  static BartConfig for_model_type(const std::string& model_type);
  static BartConfig from_json(const nlohmann::json& j, const std::string& file);
  nlohmann::json to_json() const override;
  int64_t decoder_vocab() const { return decoder_vocab_size > 0 ? decoder_vocab_size : vocab_size; }
};

}  // namespace cppformers
