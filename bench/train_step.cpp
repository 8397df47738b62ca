// bench_train_step: one fine-tuning step of a BERT-base-shaped sequence classifier (f32) —
// forward (with the cross-entropy loss), backward, AdamW — timed per phase.
//
//   bench_train_step [--dir DIR] [--iters N] [--warmup W] [--threads T] [--batch B] [--seq S]
//                    [--seed N] [--no-peak] [--bf16]
//
// --bf16: forward (and so backward) under ops::AutocastGuard, as Trainer runs with bf16=true;
// the results go to DIR/cppformers_bf16_train_results.json.
//
// Builds BertForSequenceClassification (hidden 768, 12 layers, 12 heads, intermediate 3072,
// vocab 30522, 2 labels; dropout 0 so that the peer computes the very same loss), initialises
// it as HF's _init_weights does with a fixed seed, saves it to DIR and loads it back through
// AutoModelForSequenceClassification, so that the PyTorch peer (bench/peers/torch_train_step.py)
// trains the same weights on the same DIR/train_inputs.safetensors (random ids, all-ones mask,
// random labels). The optimizer is AdamW as Trainer builds it (lr 5e-5, weight decay 0.01 on all
// but biases and LayerNorm weights). Every iteration trains on the same batch:
//   forward    model->forward(inputs) -> loss
//   backward   loss.backward()
//   optimizer  AdamW step + zero_grad (gradients dropped, as set_to_none)
// Writes DIR/cppformers_train_results.json (per-phase times, the loss of the first and the last
// step) and DIR/peak.json; bench/run_train_step.sh runs the peer and prints the ratios.
// FLOPs counted for a step: 3x the forward's (2 * Linear weights * tokens + attention matmuls
// + pooler), the backward taking two GEMMs per forward GEMM.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/core/threads.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/models/bert/modeling.hpp"
#include "cppformers/ops/autocast.hpp"
#include "cppformers/ops/random.hpp"
#include "cppformers/training/optim/adamw.hpp"
#include "cppformers/training/trainer.hpp"
#include "peak.hpp"
#include "stats.hpp"

namespace cf = cppformers;
using bench::now_s;

namespace {

struct Args {
  std::string dir;
  int iters = 5, warmup = 1, threads = 2, batch = 8, seq = 128;
  uint64_t seed = 0;
  bool peak = true;
  bool bf16 = false;  // bf16 autocast of the products (Trainer's bf16=true)
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--dir") a.dir = val();
    else if (k == "--iters") a.iters = std::stoi(val());
    else if (k == "--warmup") a.warmup = std::stoi(val());
    else if (k == "--threads") a.threads = std::stoi(val());
    else if (k == "--batch") a.batch = std::stoi(val());
    else if (k == "--seq") a.seq = std::stoi(val());
    else if (k == "--seed") a.seed = std::stoull(val());
    else if (k == "--no-peak") a.peak = false;
    else if (k == "--bf16") a.bf16 = true;
    else {
      std::fprintf(stderr,
                   "usage: bench_train_step [--dir DIR] [--iters N] [--warmup W] [--threads T] [--batch B] "
                   "[--seq S] [--seed N] [--no-peak] [--bf16]\n");
      std::exit(2);
    }
  }
  if (a.iters < 1) {
    std::fprintf(stderr, "--iters must be at least 1\n");
    std::exit(2);
  }
  if (a.dir.empty()) {
    char tmpl[] = "/tmp/cppformers-bench-XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      std::exit(1);
    }
    a.dir = tmpl;
  }
  return a;
}

double forward_flops(const cf::BertConfig& c, int64_t B, int64_t S) {
  const double h = double(c.hidden_size), I = double(c.intermediate_size), L = double(c.num_hidden_layers);
  const double H = double(c.num_attention_heads), D = h / H;
  return 2.0 * L * (4 * h * h + 2 * h * I) * B * S + L * 2.0 * 2.0 * B * H * S * S * D + 2.0 * h * h * B;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  cf::set_num_threads(args.threads);
  std::printf("bench_train_step: dir %s, threads %d (OpenMP), batch %d, seq %d, %d steps after %d warm-up\n",
              args.dir.c_str(), cf::get_num_threads(), args.batch, args.seq, args.iters, args.warmup);

  nlohmann::json peak;
  if (args.peak) {
    const bench::FmaPeak fma = bench::fma_peak(args.threads);
    const double gemm = bench::gemm_ceiling(2048);
    const double dram = bench::dram_read_gbs(args.threads);
    peak = {{"fma_gflops", fma.gflops}, {"fma_isa", fma.isa}, {"gemm2048_gflops", gemm},
            {"dram_read_gbs", dram}, {"threads", args.threads}};
    std::printf("machine ceilings (%d threads): fp32 FMA peak %.0f GFLOP/s (%s), oneDNN 2048^3 GEMM %.0f GFLOP/s, "
                "DRAM read %.1f GB/s\n",
                args.threads, fma.gflops, fma.isa.c_str(), gemm, dram);
    std::ofstream(args.dir + "/peak.json") << peak.dump(2) << "\n";
  }

  cf::BertConfig cfg;  // bert-base-uncased's defaults
  cfg.hidden_size = 768;
  cfg.num_hidden_layers = 12;
  cfg.num_attention_heads = 12;
  cfg.intermediate_size = 3072;
  cfg.vocab_size = 30522;
  cfg.max_position_embeddings = 512;
  cfg.hidden_dropout_prob = 0.0;
  cfg.attention_probs_dropout_prob = 0.0;
  cfg.set_num_labels(2);
  {
    cf::ops::manual_seed(args.seed);
    cf::BertForSequenceClassification fresh(cfg);
    fresh.init_weights();
    fresh.save_pretrained(args.dir);
  }
  auto model = cf::AutoModelForSequenceClassification::from_pretrained(args.dir);
  model->make_parameters_writable();
  model->requires_grad_(true);
  model->train();

  // The batch: random ids (not special tokens), all-ones mask, random labels.
  const int64_t B = args.batch, S = args.seq;
  std::mt19937_64 rng(args.seed + 1);
  std::uniform_int_distribution<int64_t> tok(1000, cfg.vocab_size - 1), lab(0, 1);
  std::vector<int64_t> ids(B * S), ones(B * S, 1), labels(B);
  for (auto& v : ids) v = tok(rng);
  for (auto& v : labels) v = lab(rng);
  cf::ModelInputs in;
  in.input_ids = cf::Tensor::from_vector(ids, {B, S});
  in.attention_mask = cf::Tensor::from_vector(ones, {B, S});
  in.labels = cf::Tensor::from_vector(labels, {B});
  cf::io::save_file({{"input_ids", in.input_ids}, {"attention_mask", in.attention_mask}, {"labels", in.labels}},
                    args.dir + "/train_inputs.safetensors");

  // AdamW over Trainer's two groups (decay on all but biases and LayerNorm weights).
  const auto decay_names = cf::Trainer::get_decay_parameter_names(*model);
  const std::set<std::string> decay(decay_names.begin(), decay_names.end());
  cf::training::ParamGroup with{{}, 5e-5, 0.01}, without{{}, 5e-5, 0.0};
  std::set<const cf::TensorImpl*> seen;
  int64_t n_params = 0;
  for (auto& [name, p] : model->named_parameters()) {
    if (!seen.insert(p.impl()).second) continue;
    (decay.count(name) ? with : without).params.push_back(p);
    n_params += p.numel();
  }
  cf::training::AdamWOptions o;
  o.lr = 5e-5;
  o.weight_decay = 0.01;
  cf::training::AdamW opt({with, without}, o);
  std::printf("model: %.1fM parameters (%zu tensors with weight decay, %zu without)\n", double(n_params) * 1e-6,
              with.params.size(), without.params.size());

  std::vector<double> fwd, bwd, optim, total;
  double first_loss = 0, last_loss = 0;
  for (int it = 0; it < args.warmup + args.iters; ++it) {
    const double t0 = now_s();
    cf::ModelOutput out;
    {
      cf::ops::AutocastGuard autocast(args.bf16);  // as Trainer does with bf16=true; backward follows
      out = model->forward(in);
    }
    const double t1 = now_s();
    out.loss.backward();
    const double t2 = now_s();
    opt.step();
    opt.zero_grad();
    const double t3 = now_s();
    const double loss = out.loss.item();
    if (it == 0) first_loss = loss;
    last_loss = loss;
    std::printf("  step %d%s: loss %.6f, forward %.0f ms, backward %.0f ms, optimizer %.0f ms\n", it + 1,
                it < args.warmup ? " (warm-up)" : "", loss, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3);
    if (it < args.warmup) continue;
    fwd.push_back((t1 - t0) * 1e3);
    bwd.push_back((t2 - t1) * 1e3);
    optim.push_back((t3 - t2) * 1e3);
    total.push_back((t3 - t0) * 1e3);
  }

  const double flops = 3 * forward_flops(cfg, B, S);
  const double med_total = bench::median(total);
  std::printf("median ms: forward %.1f, backward %.1f, optimizer %.1f, step %.1f (min %.1f); %.1f GFLOP/s",
              bench::median(fwd), bench::median(bwd), bench::median(optim), med_total, *std::min_element(total.begin(), total.end()),
              flops / (med_total * 1e-3) * 1e-9);
  if (args.peak) std::printf(" (%.0f%% of FMA peak)", 100 * flops / (med_total * 1e-3) * 1e-9 / peak["fma_gflops"].get<double>());
  std::printf("\nloss: first step %.6f, last step %.6f\n", first_loss, last_loss);

  const nlohmann::json results = {
      {"backend", args.bf16 ? "cppformers_bf16" : "cppformers"},
      {"detail", std::string(args.bf16 ? (cf::ops::native_bf16_gemm() ? "bf16 autocast (AVX512-BF16 products, f32 accumulation), "
                                                                        : "bf16 requested but no native bf16: f32 products, ")
                                       : "f32, ") +
                     "oneDNN GEMM, " + std::to_string(args.threads) + " OpenMP threads"},
      {"batch", B}, {"seq", S}, {"params", n_params}, {"step_flops", flops},
      {"steps", args.warmup + args.iters}, {"warmup", args.warmup},
      {"first_loss", first_loss}, {"last_loss", last_loss},
      {"forward_ms", fwd}, {"backward_ms", bwd}, {"optimizer_ms", optim}, {"step_ms", total}};
  const std::string name = args.bf16 ? "cppformers_bf16_train_results.json" : "cppformers_train_results.json";
  std::ofstream(args.dir + "/" + name) << results.dump(2) << "\n";
  std::printf("wrote %s/{config.json,model.safetensors,train_inputs.safetensors,%s}\n", args.dir.c_str(), name.c_str());
  return 0;
}
