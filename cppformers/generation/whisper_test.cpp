// Whisper's generate(): init tokens (language / task / notimestamps, language detection) and
// WhisperTimeStampLogitsProcessor, against transformers' rules worked out by hand and against
// the logits and ids recorded in ../shared/fixtures/hf/whisper.
#include "cppformers/generation/whisper.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
using V = std::vector<int64_t>;

WhisperGenerationConfig multilingual() {
  WhisperGenerationConfig w;
  w.lang_to_id = std::map<std::string, int64_t>{{"<|en|>", 3}, {"<|fr|>", 4}};
  w.task_to_id = std::map<std::string, int64_t>{{"transcribe", 5}, {"translate", 6}};
  w.no_timestamps_token_id = 119;
  w.is_multilingual = true;
  return w;
}

struct WhisperFixture : ::testing::Test {
  void SetUp() override {
    dir = testing::hf_fixture("whisper");
    model = load_model_from_architectures(dir);
    s2s = dynamic_cast<Seq2SeqLM*>(model.get());
    ASSERT_TRUE(s2s);
    golden = io::load_file(dir + "/golden.safetensors");
    features = golden.at("input_features");
  }
  std::vector<V> init(const WhisperGenerationConfig& w) {
    return whisper_init_tokens(*s2s, features, GenerationConfig(), w, 1);
  }
  std::string dir;
  std::shared_ptr<PreTrainedModel> model;
  Seq2SeqLM* s2s = nullptr;
  io::StateDict golden;
  Tensor features;
};

TEST_F(WhisperFixture, InitTokensFromLanguageAndTask) {
  WhisperGenerationConfig w = multilingual();
  w.language = "fr";  // a language and no task: transcribe, then <|notimestamps|>
  EXPECT_EQ(init(w), (std::vector<V>{{1, 4, 5, 119}, {1, 4, 5, 119}}));
  w.language = "French";
  w.task = "translate";
  EXPECT_EQ(init(w)[0], (V{1, 4, 6, 119}));
  w.language = "<|en|>";
  w.task.reset();
  w.return_timestamps = true;  // no <|notimestamps|>
  EXPECT_EQ(init(w)[0], (V{1, 3, 5}));
  // forced_decoder_ids give the prompt when the call names no language or task
  WhisperGenerationConfig f = multilingual();
  f.forced_decoder_ids = {{{1, 3}, {2, 6}, {3, 119}}};
  EXPECT_EQ(init(f)[0], (V{1, 3, 6, 119}));
  f.language = "fr";  // ... and are dropped when it does
  EXPECT_EQ(init(f)[0], (V{1, 4, 5, 119}));
  // config.json's forced_decoder_ids when generation_config.json has none
  WhisperGenerationConfig c = multilingual();
  c.config_forced_decoder_ids = {{{1, 4}, {2, 5}}};
  EXPECT_EQ(init(c)[0], (V{1, 4, 5, 119}));
  // an English-only model: no language tokens at all
  WhisperGenerationConfig en;
  en.no_timestamps_token_id = 119;
  EXPECT_EQ(init(en)[0], (V{1, 119}));
  EXPECT_EQ(init(WhisperGenerationConfig())[0], (V{1}));
}

TEST_F(WhisperFixture, InitTokensRejectBadRequests) {
  WhisperGenerationConfig w = multilingual();
  w.language = "klingon";
  EXPECT_THROW(init(w), ValueError);
  w.language = "de";  // a Whisper language this model's lang_to_id lacks
  EXPECT_THROW(init(w), ValueError);
  w.language = "en";
  w.task = "summarize";
  EXPECT_THROW(init(w), ValueError);
  WhisperGenerationConfig en;
  en.is_multilingual = false;
  en.lang_to_id = std::map<std::string, int64_t>{{"<|en|>", 3}};
  en.language = "en";
  EXPECT_THROW(init(en), ValueError);
  WhisperGenerationConfig old;  // no lang_to_id in the generation config
  old.language = "en";
  EXPECT_THROW(init(old), ValueError);
  WhisperGenerationConfig ts;  // timestamps need no_timestamps_token_id
  ts.return_timestamps = true;
  EXPECT_THROW(init(ts), ValueError);
  WhisperGenerationConfig gap = multilingual();
  gap.forced_decoder_ids = {{{1, 3}, {3, 119}}};
  EXPECT_THROW(init(gap), ValueError);
}

TEST_F(WhisperFixture, LanguageDetectionPicksTheBestLanguageLogit) {
  // Python's logits for the decoder prefix [start] are the recorded logits at position 0 (the
  // fixture's decoder_input_ids start with the start token 1, and attention is causal).
  const Tensor logits = golden.at("logits");
  ASSERT_EQ(golden.at("decoder_input_ids").to_vector<int64_t>()[0], 1);
  const std::map<std::string, int64_t> langs{{"<|a|>", 70}, {"<|b|>", 86}, {"<|c|>", 3}, {"<|d|>", 42}};
  const int64_t B = logits.size(0), S = logits.size(1), Vsz = logits.size(2);
  const auto l = logits.to_vector<float>();
  std::vector<int64_t> expected;
  for (int64_t b = 0; b < B; ++b) {
    int64_t best = -1;
    for (auto& [t, id] : langs)
      if (best < 0 || l[size_t(b * S * Vsz + id)] > l[size_t(b * S * Vsz + best)]) best = id;
    expected.push_back(best);
  }
  EXPECT_EQ(whisper_detect_language(*s2s, features, langs, 1), expected);
  // forced [[1, null], [2, transcribe]] leaves the language to detect
  WhisperGenerationConfig w;
  w.lang_to_id = langs;
  w.task_to_id = std::map<std::string, int64_t>{{"transcribe", 5}, {"translate", 6}};
  w.forced_decoder_ids = {{{1, std::nullopt}, {2, 5}}};
  w.no_timestamps_token_id = 119;
  const auto t = init(w);
  for (int64_t b = 0; b < B; ++b) EXPECT_EQ(t[size_t(b)], (V{1, expected[size_t(b)], 5, 119}));
}

TEST_F(WhisperFixture, GenerateReproducesTheRecordedIdsWithoutPromptTokens) {
  // the fixture's generation_config has no Whisper fields: the prompt is the start token alone
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  const auto g = testing::golden_json(dir)["generation"];
  Seq2SeqGenerationExtras ex = Seq2SeqGenerationExtras::from_pretrained(dir, *s2s);
  cfg.update({{"max_new_tokens", 16}});
  EXPECT_EQ(nlohmann::json(whisper_generate(*s2s, features, cfg, WhisperGenerationConfig::from_pretrained(dir), ex).sequences),
            g["greedy"]["sequences"]);
  cfg.update({{"num_beams", 3}});
  EXPECT_EQ(nlohmann::json(whisper_generate(*s2s, features, cfg, WhisperGenerationConfig::from_pretrained(dir), ex).sequences),
            g["beam"]["sequences"]);
}

TEST_F(WhisperFixture, PromptAndSuppressTokensShapeTheOutput) {
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  cfg.update({{"max_new_tokens", 3}});
  Seq2SeqGenerationExtras ex = Seq2SeqGenerationExtras::from_pretrained(dir, *s2s);
  WhisperGenerationConfig w = multilingual();
  w.language = "en";
  // begin_suppress_tokens: banned at the first free step only (right after the 4-token prompt)
  ex.begin_suppress_tokens = {105};
  auto out = whisper_generate(*s2s, features, cfg, w, ex).sequences;
  for (auto& s : out) {
    ASSERT_EQ(s.size(), 7u);
    EXPECT_EQ(V(s.begin(), s.begin() + 4), (V{1, 3, 5, 119}));
    EXPECT_NE(s[4], 105);
  }
  // with the start token alone as prompt, Python's logits at position 0 (the recorded ones) rank
  // 105 first and 97 second in both rows: 105 banned at the first step leaves 97
  cfg.update({{"max_new_tokens", 1}});
  EXPECT_EQ(whisper_generate(*s2s, features, cfg, WhisperGenerationConfig(), ex).sequences,
            (std::vector<V>{{1, 97}, {1, 97}}));
  cfg.update({{"max_new_tokens", 3}});
  // suppress_tokens: never emitted at any step
  ex.begin_suppress_tokens.clear();
  cfg.suppress_tokens = {105, 42};
  for (auto& s : whisper_generate(*s2s, features, cfg, w, ex).sequences)
    for (size_t i = 4; i < s.size(); ++i) EXPECT_TRUE(s[i] != 105 && s[i] != 42);
}

TEST(WhisperTimeStampLogitsProcessor, FollowsWhisperTimestampRules) {
  // vocab 10: text 0..4 (eos 2), <|notimestamps|> 5, timestamps 6..9; the prompt is [1]
  WhisperTimeStampLogitsProcessor p(5, 2, 1, 1);
  auto run = [&](const V& ids, std::vector<float> s) {
    p.process({ids}, s.data(), 1, 10);
    return s;
  };
  const float n = -kInf;
  // first step: a timestamp, at most max_initial_timestamp_index (1) past <|0.00|>
  EXPECT_EQ(run({1}, std::vector<float>(10, 0.f)), (std::vector<float>{n, n, n, n, n, n, 0, 0, n, n}));
  // after a lone timestamp at the start: text (pairs close only after text)
  EXPECT_EQ(run({1, 7}, std::vector<float>(10, 0.f)), (std::vector<float>{0, 0, 0, 0, 0, n, n, n, n, n}));
  // after text: timestamps not below the last one + 1; here their total probability (2e) beats
  // every text token (1), so text is banned
  EXPECT_EQ(run({1, 7, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 1, 1}), (std::vector<float>{n, n, n, n, n, n, n, n, 1, 1}));
  // ... and with a dominant text token it stays
  EXPECT_EQ(run({1, 7, 3}, {0, 0, 0, 0, 5, 0, 0, 0, 1, 1}), (std::vector<float>{0, 0, 0, 0, 5, n, n, n, 1, 1}));
  // after text then a timestamp: the closing one (>= the last) or eos and above, not text below eos
  EXPECT_EQ(run({1, 3, 8}, {0, 0, 0, 0, 3, 0, 0, 0, 0, 0}), (std::vector<float>{n, n, 0, 0, 3, n, n, n, 0, 0}));
  // after a pair: text (or eos), no timestamp
  EXPECT_EQ(run({1, 6, 3, 8, 8}, std::vector<float>(10, 0.f)), (std::vector<float>{0, 0, 0, 0, 0, n, n, n, n, n}));
}

TEST(WhisperLanguages, NamesCodesAndTokens) {
  const std::map<std::string, int64_t> l{{"<|de|>", 7}, {"<|zh|>", 8}, {"<|haw|>", 9}};
  EXPECT_EQ(whisper_language_to_id("german", l), 7);
  EXPECT_EQ(whisper_language_to_id("DE", l), 7);
  EXPECT_EQ(whisper_language_to_id("<|de|>", l), 7);
  EXPECT_EQ(whisper_language_to_id("mandarin", l), 8);  // an alias
  EXPECT_EQ(whisper_language_to_id("hawaiian", l), 9);
  EXPECT_THROW(whisper_language_to_id("english", l), ValueError);
  EXPECT_EQ(whisper_languages().size(), 100u);
}

}  // namespace
}  // namespace cppformers
