// Encoder-decoder generate() against the ids transformers 4.45 recorded (greedy and beam search).
#include "cppformers/generation/encoder_decoder.hpp"

#include <gtest/gtest.h>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/testing/fake_hub.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

void expect_generation(const std::string& name, const std::string& mode) {
  SCOPED_TRACE(name + " " + mode);
  const std::string dir = testing::hf_fixture(name);
  auto model = load_model_from_architectures(dir);
  auto* s2s = dynamic_cast<Seq2SeqLM*>(model.get());
  ASSERT_TRUE(s2s);
  ModelInputs in = ModelInputs::from_tensors(io::load_file(dir + "/golden.safetensors"));
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  const auto g = testing::golden_json(dir)["generation"][mode];
  cfg.update({{"max_new_tokens", 16}, {"num_beams", mode == "beam" ? 3 : 1}, {"do_sample", false}});
  GenerateOutput out = generate_seq2seq(*s2s, in, cfg, Seq2SeqGenerationExtras::from_pretrained(dir, *s2s));
  EXPECT_EQ(nlohmann::json(out.sequences), g["sequences"]);
  if (mode == "beam")
    for (size_t i = 0; i < out.sequences_scores.size(); ++i)
      EXPECT_NEAR(out.sequences_scores[i], g["sequences_scores"][i].get<double>(), 1e-4);
}

TEST(EncoderDecoderGenerate, T5GreedyAndBeam) {
  expect_generation("t5", "greedy");
  expect_generation("t5", "beam");
  expect_generation("t5_gated", "greedy");
  expect_generation("t5_gated", "beam");
}

TEST(EncoderDecoderGenerate, BartForcedEosGreedyAndBeam) {
  expect_generation("bart", "greedy");
  expect_generation("bart", "beam");
}

TEST(EncoderDecoderGenerate, WhisperGreedyAndBeam) {
  expect_generation("whisper", "greedy");
  expect_generation("whisper", "beam");
}

// A beam count no machine can hold fails at once, for each family's config spelling (it hung
// expanding the encoder output for every beam).
TEST(EncoderDecoderGenerate, BeamsBeyondMemoryFailAtOnce) {
  for (const std::string name : {"t5", "bart", "whisper"}) {
    const std::string dir = testing::hf_fixture(name);
    auto model = load_model_from_architectures(dir);
    auto& s2s = dynamic_cast<Seq2SeqLM&>(*model);
    ModelInputs in = ModelInputs::from_tensors(io::load_file(dir + "/golden.safetensors"));
    const int64_t B = in.input_ids.defined() ? in.input_ids.size(0) : in.input_features.size(0);
    GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
    cfg.update({{"max_new_tokens", 2}, {"num_beams", int64_t(3e9)}, {"do_sample", false}});
    try {
      generate_seq2seq(s2s, in, cfg, Seq2SeqGenerationExtras::from_pretrained(dir, s2s));
      ADD_FAILURE() << name << ": 3e9 beams accepted";
    } catch (const ValueError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("a batch of " + std::to_string(B) + " x 3000000000 (num_beams"), std::string::npos) << name << ": " << m;
      EXPECT_NE(m.find("GiB"), std::string::npos) << name << ": " << m;
    }
  }
}

// Whisper's learned decoder positions end at max_target_positions: greedy generation past them
// stops with an error naming the key, keeping the tokens generated so far (the same ones a run
// that stops just in time returns).
TEST(EncoderDecoderGenerate, StoppingAtThePositionLimitKeepsTheTokens) {
  const std::string dir = testing::hf_fixture("whisper");
  auto model = load_model_from_architectures(dir);
  auto& s2s = dynamic_cast<Seq2SeqLM&>(*model);
  const int64_t limit = model->config().to_json()["max_target_positions"].get<int64_t>();
  ModelInputs in = ModelInputs::from_tensors(io::load_file(dir + "/golden.safetensors"));
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  cfg.update({{"max_new_tokens", limit + 20}, {"num_beams", 1}, {"do_sample", false}});
  cfg.eos_token_id = {};  // never stop on its own
  const Seq2SeqGenerationExtras ex = Seq2SeqGenerationExtras::from_pretrained(dir, s2s);
  try {
    generate_seq2seq(s2s, in, cfg, ex);
    FAIL() << "generated past max_target_positions";
  } catch (const GenerationError& e) {
    EXPECT_NE(std::string(e.what()).find("max_target_positions"), std::string::npos) << e.what();
    ASSERT_FALSE(e.partial.sequences.empty());
    const int64_t len = int64_t(e.partial.sequences[0].size());
    EXPECT_EQ(len, limit + 1) << e.what();
    cfg.update({{"max_new_tokens", len - 1}});  // the decoder prompt is the start token alone here
    EXPECT_EQ(generate_seq2seq(s2s, in, cfg, ex).sequences, e.partial.sequences);
    // `cppformers generate` prints them before the error
    const testing::CliRun r = testing::run_cli("generate --model " + dir + " --no-progress --inputs " + dir +
                                               "/golden.safetensors --greedy --eos-token-id 99999 --max-new-tokens " +
                                               std::to_string(limit + 20));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("max_target_positions"), std::string::npos) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["sequences"], nlohmann::json(e.partial.sequences)) << r.out;
  }
}

TEST(EncoderDecoderGenerate, DecoderPromptAndSuppression) {
  // forced_decoder_ids become the decoder prompt; begin_suppress_tokens bans tokens at the first free step
  const std::string dir = testing::hf_fixture("whisper");
  auto model = load_model_from_architectures(dir);
  auto& s2s = dynamic_cast<Seq2SeqLM&>(*model);
  ModelInputs in = ModelInputs::from_tensors(io::load_file(dir + "/golden.safetensors"));
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  cfg.update({{"max_new_tokens", 4}});
  Seq2SeqGenerationExtras ex = Seq2SeqGenerationExtras::from_pretrained(dir, s2s);
  ex.update({{"forced_decoder_ids", {{1, 50}, {2, 60}}}, {"begin_suppress_tokens", {105}}});
  GenerateOutput out = generate_seq2seq(s2s, in, cfg, ex);
  for (auto& s : out.sequences) {
    ASSERT_EQ(s.size(), 7u);
    EXPECT_EQ(s[0], 1);
    EXPECT_EQ(s[1], 50);
    EXPECT_EQ(s[2], 60);
    EXPECT_NE(s[3], 105);  // greedy would pick 105 first without the suppression
  }
}

}  // namespace
}  // namespace cppformers
