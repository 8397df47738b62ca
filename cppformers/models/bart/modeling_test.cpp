#include "cppformers/models/bart/modeling.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "cppformers/generation/encoder_decoder.hpp"
#include "cppformers/models/parity_test_util.hpp"
#include "cppformers/ops/random.hpp"

namespace cppformers {
namespace {

TEST(Bart, MatchesPythonGolden) { testing::expect_golden_outputs("bart"); }

TEST(Bart, ShiftTokensRight) {
  Tensor labels = Tensor::from_vector<int64_t>({5, 6, -100}, {1, 3});
  EXPECT_EQ(shift_tokens_right(labels, 1, 2).to_vector<int64_t>(), (std::vector<int64_t>{2, 5, 6}));
}

// mBART and Marian have no Python fixtures: these tests check what can be checked without them.
// Expected key names are those of transformers' MBartForConditionalGeneration / MarianMTModel
// state dicts (modeling_mbart.py / modeling_marian.py), written out here by hand.

BartConfig tiny(const std::string& type) {
  BartConfig c = BartConfig::for_model_type(type);
  c.vocab_size = 24;
  c.d_model = 8;
  c.encoder_layers = c.decoder_layers = 2;
  c.encoder_attention_heads = c.decoder_attention_heads = 2;
  c.encoder_ffn_dim = c.decoder_ffn_dim = 16;
  c.max_position_embeddings = 12;
  c.pad_token_id = 1;
  c.bos_token_id = 0;
  c.eos_token_id = 2;
  c.forced_eos_token_id = 2;
  c.decoder_start_token_id = type == "marian" ? 1 : 2;
  return c;
}

std::vector<std::pair<std::string, Shape>> layer_keys(const std::string& p, int64_t d, int64_t f, bool decoder) {
  std::vector<std::pair<std::string, Shape>> k;
  std::vector<std::string> attns{"self_attn"};
  if (decoder) attns.push_back("encoder_attn");
  for (const auto& a : attns) {
    for (const char* proj : {"k_proj", "v_proj", "q_proj", "out_proj"})
      k.push_back({p + a + "." + proj + ".weight", {d, d}}), k.push_back({p + a + "." + proj + ".bias", {d}});
    k.push_back({p + a + "_layer_norm.weight", {d}}), k.push_back({p + a + "_layer_norm.bias", {d}});
  }
  k.push_back({p + "fc1.weight", {f, d}}), k.push_back({p + "fc1.bias", {f}});
  k.push_back({p + "fc2.weight", {d, f}}), k.push_back({p + "fc2.bias", {d}});
  k.push_back({p + "final_layer_norm.weight", {d}}), k.push_back({p + "final_layer_norm.bias", {d}});
  return k;
}

// The keys (and shapes) transformers' save_pretrained writes for the tiny config.
std::vector<std::pair<std::string, Shape>> hf_saved_keys(const BartConfig& c) {
  const int64_t d = c.d_model, V = c.vocab_size, f = c.encoder_ffn_dim, P = c.max_position_embeddings;
  const bool mbart = c.model_type == "mbart";
  std::vector<std::pair<std::string, Shape>> k{{"model.shared.weight", {V, d}}, {"final_logits_bias", {1, V}}};
  for (const char* part : {"encoder", "decoder"}) {
    const std::string m = std::string("model.") + part + ".";
    if (mbart) {
      k.push_back({m + "embed_positions.weight", {P + 2, d}});
      k.push_back({m + "layernorm_embedding.weight", {d}}), k.push_back({m + "layernorm_embedding.bias", {d}});
      k.push_back({m + "layer_norm.weight", {d}}), k.push_back({m + "layer_norm.bias", {d}});
    }
    for (int64_t i = 0; i < 2; ++i)
      for (auto& e : layer_keys(m + "layers." + std::to_string(i) + ".", d, f, std::string(part) == "decoder"))
        k.push_back(e);
  }
  return k;
}

io::StateDict random_state(const std::vector<std::pair<std::string, Shape>>& keys) {
  io::StateDict sd;
  for (auto& [name, shape] : keys) sd[name] = ops::normal(shape, 0.0, 0.5);
  return sd;
}

void expect_loads_exactly(const std::string& type) {
  SCOPED_TRACE(type);
  BartForConditionalGeneration model(tiny(type));
  const auto keys = hf_saved_keys(model.bart_config());
  // the model's own parameters, tied ones aside, are exactly those names and shapes
  std::set<std::string> ours, theirs;
  std::set<std::string> tied;
  for (auto& [t, src] : model.tied_weights()) tied.insert(t);
  for (auto& [n, t] : model.named_parameters())
    if (!tied.count(n)) ours.insert(n);
  for (auto& [n, shape] : keys) theirs.insert(n);
  EXPECT_EQ(ours, theirs);
  FromPretrainedOptions strict;
  strict.strict = true;  // throws on any missing or unexpected key
  auto r = model.load_pretrained(random_state(keys), strict, type);
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty());
  // a full state_dict() (tied copies, Marian's sinusoidal tables) and one without final_logits_bias
  auto full_keys = keys;
  const int64_t V = model.bart_config().vocab_size, d = model.bart_config().d_model;
  full_keys.push_back({"lm_head.weight", {V, d}});
  full_keys.push_back({"model.encoder.embed_tokens.weight", {V, d}});
  full_keys.push_back({"model.decoder.embed_tokens.weight", {V, d}});
  if (type == "marian")
    for (const char* p : {"model.encoder.embed_positions.weight", "model.decoder.embed_positions.weight"})
      full_keys.push_back({p, {model.bart_config().max_position_embeddings, d}});
  EXPECT_NO_THROW(model.load_pretrained(random_state(full_keys), strict, type));
  auto no_bias = random_state(keys);
  no_bias.erase("final_logits_bias");
  BartForConditionalGeneration fresh(tiny(type));
  EXPECT_NO_THROW(fresh.load_pretrained(no_bias, strict, type));
  EXPECT_EQ(fresh.final_logits_bias.to_vector<float>(), std::vector<float>(size_t(V), 0.0f));
  // lm_head is the shared embedding matrix
  EXPECT_EQ(fresh.lm_head->weight.to_vector<float>(), fresh.shared->weight.to_vector<float>());
}

TEST(MBartMarian, CheckpointKeysAreTransformersNames) {
  expect_loads_exactly("mbart");
  expect_loads_exactly("marian");
  EXPECT_EQ(BartForConditionalGeneration(tiny("mbart")).class_name(), "MBartForConditionalGeneration");
  EXPECT_EQ(BartForConditionalGeneration(tiny("marian")).class_name(), "MarianMTModel");
  EXPECT_EQ(BartForConditionalGeneration(tiny("bart")).class_name(), "BartForConditionalGeneration");
}

TEST(MBartMarian, MarianUnsharedEmbeddings) {
  BartConfig c = tiny("marian");
  c.share_encoder_decoder_embeddings = false;
  c.decoder_vocab_size = 30;
  BartForConditionalGeneration model(c);
  std::set<std::string> names;
  for (auto& [n, t] : model.named_parameters()) names.insert(n);
  EXPECT_FALSE(names.count("model.shared.weight"));
  EXPECT_EQ(model.shared->weight.shape(), (Shape{24, 8}));     // model.encoder.embed_tokens
  EXPECT_EQ(model.dec_embed->weight.shape(), (Shape{30, 8}));  // model.decoder.embed_tokens
  EXPECT_EQ(model.final_logits_bias.shape(), (Shape{1, 30}));
  EXPECT_EQ(model.tied_weights(), (std::vector<std::pair<std::string, std::string>>{
                                      {"lm_head.weight", "model.decoder.embed_tokens.weight"}}));
  EXPECT_EQ(model.vocab_size(), 30);
}

TEST(MBartMarian, SinusoidalPositionsAreTheClosedForm) {
  for (int64_t dim : {8, 7}) {
    const int64_t n = 12;
    // position_enc[p][j] = p / 10000^(2 * floor(j / 2) / dim); the even columns' sines first, then
    // the odd columns' cosines
    std::vector<float> want;
    for (int64_t p = 0; p < n; ++p) {
      std::vector<double> enc(static_cast<size_t>(dim));
      for (int64_t j = 0; j < dim; ++j) enc[size_t(j)] = double(p) / std::pow(10000.0, 2.0 * double(j / 2) / double(dim));
      for (int64_t j = 0; j < dim; j += 2) want.push_back(float(std::sin(enc[size_t(j)])));
      for (int64_t j = 1; j < dim; j += 2) want.push_back(float(std::cos(enc[size_t(j)])));
    }
    EXPECT_EQ(marian_sinusoidal_positions(n, dim).to_vector<float>(), want);
  }
  // the Marian encoder's first hidden state is scaled embeddings + those positions (from 0)
  BartConfig c = tiny("marian");
  c.scale_embedding = true;
  BartForConditionalGeneration model(c);
  model.init_weights();
  autograd::NoGradGuard no_grad;
  ModelInputs in;
  in.input_ids = Tensor::from_vector<int64_t>({5, 9, 2}, {1, 3});
  in.decoder_input_ids = Tensor::from_vector<int64_t>({1, 7}, {1, 2});
  in.output_hidden_states = true;
  ModelOutput out = model.forward(in);
  const auto emb = model.shared->weight.to_vector<float>(), h0 = out.encoder_hidden_states[0].to_vector<float>();
  const auto table = marian_sinusoidal_positions(12, 8).to_vector<float>();
  const int64_t ids[3] = {5, 9, 2};
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t k = 0; k < 8; ++k)
      EXPECT_NEAR(h0[size_t(s * 8 + k)], emb[size_t(ids[s] * 8 + k)] * std::sqrt(8.0f) + table[size_t(s * 8 + k)], 1e-5);
  // decoder positions continue after the cache when stepping
  const auto d0 = out.decoder_hidden_states[0].to_vector<float>();
  EXPECT_NEAR(d0[8 + 3], emb[7 * 8 + 3] * std::sqrt(8.0f) + table[8 + 3], 1e-5);
}

TEST(MBartMarian, MBartFinalLayerNormAndShift) {
  BartForConditionalGeneration model(tiny("mbart"));
  model.init_weights();
  ASSERT_TRUE(model.enc_layer_norm && model.dec_layer_norm);
  // the encoder's last hidden state comes out of model.encoder.layer_norm: with weight 2, bias 1
  // every row has mean 1 and (biased) standard deviation 2
  model.enc_layer_norm->weight.fill_(2.0);
  model.enc_layer_norm->bias.fill_(1.0);
  autograd::NoGradGuard no_grad;
  ModelInputs in;
  in.input_ids = Tensor::from_vector<int64_t>({5, 9, 2, 3}, {1, 4});
  in.labels = Tensor::from_vector<int64_t>({7, 8, 2, 3}, {1, 4});
  ModelOutput out = model.forward(in);
  const auto h = out.encoder_last_hidden_state.to_vector<float>();
  for (int64_t s = 0; s < 4; ++s) {
    double mean = 0, var = 0;
    for (int64_t k = 0; k < 8; ++k) mean += h[size_t(s * 8 + k)] / 8.0;
    for (int64_t k = 0; k < 8; ++k) var += std::pow(h[size_t(s * 8 + k)] - mean, 2) / 8.0;
    EXPECT_NEAR(mean, 1.0, 1e-4);
    EXPECT_NEAR(std::sqrt(var), 2.0, 1e-3);
  }
  EXPECT_TRUE(out.loss.defined());
  // MBart's shift: the last non-pad token (the language code) moves to the front
  EXPECT_EQ(mbart_shift_tokens_right(Tensor::from_vector<int64_t>({10, 11, 2, 3, 1, 1}, {1, 6}), 1).to_vector<int64_t>(),
            (std::vector<int64_t>{3, 10, 11, 2, 3, 1}));
  EXPECT_EQ(mbart_shift_tokens_right(Tensor::from_vector<int64_t>({10, -100, 4, 5, 6, 7}, {2, 3}), 1).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 10, 1, 7, 5, 6}));  // HF gathers position count-1 even if it is a pad
}

TEST(MBartMarian, GreedyDecodeAndFromPretrained) {
  for (const std::string type : {"mbart", "marian"}) {
    SCOPED_TRACE(type);
    BartConfig c = tiny(type);
    auto model = std::make_shared<BartForConditionalGeneration>(c);
    model->init_weights();
    model->apply_ties();  // as from_config: lm_head is the shared embedding matrix
    ModelInputs in;
    in.input_ids = Tensor::from_vector<int64_t>({5, 9, 2, 6, 2, 1}, {2, 3});
    in.attention_mask = Tensor::from_vector<int64_t>({1, 1, 1, 1, 1, 0}, {2, 3});
    GenerationConfig g;
    g.max_new_tokens = 5;
    g.eos_token_id = {2};
    g.pad_token_id = 1;
    Seq2SeqGenerationExtras ex;
    ex.decoder_start_token_id = c.decoder_start_token_id;
    ex.forced_bos_token_id = 17;  // mBART-50 style: the target language first
    GenerateOutput out = generate_seq2seq(*model, in, g, ex);
    ASSERT_EQ(out.sequences.size(), 2u);
    for (auto& s : out.sequences) {
      ASSERT_GE(s.size(), 2u);
      EXPECT_LE(s.size(), 6u);
      EXPECT_EQ(s[0], c.decoder_start_token_id);
      EXPECT_EQ(s[1], 17);
    }
    // greedy decoding with the cache equals the argmax of a full forward on the generated prefix
    autograd::NoGradGuard no_grad;
    ModelInputs full = in;
    const auto& s0 = out.sequences[0];
    full.input_ids = in.input_ids.narrow(0, 0, 1).contiguous();
    full.attention_mask = in.attention_mask.narrow(0, 0, 1).contiguous();
    full.decoder_input_ids = Tensor::from_vector(std::vector<int64_t>(s0.begin(), s0.end() - 1), {1, int64_t(s0.size()) - 1});
    Tensor logits = model->forward(full).logits;
    const int64_t V = logits.size(2);
    const auto l = logits.to_vector<float>();
    for (size_t t = 1; t + 1 < s0.size() && s0[t] != 2; ++t) {
      const float* row = l.data() + t * size_t(V);
      EXPECT_EQ(int64_t(std::max_element(row, row + V) - row), s0[t + 1]) << "step " << t;
    }
    // save_pretrained -> AutoModelForSeq2SeqLM: the same class and outputs
    const auto dir = std::filesystem::temp_directory_path() / ("cf_" + type + "_" + std::to_string(getpid()));
    model->save_pretrained(dir.string());
    auto loaded = AutoModelForSeq2SeqLM::from_pretrained(dir.string());
    EXPECT_EQ(loaded->class_name(), model->class_name());
    EXPECT_TRUE(testing::all_close(loaded->forward(full).logits, logits, 1e-6, 1e-6));
    std::filesystem::remove_all(dir);
  }
}

// testdata/make_mbart_marian_goldens.py: a separate small PyTorch implementation of the two
// architectures (written from their definitions; transformers is not installed here) with
// random weights under transformers' key names, and its outputs.
TEST(MBartMarian, MatchesAnIndependentPyTorchReference) {
  for (const std::string name : {"mbart_tiny", "marian_tiny"}) {
    SCOPED_TRACE(name);
    const std::string dir = std::string(CPPFORMERS_SOURCE_DIR) + "/cppformers/models/bart/testdata/" + name;
    FromPretrainedOptions strict;
    strict.strict = true;
    auto model = AutoModelForSeq2SeqLM::from_pretrained(dir, strict);
    const auto gold = io::load_file(dir + "/golden.safetensors");
    ModelInputs in = ModelInputs::from_tensors(gold);
    autograd::NoGradGuard no_grad;
    ModelOutput out = model->forward(in);
    EXPECT_TRUE(testing::all_close(out.encoder_last_hidden_state, gold.at("encoder_last_hidden_state")));
    EXPECT_TRUE(testing::all_close(out.logits, gold.at("logits")));
    // the cached decoder (generate's path) gives the same last-position logits
    auto& s2s = dynamic_cast<Seq2SeqLM&>(*model);
    ModelInputs enc;
    enc.input_ids = in.input_ids;
    enc.attention_mask = in.attention_mask;
    Seq2SeqState st = s2s.encode(enc);
    st.self_cache = std::make_unique<nn::KVCache>(8);
    const int64_t S = in.decoder_input_ids.size(1);
    Tensor step;
    for (int64_t t = 0; t < S; ++t) step = s2s.decode_step(in.decoder_input_ids.narrow(1, t, 1).contiguous(), st);
    EXPECT_TRUE(testing::all_close(step.select(1, 0), gold.at("logits").select(1, S - 1)));
  }
}

}  // namespace
}  // namespace cppformers
