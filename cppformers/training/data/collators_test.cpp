#include "cppformers/training/data/collators.hpp"

#include <gtest/gtest.h>

namespace cppformers {
namespace {

const std::string kTok = std::string(CPPFORMERS_SOURCE_DIR) + "/assets/tiny-bert-classifier";

Dataset tokenized(const std::vector<std::string>& texts, const AutoTokenizer& tok) {
  std::vector<Example> ex;
  for (size_t i = 0; i < texts.size(); ++i) {
    Example e;
    e.text = texts[i];
    e.label = int64_t(i % 2);
    ex.push_back(e);
  }
  Dataset ds(ex);
  ds.tokenize(tok);
  return ds;
}

std::vector<const Example*> ptrs(const Dataset& ds) {
  std::vector<const Example*> out;
  for (const auto& e : ds.examples()) out.push_back(&e);
  return out;
}

TEST(Collators, PadsToTheLongestAndToAMultiple) {
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(kTok);
  Dataset ds = tokenized({"free", "free software library code"}, tok);
  ModelInputs in = DataCollatorWithPadding(tok)(ptrs(ds));
  const int64_t L = int64_t(ds[1].input_ids.size());
  EXPECT_EQ(in.input_ids.shape(), (Shape{2, L}));
  EXPECT_EQ(in.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  const auto ids = in.input_ids.to_vector<int64_t>(), mask = in.attention_mask.to_vector<int64_t>();
  const size_t n0 = ds[0].input_ids.size();
  EXPECT_EQ(ids[n0], *tok.pad_token_id());
  EXPECT_EQ(mask[n0 - 1], 1);
  EXPECT_EQ(mask[n0], 0);
  EXPECT_TRUE(in.token_type_ids.defined());
  ModelInputs m8 = DataCollatorWithPadding(tok, 8)(ptrs(ds));
  EXPECT_EQ(m8.input_ids.size(1) % 8, 0);
}

TEST(Collators, TokenClassificationPadsLabelsWithMinus100) {
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(kTok);
  Example a, b;
  a.words = {"the"};
  a.word_labels = {1};
  b.words = {"the", "free", "law"};
  b.word_labels = {0, 1, 2};
  Dataset ds({a, b});
  ds.tokenize(tok);
  ModelInputs in = DataCollatorForTokenClassification(tok)(ptrs(ds));
  const int64_t L = in.input_ids.size(1);
  EXPECT_EQ(in.labels.shape(), (Shape{2, L}));
  const auto l = in.labels.to_vector<int64_t>();
  EXPECT_EQ(l[1], 1);
  for (int64_t k = 3; k < L; ++k) EXPECT_EQ(l[k], -100);
  EXPECT_EQ(l[L + 1], 0);
}

TEST(Collators, MaskedLanguageModeling) {
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(kTok);
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "free software library code ";
  Dataset ds = tokenized({long_text, "the law"}, tok);  // (truncated to 128)
  ops::Generator gen(123);
  DataCollatorForLanguageModeling mlm(tok, true, 0.15, std::nullopt, &gen);
  ModelInputs in = mlm(ptrs(ds));
  const auto ids = in.input_ids.to_vector<int64_t>(), labels = in.labels.to_vector<int64_t>();
  const int64_t L = in.input_ids.size(1), mask_id = *tok.token_to_id("[MASK]");
  int chosen = 0, masked = 0, kept = 0;
  for (int64_t i = 0; i < int64_t(ids.size()); ++i) {
    if (labels[i] == -100) continue;
    ++chosen;
    const int64_t row = i / L, col = i % L;
    EXPECT_NE(col, 0);  // never [CLS]
    EXPECT_LT(col, int64_t(ds[row].input_ids.size()) - 1);  // never [SEP] or padding
    EXPECT_EQ(labels[i], ds[row].input_ids[col]);
    masked += ids[i] == mask_id;
    kept += ids[i] == labels[i];
  }
  // ~15% of ~128 eligible tokens, ~80% of those masked
  EXPECT_GT(chosen, 8);
  EXPECT_LT(chosen, 35);
  EXPECT_GT(masked, chosen / 2);
  EXPECT_LT(kept, chosen / 2);
  // the same seed, the same masking
  ops::Generator gen2(123);
  ModelInputs again = DataCollatorForLanguageModeling(tok, true, 0.15, std::nullopt, &gen2)(ptrs(ds));
  EXPECT_EQ(again.input_ids.to_vector<int64_t>(), ids);
  // probability 1: every eligible token is a target
  ops::Generator gen3(1);
  ModelInputs all = DataCollatorForLanguageModeling(tok, true, 1.0, std::nullopt, &gen3)(ptrs(ds));
  const auto la = all.labels.to_vector<int64_t>();
  EXPECT_EQ(std::count_if(la.begin() + L, la.end(), [](int64_t v) { return v != -100; }), 2);  // "the law"
}

TEST(Collators, CausalLanguageModelingLabelsAreTheIdsWithPaddingIgnored) {
  const AutoTokenizer tok = AutoTokenizer::from_pretrained(kTok);
  Dataset ds = tokenized({"the", "free software law"}, tok);
  ModelInputs in = DataCollatorForLanguageModeling(tok, /*mlm=*/false)(ptrs(ds));
  const auto ids = in.input_ids.to_vector<int64_t>(), labels = in.labels.to_vector<int64_t>(),
             mask = in.attention_mask.to_vector<int64_t>();
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(labels[i], mask[i] ? ids[i] : -100);
}

}  // namespace
}  // namespace cppformers
