#include "cppformers/pipelines/token_classification.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/pipelines/tasks.hpp"

namespace cppformers {
namespace {

std::string case_dir() {
  const std::string dir = std::string(CPPFORMERS_SOURCE_DIR) + "/../shared/fixtures/pipelines/token_classification";
  if (!std::filesystem::is_directory(dir)) ADD_FAILURE() << "fixture folder missing: " << dir;
  return dir;
}

// Floats within 1e-4 absolute; everything else (keys, strings, ints, null, lengths) exact.
::testing::AssertionResult json_close(const json& a, const json& b, const std::string& path = "$") {
  if (b.is_number_float() || a.is_number_float()) {
    if (!a.is_number() || !b.is_number() || std::abs(a.get<double>() - b.get<double>()) > 1e-4)
      return ::testing::AssertionFailure() << path << ": " << a.dump() << " != " << b.dump();
    return ::testing::AssertionSuccess();
  }
  if (b.is_object()) {
    if (!a.is_object() || a.size() != b.size()) return ::testing::AssertionFailure() << path << ": " << a.dump() << " != " << b.dump();
    for (auto& [k, v] : b.items()) {
      if (!a.contains(k)) return ::testing::AssertionFailure() << path << ": missing key " << k;
      auto r = json_close(a[k], v, path + "." + k);
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (b.is_array()) {
    if (!a.is_array() || a.size() != b.size())
      return ::testing::AssertionFailure() << path << ": list of " << (a.is_array() ? a.size() : 0) << " != " << b.size()
                                           << "\n ours: " << a.dump().substr(0, 400);
    for (size_t i = 0; i < b.size(); ++i) {
      auto r = json_close(a[i], b[i], path + "[" + std::to_string(i) + "]");
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (a != b) return ::testing::AssertionFailure() << path << ": " << a.dump() << " != " << b.dump();
  return ::testing::AssertionSuccess();
}

class TokenClassificationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pipe_ = pipeline("token-classification", case_dir()).release(); }
  static void TearDownTestSuite() {
    delete pipe_;
    pipe_ = nullptr;
  }
  static Pipeline* pipe_;
};
Pipeline* TokenClassificationTest::pipe_ = nullptr;

TEST_F(TokenClassificationTest, ReplaysEveryGoldenCall) {
  const json calls = io::read_json_file(case_dir() + "/pipeline_golden.json");
  size_t replayed = 0;
  for (const json& c : calls) {
    SCOPED_TRACE(c["id"].get<std::string>());
    if (c.contains("error")) {
      // Python refused these for want of a fast tokenizer; cppformers implements them (tested below).
      EXPECT_NO_THROW(pipe_->call(c["inputs"], c["kwargs"]));
      continue;
    }
    EXPECT_TRUE(json_close(pipe_->call(c["inputs"], c["kwargs"]), c["output"]));
    ++replayed;
  }
  EXPECT_EQ(replayed, 8u);
}

TEST_F(TokenClassificationTest, AliasNerAndTypedCall) {
  auto ner = pipeline("ner", case_dir());
  auto& typed = dynamic_cast<TokenClassificationPipeline&>(*ner);
  const std::string text = "My name is Wolfgang and I live in Berlin.";
  TokenClassificationOptions o;
  o.aggregation_strategy = "simple";
  const auto ents = typed(text, o);
  json as_json = json::array();
  for (const auto& e : ents) as_json.push_back(e.to_json());
  EXPECT_EQ(as_json, ner->call(text, {{"aggregation_strategy", "simple"}}));
  ASSERT_FALSE(ents.empty());
  EXPECT_TRUE(ents[0].grouped);
  EXPECT_FALSE(ents[0].index.has_value());
  EXPECT_FALSE(ents[0].start.has_value());
  // deprecated grouped_entities=True is "simple"
  EXPECT_EQ(ner->call(text, {{"grouped_entities", true}}), as_json);
}

// Independent reference for the word-level strategies, from the model's own logits: softmax in
// double, words = the tokenizer's word ids, then Python's documented rules.
struct Ref {
  std::string group;
  double score;
  std::string word;
  int64_t start, end;
};

std::vector<Ref> reference(const std::string& text, const std::string& strategy) {
  const std::string dir = case_dir();
  auto model = AutoModelForTokenClassification::from_pretrained(dir);
  auto tok = AutoTokenizer::from_pretrained(dir);
  const tokenizers::Encoding e = tok.backend().encode(text, true);
  std::vector<int64_t> ids(e.ids.begin(), e.ids.end());
  const int64_t S = int64_t(ids.size());
  ModelInputs in;
  in.input_ids = Tensor::from_vector(ids, {1, S});
  in.attention_mask = Tensor::from_vector(std::vector<int64_t>(size_t(S), 1), {1, S});
  in.token_type_ids = Tensor::from_vector(std::vector<int64_t>(size_t(S), 0), {1, S});
  autograd::NoGradGuard ng;
  const auto logits = model->forward(in).logits.to_vector<double>();
  const auto& cfg = model->config();
  const int64_t L = cfg.num_labels();
  struct Word {
    std::vector<std::vector<double>> probs;
    std::string word;
    int64_t start, end;
  };
  std::vector<Word> words;
  std::optional<uint32_t> prev;
  for (int64_t t = 0; t < S; ++t) {
    if (e.special_tokens_mask[size_t(t)]) continue;
    std::vector<double> p(static_cast<size_t>(L), 0.0);
    double m = -1e300, sum = 0;
    for (int64_t k = 0; k < L; ++k) m = std::max(m, logits[size_t(t * L + k)]);
    for (int64_t k = 0; k < L; ++k) sum += (p[size_t(k)] = std::exp(logits[size_t(t * L + k)] - m));
    for (auto& v : p) v /= sum;
    const auto w = e.words[size_t(t)];
    std::string tokstr = e.tokens[size_t(t)];
    if (!words.empty() && w && prev && *w == *prev) {
      words.back().probs.push_back(p);
      words.back().word += tokstr.substr(0, 2) == "##" ? tokstr.substr(2) : " " + tokstr;
      words.back().end = int64_t(e.offsets[size_t(t)].second);
    } else {
      words.push_back({{p}, tokstr, int64_t(e.offsets[size_t(t)].first), int64_t(e.offsets[size_t(t)].second)});
    }
    prev = w;
  }
  struct WordEnt {
    std::string label;
    double score;
    std::string word;
    int64_t start, end;
  };
  std::vector<WordEnt> went;
  for (const Word& w : words) {
    std::vector<double> p;
    if (strategy == "first") {
      p = w.probs[0];
    } else if (strategy == "max") {
      double best = -1;
      for (const auto& q : w.probs) {
        const double mx = *std::max_element(q.begin(), q.end());
        if (mx > best) best = mx, p = q;
      }
    } else {  // average
      p.assign(size_t(L), 0.0);
      for (const auto& q : w.probs)
        for (int64_t k = 0; k < L; ++k) p[size_t(k)] += q[size_t(k)] / double(w.probs.size());
    }
    const int64_t k = int64_t(std::max_element(p.begin(), p.end()) - p.begin());
    went.push_back({cfg.id2label.at(k), p[size_t(k)], w.word, w.start, w.end});
  }
  // group_entities: same tag, and the next one is not B-
  auto tag = [](const std::string& l) { return l.size() > 2 && l[1] == '-' ? l.substr(2) : l; };
  std::vector<Ref> out;
  std::vector<const WordEnt*> cur;
  auto flush = [&] {
    Ref r{tag(cur[0]->label), 0, "", cur.front()->start, cur.back()->end};
    for (const WordEnt* x : cur) {
      r.score += x->score / double(cur.size());
      r.word += (r.word.empty() ? "" : " ") + x->word;
    }
    if (r.group != "O") out.push_back(r);
  };
  for (const WordEnt& x : went) {
    if (!cur.empty() && !(tag(x.label) == tag(cur.back()->label) && x.label.rfind("B-", 0) != 0)) {
      flush();
      cur.clear();
    }
    cur.push_back(&x);
  }
  if (!cur.empty()) flush();
  return out;
}

TEST_F(TokenClassificationTest, WordStrategiesMatchAnIndependentComputation) {
  for (const std::string text : {"My name is Wolfgang and I live in Berlin.",
                                 "Apple opened a new office in London, said Tim Cook on Monday.",
                                 "Angela Merkel met Emmanuel Macron in Paris last year."}) {
    for (const std::string strategy : {"first", "average", "max"}) {
      SCOPED_TRACE(strategy + ": " + text);
      const std::vector<Ref> want = reference(text, strategy);
      const json got = pipe_->call(text, {{"aggregation_strategy", strategy}});
      ASSERT_EQ(got.size(), want.size()) << got.dump();
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(got[i]["entity_group"], want[i].group) << i;
        EXPECT_NEAR(got[i]["score"].get<double>(), want[i].score, 1e-5) << i;
        EXPECT_EQ(got[i]["word"], want[i].word) << i;
        EXPECT_EQ(got[i]["start"], want[i].start) << i;
        EXPECT_EQ(got[i]["end"], want[i].end) << i;
        EXPECT_FALSE(got[i].contains("index"));
      }
    }
  }
  // words never split: "wolfgang" is one word whatever its tokens say
  const json first = pipe_->call("My name is Wolfgang and I live in Berlin.",
                                 {{"aggregation_strategy", "first"}, {"ignore_labels", json::array()}});
  bool seen = false;
  for (const json& e : first) seen |= e["word"].get<std::string>().find("wolfgang") != std::string::npos;
  EXPECT_TRUE(seen) << first.dump();
}

TEST_F(TokenClassificationTest, StrideCoversLongTextsInOverlappingWindows) {
  const json calls = io::read_json_file(case_dir() + "/pipeline_golden.json");
  std::string text;
  for (const json& c : calls)
    if (c["id"] == "long_stride_refused") text = c["inputs"].get<std::string>();
  ASSERT_FALSE(text.empty());
  const json got = pipe_->call(text, {{"aggregation_strategy", "simple"}, {"stride", 16}, {"ignore_labels", json::array()}});
  ASSERT_GT(got.size(), 10u);
  // sorted by start, no overlaps, and reaching the end of the text (the truncated call stops early)
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LE(got[i - 1]["end"].get<int64_t>(), got[i]["start"].get<int64_t>()) << i;
  const int64_t text_chars = int64_t(text.size());  // ASCII
  EXPECT_EQ(got.back()["end"].get<int64_t>(), text_chars);
  // without stride the text is cut at model_max_length: far fewer entities
  const json truncated = pipe_->call(text, {{"aggregation_strategy", "first"}, {"ignore_labels", json::array()}});
  EXPECT_LT(truncated.back()["end"].get<int64_t>(), text_chars / 2);
  const json words = pipe_->call(text, {{"aggregation_strategy", "first"}, {"stride", 16}, {"ignore_labels", json::array()}});
  EXPECT_EQ(words.back()["end"].get<int64_t>(), text_chars);
  // where the windows do not overlap yet, the stride result starts like the truncated one
  EXPECT_EQ(words[0], truncated[0]);
  // Python's checks
  EXPECT_THROW(pipe_->call(text, {{"aggregation_strategy", "none"}, {"stride", 16}}), ValueError);
  EXPECT_THROW(pipe_->call(text, {{"aggregation_strategy", "simple"}, {"stride", 64}}), ValueError);
}

TEST_F(TokenClassificationTest, OffsetMappingAndErrors) {
  const std::string text = "Apple opened a new office in London, said Tim Cook on Monday.";
  // offsets from the tokenizer give the same start/end as the golden's caller-supplied ones
  const auto enc = pipe_->tokenizer().backend().encode(text, true);
  json mapping = json::array();
  for (const auto& [s, e] : enc.offsets) mapping.push_back({s, e});
  const json none = pipe_->call(text, {{"offset_mapping", mapping}});
  for (const json& e : none) {
    EXPECT_TRUE(e["start"].is_number_integer());
    EXPECT_TRUE(e.contains("index"));
  }
  // a batch with one mapping per text
  const json batch = pipe_->call(json::array({text, text}), {{"offset_mapping", json::array({mapping, mapping})}});
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0], none);
  EXPECT_EQ(batch[1], none);
  EXPECT_THROW(pipe_->call(json::array({text, text}), {{"offset_mapping", mapping}}), ValueError);
  EXPECT_THROW(pipe_->call(text, {{"aggregation_strategy", "best"}}), ValueError);
  EXPECT_THROW(pipe_->call(text, {{"topk", 3}}), ValueError);
  EXPECT_THROW(pipe_->call(json::array(), json::object()), ValueError);
  EXPECT_THROW(pipe_->call(42, json::object()), ValueError);
  // batch_size does not change results
  const json b1 = pipe_->call(json::array({text, "My name is Wolfgang and I live in Berlin."}), json::object());
  const json b2 = pipe_->call(json::array({text, "My name is Wolfgang and I live in Berlin."}), {{"batch_size", 2}});
  EXPECT_TRUE(json_close(b2, b1));
}

}  // namespace
}  // namespace cppformers
