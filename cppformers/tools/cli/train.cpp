// cppformers train --model DIR_OR_ID --train FILE [--eval FILE] [--args args.json]
//                  [--text-column C] [--text-pair-column C] [--label-column C] [--output-dir D]
//                  [--task seq-cls|mlm|causal-lm] [--from-scratch CONFIG --tokenizer DIR]
//                  [--block-size N | --line-by-line] [--mlm-probability P]
// Fine-tunes a sequence classifier (Python's run_glue-style script as one command): reads the
// data (CSV / TSV / JSON lines; string labels become ids in sorted order, the eval file uses the
// train file's labels), tokenizes with the model folder's tokenizer, trains with Trainer and
// TrainingArguments (from --args, a JSON file with Python's keys), and saves a folder that
// Python's AutoModelForSequenceClassification loads (config with id2label/label2id, the
// tokenizer files) in the output dir. Prints the final metrics as one JSON object.
//
// --task mlm / causal-lm: language-model training as run_mlm.py / run_clm.py (texts only, no
// labels): the texts are tokenized and grouped into blocks of --block-size tokens (default
// --max-length, else 128; causal LM puts the eos token after each text) or, with
// --line-by-line, one truncated example per text; DataCollatorForLanguageModeling masks
// (--mlm-probability, default 0.15) or shifts. Metrics add perplexity = exp(eval_loss).
// --from-scratch CONFIG: a randomly initialised model of that config.json (AutoModelFor*
// .from_config) instead of --model's weights, with the tokenizer of --tokenizer. The global seed
// is set to the arguments' seed before the model is built, so that runs repeat.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/io/hub.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/ops/random.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"
#include "cppformers/tools/cli/command.hpp"
#include "cppformers/training/data/group_texts.hpp"
#include "cppformers/tools/cli/train_extras.hpp"
#include "cppformers/training/distributed.hpp"
#include "cppformers/training/trainer.hpp"

namespace cppformers::cli {
namespace {

struct TrainArgs {
  std::string model, train, eval, args, output_dir, resume;
  std::string text_column = "text", text_pair_column, label_column = "label";
  int64_t max_length = 0;
  double validation_split = 0;
  TrainExtras extras;  // --lora, --merge, --calibrate (train_extras.hpp)
  std::string task = "seq-cls", from_scratch, tokenizer;
  int64_t block_size = 0;
  bool line_by_line = false;
  double mlm_probability = 0.15;
};

// A random model of config_file for `task` (Python's from_config); seq-cls gets the labels.
std::shared_ptr<PreTrainedModel> model_from_scratch(const TrainArgs& a, Task task, const std::map<int64_t, std::string>& id2label) {
  namespace fs = std::filesystem;
  if (task != Task::kSequenceClassification) return model_from_config(a.from_scratch, task);
  nlohmann::json cfg = io::read_json_file(a.from_scratch);
  nlohmann::json i2l = nlohmann::json::object(), l2i = nlohmann::json::object();
  for (const auto& [id, name] : id2label) {
    i2l[std::to_string(id)] = name;
    l2i[name] = id;
  }
  cfg["id2label"] = i2l;
  cfg["label2id"] = l2i;
  const fs::path tmp = fs::temp_directory_path() / ("cppformers_from_scratch_" + std::to_string(::getpid()) + ".json");
  { std::ofstream(tmp) << cfg.dump(2); }
  std::shared_ptr<PreTrainedModel> m;
  try {
    m = model_from_config(tmp.string(), task);
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  fs::remove(tmp);
  return m;
}

int run_train(const TrainArgs& a) {
  namespace fs = std::filesystem;
  const bool lm = a.task == "mlm" || a.task == "causal-lm";
  if (!lm && a.task != "seq-cls") throw ValueError("--task: expected seq-cls, mlm or causal-lm, got '" + a.task + "'");
  if (a.model.empty() == a.from_scratch.empty())
    throw ValueError("give either --model (pretrained weights) or --from-scratch CONFIG");
  const std::string dir = a.model.empty() ? "" : fs::is_directory(a.model) ? a.model : io::resolve_model(a.model);
  const std::string tok_dir = !a.tokenizer.empty() ? a.tokenizer : dir;
  if (tok_dir.empty()) throw ValueError("--from-scratch needs --tokenizer DIR");
  TrainingArguments args;
  if (!a.args.empty()) args = TrainingArguments::from_json_file(a.args);
  if (!a.output_dir.empty()) args.output_dir = a.output_dir;
  args.finalize();

  DataFileOptions fo;
  fo.text_column = a.text_column;
  fo.text_pair_column = a.text_pair_column;
  fo.label_column = lm ? "" : a.label_column;
  fo.labels_required = !lm;
  Dataset train = Dataset::from_file(a.train, fo);
  Dataset eval;
  if (!a.eval.empty()) {
    fo.label_names = train.label_names();
    eval = Dataset::from_file(a.eval, fo);
  } else if (a.validation_split > 0) {
    auto split = train.train_test_split(a.validation_split, uint64_t(args.seed), /*stratify=*/!lm);
    train = std::move(split.train);
    eval = std::move(split.test);
  }
  if (eval.empty() && args.eval_strategy != "no") {
    std::fprintf(stderr, "cppformers train: no --eval data, so eval_strategy '%s' is turned off\n",
                 args.eval_strategy.c_str());
    args.eval_strategy = "no";
    args.load_best_model_at_end = false;
  }
  check_train_extras(a.extras, !eval.empty());

  const AutoTokenizer tok = AutoTokenizer::from_pretrained(tok_dir);
  tokenizers::CallOptions co;
  co.truncation = true;
  if (a.max_length > 0) co.max_length = size_t(a.max_length);
  else if (tok.model_max_length > 100000) co.max_length = 512;
  const size_t block = a.block_size > 0 ? size_t(a.block_size) : a.max_length > 0 ? size_t(a.max_length) : 128;
  if (lm && a.line_by_line) co.max_length = block;
  if (lm && !a.line_by_line) co.truncation = false;  // whole texts, then blocks
  train.tokenize(tok, co);
  if (!eval.empty()) eval.tokenize(tok, co);
  if (lm && !a.line_by_line) {
    std::optional<int64_t> sep;
    if (a.task == "causal-lm" && tok.eos_token) sep = tok.token_to_id(*tok.eos_token);
    train = group_texts(train, block, sep);
    if (!eval.empty()) eval = group_texts(eval, block, sep);
    if (train.empty()) throw ValueError("--train: fewer tokens than one block of " + std::to_string(block));
  }

  ops::manual_seed(uint64_t(args.seed));
  const Task task = a.task == "mlm" ? Task::kMaskedLM : a.task == "causal-lm" ? Task::kCausalLM : Task::kSequenceClassification;
  std::shared_ptr<PreTrainedModel> model;
  if (!a.from_scratch.empty()) {
    model = model_from_scratch(a, task, train.id2label());
  } else if (lm) {
    model = load_auto_model(dir, task);
  } else {
    FromPretrainedOptions mo;
    mo.id2label = train.id2label();
    model = AutoModelForSequenceClassification::from_pretrained(dir, mo);
  }
  if (!lm) {
    auto& cfg = model->mutable_config();
    cfg.label2id.clear();
    for (auto& [id, name] : cfg.id2label) cfg.label2id[name] = id;
  }

  DataCollator collator = lm ? DataCollator(DataCollatorForLanguageModeling(tok, a.task == "mlm", a.mlm_probability))
                             : DataCollator(DataCollatorWithPadding(tok));
  model = apply_lora(model, a.extras, a.model);
  Trainer trainer(model, args, train, eval, collator, lm ? nullptr : classification_metrics("macro"));
  trainer.set_tokenizer_dir(tok_dir);
  TrainOutput out = trainer.train(a.resume);
  const Metrics calibration = calibrate_after_training(trainer, eval, a.extras);
  trainer.save_model();
  Metrics m = out.metrics;
  if (!eval.empty())
    for (auto& [k, v] : trainer.evaluate()) m[k] = v;
  m.insert(calibration.begin(), calibration.end());
  merge_after_training(trainer, a.extras, tok_dir, args.output_dir);
  if (lm && m.count("eval_loss")) m["eval_perplexity"] = std::exp(m["eval_loss"]);
  if (!training::distributed::is_main_process()) return 0;  // under mpirun: process 0 reports
  std::cout << nlohmann::json(m).dump() << std::endl;
  std::fprintf(stderr, "saved to %s\n", args.output_dir.c_str());
  return 0;
}

CommandRegistration reg{{"train", "Train a sequence classifier or a (masked / causal) language model on a data file",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<TrainArgs>();
                           app.add_option("--model", a->model, "model folder or Hub id (with its tokenizer)");
                           app.add_option("--task", a->task, "seq-cls (default), mlm or causal-lm");
                           app.add_option("--from-scratch", a->from_scratch,
                                          "config.json of a randomly initialised model to train instead of --model");
                           app.add_option("--tokenizer", a->tokenizer, "tokenizer folder (default: --model's)");
                           app.add_option("--block-size", a->block_size, "mlm / causal-lm: tokens per block (default 128)");
                           app.add_flag("--line-by-line", a->line_by_line, "mlm / causal-lm: one example per text, no grouping");
                           app.add_option("--mlm-probability", a->mlm_probability, "mlm: share of tokens masked (0.15)");
                           app.add_option("--train", a->train, "training data (.csv, .tsv, .jsonl)")->required();
                           app.add_option("--eval", a->eval, "evaluation data (same columns)");
                           app.add_option("--args", a->args, "TrainingArguments as JSON (Python's keys)");
                           app.add_option("--output-dir", a->output_dir, "where to save (overrides output_dir)");
                           app.add_option("--text-column", a->text_column, "text column (default: text)");
                           app.add_option("--text-pair-column", a->text_pair_column, "second text column for pairs");
                           app.add_option("--label-column", a->label_column, "label column (default: label)");
                           app.add_option("--max-length", a->max_length, "truncate inputs to this many tokens");
                           app.add_option("--validation-split", a->validation_split,
                                          "hold out this fraction of --train (stratified) when there is no --eval");
                           app.add_option("--resume-from-checkpoint", a->resume,
                                          "a checkpoint folder, or 'last' for the newest in the output dir");
                           add_train_extra_options(app, a->extras);
                           return [a] { return run_train(*a); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
