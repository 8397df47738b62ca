// Parity with Python transformers 4.45.2 on the decoder-only fixtures (../shared/fixtures/hf):
// forward outputs (compared where attention_mask == 1), greedy and beam-search generate() ids,
// KV-cached decoding against full forwards, seeded sampling.
#include "cppformers/models/causal_lm.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/generation/utils.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/models/gpt2/config.hpp"
#include "cppformers/models/llama/config.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/nn/kv_cache.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/testing/fake_hub.hpp"
#include "cppformers/testing/fixtures.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"

namespace cppformers {
namespace {

using testing::hf_fixture;

// max |a - b| - (1e-4 + 1e-4 |b|) over the rows [b, s] (or attention query rows) where mask == 1.
::testing::AssertionResult close_where_attended(const Tensor& ours, const Tensor& gold, const Tensor& mask) {
  if (ours.shape() != gold.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(ours.shape()) << " != " << shape_str(gold.shape());
  const auto o = ours.to_vector<double>(), g = gold.to_vector<double>();
  const auto m = mask.to_vector<int64_t>();
  const int64_t B = mask.size(0), S = mask.size(1);
  const bool attn = gold.dim() == 4;  // [B, H, S, T]: query rows
  const int64_t H = attn ? gold.size(1) : 1, inner = attn ? gold.size(3) : gold.numel() / (B * S);
  double worst = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t s = 0; s < S; ++s) {
        if (!m[size_t(b * S + s)]) continue;
        const int64_t base = ((b * H + h) * S + s) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          const double d = std::abs(o[size_t(base + i)] - g[size_t(base + i)]) - (1e-4 + 1e-4 * std::abs(g[size_t(base + i)]));
          if (!(d <= 0)) return ::testing::AssertionFailure() << "mismatch at b" << b << " s" << s << " by " << d;
          worst = std::max(worst, d);
        }
      }
  return ::testing::AssertionSuccess();
}

class CausalParity : public ::testing::TestWithParam<std::string> {};

TEST_P(CausalParity, ForwardGreedyAndBeamMatchPython) {
  const std::string dir = hf_fixture(GetParam());
  const auto meta = testing::golden_json(dir);
  auto model = AutoModelForCausalLM::from_pretrained(dir);
  EXPECT_EQ(model->class_name(), meta["hf_class"].get<std::string>());
  EXPECT_EQ(model->num_parameters(), meta["num_parameters"].get<int64_t>());
  const io::StateDict golden = io::load_file(dir + "/golden.safetensors");
  ModelInputs in = ModelInputs::from_tensors(golden);
  in.output_hidden_states = in.output_attentions = true;
  autograd::NoGradGuard no_grad;
  ModelOutput out = model->forward(in);
  std::map<std::string, Tensor> ours;
  for (auto& [n, t] : out.named()) ours[n] = t;
  for (const std::string name : meta["outputs"]) {
    if (name == "loss") continue;  // left padding: depends on fully masked rows (see the fixtures' README)
    SCOPED_TRACE(name);
    ASSERT_TRUE(ours.count(name));
    EXPECT_TRUE(close_where_attended(ours[name], golden.at(name), in.attention_mask));
  }
  // the loss with the padded labels masked out is finite and positive
  EXPECT_GT(out.loss.item(), 0.0);

  const auto& gen = meta["generation"];
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  for (const char* mode : {"greedy", "beam"}) {
    SCOPED_TRACE(mode);
    GenerationConfig c = cfg;
    nlohmann::json kw = gen[mode]["kwargs"];
    kw.erase("cache_implementation");
    c.update(kw);
    c.output_scores = true;
    GenerateOutput g = generate(*model, golden.at("input_ids"), golden.at("attention_mask"), c);
    EXPECT_EQ(nlohmann::json(g.sequences), gen[mode]["sequences"]);
    if (std::string(mode) == "beam") {
      ASSERT_EQ(g.sequences_scores.size(), gen[mode]["sequences_scores"].size());
      for (size_t i = 0; i < g.sequences_scores.size(); ++i)
        EXPECT_NEAR(g.sequences_scores[i], gen[mode]["sequences_scores"][i].get<double>(), 1e-4);
    } else {  // the chosen tokens' scores, step by step
      const auto& chosen = gen[mode]["chosen_token_scores"];
      ASSERT_EQ(g.scores.size(), chosen[0].size());
      const int64_t L = golden.at("input_ids").size(1);
      for (size_t step = 0; step < g.scores.size(); ++step)
        for (size_t r = 0; r < g.sequences.size(); ++r) {
          const int64_t tok = g.sequences[r][size_t(L) + step];
          const float v = g.scores[step].data<float>()[int64_t(r) * g.scores[step].size(1) + tok];
          EXPECT_NEAR(v, chosen[r][step].get<double>(), 1e-4 + 1e-4 * std::abs(v));
        }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CausalParity,
                         ::testing::Values("gpt2", "llama", "llama_medium", "mistral", "qwen2", "gemma", "gemma2", "phi3"));

// Prefill part of a left-padded batch, then feed one token at a time through the cache: the
// logits equal one full forward pass at every attended position.
class CachedDecoding : public ::testing::TestWithParam<std::string> {};

TEST_P(CachedDecoding, StepByStepEqualsFullForward) {
  const std::string dir = hf_fixture(GetParam());
  auto model = AutoModelForCausalLM::from_pretrained(dir);
  const io::StateDict golden = io::load_file(dir + "/golden.safetensors");
  autograd::NoGradGuard no_grad;
  ModelInputs full = ModelInputs::from_tensors(golden);
  full.labels = Tensor();
  const Tensor ids = full.input_ids, mask = full.attention_mask, pos = full.position_ids;
  const Tensor want = model->forward(full).logits;
  const int64_t S = ids.size(1), prefill = 5;
  nn::KVCache cache(S);
  std::vector<Tensor> pieces;
  for (int64_t at = 0; at < S;) {
    const int64_t n = at == 0 ? prefill : 1;
    ModelInputs step;
    step.input_ids = ids.narrow(1, at, n);
    step.position_ids = pos.narrow(1, at, n);
    step.attention_mask = mask.narrow(1, 0, at + n);
    step.past_key_values = &cache;
    pieces.push_back(model->forward(step).logits);
    at += n;
  }
  EXPECT_EQ(cache.length(0), S);
  const Tensor got = ops::cat(pieces, 1);
  EXPECT_TRUE(close_where_attended(got, want, mask));
  // num_logits_to_keep: only the last position
  ModelInputs last = ModelInputs::from_tensors(golden);
  last.labels = Tensor();
  last.num_logits_to_keep = 1;
  Tensor l1 = model->forward(last).logits;
  EXPECT_EQ(l1.shape(), (Shape{ids.size(0), 1, want.size(2)}));
  EXPECT_TRUE(testing::all_close(l1, want.narrow(1, S - 1, 1).contiguous()));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CachedDecoding, ::testing::Values("gpt2", "llama", "gemma2", "phi3"));

// The llama fixture with its golden inputs and generation config, where the generate() tests start.
struct LlamaGolden {
  std::string dir = hf_fixture("llama");
  std::shared_ptr<PreTrainedModel> model = AutoModelForCausalLM::from_pretrained(dir);
  io::StateDict golden = io::load_file(dir + "/golden.safetensors");
  Tensor ids = golden.at("input_ids"), mask = golden.at("attention_mask");
  GenerationConfig config = GenerationConfig::from_pretrained(dir, &model->config());
};

TEST(Generate, SeededSamplingIsReproducibleAndStopsAtEos) {
  LlamaGolden f;
  auto& [dir, model, golden, ids, mask, c] = f;
  c.update({{"do_sample", true}, {"max_new_tokens", 12}, {"top_k", 20}, {"top_p", 0.9}, {"temperature", 0.8}, {"seed", 5}});
  const auto a = generate(*model, ids, mask, c).sequences, b = generate(*model, ids, mask, c).sequences;
  EXPECT_EQ(a, b);
  c.seed = 6;
  EXPECT_NE(generate(*model, ids, mask, c).sequences, a);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].size(), size_t(ids.size(1) + 12));

  // greedy with an eos that row 0 produces at its 3rd step: row 0 ends and is padded after it
  GenerationConfig g = GenerationConfig::from_pretrained(dir, &model->config());
  g.update({{"max_new_tokens", 16}});
  const auto greedy = generate(*model, ids, mask, g).sequences;
  const int64_t L = ids.size(1), eos = greedy[0][size_t(L + 2)];
  g.eos_token_id = {eos};
  g.pad_token_id = 0;
  const auto stopped = generate(*model, ids, mask, g).sequences;
  EXPECT_EQ(stopped[0][size_t(L + 2)], eos);
  for (size_t t = size_t(L + 3); t < stopped[0].size(); ++t) EXPECT_EQ(stopped[0][t], 0);

  // num_return_sequences with sampling: rows per prompt
  c.num_return_sequences = 3;
  EXPECT_EQ(generate(*model, ids, mask, c).sequences.size(), 6u);
  // min_new_tokens keeps eos away; bad words are never produced; n-grams never repeat
  GenerationConfig r = GenerationConfig::from_pretrained(dir, &model->config());
  r.update({{"max_new_tokens", 10}, {"no_repeat_ngram_size", 2}, {"bad_words_ids", {{greedy[1][size_t(L)]}}}});
  const auto nr = generate(*model, ids, mask, r).sequences;
  for (const auto& row : nr) {
    for (size_t t = size_t(L) - 1; t + 1 < row.size(); ++t)  // each generated bigram is new
      for (size_t j = 0; j < t; ++j) EXPECT_FALSE(row[j] == row[t] && row[j + 1] == row[t + 1]) << "bigram at " << t;
    for (size_t t = size_t(L); t < row.size(); ++t) EXPECT_NE(row[t], greedy[1][size_t(L)]);
  }
}


TEST(Generate, InfersTheAttentionMaskFromLeftPaddingAsTransformers) {
  const std::string dir = hf_fixture("llama");
  auto model = AutoModelForCausalLM::from_pretrained(dir);
  const io::StateDict golden = io::load_file(dir + "/golden.safetensors");
  const Tensor ids = golden.at("input_ids"), mask = golden.at("attention_mask");
  GenerationConfig c = GenerationConfig::from_pretrained(dir, &model->config());  // pad 0, eos 2
  c.update({{"max_new_tokens", 4}});
  const auto with_mask = generate(*model, ids, mask, c).sequences;
  EXPECT_EQ(generate(*model, ids, Tensor(), c).sequences, with_mask);  // row 1 is left-padded with 0s
  // the inferred mask is ids != pad, unless pad is unset, absent from the ids or an eos token
  const std::vector<int64_t> flat = ids.to_vector<int64_t>(), m = mask.to_vector<int64_t>();
  EXPECT_EQ(infer_attention_mask(flat, 0, {2}), m);
  EXPECT_EQ(infer_attention_mask(flat, 0, {0}), std::vector<int64_t>(flat.size(), 1));
  EXPECT_EQ(infer_attention_mask(flat, std::nullopt, {2}), std::vector<int64_t>(flat.size(), 1));
  EXPECT_EQ(infer_attention_mask(flat, 127, {2}), std::vector<int64_t>(flat.size(), 1));
  // pad unset: transformers uses eos as pad, so nothing is inferred (all ones)
  GenerationConfig nopad = c;
  nopad.pad_token_id.reset();
  nopad.eos_token_id = {0};
  EXPECT_EQ(generate(*model, ids, Tensor(), nopad).sequences,
            generate(*model, ids, Tensor::ones({2, 9}, kI64), nopad).sequences);
}

TEST(Generate, RejectsFloatIdsAndNonBinaryMasks) {
  const std::string dir = hf_fixture("llama");
  auto model = AutoModelForCausalLM::from_pretrained(dir);
  GenerationConfig c = GenerationConfig::from_pretrained(dir, &model->config());
  c.update({{"max_new_tokens", 2}});
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{5, 6, 7}, {1, 3});
  try {
    generate(*model, ids.to(kF32), Tensor(), c);
    FAIL() << "float input_ids accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("input_ids must be an integer tensor"), std::string::npos) << e.what();
  }
  try {
    generate(*model, ids, Tensor::from_vector(std::vector<int64_t>{1, 2, 1}, {1, 3}), c);
    FAIL() << "mask value 2 accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("attention_mask must hold only 0 and 1, found 2 at [0, 1]"), std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(generate(*model, ids, Tensor::from_vector(std::vector<float>{1, 1, 1}, {1, 3}), c));
}


// The CLI's generate/forward name the file, tensor or flag of a bad input and exit 1 (2: flags).
TEST(GenerateCli, RejectsBadInputsNamingTheFileTensorOrFlag) {
  const std::string model = hf_fixture("llama");
  std::string tmpl = (std::filesystem::temp_directory_path() / "cf_gen_cli_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{1, 23, 58}, {1, 3});
  io::save_file({{"input_ids", ids}}, dir + "/good.safetensors");
  io::save_file({{"input_ids", ids.to(kF32)}}, dir + "/float.safetensors");
  io::save_file({{"input_ids", ids}, {"foo", ids}}, dir + "/extra.safetensors");
  io::save_file({{"input_ids", Tensor::from_vector(std::vector<int64_t>{1, 100000, 58}, {1, 3})}}, dir + "/oov.safetensors");
  io::save_file({{"input_ids", ids}, {"attention_mask", Tensor::from_vector(std::vector<int64_t>{1, 5, 1}, {1, 3})}},
                dir + "/mask.safetensors");
  const std::string base = "generate --model " + model + " --no-progress --inputs " + dir;
  auto expect_error = [](const testing::CliRun& r, int code, const std::vector<std::string>& words) {
    EXPECT_EQ(r.code, code) << r.out << r.err;
    for (const std::string& w : words) EXPECT_NE(r.err.find(w), std::string::npos) << w << " not in: " << r.err;
  };
  testing::CliRun r = testing::run_cli(base + "/good.safetensors --max-new-tokens 2");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["sequences"][0].size(), 5u);
  expect_error(testing::run_cli(base + "/float.safetensors --max-new-tokens 2"), 1,
               {dir + "/float.safetensors", "'input_ids'", "float32"});
  // Tensors that are not inputs are ignored (a golden file is passed whole): same ids as without.
  r = testing::run_cli(base + "/extra.safetensors --max-new-tokens 2");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["sequences"],
            nlohmann::json::parse(testing::run_cli(base + "/good.safetensors --max-new-tokens 2").out)["sequences"]);
  expect_error(testing::run_cli(base + "/oov.safetensors --max-new-tokens 2"), 1,
               {dir + "/oov.safetensors", "'input_ids'", "100000", "vocab_size"});
  expect_error(testing::run_cli(base + "/mask.safetensors --max-new-tokens 2"), 1,
               {dir + "/mask.safetensors", "'attention_mask'", "only 0 and 1"});
  expect_error(testing::run_cli(base + "/good.safetensors --max-new-tokens 0"), 1, {"max_new_tokens must be greater than 0"});
  expect_error(testing::run_cli(base + "/good.safetensors --max-length 3"), 1,
               {"input length of input_ids is 3, but max_length is set to 3"});
  expect_error(testing::run_cli(base + "/good.safetensors --min-new-tokens -3"), 1, {"min_new_tokens"});
  expect_error(testing::run_cli(base + "/good.safetensors --do-sample --seed 99999999999999999999"), 2,
               {"--seed", "out of range"});
  expect_error(testing::run_cli(base + "/good.safetensors --max-new-tokens 99999999999999999999"), 2,
               {"--max-new-tokens", "out of range"});
  expect_error(testing::run_cli("generate --model " + model + " --no-progress hello --system hi"), 1, {"--system", "--chat"});
  EXPECT_EQ(testing::run_cli("forward --model " + model + " --inputs " + dir + "/extra.safetensors").code, 0);
  expect_error(testing::run_cli("forward --model " + model + " --inputs " + dir + "/oov.safetensors"), 1,
               {dir + "/oov.safetensors", "'input_ids'", "100000", "vocab_size"});
  expect_error(testing::run_cli("forward --model " + model + " --inputs " + dir + "/float.safetensors"), 1,
               {dir + "/float.safetensors", "'input_ids'", "float32"});
  expect_error(testing::run_cli("forward --model " + model + " --input-ids 1,100000"), 1, {"--input-ids", "100000", "vocab_size"});
  std::filesystem::remove_all(dir);
}


// Sets row `row`'s scores to NaN once the sequences are `at` long.
struct NanAt : LogitsProcessor {
  size_t at;
  int64_t row;
  NanAt(size_t a, int64_t r) : at(a), row(r) {}
  void process(const Sequences& ids, float* scores, int64_t, int64_t vocab) const override {
    if (ids[0].size() == at)
      for (int64_t v = 0; v < vocab; ++v) scores[row * vocab + v] = std::numeric_limits<float>::quiet_NaN();
  }
};

TEST(Generate, SamplingFromNanLogitsIsAnErrorNamingTheStep) {
  LlamaGolden f;
  auto& [dir, model, golden, ids, mask, c] = f;
  c.update({{"do_sample", true}, {"max_new_tokens", 4}, {"seed", 1}});
  GenerateOptions o;
  o.logits_processor = std::make_shared<LogitsProcessorList>();
  o.logits_processor->add(std::make_shared<NanAt>(size_t(ids.size(1) + 2), 1));
  for (int64_t beams : {1, 2}) {
    c.num_beams = beams;
    try {
      generate(*model, ids, mask, c, o);
      FAIL() << "sampled from NaN probabilities, beams " << beams;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("new token 3 (step 2"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("inf, nan or element < 0"), std::string::npos) << e.what();
    }
  }
  // greedy keeps torch.argmax's answer (the first NaN)
  c.do_sample = false;
  c.num_beams = 1;
  const auto g = generate(*model, ids, mask, c, o).sequences;
  EXPECT_EQ(g[1][size_t(ids.size(1) + 2)], 0);
}


// A huge max_new_tokens costs no memory up front (the cache grows); GPT-2's learned positions end
// at n_positions: an error naming it, with the tokens generated so far kept in the exception.
TEST(Generate, HugeMaxNewTokensAndThePositionLimit) {
  {
    LlamaGolden f;
    auto& [dir, model, golden, ids, mask, c] = f;
    c.update({{"max_new_tokens", 1}});
    const auto first = generate(*model, ids, mask, c).sequences;
    const int64_t L = ids.size(1);
    c.update({{"max_new_tokens", int64_t(1) << 40}});
    c.eos_token_id = {first[0][size_t(L)], first[1][size_t(L)]};
    EXPECT_EQ(generate(*model, ids, mask, c).sequences, first);
  }
  const std::string dir = hf_fixture("gpt2");
  auto model = AutoModelForCausalLM::from_pretrained(dir);
  const int64_t n_positions = model->config().to_json()["n_positions"].get<int64_t>();
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{5, 6, 7}, {1, 3});
  GenerationConfig c;
  c.update({{"max_new_tokens", n_positions + 10}});
  try {
    generate(*model, ids, Tensor(), c);
    FAIL() << "generated past n_positions";
  } catch (const GenerationError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("stopped after " + std::to_string(n_positions - 2) + " new token(s)"), std::string::npos) << m;
    EXPECT_NE(m.find("config.json's n_positions is " + std::to_string(n_positions)), std::string::npos) << m;
    ASSERT_EQ(e.partial.sequences.size(), 1u);
    ASSERT_EQ(int64_t(e.partial.sequences[0].size()), n_positions + 1);
    c.update({{"max_new_tokens", n_positions - 2}});
    EXPECT_EQ(generate(*model, ids, Tensor(), c).sequences, e.partial.sequences);
  }
}


// `generate PROMPT --json` that stops early on an error (GPT-2's positions end at n_positions)
// prints what was generated before the error, as the same run with a reachable length does.
TEST(GenerateCli, JsonKeepsWhatWasGeneratedWhenItStopsEarly) {
  const std::string model = testing::pipeline_fixture("text_generation");
  const int64_t n_positions = io::read_json_file(model + "/config.json")["n_positions"].get<int64_t>();
  const std::string base = "generate --model " + model + " --no-progress --json --greedy Hello";
  const testing::CliRun r = testing::run_cli(base + " --max-new-tokens " + std::to_string(n_positions + 50));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("n_positions is " + std::to_string(n_positions)), std::string::npos) << r.err;
  const nlohmann::json partial = nlohmann::json::parse(r.out);
  ASSERT_EQ(partial["sequences"].size(), 1u) << r.out;
  const int64_t len = int64_t(partial["sequences"][0].size());
  ASSERT_EQ(len, n_positions + 1) << r.out;
  const testing::CliRun full = testing::run_cli(base + " --max-new-tokens " + std::to_string(n_positions - 5));
  ASSERT_EQ(full.code, 0) << full.err;
  const nlohmann::json j = nlohmann::json::parse(full.out);
  const auto& seq = j["sequences"][0];
  // The complete run stops n_positions - 5 tokens after the prompt; the partial one is that run
  // continued until the position limit.
  ASSERT_LE(seq.size(), partial["sequences"][0].size());
  for (size_t i = 0; i < seq.size(); ++i) ASSERT_EQ(seq[i], partial["sequences"][0][i]) << i;
  // and its text is the decoded new tokens
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(model);
  const std::vector<int64_t> all = partial["sequences"][0].get<std::vector<int64_t>>();
  const size_t prompt_len = tok.encode("Hello").size();
  ASSERT_EQ(partial["generated_text"].size(), 1u);
  EXPECT_EQ(partial["generated_text"][0].get<std::string>(),
            tok.decode(std::vector<int64_t>(all.begin() + int64_t(prompt_len), all.end()), true));
}

// JSON of the wrong type in config.json or --kwargs: errors naming the file, key or flag (they
// were nlohmann type_error "internal error"s).
TEST(GenerateCli, JsonTypeErrorsNameTheFileOrFlag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cf_gen_json_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string dir = tmpl;
  nlohmann::json cfg = io::read_json_file(hf_fixture("llama") + "/config.json");
  cfg["model_type"] = 5;
  std::filesystem::create_directories(dir + "/int_type");
  std::ofstream(dir + "/int_type/config.json") << cfg.dump();
  std::filesystem::create_directories(dir + "/list");
  std::ofstream(dir + "/list/config.json") << "[1, 2]";
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{1, 23, 58}, {1, 3});
  io::save_file({{"input_ids", ids}}, dir + "/in.safetensors");
  const std::string in = " --no-progress --inputs " + dir + "/in.safetensors";
  testing::CliRun r = testing::run_cli("generate --model " + dir + "/int_type" + in);
  EXPECT_EQ(r.code, 4);  // a bad file (5: internal error)
  EXPECT_NE(r.err.find(dir + "/int_type/config.json: key 'model_type' should be a string"), std::string::npos) << r.err;
  r = testing::run_cli("generate --model " + dir + "/list" + in);
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find(dir + "/list/config.json: expected a JSON object"), std::string::npos) << r.err;
  r = testing::run_cli("generate --model " + hf_fixture("llama") + in + " --kwargs '[1]'");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--kwargs: expected a JSON object"), std::string::npos) << r.err;
  for (const std::string& e : {r.err}) EXPECT_EQ(e.find("internal error"), std::string::npos) << e;
  std::filesystem::remove_all(dir);
}


// A pad_token_id outside the vocabulary would be fed to the model once a row ends early: an error
// before any token is generated, naming pad_token_id and generation_config.json.
TEST(Generate, PadTokenIdOutsideTheVocabularyIsAnError) {
  LlamaGolden f;
  auto& [dir, model, golden, ids, mask, c] = f;
  c.update({{"max_new_tokens", 3}, {"pad_token_id", 999}});
  try {
    generate(*model, ids, mask, c);
    FAIL() << "pad_token_id 999 accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("pad_token_id = 999 is not a token id of the model (its vocabulary has 128"),
              std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("generation_config.json"), std::string::npos) << e.what();
  }
  // a failed generate() leaves a training model in training mode
  model->train();
  EXPECT_THROW(generate(*model, ids, mask, c), ValueError);
  EXPECT_TRUE(model->is_training());
  model->eval();
  // one row: a finished row ends generation, the pad is never used (Llama-1 configs carry pad -1)
  c.pad_token_id = -1;
  EXPECT_NO_THROW(generate(*model, ids.narrow(0, 0, 1), mask.narrow(0, 0, 1), c));
}


// Sizes that cannot fit in memory fail at once, saying what they imply (num_hidden_layers 1e12
// hung building layers; head_dim 2^40 hung in the rotary tables; num_beams 3e9 hung expanding).
TEST(Generate, AbsurdSizesFailFastNamingWhatTheyNeed) {
  nlohmann::json cfg = io::read_json_file(hf_fixture("llama") + "/config.json");
  for (const auto& [key, value] : {std::pair<const char*, int64_t>{"num_hidden_layers", int64_t(1e12)},
                                   {"head_dim", int64_t(1) << 40}, {"vocab_size", int64_t(1e12)}}) {
    nlohmann::json c = cfg;
    c[key] = value;
    try {
      LlamaConfig::from_json(c, "x/config.json");
      FAIL() << key << " accepted";
    } catch (const FormatError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("x/config.json: the sizes ("), std::string::npos) << m;
      EXPECT_NE(m.find(std::string(key) + " " + std::to_string(value)), std::string::npos) << m;
      EXPECT_NE(m.find("more than this machine's"), std::string::npos) << m;
    }
  }
  EXPECT_NO_THROW(LlamaConfig::from_json(cfg, "x/config.json"));
  nlohmann::json gpt2 = io::read_json_file(hf_fixture("gpt2") + "/config.json");
  EXPECT_NO_THROW(GPT2Config::from_json(gpt2, "g/config.json"));
  gpt2["n_layer"] = int64_t(1e12);
  try {
    GPT2Config::from_json(gpt2, "g/config.json");
    FAIL() << "n_layer 1e12 accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("g/config.json: the sizes ("), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n_layer 1000000000000"), std::string::npos) << e.what();
  }

  const std::string dir = hf_fixture("llama");
  auto model = AutoModelForCausalLM::from_pretrained(dir);
  const Tensor ids = Tensor::from_vector(std::vector<int64_t>{5, 6, 7}, {1, 3});
  GenerationConfig g = GenerationConfig::from_pretrained(dir, &model->config());
  g.update({{"max_new_tokens", 2}, {"num_beams", int64_t(3e9)}});
  try {
    generate(*model, ids, Tensor(), g);
    FAIL() << "3e9 beams accepted";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("a batch of 1 x 3000000000 (num_beams / num_return_sequences)"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("GiB"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cppformers
