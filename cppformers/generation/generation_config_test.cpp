#include "cppformers/generation/generation_config.hpp"

#include <gtest/gtest.h>

#include <string>

#include "cppformers/generation/logits_process.hpp"
#include "cppformers/generation/utils.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

using nlohmann::json;

using testing::error_of;

// Parameters transformers has and cppformers does not implement: an error naming the key, the
// value and where it came from, unless the value leaves generation unchanged (Hub files carry those).
TEST(GenerationConfigTest, UnsupportedParametersAreErrorsUnlessNeutral) {
  GenerationConfig g;
  EXPECT_EQ(error_of([&] { g.update({{"typical_p", 0.2}}, "generation_config.json"); }),
            "generate: 'typical_p' = 0.2 is not supported (generation_config.json)");
  for (const json& kw : {json{{"penalty_alpha", 0.6}, {"top_k", 4}}, json{{"num_beam_groups", 2}},
                         json{{"diversity_penalty", 0.5}}, json{{"epsilon_cutoff", 3e-4}}, json{{"eta_cutoff", 1e-3}},
                         json{{"guidance_scale", 1.5}}, json{{"sequence_bias", json::array({json::array({json::array({1}), -1.0})})}},
                         json{{"exponential_decay_length_penalty", {5, 1.5}}}, json{{"output_attentions", true}}})
    EXPECT_NE(error_of([&] { g.update(kw, "--kwargs"); }).find("is not supported (--kwargs)"), std::string::npos) << kw;
  const json hub = {{"typical_p", 1.0},          {"num_beam_groups", 1},     {"diversity_penalty", 0.0},
                    {"penalty_alpha", nullptr},  {"epsilon_cutoff", 0.0},    {"eta_cutoff", 0.0},
                    {"guidance_scale", nullptr}, {"sequence_bias", nullptr}, {"output_attentions", false},
                    {"cache_implementation", "hybrid"}, {"transformers_version", "4.45.2"}};
  EXPECT_NO_THROW(g.update(hub, "generation_config.json"));
}

TEST(GenerationConfigTest, KwargNamesMustBeGenerationParameters) {
  EXPECT_NO_THROW(GenerationConfig::check_kwarg_names({{"max_new_tokens", 3}, {"typical_p", 1.0}, {"seed", 1}}, "--kwargs"));
  EXPECT_EQ(error_of([] { GenerationConfig::check_kwarg_names({{"max_new_token", 3}}, "--kwargs"); }),
            "--kwargs: 'max_new_token' is not a generation parameter (transformers: the following `model_kwargs` are "
            "not used by the model)");
  EXPECT_NE(error_of([] { GenerationConfig::check_kwarg_names(json::array({1}), "--kwargs"); }).find("--kwargs: expected a JSON object"),
            std::string::npos);
}

// forced_bos_token_id / forced_eos_token_id, as transformers' ForcedBOS/ForcedEOSLogitsProcessor,
// at their place among the processors (before the sampling warpers).
TEST(GenerationConfigTest, ForcedBosAndEosTokens) {
  GenerationConfig g;
  g.update({{"forced_eos_token_id", json::array({5})}, {"forced_bos_token_id", 2}, {"max_new_tokens", 3}});
  EXPECT_EQ(g.forced_eos_token_id, 5);
  EXPECT_EQ(g.forced_bos_token_id, 2);
  EXPECT_NE(error_of([&] { g.update({{"forced_eos_token_id", "x"}}, "generation_config.json"); })
                .find("generation_config.json: key 'forced_eos_token_id'"),
            std::string::npos);
  const LogitsProcessorList procs = make_logits_processors(g, 4);  // max_length 7
  std::vector<float> s = {0.5f, 0.1f, 0.2f, 0.3f, 0.4f, 0.9f, 0.0f, 0.1f};
  std::vector<float> before = s;
  procs.process({{1, 2, 3, 4, 9}}, s.data(), 1, 8);  // length 5: nothing forced
  EXPECT_EQ(s, before);
  procs.process({{1, 2, 3, 4, 9, 9}}, s.data(), 1, 8);  // length 6 = max_length - 1: only eos
  for (int64_t v = 0; v < 8; ++v) EXPECT_EQ(s[size_t(v)], v == 5 ? 0.0f : -std::numeric_limits<float>::infinity());
  s = before;
  procs.process({{0}}, s.data(), 1, 8);  // one token: only bos
  for (int64_t v = 0; v < 8; ++v) EXPECT_EQ(s[size_t(v)], v == 2 ? 0.0f : -std::numeric_limits<float>::infinity());
}

}  // namespace
}  // namespace cppformers
