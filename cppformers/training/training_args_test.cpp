#include "cppformers/training/training_args.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cppformers/core/error.hpp"

namespace cppformers {
namespace {

std::string error_of(const nlohmann::json& j) {
  try {
    TrainingArguments::from_json(j, "args.json");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainingArguments, PythonDefaults) {
  TrainingArguments a;
  EXPECT_EQ(a.learning_rate, 5e-5);
  EXPECT_EQ(a.per_device_train_batch_size, 8);
  EXPECT_EQ(a.per_device_eval_batch_size, 8);
  EXPECT_EQ(a.num_train_epochs, 3.0);
  EXPECT_EQ(a.max_steps, -1);
  EXPECT_EQ(a.gradient_accumulation_steps, 1);
  EXPECT_EQ(a.weight_decay, 0.0);
  EXPECT_EQ(a.lr_scheduler_type, "linear");
  EXPECT_EQ(a.max_grad_norm, 1.0);
  EXPECT_EQ(a.eval_strategy, "no");
  EXPECT_EQ(a.save_strategy, "steps");
  EXPECT_EQ(a.save_steps, 500);
  EXPECT_EQ(a.logging_steps, 500);
  EXPECT_EQ(a.seed, 42);
  EXPECT_FALSE(a.bf16);
  EXPECT_EQ(a.adam_epsilon, 1e-8);
  EXPECT_EQ(a.get_warmup_steps(100), 0);
  a.warmup_ratio = 0.06;
  EXPECT_EQ(a.get_warmup_steps(100), 6);
  EXPECT_EQ(a.get_warmup_steps(101), 7);  // ceil
  a.warmup_steps = 3;
  EXPECT_EQ(a.get_warmup_steps(100), 3);
}

TEST(TrainingArguments, LoadsAJsonFile) {
  const auto path = std::filesystem::temp_directory_path() / "cppformers_args.json";
  std::ofstream(path) << R"({"output_dir": "out", "learning_rate": 2e-5, "num_train_epochs": 2,
    "per_device_train_batch_size": 16, "evaluation_strategy": "epoch", "save_strategy": "epoch",
    "load_best_model_at_end": true, "metric_for_best_model": "f1", "save_total_limit": 2,
    "report_to": "jsonl", "warmup_ratio": 0.1, "lr_scheduler_type": "cosine", "fp16": false})";
  const TrainingArguments a = TrainingArguments::from_json_file(path.string());
  EXPECT_EQ(a.output_dir, "out");
  EXPECT_EQ(a.learning_rate, 2e-5);
  EXPECT_EQ(a.num_train_epochs, 2.0);
  EXPECT_EQ(a.per_device_train_batch_size, 16);
  EXPECT_EQ(a.eval_strategy, "epoch");
  EXPECT_TRUE(a.load_best_model_at_end);
  EXPECT_EQ(*a.metric_for_best_model, "f1");
  EXPECT_TRUE(*a.greater_is_better);
  EXPECT_EQ(*a.save_total_limit, 2);
  EXPECT_TRUE(a.report_jsonl());
  EXPECT_EQ(a.lr_scheduler_type, "cosine");
  // round trip
  const TrainingArguments b = TrainingArguments::from_json(a.to_json(), "again");
  EXPECT_EQ(b.to_json(), a.to_json());
  std::filesystem::remove(path);
}

TEST(TrainingArguments, DerivedDefaults) {
  auto a = TrainingArguments::from_json({{"eval_strategy", "steps"}, {"logging_steps", 10},
                                         {"save_steps", 20}, {"load_best_model_at_end", true}}, "args.json");
  EXPECT_EQ(*a.eval_steps, 10);
  EXPECT_EQ(*a.metric_for_best_model, "loss");
  EXPECT_FALSE(*a.greater_is_better);
}

TEST(TrainingArguments, ErrorsNameTheKey) {
  EXPECT_NE(error_of({{"learning_rate", "fast"}}).find("'learning_rate'"), std::string::npos);
  EXPECT_NE(error_of({{"per_device_train_batch_size", 2.5}}).find("'per_device_train_batch_size'"), std::string::npos);
  EXPECT_NE(error_of({{"per_device_train_batch_size", 0}}).find("'per_device_train_batch_size'"), std::string::npos);
  EXPECT_NE(error_of({{"eval_strategy", "sometimes"}}).find("'eval_strategy'"), std::string::npos);
  EXPECT_NE(error_of({{"lr_scheduler_type", "zigzag"}}).find("'lr_scheduler_type'"), std::string::npos);
  EXPECT_NE(error_of({{"learning_rte", 1e-3}}).find("unknown training argument 'learning_rte'"), std::string::npos);
  EXPECT_NE(error_of({{"load_best_model_at_end", true}}).find("'load_best_model_at_end'"), std::string::npos);
  EXPECT_NE(error_of({{"load_best_model_at_end", true}, {"eval_strategy", "epoch"}}).find("save and eval"),
            std::string::npos);
  EXPECT_NE(error_of({{"report_to", "wandb"}}).find("'report_to'"), std::string::npos);
  EXPECT_NE(error_of(nlohmann::json::array()).find("object"), std::string::npos);
  EXPECT_EQ(error_of({{"gradient_checkpointing", false}}), "");  // Python's, ignored with a warning
  EXPECT_THROW(TrainingArguments::from_json_file("/nonexistent/args.json"), IOError);
}

}  // namespace
}  // namespace cppformers
