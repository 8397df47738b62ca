#pragma once
// What a model takes and returns, with transformers' field names.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cppformers/core/tensor.hpp"
#include "cppformers/io/safetensors.hpp"

namespace cppformers {

namespace nn { class KVCache; }

struct ModelInputs {
  Tensor input_ids, attention_mask, token_type_ids, position_ids;
  Tensor labels, start_positions, end_positions;
  bool output_hidden_states = false, output_attentions = false;
  // Decoder-only models: the key/value cache to read and extend (HF's past_key_values; not
  // owned). With a cache, input_ids holds only the new tokens and attention_mask covers the
  // cached positions too ([batch, past + seq]).
  nn::KVCache* past_key_values = nullptr;
  // Causal LMs: compute logits for the last N positions only (0: all), as num_logits_to_keep.
  int64_t num_logits_to_keep = 0;
  // Vision / audio / encoder-decoder inputs (transformers' names).
  Tensor pixel_values, input_features, input_values;
  Tensor decoder_input_ids, decoder_attention_mask;
  // CLIP: also compute the contrastive loss (Python's return_loss=True).
  bool return_loss = false;

  // Picks the tensors named like a model input ("input_ids", "labels", ...) out of `named`;
  // other names are ignored. Names of inputs it recognises are listed by input_names().
  static ModelInputs from_tensors(const io::StateDict& named);
  static const std::vector<std::string>& input_names();
};

struct ModelOutput {
  Tensor loss, logits, last_hidden_state, pooler_output, start_logits, end_logits;
  std::vector<Tensor> hidden_states, attentions;
  // Encoder-decoder models (Seq2SeqLMOutput).
  Tensor encoder_last_hidden_state;
  std::vector<Tensor> encoder_hidden_states, encoder_attentions, decoder_hidden_states, decoder_attentions,
      cross_attentions;
  // CLIP (CLIPOutput): the two towers' own outputs are nested under their names.
  Tensor logits_per_image, logits_per_text, text_embeds, image_embeds;
  std::shared_ptr<ModelOutput> text_model_output, vision_model_output;

  // Every defined output, named as transformers does (tuples flattened: hidden_states.0, ...).
  std::vector<std::pair<std::string, Tensor>> named() const;
};

}  // namespace cppformers
