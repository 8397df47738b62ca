// cppformers train --model DIR_OR_ID --train FILE [--eval FILE] [--args args.json]
//                  [--text-column C] [--text-pair-column C] [--label-column C] [--output-dir D]
// Fine-tunes a sequence classifier (Python's run_glue-style script as one command): reads the
// data (CSV / TSV / JSON lines; string labels become ids in sorted order, the eval file uses the
// train file's labels), tokenizes with the model folder's tokenizer, trains with Trainer and
// TrainingArguments (from --args, a JSON file with Python's keys), and saves a folder that
// Python's AutoModelForSequenceClassification loads (config with id2label/label2id, the
// tokenizer files) in the output dir. Prints the final metrics as one JSON object.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/io/hub.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"
#include "cppformers/tools/cli/command.hpp"
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
};

int run_train(const TrainArgs& a) {
  namespace fs = std::filesystem;
  const std::string dir = fs::is_directory(a.model) ? a.model : io::resolve_model(a.model);
  TrainingArguments args;
  if (!a.args.empty()) args = TrainingArguments::from_json_file(a.args);
  if (!a.output_dir.empty()) args.output_dir = a.output_dir;
  args.finalize();

  DataFileOptions fo;
  fo.text_column = a.text_column;
  fo.text_pair_column = a.text_pair_column;
  fo.label_column = a.label_column;
  Dataset train = Dataset::from_file(a.train, fo);
  Dataset eval;
  if (!a.eval.empty()) {
    fo.label_names = train.label_names();
    eval = Dataset::from_file(a.eval, fo);
  } else if (a.validation_split > 0) {
    auto split = train.train_test_split(a.validation_split, uint64_t(args.seed), /*stratify=*/true);
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

  const AutoTokenizer tok = AutoTokenizer::from_pretrained(dir);
  tokenizers::CallOptions co;
  co.truncation = true;
  if (a.max_length > 0) co.max_length = size_t(a.max_length);
  else if (tok.model_max_length > 100000) co.max_length = 512;
  train.tokenize(tok, co);
  if (!eval.empty()) eval.tokenize(tok, co);

  FromPretrainedOptions mo;
  mo.id2label = train.id2label();
  auto model = AutoModelForSequenceClassification::from_pretrained(dir, mo);
  auto& cfg = model->mutable_config();
  cfg.label2id.clear();
  for (auto& [id, name] : cfg.id2label) cfg.label2id[name] = id;

  model = apply_lora(model, a.extras, a.model);
  Trainer trainer(model, args, train, eval, DataCollatorWithPadding(tok), classification_metrics("macro"));
  trainer.set_tokenizer_dir(dir);
  TrainOutput out = trainer.train(a.resume);
  const Metrics calibration = calibrate_after_training(trainer, eval, a.extras);
  trainer.save_model();
  Metrics m = out.metrics;
  if (!eval.empty())
    for (auto& [k, v] : trainer.evaluate()) m[k] = v;
  m.insert(calibration.begin(), calibration.end());
  merge_after_training(trainer, a.extras, dir, args.output_dir);
  if (!training::distributed::is_main_process()) return 0;  // under mpirun: process 0 reports
  std::cout << nlohmann::json(m).dump() << std::endl;
  std::fprintf(stderr, "saved to %s\n", args.output_dir.c_str());
  return 0;
}

CommandRegistration reg{{"train", "Fine-tune a sequence classifier on a CSV / TSV / JSON-lines file",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<TrainArgs>();
                           app.add_option("--model", a->model, "model folder or Hub id (with its tokenizer)")->required();
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
