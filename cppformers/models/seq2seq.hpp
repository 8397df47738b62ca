#pragma once
// What encoder-decoder models (T5, BART, Whisper) share: the encoder runs once; the decoder
// then runs step by step over a self-attention key/value cache, with each layer's
// cross-attention keys/values projected from the encoder output once and reused.
#include <memory>
#include <utility>
#include <vector>

#include "cppformers/models/pretrained.hpp"
#include "cppformers/nn/kv_cache.hpp"

namespace cppformers {

struct Seq2SeqState {
  Tensor encoder_hidden;  // [B, S, D]
  Tensor encoder_mask;    // [B, S] of 1/0 (i64), or undefined (attend everywhere)
  std::unique_ptr<nn::KVCache> self_cache = std::make_unique<nn::KVCache>(0);
  std::vector<std::pair<Tensor, Tensor>> cross_kv;  // per decoder layer, filled on the first step
  // Beam search: each row repeated k times (before the first decode step).
  void expand(int64_t k);
  // Beam search: row i continues row index[i] (i64 [B]).
  void reorder(const Tensor& index);
  int64_t past_length() const { return self_cache->num_layers() ? self_cache->length(0) : 0; }
};

class Seq2SeqLM : public PreTrainedModel {
 public:
  // Runs the encoder on input_ids/attention_mask (or input_features).
  virtual Seq2SeqState encode(const ModelInputs& in) = 0;
  // Logits [B, n, vocab] for the new decoder tokens `ids` [B, n], positions continuing after
  // the cache; appends their keys/values to st.self_cache.
  virtual Tensor decode_step(const Tensor& ids, Seq2SeqState& st) = 0;
  virtual int64_t decoder_start_token_id() const = 0;
  virtual int64_t vocab_size() const = 0;
};

// transformers' shift_tokens_right: [start, labels[:-1]] with -100 replaced by pad.
Tensor shift_tokens_right(const Tensor& labels, int64_t pad_token_id, int64_t decoder_start_token_id);
// Additive decoder self-attention mask [B, 1, Sq, past + Sq]: causal (query i at position
// past + i) and, if given, the padding of `mask` ([B, past + Sq]); float32 lowest where masked.
Tensor decoder_mask_bias(int64_t B, int64_t Sq, int64_t past, const Tensor& mask);
// Mean cross-entropy of logits [B, S, V] against labels [B, S] ignoring -100.
Tensor seq2seq_lm_loss(const Tensor& logits, const Tensor& labels);

}  // namespace cppformers
