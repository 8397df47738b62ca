// automatic-speech-recognition with Whisper. The recorded fixture (../shared/fixtures/hf/whisper)
// is a tiny random Whisper without tokenizer or feature-extractor files, so the test builds a
// folder around it: the fixture's config, weights and generation_config, a word-level
// tokenizer.json ("w<id>" for id, Whisper's special tokens at a few ids) and a
// preprocessor_config.json sized to the model's 32 input frames (hop 500, 1-second windows).
// What is compared against what:
//  - generated ids on the fixture's input_features: the ids transformers recorded (greedy, beam);
//  - text: those recorded ids decoded by hand ("w<id>" joined by spaces, special ids dropped);
//  - _decode_asr / _find_longest_common_sequence: hand-worked results of transformers' algorithm
//    on small token sequences (chunk merging, strides, timestamps, language changes);
//  - chunk windows: chunk_iter's arithmetic done by hand;
//  - the end-to-end call on audio: the same pieces composed by hand (windows, features, ids).
#include "cppformers/pipelines/whisper_asr.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cppformers/io/safetensors.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;
using V = std::vector<int64_t>;

std::string token_of(int64_t id) {
  static const std::map<int64_t, std::string> special = {
      {0, "<pad>"},  {1, "<|startoftranscript|>"}, {2, "<|endoftext|>"}, {3, "<|en|>"},
      {4, "<|fr|>"}, {5, "<|transcribe|>"},        {6, "<|translate|>"}, {119, "<|notimestamps|>"}};
  if (special.count(id)) return special.at(id);
  if (id >= 120) {
    char b[32];
    std::snprintf(b, sizeof b, "<|%.2f|>", double(id - 120) * 0.02);
    return b;
  }
  return "w" + std::to_string(id);
}

void write(const fs::path& p, const nlohmann::json& j) { std::ofstream(p) << j.dump(1); }

// A model folder: the whisper fixture + tokenizer + feature extractor (see the file comment).
std::string make_folder(const std::string& name, const nlohmann::json& generation_extra = nlohmann::json::object()) {
  const std::string fixture = testing::hf_fixture("whisper");
  const fs::path dir = fs::temp_directory_path() / ("cf_whisper_asr_" + std::to_string(getpid()) + "_" + name);
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(fs::path(fixture) / f, dir / f, fs::copy_options::overwrite_existing);
  std::ifstream gin(fs::path(fixture) / "generation_config.json");
  nlohmann::json gen = nlohmann::json::parse(gin);
  gen.update(generation_extra);
  write(dir / "generation_config.json", gen);
  nlohmann::json vocab = nlohmann::json::object(), added = nlohmann::json::array();
  for (int64_t id = 0; id < 128; ++id) {
    vocab[token_of(id)] = id;
    if (id <= 6 || id >= 119)
      added.push_back({{"id", id}, {"content", token_of(id)}, {"single_word", false}, {"lstrip", false},
                       {"rstrip", false}, {"normalized", false}, {"special", id < 120}});
  }
  write(dir / "tokenizer.json",
        {{"version", "1.0"}, {"truncation", nullptr}, {"padding", nullptr}, {"added_tokens", added},
         {"normalizer", nullptr}, {"pre_tokenizer", {{"type", "WhitespaceSplit"}}}, {"post_processor", nullptr},
         {"decoder", nullptr}, {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "<|endoftext|>"}}}});
  write(dir / "preprocessor_config.json",
        {{"feature_extractor_type", "WhisperFeatureExtractor"}, {"feature_size", 80}, {"sampling_rate", 16000},
         {"hop_length", 500}, {"chunk_length", 1}, {"n_fft", 400}, {"padding_value", 0.0},
         {"return_attention_mask", false}});
  return dir.string();
}

// The text of ids as the word-level tokenizer decodes it, special ids (0..6, 119) dropped.
std::string words(const V& ids) {
  std::string s;
  for (int64_t id : ids) {
    if (id <= 6 || id == 119) continue;
    s += (s.empty() ? "" : " ") + token_of(id);
  }
  return s;
}

struct WhisperPipelineTest : ::testing::Test {
  static void SetUpTestSuite() {
    dir = make_folder("plain");
    pipe = pipeline("automatic-speech-recognition", dir).release();
  }
  static void TearDownTestSuite() {
    delete pipe;
    fs::remove_all(dir);
  }
  WhisperSpeechRecognitionPipeline& whisper() { return dynamic_cast<WhisperSpeechRecognitionPipeline&>(*pipe); }
  static std::string dir;
  static Pipeline* pipe;
};
std::string WhisperPipelineTest::dir;
Pipeline* WhisperPipelineTest::pipe = nullptr;

TEST_F(WhisperPipelineTest, GeneratesTheRecordedIdsAndDecodesThem) {
  const std::string fixture = testing::hf_fixture("whisper");
  const auto golden = io::load_file(fixture + "/golden.safetensors");
  const Tensor features = golden.at("input_features");
  const auto gen = testing::golden_json(fixture)["generation"];
  for (int64_t b = 0; b < features.size(0); ++b) {
    const Tensor row = features.narrow(0, b, 1).contiguous();
    const V greedy = gen["greedy"]["sequences"][size_t(b)].get<V>();
    EXPECT_EQ(whisper().generate_ids(row, {{"max_new_tokens", 16}}, false), greedy);
    EXPECT_EQ(whisper().generate_ids(row, {{"max_new_tokens", 16}, {"num_beams", 3}}, false),
              gen["beam"]["sequences"][size_t(b)].get<V>());
    // the pipeline's text for those ids: special tokens dropped, the rest decoded
    const json out = whisper_asr::decode_asr(whisper().tokens, {{greedy, std::nullopt}}, false, false, 0.0625);
    EXPECT_EQ(out, json({{"text", words(greedy)}}));
  }
}

TEST_F(WhisperPipelineTest, TokenizerRolesFollowWhisper) {
  EXPECT_EQ(whisper().tokens.timestamp_begin, 120);  // <|notimestamps|> + 1
  EXPECT_EQ(whisper().tokens.special_ids, (std::set<int64_t>{0, 1, 2, 3, 4, 5, 6, 119}));
  EXPECT_EQ(whisper().tokens.decode({10, 121, 11}), "w10  w11");  // timestamp tokens' text is filtered out
}

TEST_F(WhisperPipelineTest, DecodeAsrWithoutTimestamps) {
  const auto& t = whisper().tokens;
  EXPECT_EQ(whisper_asr::decode_asr(t, {{{1, 3, 5, 119, 10, 11, 2}, std::nullopt}}, false, false, 0.02),
            json({{"text", "w10 w11"}}));
  EXPECT_EQ(whisper_asr::decode_asr(t, {{{1, 3, 5, 119, 10, 11, 2}, std::nullopt}}, false, true, 0.02),
            json({{"text", "w10 w11"}, {"chunks", {{{"language", "english"}, {"text", "w10 w11"}}}}}));
  // two chunks overlapping by two tokens: merged once
  EXPECT_EQ(whisper_asr::decode_asr(t,
                                    {{{1, 10, 11, 12, 13, 2}, std::array<double, 3>{2.0, 0.0, 0.5}},
                                     {{1, 12, 13, 14, 15, 2}, std::array<double, 3>{2.0, 0.5, 0.0}}},
                                    false, false, 0.02),
            json({{"text", "w10 w11 w12 w13 w14 w15"}}));
  // a language change closes a chunk
  EXPECT_EQ(whisper_asr::decode_asr(t,
                                    {{{1, 3, 5, 119, 10, 2}, std::array<double, 3>{1.0, 0.0, 0.2}},
                                     {{1, 4, 5, 119, 11, 2}, std::array<double, 3>{1.0, 0.2, 0.0}}},
                                    false, true, 0.02),
            json({{"text", "w10w11"},
                  {"chunks", {{{"language", "english"}, {"text", "w10"}}, {{"language", "french"}, {"text", "w11"}}}}}));
}

TEST_F(WhisperPipelineTest, DecodeAsrWithTimestamps) {
  const auto& t = whisper().tokens;
  // one window: <|0.00|> w10 w11 <|0.10|> <|0.10|> w12 <|0.14|>
  EXPECT_EQ(whisper_asr::decode_asr(t, {{{1, 3, 5, 120, 10, 11, 125, 125, 12, 127, 2}, std::nullopt}}, true, false, 0.02),
            json({{"text", "w10 w11w12"},
                  {"chunks", {{{"timestamp", {0.0, 0.1}}, {"text", "w10 w11"}},
                              {{"timestamp", {0.1, 0.14}}, {"text", "w12"}}}}}));
  // two 1 s windows with 0.2 s strides (the second starts at 0.6 s): the segment cut by the
  // first window's right stride is closed by the second, its tokens merged
  EXPECT_EQ(
      whisper_asr::decode_asr(t,
                              {{{1, 120, 10, 11, 130, 130, 12, 13, 165, 2}, std::array<double, 3>{1.0, 0.0, 0.2}},
                               {{1, 120, 12, 13, 150, 150, 14, 170, 2}, std::array<double, 3>{1.0, 0.2, 0.0}}},
                              true, false, 0.02),
      json({{"text", "w10 w11w12 w13w14"},
            {"chunks", {{{"timestamp", {0.0, 0.2}}, {"text", "w10 w11"}},
                        {{"timestamp", {0.2, 1.2}}, {"text", "w12 w13"}},
                        {{"timestamp", {1.2, 1.6}}, {"text", "w14"}}}}}));
  // no closing timestamp: the chunk keeps a null end
  EXPECT_EQ(whisper_asr::decode_asr(t, {{{1, 121, 10, 2}, std::nullopt}}, true, false, 0.02),
            json({{"text", "w10"}, {"chunks", {{{"timestamp", {0.02, nullptr}}, {"text", "w10"}}}}}));
}

TEST(WhisperAsr, LongestCommonSequenceSplitsTheOverlapInItsMiddle) {
  using whisper_asr::find_longest_common_sequence;
  EXPECT_EQ(find_longest_common_sequence({{10, 11, 12, 13}, {12, 13, 14, 15}}), (V{10, 11, 12, 13, 14, 15}));
  // best overlap [11 12 20] / [11 12 21] (2 of 3): left keeps [10 11], right gives [12 21 22]
  EXPECT_EQ(find_longest_common_sequence({{10, 11, 12, 20}, {11, 12, 21, 22}}), (V{10, 11, 12, 21, 22}));
  // a single matching token is no overlap: plain concatenation
  EXPECT_EQ(find_longest_common_sequence({{1, 2, 3}, {3, 4}}), (V{1, 2, 3, 3, 4}));
  EXPECT_EQ(find_longest_common_sequence({{1, 2}, {}}), (V{1, 2}));
  EXPECT_EQ(find_longest_common_sequence({{5, 6, 7}, {6, 7, 8}, {7, 8, 9}}), (V{5, 6, 7, 8, 9}));
}

TEST(WhisperAsr, ChunkWindowsAndRounding) {
  using whisper_asr::chunk_windows;
  auto w = chunk_windows(10, 4, 1, 1);  // step 2
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(std::vector<int64_t>({w[0].start, w[0].end, w[0].stride_left, w[0].stride_right}), (V{0, 4, 0, 1}));
  EXPECT_EQ(std::vector<int64_t>({w[1].start, w[1].end, w[1].stride_left, w[1].stride_right}), (V{2, 6, 1, 1}));
  EXPECT_EQ(std::vector<int64_t>({w[3].start, w[3].end, w[3].stride_left, w[3].stride_right}), (V{6, 10, 1, 0}));
  w = chunk_windows(3, 4, 1, 1);  // shorter than one window: one window, no strides
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(std::vector<int64_t>({w[0].start, w[0].end, w[0].stride_left, w[0].stride_right}), (V{0, 3, 0, 0}));
  EXPECT_THROW(chunk_windows(10, 2, 1, 1), ValueError);
  EXPECT_EQ(whisper_asr::round2(0.125), 0.12);  // ties to even on the exact value, as Python's round
  EXPECT_EQ(whisper_asr::round2(0.375), 0.38);
  EXPECT_EQ(whisper_asr::round2(1.2000000000000002), 1.2);
}

TEST_F(WhisperPipelineTest, TranscribesAudioFilesInOneWindowAndInChunks) {
  const std::string wav = testing::hf_fixture("processors") + "/audio.wav";  // 1.5 s
  auto& p = whisper();
  const std::vector<float> wave = processors::load_audio(wav, 16000);
  ASSERT_EQ(wave.size(), 24000u);
  auto ids_of = [&](int64_t a, int64_t b, const json& kw, bool ts) {
    return p.generate_ids(p.feature_extractor({std::vector<float>(wave.begin() + a, wave.begin() + b)}), kw, ts);
  };
  // 1 s windows, 0.25 s strides: [0, 1 s) with right stride 0.25 s, then [0.5 s, 1.5 s) with left
  const json kw = {{"chunk_length_s", 1.0}, {"stride_length_s", 0.25}, {"generate_kwargs", {{"max_new_tokens", 6}}}};
  const json out = p.call(wav, kw);
  const V a = ids_of(0, 16000, {{"max_new_tokens", 6}}, false), b = ids_of(8000, 24000, {{"max_new_tokens", 6}}, false);
  EXPECT_EQ(out, whisper_asr::decode_asr(p.tokens, {{a, std::array<double, 3>{1.0, 0.0, 0.25}},
                                                    {b, std::array<double, 3>{1.0, 0.25, 0.0}}},
                                         false, false, 1.0 / 16));
  auto text_tokens = [](const V& ids) {
    V t;
    for (int64_t id : ids)
      if (id > 6 && id < 119) t.push_back(id);
    return t;
  };
  EXPECT_EQ(out["text"], words(whisper_asr::find_longest_common_sequence({text_tokens(a), text_tokens(b)})));
  // audio longer than one window without chunk_length_s: not supported (long-form decoding)
  EXPECT_THROW(p.call(wav, {{"max_new_tokens", 4}}), NotSupportedError);
  // "char" timestamps are CTC-only; unknown kwargs are named
  EXPECT_THROW(p.call(wav, {{"chunk_length_s", 1.0}, {"return_timestamps", "char"}}), ValueError);
  EXPECT_THROW(p.call(wav, {{"top_k", 1}}), ValueError);
  // raw samples: {'raw': [...], 'sampling_rate': N}
  json raw = {{"sampling_rate", 16000}, {"raw", std::vector<float>(wave.begin(), wave.begin() + 8000)}};
  EXPECT_EQ(p.call(raw, {{"max_new_tokens", 5}}),
            whisper_asr::decode_asr(p.tokens, {{ids_of(0, 8000, {{"max_new_tokens", 5}}, false), std::nullopt}}, false,
                                    false, 1.0 / 16));
}

TEST(WhisperAsrPipeline, TimestampsLanguageAndTaskThroughTheCall) {
  const nlohmann::json extra = {{"no_timestamps_token_id", 119},
                                {"lang_to_id", {{"<|en|>", 3}, {"<|fr|>", 4}}},
                                {"task_to_id", {{"transcribe", 5}, {"translate", 6}}},
                                {"is_multilingual", true},
                                {"max_length", 12}};
  const std::string dir = make_folder("multilingual", extra);
  auto pipe = pipeline("automatic-speech-recognition", dir);
  auto& p = dynamic_cast<WhisperSpeechRecognitionPipeline&>(*pipe);
  const std::string wav = testing::hf_fixture("processors") + "/audio.wav";
  const std::vector<float> wave = processors::load_audio(wav, 16000);
  const std::vector<float> first(wave.begin(), wave.begin() + 16000);
  const Tensor features = p.feature_extractor({first});
  // language + task -> prompt [start, <|fr|>, <|translate|>]; with timestamps no <|notimestamps|>,
  // and WhisperTimeStampLogitsProcessor makes the first free token a timestamp, then never lower
  const V ids = p.generate_ids(features, {{"language", "french"}, {"task", "translate"}}, true);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(V(ids.begin(), ids.begin() + 3), (V{1, 4, 6}));
  EXPECT_GE(ids[3], 120);
  int64_t last = 0;
  for (size_t i = 3; i < ids.size(); ++i)
    if (ids[i] >= 120) EXPECT_GE(ids[i], last), last = ids[i];
  EXPECT_LE(ids.size(), 12u);  // max_length from generation_config.json
  // without timestamps: [start, <|en|>, <|transcribe|>, <|notimestamps|>]
  const V plain = p.generate_ids(features, {{"language", "en"}}, false);
  EXPECT_EQ(V(plain.begin(), plain.begin() + 4), (V{1, 3, 5, 119}));
  // the call: the same generation, decoded with timestamps and language
  const json kw = {{"return_timestamps", true}, {"return_language", true},
                   {"generate_kwargs", {{"language", "french"}, {"task", "translate"}}}};
  const json raw = {{"sampling_rate", 16000}, {"raw", first}};
  const json out = p.call(raw, kw);
  EXPECT_EQ(out, whisper_asr::decode_asr(p.tokens, {{ids, std::nullopt}}, true, true, 1.0 / 16));
  ASSERT_TRUE(out.contains("chunks"));
  std::string joined;
  for (auto& c : out["chunks"]) {
    EXPECT_EQ(c["language"], "french");
    EXPECT_EQ(c["timestamp"].size(), 2u);
    joined += c["text"].get<std::string>();
  }
  EXPECT_EQ(joined, out["text"]);
  // an English-only generation config refuses a language
  p.whisper_config.is_multilingual = false;
  EXPECT_THROW(p.call(raw, {{"generate_kwargs", {{"language", "en"}}}}), ValueError);
  pipe.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cppformers
