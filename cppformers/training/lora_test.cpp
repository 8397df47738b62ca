#include "cppformers/training/lora.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/core/error.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/models/gpt2/modeling.hpp"
#include "cppformers/ops/random.hpp"
#include "cppformers/testing/fixtures.hpp"
#include "cppformers/training/trainer.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path tmp(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("cppformers_lora_" + name);
  fs::remove_all(p);
  return p;
}

std::string bert_dir() { return testing::hf_fixture("bert_seqcls"); }

ModelInputs golden_inputs(const std::string& dir) {
  auto f = io::SafetensorsFile::open(dir + "/golden.safetensors");
  auto has = [&](const char* n) { return std::find(f.names().begin(), f.names().end(), n) != f.names().end(); };
  ModelInputs in;
  in.input_ids = f.get("input_ids");
  in.attention_mask = f.get("attention_mask");
  if (has("token_type_ids")) in.token_type_ids = f.get("token_type_ids");
  if (has("position_ids")) in.position_ids = f.get("position_ids");
  return in;
}

Tensor logits_of(PreTrainedModel& m, const ModelInputs& in) {
  autograd::NoGradGuard no_grad;
  m.eval();
  return m.forward(in).logits.contiguous().clone();
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  const auto x = a.to_vector<float>(), y = b.to_vector<float>();
  double d = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) d = std::max(d, std::fabs(double(x[i]) - double(y[i])));
  return d;
}

LoraConfig seqcls_config() {
  LoraConfig c;
  c.r = 4;
  c.lora_alpha = 8;
  c.lora_dropout = 0.1;
  c.target_modules = {"query", "value"};
  c.task_type = "SEQ_CLS";
  return c;
}

template <class M>
M* module_at(nn::Module& root, const std::string& path) {
  for (auto& [p, m] : root.named_modules())
    if (p == path) return dynamic_cast<M*>(m);
  return nullptr;
}

// A small labelled set of token-id sequences for the 3-class bert_seqcls fixture (vocab 128).
Dataset id_dataset(int n) {
  std::vector<Example> ex;
  for (int i = 0; i < n; ++i) {
    Example e;
    e.label = i % 3;
    const int len = 5 + i % 4;
    e.input_ids.push_back(1);
    for (int k = 1; k < len - 1; ++k) e.input_ids.push_back(4 + (e.label * 37 + k * 11 + i) % 120);
    e.input_ids.push_back(2);
    e.attention_mask.assign(e.input_ids.size(), 1);
    e.token_type_ids.assign(e.input_ids.size(), 0);
    ex.push_back(e);
  }
  return Dataset(ex, {"LABEL_0", "LABEL_1", "LABEL_2"});
}

TrainingArguments quiet_args(const fs::path& out, int64_t steps) {
  TrainingArguments a;
  a.output_dir = out.string();
  a.disable_tqdm = true;
  a.learning_rate = 2e-2;
  a.per_device_train_batch_size = 4;
  a.max_steps = steps;
  a.save_strategy = "no";
  a.logging_steps = 1000;
  return a;
}

// peft 0.13's LoraConfig fields, which adapter_config.json holds (json.dumps(sort_keys=True)).
const std::set<std::string> kPeftConfigKeys = {
    "alpha_pattern", "auto_mapping", "base_model_name_or_path", "bias", "fan_in_fan_out", "inference_mode",
    "init_lora_weights", "layer_replication", "layers_pattern", "layers_to_transform", "loftq_config", "lora_alpha",
    "lora_dropout", "megatron_config", "megatron_core", "modules_to_save", "peft_type", "r", "rank_pattern",
    "revision", "target_modules", "task_type", "use_dora", "use_rslora"};

TEST(Lora, InjectsIntoTargetsAndFreezesTheRest) {
  auto base = AutoModelForSequenceClassification::from_pretrained(bert_dir());
  const ModelInputs in = golden_inputs(bert_dir());
  auto peft = get_peft_model(base, seqcls_config());
  EXPECT_EQ(peft->lora_module_names(),
            (std::vector<std::string>{"bert.encoder.layer.0.attention.self.query", "bert.encoder.layer.0.attention.self.value",
                                      "bert.encoder.layer.1.attention.self.query", "bert.encoder.layer.1.attention.self.value"}));
  EXPECT_EQ(peft->modules_to_save_names(), std::vector<std::string>{"classifier"});
  std::set<std::string> trainable;
  for (auto& [name, p] : peft->named_parameters())
    if (p.requires_grad()) trainable.insert(name);
  std::set<std::string> expected{"base_model.model.classifier.weight", "base_model.model.classifier.bias"};
  for (int l = 0; l < 2; ++l)
    for (const char* m : {"query", "value"})
      for (const char* ab : {"lora_A", "lora_B"})
        expected.insert("base_model.model.bert.encoder.layer." + std::to_string(l) + ".attention.self." + m + "." + ab +
                        ".weight");
  EXPECT_EQ(trainable, expected);
  // 4 layers x (A [4, 32] + B [32, 4]) + classifier [3, 32] + [3].
  EXPECT_EQ(peft->get_nb_trainable_parameters().first, 4 * (4 * 32 + 32 * 4) + 3 * 32 + 3);
  EXPECT_EQ(peft->get_nb_trainable_parameters().second, 24515 + 4 * (4 * 32 + 32 * 4));  // golden.json's count
  // lora_B starts at zero: the model computes exactly what Python's did.
  auto golden = io::SafetensorsFile::open(bert_dir() + "/golden.safetensors");
  EXPECT_TRUE(testing::all_close(logits_of(*peft, in), golden.get("logits")));
  // lora_A is kaiming-uniform(a=sqrt(5)) over fan_in 32: |a| <= 1/sqrt(32).
  auto* q = module_at<nn::Linear>(*base, "bert.encoder.layer.0.attention.self.query");
  ASSERT_NE(q, nullptr);
  auto* lora = dynamic_cast<LoraLayer*>(q->adapter.get());
  ASSERT_NE(lora, nullptr);
  EXPECT_DOUBLE_EQ(lora->scaling, 2.0);
  double amax = 0;
  for (float v : lora->lora_A->weight.to_vector<float>()) amax = std::max(amax, double(std::fabs(v)));
  EXPECT_LE(amax, 1 / std::sqrt(32.0));
  EXPECT_GT(amax, 0.5 / std::sqrt(32.0));
  for (float v : lora->lora_B->weight.to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(Lora, AdaptedLinearComputesBasePlusScaledBA) {
  // An independent double-precision x W^T + b + s (x A^T) B^T against the adapted layer.
  auto base = AutoModelForSequenceClassification::from_pretrained(bert_dir());
  LoraConfig c = seqcls_config();
  c.init_lora_weights = false;  // B random too, so the addition is not zero
  c.use_rslora = true;          // scaling = alpha / sqrt(r) = 4
  auto peft = get_peft_model(base, c);
  auto* v = module_at<nn::Linear>(*base, "bert.encoder.layer.1.attention.self.value");
  ASSERT_NE(v, nullptr);
  auto* lora = dynamic_cast<LoraLayer*>(v->adapter.get());
  ASSERT_NE(lora, nullptr);
  EXPECT_DOUBLE_EQ(lora->scaling, 4.0);
  ops::manual_seed(5);
  const Tensor x = ops::randn({3, 32});
  Tensor y;
  {
    autograd::NoGradGuard no_grad;
    y = v->forward(x);
  }
  const auto X = x.to_vector<float>(), W = v->weight.to_vector<float>(), b = v->bias.to_vector<float>();
  const auto A = lora->lora_A->weight.to_vector<float>(), B = lora->lora_B->weight.to_vector<float>();
  const auto Y = y.to_vector<float>();
  for (int i = 0; i < 3; ++i)
    for (int o = 0; o < 32; ++o) {
      double ref = b[size_t(o)];
      for (int k = 0; k < 32; ++k) ref += double(X[size_t(i * 32 + k)]) * W[size_t(o * 32 + k)];
      double delta = 0;
      for (int r = 0; r < 4; ++r) {
        double xa = 0;
        for (int k = 0; k < 32; ++k) xa += double(X[size_t(i * 32 + k)]) * A[size_t(r * 32 + k)];
        delta += xa * B[size_t(o * 4 + r)];
      }
      ref += 4.0 * delta;
      EXPECT_NEAR(Y[size_t(i * 32 + o)], ref, 1e-5 + 1e-5 * std::fabs(ref)) << i << "," << o;
    }
}

TEST(Lora, TrainSaveReloadMergeAsPeft) {
  const std::string dir = bert_dir();
  const ModelInputs in = golden_inputs(dir);
  const fs::path out = tmp("train");
  const fs::path adapter = out / "adapter";

  // (a) train a few steps: only the adapter and the classifier move.
  auto base = AutoModelForSequenceClassification::from_pretrained(dir);
  auto peft = get_peft_model(base, seqcls_config());
  ops::manual_seed(11);
  Trainer trainer(peft, quiet_args(out, 6), id_dataset(24));
  const TrainOutput r = trainer.train();
  EXPECT_EQ(r.global_step, 6);
  {
    auto ref = io::SafetensorsFile::open(dir + "/model.safetensors");
    for (auto& [name, p] : base->named_parameters()) {
      if (name.find("lora_") != std::string::npos) continue;
      const bool moved = max_abs_diff(p, ref.get(name)) > 0;
      EXPECT_EQ(moved, name.rfind("classifier.", 0) == 0) << name;
    }
  }
  auto* q0 = module_at<nn::Linear>(*base, "bert.encoder.layer.0.attention.self.query");
  const auto* lora_q0 = dynamic_cast<LoraLayer*>(q0->adapter.get());
  double bmax = 0;
  for (float v : lora_q0->lora_B->weight.to_vector<float>()) bmax = std::max(bmax, double(std::fabs(v)));
  EXPECT_GT(bmax, 1e-4);  // the adapter learned something

  const Tensor trained = logits_of(*peft, in);
  trainer.save_model(adapter.string());  // Trainer saves a PeftModel as an adapter, as Python's does

  // (c) the files are peft's: exactly these keys, these config fields.
  EXPECT_TRUE(fs::exists(adapter / "adapter_config.json"));
  EXPECT_TRUE(fs::exists(adapter / "adapter_model.safetensors"));
  EXPECT_FALSE(fs::exists(adapter / "model.safetensors"));
  auto saved = io::SafetensorsFile::open((adapter / "adapter_model.safetensors").string());
  std::set<std::string> keys(saved.names().begin(), saved.names().end());
  std::set<std::string> expected{"base_model.model.classifier.weight", "base_model.model.classifier.bias"};
  for (int l = 0; l < 2; ++l)
    for (const char* m : {"query", "value"}) {
      const std::string p = "base_model.model.bert.encoder.layer." + std::to_string(l) + ".attention.self." + m;
      expected.insert(p + ".lora_A.weight");
      expected.insert(p + ".lora_B.weight");
      EXPECT_EQ(saved.get(p + ".lora_A.weight").shape(), (Shape{4, 32}));
      EXPECT_EQ(saved.get(p + ".lora_B.weight").shape(), (Shape{32, 4}));
      EXPECT_EQ(saved.get(p + ".lora_A.weight").dtype(), kF32);
    }
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(saved.metadata().at("format"), "pt");
  const json cfg = io::read_json_file((adapter / "adapter_config.json").string());
  std::set<std::string> cfg_keys;
  for (auto& [k, v] : cfg.items()) cfg_keys.insert(k);
  EXPECT_EQ(cfg_keys, kPeftConfigKeys);
  EXPECT_EQ(cfg["peft_type"], "LORA");
  EXPECT_EQ(cfg["task_type"], "SEQ_CLS");
  EXPECT_EQ(cfg["r"], 4);
  EXPECT_TRUE(cfg["lora_alpha"].is_number_integer());
  EXPECT_EQ(cfg["lora_alpha"], 8);
  EXPECT_DOUBLE_EQ(cfg["lora_dropout"].get<double>(), 0.1);
  EXPECT_EQ(cfg["target_modules"], json({"query", "value"}));
  EXPECT_EQ(cfg["modules_to_save"], json({"classifier", "score"}));
  EXPECT_EQ(cfg["bias"], "none");
  EXPECT_EQ(cfg["fan_in_fan_out"], false);
  EXPECT_EQ(cfg["inference_mode"], true);
  EXPECT_EQ(cfg["use_dora"], false);
  EXPECT_EQ(cfg["use_rslora"], false);
  EXPECT_TRUE(cfg["auto_mapping"].is_null());
  ASSERT_TRUE(cfg["base_model_name_or_path"].is_string());
  EXPECT_TRUE(fs::equivalent(cfg["base_model_name_or_path"].get<std::string>(), dir));
  EXPECT_EQ(cfg["megatron_core"], "megatron.core");
  EXPECT_EQ(cfg["loftq_config"], json::object());

  // (a) reloaded onto a fresh base, the adapter gives the same logits, up to the order of f32
  // sums: the few-row kernel starts its vector loop at the weights' first 64-byte boundary, and
  // the reloaded base weights are mapped from the file where the trained ones lived on the heap.
  auto fresh = AutoModelForSequenceClassification::from_pretrained(dir);
  auto reloaded = PeftModel::from_pretrained(fresh, adapter.string());
  EXPECT_LT(max_abs_diff(logits_of(*reloaded, in), trained), 1e-5);
  for (const Tensor& p : reloaded->parameters()) EXPECT_FALSE(p.requires_grad());  // not is_trainable

  // The forward, independently: base weights from the fixture file, adapter from the saved
  // file, in double, for the layer-0 query projection.
  {
    auto base_file = io::SafetensorsFile::open(dir + "/model.safetensors");
    const auto W = base_file.get("bert.encoder.layer.0.attention.self.query.weight").to_vector<float>();
    const auto b = base_file.get("bert.encoder.layer.0.attention.self.query.bias").to_vector<float>();
    const auto A = saved.get("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight").to_vector<float>();
    const auto B = saved.get("base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight").to_vector<float>();
    auto* q = module_at<nn::Linear>(*fresh, "bert.encoder.layer.0.attention.self.query");
    ops::manual_seed(2);
    const Tensor x = ops::randn({2, 32});
    Tensor y;
    {
      autograd::NoGradGuard no_grad;
      y = q->forward(x);
    }
    const auto X = x.to_vector<float>(), Y = y.to_vector<float>();
    for (int i = 0; i < 2; ++i)
      for (int o = 0; o < 32; ++o) {
        double ref = b[size_t(o)];
        for (int k = 0; k < 32; ++k) ref += double(X[size_t(i * 32 + k)]) * W[size_t(o * 32 + k)];
        for (int rr = 0; rr < 4; ++rr) {
          double xa = 0;
          for (int k = 0; k < 32; ++k) xa += double(X[size_t(i * 32 + k)]) * A[size_t(rr * 32 + k)];
          ref += 2.0 * xa * B[size_t(o * 4 + rr)];  // scaling = 8 / 4
        }
        EXPECT_NEAR(Y[size_t(i * 32 + o)], ref, 1e-5 + 1e-5 * std::fabs(ref));
      }
  }

  // (b) merged, the same logits; the merged weight is W + s B A of the saved tensors.
  auto merged = reloaded->merge_and_unload();
  EXPECT_LE(max_abs_diff(logits_of(*merged, in), trained), 1e-5);
  for (auto& [name, p] : merged->named_parameters()) EXPECT_EQ(name.find("lora_"), std::string::npos) << name;
  {
    auto base_file = io::SafetensorsFile::open(dir + "/model.safetensors");
    const auto W = base_file.get("bert.encoder.layer.1.attention.self.value.weight").to_vector<float>();
    const auto A = saved.get("base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight").to_vector<float>();
    const auto B = saved.get("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight").to_vector<float>();
    const auto M = merged->state_dict().at("bert.encoder.layer.1.attention.self.value.weight").to_vector<float>();
    for (int o = 0; o < 32; ++o)
      for (int k = 0; k < 32; ++k) {
        double ref = W[size_t(o * 32 + k)];
        for (int rr = 0; rr < 4; ++rr) ref += 2.0 * double(B[size_t(o * 4 + rr)]) * A[size_t(rr * 32 + k)];
        EXPECT_NEAR(M[size_t(o * 32 + k)], ref, 1e-6);
      }
    EXPECT_EQ(max_abs_diff(merged->state_dict().at("classifier.weight"), saved.get("base_model.model.classifier.weight")), 0.0);
  }
  EXPECT_THROW(reloaded->forward(in), ValueError);  // spent by merge_and_unload

  // The merged model saves as a plain checkpoint that loads without peft.
  merged->save_pretrained((out / "merged").string());
  auto plain = AutoModelForSequenceClassification::from_pretrained((out / "merged").string());
  EXPECT_LE(max_abs_diff(logits_of(*plain, in), trained), 1e-5);
  auto merged_file = io::SafetensorsFile::open((out / "merged" / "model.safetensors").string());
  for (const auto& n : merged_file.names()) EXPECT_EQ(n.find("lora_"), std::string::npos) << n;
}

TEST(Lora, TrainerCheckpointsHoldTheAdapterAndResumeBitIdentically) {
  const std::string dir = bert_dir();
  auto run = [&](const fs::path& out, const std::string& resume) {
    auto peft = get_peft_model(AutoModelForSequenceClassification::from_pretrained(dir), seqcls_config());
    TrainingArguments a = quiet_args(out, 6);
    a.save_strategy = "steps";
    a.save_steps = 3;
    Trainer t(peft, a, id_dataset(20));
    t.train(resume);
    return peft->get_peft_model_state_dict();
  };
  const fs::path full = tmp("resume_full"), part = tmp("resume_part");
  ops::manual_seed(1);
  const io::StateDict uninterrupted = run(full, "");
  const fs::path ckpt = full / "checkpoint-3";
  EXPECT_TRUE(fs::exists(ckpt / "adapter_config.json"));
  EXPECT_TRUE(fs::exists(ckpt / "adapter_model.safetensors"));
  EXPECT_TRUE(fs::exists(ckpt / "optimizer.safetensors"));
  EXPECT_FALSE(fs::exists(ckpt / "model.safetensors"));
  // Resume from the uninterrupted run's checkpoint-3 in another output dir.
  fs::create_directories(part);
  fs::copy(ckpt, part / "checkpoint-3", fs::copy_options::recursive);
  const io::StateDict resumed = run(part, (part / "checkpoint-3").string());
  ASSERT_EQ(resumed.size(), uninterrupted.size());
  for (auto& [name, t] : uninterrupted) EXPECT_EQ(max_abs_diff(resumed.at(name), t), 0.0) << name;
}

TEST(Lora, Gpt2Conv1DIsFanInFanOutAndMergesTransposed) {
  const std::string dir = testing::hf_fixture("gpt2");
  const ModelInputs in = golden_inputs(dir);
  auto base = AutoModelForCausalLM::from_pretrained(dir);
  LoraConfig c;  // target_modules empty: peft's default for gpt2, c_attn
  c.r = 2;
  c.lora_alpha = 3;
  c.task_type = "CAUSAL_LM";
  c.init_lora_weights = false;  // a non-zero B, so that the merge is visible
  auto peft = get_peft_model(base, c);
  EXPECT_EQ(peft->peft_config().target_modules, std::vector<std::string>{"c_attn"});
  EXPECT_TRUE(peft->peft_config().fan_in_fan_out);
  EXPECT_EQ(peft->lora_module_names(), (std::vector<std::string>{"transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn"}));
  auto* conv = module_at<Conv1D>(*base, "transformer.h.0.attn.c_attn");
  ASSERT_NE(conv, nullptr);
  auto* lora = dynamic_cast<LoraLayer*>(conv->adapter.get());
  ASSERT_NE(lora, nullptr);
  EXPECT_EQ(lora->lora_A->weight.shape(), (Shape{2, 32}));
  EXPECT_EQ(lora->lora_B->weight.shape(), (Shape{96, 2}));

  const fs::path out = tmp("gpt2");
  peft->save_pretrained(out.string());
  const json cfg = io::read_json_file((out / "adapter_config.json").string());
  EXPECT_EQ(cfg["fan_in_fan_out"], true);
  EXPECT_EQ(cfg["target_modules"], json({"c_attn"}));
  auto saved = io::SafetensorsFile::open((out / "adapter_model.safetensors").string());
  EXPECT_EQ(saved.names(), (std::vector<std::string>{"base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
                                                     "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
                                                     "base_model.model.transformer.h.1.attn.c_attn.lora_A.weight",
                                                     "base_model.model.transformer.h.1.attn.c_attn.lora_B.weight"}));

  const Tensor unmerged = logits_of(*peft, in);
  const Tensor W0 = conv->weight.detach().clone();  // [in 32, out 96]
  const auto A = lora->lora_A->weight.to_vector<float>(), B = lora->lora_B->weight.to_vector<float>();
  auto merged = peft->merge_and_unload();
  EXPECT_LE(max_abs_diff(logits_of(*merged, in), unmerged), 1e-5);
  const auto M = conv->weight.to_vector<float>(), W = W0.to_vector<float>();
  for (int i = 0; i < 32; ++i)
    for (int o = 0; o < 96; ++o) {
      double ref = W[size_t(i * 96 + o)];
      for (int rr = 0; rr < 2; ++rr) ref += 1.5 * double(B[size_t(o * 2 + rr)]) * A[size_t(rr * 32 + i)];
      EXPECT_NEAR(M[size_t(i * 96 + o)], ref, 1e-6);
    }
  EXPECT_EQ(conv->adapter, nullptr);
}

TEST(Lora, ConfigJsonRoundTripAndSpec) {
  LoraConfig c = LoraConfig::parse_spec("r=8,alpha=16,dropout=0.1,targets=query,value");
  EXPECT_EQ(c.r, 8);
  EXPECT_DOUBLE_EQ(c.lora_alpha, 16);
  EXPECT_DOUBLE_EQ(c.lora_dropout, 0.1);
  EXPECT_EQ(c.target_modules, (std::vector<std::string>{"query", "value"}));
  c = LoraConfig::parse_spec("targets=q_proj,k_proj,v_proj,r=16,save=classifier,rslora");
  EXPECT_EQ(c.target_modules, (std::vector<std::string>{"q_proj", "k_proj", "v_proj"}));
  EXPECT_EQ(c.r, 16);
  ASSERT_TRUE(c.modules_to_save);
  EXPECT_EQ(*c.modules_to_save, std::vector<std::string>{"classifier"});
  EXPECT_TRUE(c.use_rslora);
  EXPECT_EQ(LoraConfig::parse_spec("targets=all-linear").target_modules_regex, "all-linear");
  EXPECT_THROW(LoraConfig::parse_spec("r=0"), ValueError);
  EXPECT_THROW(LoraConfig::parse_spec("rank=8"), ValueError);
  EXPECT_THROW(LoraConfig::parse_spec("dropout=1.5"), ValueError);
  EXPECT_THROW(LoraConfig::parse_spec("query"), ValueError);

  LoraConfig d;
  d.r = 16;
  d.lora_alpha = 32;
  d.target_modules = {"q_proj", "v_proj"};
  d.task_type = "CAUSAL_LM";
  d.rank_pattern = {{"q_proj", 4}};
  const json j = d.to_json();
  std::set<std::string> keys;
  for (auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, kPeftConfigKeys);
  const LoraConfig back = LoraConfig::from_json(j);
  EXPECT_EQ(back.r, 16);
  EXPECT_EQ(back.target_modules, d.target_modules);
  EXPECT_EQ(back.rank_pattern.at("q_proj"), 4);
  EXPECT_EQ(back.task_type, "CAUSAL_LM");

  // What newer peft versions write loads too; what changes the computation is refused.
  json newer = j;
  newer["lora_bias"] = false;
  newer["exclude_modules"] = nullptr;
  newer["peft_version"] = "0.17.0";
  EXPECT_NO_THROW(LoraConfig::from_json(newer));
  json dora = j;
  dora["use_dora"] = true;
  EXPECT_THROW(LoraConfig::from_json(dora), NotSupportedError);
  json all_bias = j;
  all_bias["bias"] = "all";
  EXPECT_THROW(LoraConfig::from_json(all_bias), NotSupportedError);
  json regex = j;
  regex["target_modules"] = ".*\\.(query|value)";
  EXPECT_EQ(LoraConfig::from_json(regex).target_modules_regex, ".*\\.(query|value)");
}

TEST(Lora, TargetSelectionAsPeft) {
  // A regular expression must match the whole path.
  {
    LoraConfig c;
    c.target_modules_regex = ".*layer\\.1\\.attention\\.self\\.(query|key)";
    auto peft = get_peft_model(AutoModelForSequenceClassification::from_pretrained(bert_dir()), c);
    EXPECT_EQ(peft->lora_module_names(), (std::vector<std::string>{"bert.encoder.layer.1.attention.self.query",
                                                                    "bert.encoder.layer.1.attention.self.key"}));
    EXPECT_TRUE(peft->modules_to_save_names().empty());  // no task type: no head to save
  }
  // rank_pattern applies per module; "all-linear" skips the SEQ_CLS head.
  {
    LoraConfig c;
    c.target_modules_regex = "all-linear";
    c.task_type = "SEQ_CLS";
    c.rank_pattern = {{"dense", 2}};
    auto base = AutoModelForSequenceClassification::from_pretrained(bert_dir());
    auto peft = get_peft_model(base, c);
    const auto names = peft->lora_module_names();
    EXPECT_EQ(std::count(names.begin(), names.end(), "classifier"), 0);
    EXPECT_EQ(std::count(names.begin(), names.end(), "bert.pooler.dense"), 1);
    EXPECT_EQ(std::count(names.begin(), names.end(), "bert.encoder.layer.0.intermediate.dense"), 1);
    auto* d = module_at<nn::Linear>(*base, "bert.encoder.layer.0.output.dense");
    auto* q = module_at<nn::Linear>(*base, "bert.encoder.layer.0.attention.self.query");
    EXPECT_EQ(dynamic_cast<LoraLayer*>(d->adapter.get())->r, 2);
    EXPECT_EQ(dynamic_cast<LoraLayer*>(q->adapter.get())->r, 8);
  }
  LoraConfig missing;
  missing.target_modules = {"nothing_here"};
  EXPECT_THROW(get_peft_model(AutoModelForSequenceClassification::from_pretrained(bert_dir()), missing), ValueError);
  LoraConfig not_linear;
  not_linear.target_modules = {"LayerNorm"};
  EXPECT_THROW(get_peft_model(AutoModelForSequenceClassification::from_pretrained(bert_dir()), not_linear),
               NotSupportedError);
}

TEST(Lora, UnloadRestoresThePlainModel) {
  auto base = AutoModelForSequenceClassification::from_pretrained(bert_dir());
  const ModelInputs in = golden_inputs(bert_dir());
  LoraConfig c = seqcls_config();
  c.init_lora_weights = false;
  auto peft = get_peft_model(base, c);
  const Tensor before = logits_of(*base, in);
  auto plain = peft->unload();
  auto golden = io::SafetensorsFile::open(bert_dir() + "/golden.safetensors");
  EXPECT_TRUE(testing::all_close(logits_of(*plain, in), golden.get("logits")));
  EXPECT_GT(max_abs_diff(before, golden.get("logits")), 1e-4);  // the adapter did change the output
  for (auto& [name, p] : plain->named_parameters()) {
    EXPECT_TRUE(p.requires_grad()) << name;  // as loaded, before get_peft_model
    EXPECT_EQ(name.find("lora_"), std::string::npos);
  }
}

TEST(Lora, NotTrainableAdapterRefusesToTrain) {
  const fs::path out = tmp("frozen");
  auto peft = get_peft_model(AutoModelForSequenceClassification::from_pretrained(bert_dir()), seqcls_config());
  peft->save_pretrained((out / "adapter").string());
  auto frozen = PeftModel::from_pretrained(AutoModelForSequenceClassification::from_pretrained(bert_dir()),
                                           (out / "adapter").string());
  Trainer t(frozen, quiet_args(out, 2), id_dataset(8));
  EXPECT_THROW(t.train(), ValueError);
  auto trainable = PeftModel::from_pretrained(AutoModelForSequenceClassification::from_pretrained(bert_dir()),
                                              (out / "adapter").string(), /*is_trainable=*/true);
  EXPECT_EQ(trainable->get_nb_trainable_parameters().first, peft->get_nb_trainable_parameters().first);
  EXPECT_THROW(PeftModel::from_pretrained(AutoModelForSequenceClassification::from_pretrained(bert_dir()),
                                          (out / "nowhere").string()),
               IOError);
}

}  // namespace
}  // namespace cppformers
