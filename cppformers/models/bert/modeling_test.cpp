// Parity with Python transformers 4.45.2 on the BERT-family fixtures (../shared/fixtures/hf),
// loaded through the Auto classes; and the training golden (loss, gradients, 3 SGD steps).
#include "cppformers/models/bert/modeling.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/testing/fixtures.hpp"
#include "cppformers/training/optim/sgd.hpp"

namespace cppformers {
namespace {

using testing::all_close;
using testing::hf_fixture;

Task task_of(const std::string& hf_class) {
  auto ends = [&](const char* s) {
    const std::string suf(s);
    return hf_class.size() >= suf.size() && hf_class.compare(hf_class.size() - suf.size(), suf.size(), suf) == 0;
  };
  if (ends("ForSequenceClassification")) return Task::kSequenceClassification;
  if (ends("ForTokenClassification")) return Task::kTokenClassification;
  if (ends("ForQuestionAnswering")) return Task::kQuestionAnswering;
  if (ends("ForMaskedLM")) return Task::kMaskedLM;
  return Task::kBase;
}

class EncoderParity : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderParity, MatchesPythonOutputs) {
  const std::string dir = hf_fixture(GetParam());
  const auto meta = testing::golden_json(dir);
  const std::string hf_class = meta["hf_class"];
  auto model = load_auto_model(dir, task_of(hf_class));
  EXPECT_EQ(model->class_name(), hf_class);
  EXPECT_EQ(model->num_parameters(), meta["num_parameters"].get<int64_t>());
  const io::StateDict golden = io::load_file(dir + "/golden.safetensors");
  ModelInputs in = ModelInputs::from_tensors(golden);
  in.output_hidden_states = in.output_attentions = true;
  autograd::NoGradGuard no_grad;
  ModelOutput out = model->forward(in);
  std::map<std::string, Tensor> ours;
  for (auto& [n, t] : out.named()) ours[n] = t;
  for (const std::string name : meta["outputs"]) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(ours.count(name)) << "output missing";
    if (name == "loss") EXPECT_TRUE(all_close(ours[name], golden.at(name), 0, 1e-4));
    else EXPECT_TRUE(all_close(ours[name], golden.at(name)));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EncoderParity,
                         ::testing::Values("bert", "bert_seqcls", "bert_tokcls", "bert_qa", "bert_mlm",
                                           "bert_medium", "distilbert_seqcls", "roberta_seqcls",
                                           "xlm_roberta_seqcls"));

TEST(BertTraining, LossGradientsAndSgdStepsMatchPython) {
  const std::string dir = hf_fixture("train_bert_seqcls");
  const auto meta = testing::golden_json(dir);
  auto model = AutoModelForSequenceClassification::from_pretrained(dir);
  model->train();  // the golden ran train() with every dropout probability 0
  model->make_parameters_writable();
  const io::StateDict golden = io::load_file(dir + "/golden.safetensors");
  const io::StateDict grads = io::load_file(dir + "/grads.safetensors");
  const ModelInputs in = ModelInputs::from_tensors(golden);

  ModelOutput out = model->forward(in);
  EXPECT_TRUE(all_close(out.logits, golden.at("logits")));
  EXPECT_TRUE(all_close(out.loss, golden.at("loss"), 0, 1e-4));
  out.loss.backward();
  int checked = 0;
  for (auto& [name, p] : model->named_parameters()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(grads.count(name));
    ASSERT_TRUE(p.grad().defined()) << "no gradient reached " << name;
    EXPECT_TRUE(all_close(p.grad(), grads.at(name), 1e-5, 1e-3));
    ++checked;
  }
  EXPECT_EQ(checked, int(grads.size()));

  // 3 SGD(lr=0.1) steps on the same batch, from the initial weights again.
  model = AutoModelForSequenceClassification::from_pretrained(dir);
  model->train();
  model->make_parameters_writable();
  training::SGD sgd(model->parameters(), 0.1);
  const auto& losses = meta["sgd"]["losses_before_each_step"];
  for (int step = 0; step < 3; ++step) {
    sgd.zero_grad();
    ModelOutput o = model->forward(in);
    EXPECT_NEAR(o.loss.item(), losses[step].get<double>(), 1e-4 * std::abs(losses[step].get<double>()));
    o.loss.backward();
    sgd.step();
  }
  const io::StateDict after = io::load_file(dir + "/" + meta["sgd"]["file"].get<std::string>());
  for (auto& [name, p] : model->named_parameters()) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(all_close(p, after.at(name), 1e-5, 0));
  }
}

TEST(BertLoading, SavePretrainedRoundTripsAndPrefixWorksBothWays) {
  const std::string dir = hf_fixture("bert_seqcls");
  auto model = AutoModelForSequenceClassification::from_pretrained(dir);
  const std::string out = (std::filesystem::temp_directory_path() / "cppformers_bert_save").string();
  std::filesystem::remove_all(out);
  model->save_pretrained(out);
  auto again = AutoModelForSequenceClassification::from_pretrained(out);
  auto a = model->state_dict(), b = again->state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (auto& [n, t] : a) EXPECT_TRUE(all_close(b.at(n), t, 0, 0)) << n;
  EXPECT_EQ(again->config().id2label, model->config().id2label);

  // A head checkpoint into the bare model: the "bert." prefix is stripped, the head is unexpected.
  auto base = AutoModel::from_pretrained(dir);
  EXPECT_EQ(base->class_name(), "BertModel");
  EXPECT_TRUE(all_close(base->state_dict().at("embeddings.word_embeddings.weight"),
                        a.at("bert.embeddings.word_embeddings.weight"), 0, 0));
  // A bare checkpoint into a head model: "bert." is added; the classifier is newly initialised.
  auto head = AutoModelForSequenceClassification::from_pretrained(hf_fixture("bert"), {.num_labels = 4});
  EXPECT_EQ(head->config().num_labels(), 4);
  const auto hs = head->state_dict();
  EXPECT_EQ(hs.at("classifier.weight").shape(), (Shape{4, 32}));
  EXPECT_TRUE(all_close(hs.at("bert.pooler.dense.weight"),
                        io::load_file(hf_fixture("bert") + "/model.safetensors").at("pooler.dense.weight"), 0, 0));
  std::filesystem::remove_all(out);
}

TEST(BertLoading, BadConfigsGetClearErrors) {
  const auto tmp = std::filesystem::temp_directory_path() / "cppformers_bad_config";
  std::filesystem::remove_all(tmp);
  std::filesystem::create_directories(tmp);
  auto write = [&](const std::string& text) {
    std::ofstream(tmp / "config.json") << text;
  };
  auto message = [&](Task t) -> std::string {
    try {
      load_auto_model(tmp.string(), t);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  write(R"({"model_type": "bert", "hidden_size": "768"})");
  EXPECT_NE(message(Task::kBase).find("'hidden_size' should be"), std::string::npos) << message(Task::kBase);
  write(R"({"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4})");
  EXPECT_NE(message(Task::kBase).find("multiple of 'num_attention_heads'"), std::string::npos);
  write(R"({"model_type": "mystery"})");
  EXPECT_NE(message(Task::kBase).find("model_type 'mystery' is not supported (known: bert"), std::string::npos);
  write(R"({"model_type": "bert", "auto_map": {"AutoModel": "modeling_x.XModel"}})");
  EXPECT_NE(message(Task::kBase).find("custom Python code"), std::string::npos);
  write(R"({"model_type": "bert", )");
  EXPECT_NE(message(Task::kBase).find("config.json"), std::string::npos);
  write(R"({"model_type": "bert", "hidden_act": "mish"})");
  EXPECT_NE(message(Task::kBase).find("'hidden_act' 'mish' is not supported"), std::string::npos);
  write(R"({"model_type": "bert", "num_hidden_layers": 1, "hidden_size": 8, "num_attention_heads": 2,
            "intermediate_size": 8, "vocab_size": 10, "max_position_embeddings": 8})");
  EXPECT_NE(message(Task::kBase).find("model.safetensors"), std::string::npos) << message(Task::kBase);
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace cppformers
