// Replays Python's recorded summarization / translation calls (T5, greedy).
#include "cppformers/pipelines/text2text_generation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cppformers/pipelines/tasks.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(Text2TextGenerationPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("summarization_translation");
  auto sum = pipeline("summarization", dir);
  auto tr = pipeline("translation_en_to_de", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) {
              return (c["task"] == "summarization" ? sum : tr)->call(c["inputs"], c["kwargs"]);
            }), 7);
  auto& t = dynamic_cast<Text2TextGenerationPipeline&>(*tr);
  EXPECT_EQ(t.prefix, "translate English to German: ");
  auto t2t = pipeline("text2text-generation", dir);
  json out = t2t->call("summarize: The house is wonderful.", {{"max_new_tokens", 3}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].contains("generated_text"));
}

TEST(TranslationPipeline, AnyTranslationXxToYyTaskName) {
  const std::string dir = testing::pipeline_fixture("summarization_translation");
  // a listed name and an unlisted one: the prefix of config.task_specific_params[task], as Python
  auto fr = pipeline("translation_en_to_fr", dir);
  EXPECT_EQ(fr->task(), "translation_en_to_fr");
  EXPECT_EQ(dynamic_cast<Text2TextGenerationPipeline&>(*fr).prefix, "translate English to French: ");
  auto ro = pipeline("translation_en_to_ro", dir);
  EXPECT_EQ(dynamic_cast<Text2TextGenerationPipeline&>(*ro).prefix, "translate English to Romanian: ");
  auto de_en = pipeline("translation_de_to_en", dir);  // not in task_specific_params: no prefix
  EXPECT_EQ(de_en->task(), "translation_de_to_en");
  EXPECT_EQ(dynamic_cast<Text2TextGenerationPipeline&>(*de_en).prefix, "");
  // "translation" alone takes the first translation_* key of task_specific_params
  auto plain = pipeline("translation", dir);
  EXPECT_EQ(plain->task(), "translation_en_to_de");
  EXPECT_EQ(dynamic_cast<Text2TextGenerationPipeline&>(*plain).prefix, "translate English to German: ");
  EXPECT_THROW(pipeline("translation_en_fr", dir), NotSupportedError);
  EXPECT_TRUE(pipelines::is_translation_xx_to_yy("translation_pt_to_es"));
  EXPECT_FALSE(pipelines::is_translation_xx_to_yy("translation_en_to"));
  EXPECT_FALSE(pipelines::is_translation_xx_to_yy("translation_en_de_fr"));
  // Python prepends the prefix to the text: the same as text2text-generation on prefixed text
  auto t2t = pipeline("text2text-generation", dir);
  const json kw = {{"max_new_tokens", 6}, {"return_tensors", true}};
  const json a = fr->call("The house is wonderful.", kw);
  const json b = t2t->call("translate English to French: The house is wonderful.", kw);
  EXPECT_EQ(a[0]["translation_token_ids"], b[0]["generated_token_ids"]);
}

TEST(TranslationPipeline, LanguageCodesOfMBartStyleTokenizers) {
  // The T5 fixture with tokenizer_config.json claiming an MBart-family tokenizer class: two of its
  // tokens stand in for language codes (<extra_id_0> as source, <extra_id_1> as target).
  const std::string fixture = testing::pipeline_fixture("summarization_translation");
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("cf_t2t_langs_" + std::to_string(getpid()));
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(fixture))
    if (e.path().filename() != "tokenizer_config.json")
      fs::copy_file(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing);
  std::ifstream in(fs::path(fixture) / "tokenizer_config.json");
  json tc = json::parse(in);
  tc["tokenizer_class"] = "MBartTokenizerFast";
  std::ofstream(dir / "tokenizer_config.json") << tc.dump();
  auto pipe = pipeline("translation", dir.string());
  auto& t = dynamic_cast<Text2TextGenerationPipeline&>(*pipe);
  EXPECT_EQ(t.tokenizer_class, "MBartTokenizerFast");
  const auto& tok = t.tokenizer();
  const int64_t src = *tok.token_to_id("<extra_id_0>"), tgt = *tok.token_to_id("<extra_id_1>");
  const int64_t eos = *tok.token_to_id("</s>"), pad = *tok.pad_token_id();
  const std::string text = "The house is wonderful.", other = "Hello";
  std::vector<int64_t> body = tok.encode(text, false), body2 = tok.encode(other, false);
  // MBart: text, </s>, source code; no T5 prefix; the target code forced as first token
  EXPECT_EQ(t.prepare_translation("<extra_id_0>", "<extra_id_1>"), tgt);
  auto b = t.encode_inputs({{text, std::nullopt}, {other, std::nullopt}}, false);
  std::vector<int64_t> row0 = body, row1 = body2;
  row0.insert(row0.end(), {eos, src});
  row1.insert(row1.end(), {eos, src});
  ASSERT_GT(row0.size(), row1.size());
  std::vector<int64_t> mask1(row1.size(), 1);
  mask1.resize(row0.size(), 0);
  row1.resize(row0.size(), pad);
  EXPECT_EQ(b.inputs.input_ids.to_vector<int64_t>().size(), 2 * row0.size());
  std::vector<int64_t> both = row0;
  both.insert(both.end(), row1.begin(), row1.end());
  EXPECT_EQ(b.inputs.input_ids.to_vector<int64_t>(), both);
  std::vector<int64_t> masks(row0.size(), 1);
  masks.insert(masks.end(), mask1.begin(), mask1.end());
  EXPECT_EQ(b.inputs.attention_mask.to_vector<int64_t>(), masks);
  // MBart-50 / NLLB: source code, text, </s>
  t.tokenizer_class = "MBart50TokenizerFast";
  t.prepare_translation("<extra_id_0>", "<extra_id_1>");
  std::vector<int64_t> r50{src};
  r50.insert(r50.end(), body.begin(), body.end());
  r50.push_back(eos);
  EXPECT_EQ(t.encode_inputs({{text, std::nullopt}}, false).inputs.input_ids.to_vector<int64_t>(), r50);
  t.tokenizer_class = "NllbTokenizerFast";
  t.nllb_legacy_behaviour = true;  // legacy NLLB: as MBart
  t.prepare_translation("<extra_id_0>", "<extra_id_1>");
  EXPECT_EQ(t.encode_inputs({{text, std::nullopt}}, false).inputs.input_ids.to_vector<int64_t>(), row0);
  // through the call: the first generated token after the decoder start is the target code
  t.tokenizer_class = "MBartTokenizerFast";
  const json out = pipe->call(text, {{"src_lang", "<extra_id_0>"}, {"tgt_lang", "<extra_id_1>"}, {"max_new_tokens", 4},
                                     {"return_tensors", true}});
  EXPECT_EQ(out[0]["translation_token_ids"][1], tgt);
  // both languages are required; without language codes they are ignored (T5)
  EXPECT_THROW(pipe->call(text, {{"src_lang", "<extra_id_0>"}}), ValueError);
  t.tokenizer_class = "T5TokenizerFast";
  EXPECT_EQ(t.prepare_translation("<extra_id_0>", "<extra_id_1>"), std::nullopt);
  pipe.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cppformers
