// bench_bert_forward: a BERT-base-shaped random model's forward pass (f32), timed.
//
//   bench_bert_forward [--dir DIR] [--iters N] [--warmup W] [--threads T] [--seq S]
//                      [--seed N] [--no-peak] [--profile]
//
// Builds BertModel (hidden 768, 12 layers, 12 heads, intermediate 3072, vocab 30522, 512
// positions), initialises it as HF's _init_weights does with a fixed seed, saves it to DIR
// (config.json + model.safetensors) and loads it back through AutoModel, so the peers
// (bench/peers/torch_bert.py, bench/peers/ort_bert.js) run the very same weights. Random
// input_ids and attention masks go to DIR/inputs.safetensors; the outputs of every case to
// DIR/cppformers_out.safetensors (the peers compare against them); timings and the machine's
// ceilings to DIR/cppformers_results.json and DIR/peak.json (bench/run_bert.sh prints the table).
//
// Cases: b1 (batch 1, all ones mask), b8 (batch 8, all ones), b8pad (batch 8, rows padded to
// lengths 128, 112, ..., 16 — computed at full length, as every eager implementation does).
// FLOPs counted: 2 * (weights in Linear layers) * tokens + the attention matmuls
// 2 * 2 * B * H * S * S * D per layer + the pooler's 2 * 768 * 768 * B.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/core/threads.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/models/bert/modeling.hpp"
#include "cppformers/nn/attention.hpp"
#include "cppformers/ops/ops.hpp"
#include "cppformers/ops/random.hpp"
#include "peak.hpp"
#include "stats.hpp"

namespace cf = cppformers;
namespace fs = std::filesystem;
using bench::now_s;

namespace {

struct Args {
  std::string dir;
  int iters = 20, warmup = 3, threads = 2, seq = 128;
  uint64_t seed = 0;
  bool peak = true, profile = false;
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
    else if (k == "--seq") a.seq = std::stoi(val());
    else if (k == "--seed") a.seed = std::stoull(val());
    else if (k == "--no-peak") a.peak = false;
    else if (k == "--profile") a.profile = true;
    else {
      std::fprintf(stderr,
                   "usage: bench_bert_forward [--dir DIR] [--iters N] [--warmup W] [--threads T] "
                   "[--seq S] [--seed N] [--no-peak] [--profile]\n");
      std::exit(2);
    }
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

struct Case {
  std::string name;
  int64_t batch;
  cf::Tensor ids, mask;
};

double forward_flops(const cf::BertConfig& c, int64_t B, int64_t S) {
  const double h = double(c.hidden_size), I = double(c.intermediate_size), L = double(c.num_hidden_layers);
  const double H = double(c.num_attention_heads), D = h / H;
  const double linear_params = L * (4 * h * h + 2 * h * I);
  return 2.0 * linear_params * B * S + L * 2.0 * 2.0 * B * H * S * S * D + 2.0 * h * h * B;
}

struct Stats {
  double median_ms, min_ms, mean_ms, max_ms;
  std::vector<double> all_ms;
};

Stats stats(std::vector<double> ms) {
  Stats s;
  s.all_ms = ms;
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  s.median_ms = bench::median(ms);
  s.min_ms = ms.front();
  s.max_ms = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  s.mean_ms = sum / n;
  return s;
}

// The forward of BertModel, step by step, with a timer around each step (a profile of where the
// time goes). It calls the model's own modules in BertLayer::forward's order; the total it prints
// beside the timed forward shows whether it still matches the model's code.
void profile(cf::BertModel& m, const Case& c, int iters) {
  std::map<std::string, double> t;
  std::vector<std::string> order;
  auto tick = [&](const std::string& name, double& t0) {
    const double t1 = now_s();
    if (!t.count(name)) order.push_back(name);
    t[name] += t1 - t0;
    t0 = t1;
  };
  const double total0 = now_s();
  for (int it = 0; it < iters; ++it) {
    double t0 = now_s();
    cf::Tensor bias = cf::nn::padding_mask_bias(c.mask);
    cf::Tensor h = m.embeddings->forward(c.ids, cf::Tensor(), cf::Tensor());
    tick("embeddings + LayerNorm + mask", t0);
    for (auto& layer : m.encoder->layer) {
      auto& sa = *layer->attention->self;
      cf::Tensor q = (*sa.query)(h), k = (*sa.key)(h), v = (*sa.value)(h);
      tick("Linear q,k,v (768->768 x3)", t0);
      q = cf::nn::split_heads(q, sa.num_heads);
      k = cf::nn::split_heads(k, sa.num_heads);
      v = cf::nn::split_heads(v, sa.num_heads);
      tick("split_heads x3", t0);
      cf::Tensor ctx = cf::nn::scaled_dot_product_attention(q, k, v, bias, 0.125);
      tick("attention (QK^T, softmax, PV)", t0);
      ctx = cf::nn::merge_heads(ctx);
      tick("merge_heads", t0);
      cf::Tensor a = layer->attention->output->forward(ctx, h);
      tick("attn out Linear + residual + LN", t0);
      cf::ops::LinearEpilogue ep;
      ep.activation = cf::nn::fusable_activation(layer->act);
      cf::Tensor i = ep.activation != cf::ops::Activation::kNone
                         ? layer->intermediate_dense->forward(a, ep)
                         : cf::nn::activation(layer->act, (*layer->intermediate_dense)(a));
      tick("Linear 768->3072 + gelu", t0);
      h = layer->output->forward(i, a);
      tick("Linear 3072->768 + residual + LN", t0);
    }
    cf::Tensor pooled = m.pooler->forward(h);
    tick("pooler", t0);
  }
  const double total = now_s() - total0;
  std::printf("\nprofile, case %s (%d forwards, %.1f ms each):\n", c.name.c_str(), iters, total / iters * 1e3);
  for (auto& name : order)
    std::printf("  %-34s %8.2f ms  %5.1f%%\n", name.c_str(), t[name] / iters * 1e3, 100.0 * t[name] / total);
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  cf::set_num_threads(args.threads);
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("bench_bert_forward: dir %s, threads %d (OpenMP), seq %d, %d iterations after %d warm-up\n",
              args.dir.c_str(), cf::get_num_threads(), args.seq, args.iters, args.warmup);
  std::printf("GEMM backend: oneDNN (cppformers::cpu::gemm); OPENBLAS_CORETYPE=%s (unused by cppformers)\n",
              coretype ? coretype : "(unset)");

  nlohmann::json peak;
  if (args.peak) {
    const bench::FmaPeak fma = bench::fma_peak(args.threads);
    const double gemm = bench::gemm_ceiling(2048);
    const double dram = bench::dram_read_gbs(args.threads);
    peak = {{"fma_gflops", fma.gflops}, {"fma_isa", fma.isa}, {"gemm2048_gflops", gemm},
            {"dram_read_gbs", dram}, {"threads", args.threads}};
    std::printf("machine ceilings (%d threads): fp32 FMA peak %.0f GFLOP/s (%s loop), oneDNN 2048^3 GEMM %.0f "
                "GFLOP/s (%.0f%% of peak), DRAM read %.1f GB/s\n",
                args.threads, fma.gflops, fma.isa.c_str(), gemm, 100 * gemm / fma.gflops, dram);
    std::ofstream(args.dir + "/peak.json") << peak.dump(2) << "\n";
  }

  // The model: HF-style random init with a fixed seed, saved, then loaded as a user would.
  cf::BertConfig cfg;  // defaults are bert-base-uncased's
  cfg.hidden_size = 768;
  cfg.num_hidden_layers = 12;
  cfg.num_attention_heads = 12;
  cfg.intermediate_size = 3072;
  cfg.vocab_size = 30522;
  cfg.max_position_embeddings = 512;
  {
    cf::ops::manual_seed(args.seed);
    cf::BertModel fresh(cfg);
    fresh.init_weights();
    fresh.save_pretrained(args.dir);
  }
  auto loaded = cf::AutoModel::from_pretrained(args.dir);
  auto* model = dynamic_cast<cf::BertModel*>(loaded.get());
  if (!model) {
    std::fprintf(stderr, "AutoModel did not give a BertModel\n");
    return 1;
  }
  model->eval();

  // Inputs: random ids (not special tokens), b1 = the first row of b8.
  const int64_t S = args.seq;
  std::mt19937_64 rng(args.seed + 1);
  std::uniform_int_distribution<int64_t> tok(1000, cfg.vocab_size - 1);
  std::vector<int64_t> ids8(8 * S), ones8(8 * S, 1), ids8p(8 * S), mask8p(8 * S);
  for (auto& v : ids8) v = tok(rng);
  for (int64_t b = 0; b < 8; ++b) {
    const int64_t len = S - b * (S / 8);
    for (int64_t s = 0; s < S; ++s) {
      ids8p[b * S + s] = s < len ? ids8[b * S + s] : 0;  // pad id 0, as bert-base-uncased
      mask8p[b * S + s] = s < len ? 1 : 0;
    }
  }
  std::vector<int64_t> ids1(ids8.begin(), ids8.begin() + S), ones1(S, 1);
  std::vector<Case> cases = {
      {"b1", 1, cf::Tensor::from_vector(ids1, {1, S}), cf::Tensor::from_vector(ones1, {1, S})},
      {"b8", 8, cf::Tensor::from_vector(ids8, {8, S}), cf::Tensor::from_vector(ones8, {8, S})},
      {"b8pad", 8, cf::Tensor::from_vector(ids8p, {8, S}), cf::Tensor::from_vector(mask8p, {8, S})},
  };
  cf::io::StateDict inputs;
  for (auto& c : cases) {
    inputs["input_ids." + c.name] = c.ids;
    inputs["attention_mask." + c.name] = c.mask;
  }
  cf::io::save_file(inputs, args.dir + "/inputs.safetensors");

  cf::autograd::NoGradGuard no_grad;
  cf::io::StateDict outputs;
  nlohmann::json results = {{"backend", "cppformers"},
                            {"detail", "oneDNN GEMM, " + std::to_string(args.threads) + " OpenMP threads"},
                            {"cases", nlohmann::json::array()}};
  std::printf("\n%-8s %5s %10s %10s %10s %9s\n", "case", "batch", "median ms", "min ms", "max ms", "GFLOP/s");
  for (auto& c : cases) {
    cf::ModelInputs in;
    in.input_ids = c.ids;
    in.attention_mask = c.mask;
    cf::ModelOutput out;
    for (int i = 0; i < args.warmup; ++i) out = model->forward(in);
    std::vector<double> ms;
    for (int i = 0; i < args.iters; ++i) {
      const double t0 = now_s();
      out = model->forward(in);
      ms.push_back((now_s() - t0) * 1e3);
    }
    outputs["last_hidden_state." + c.name] = out.last_hidden_state;
    outputs["pooler_output." + c.name] = out.pooler_output;
    const Stats s = stats(ms);
    const double flops = forward_flops(cfg, c.batch, S);
    const double gflops = flops / (s.median_ms * 1e-3) * 1e-9;
    std::printf("%-8s %5lld %10.2f %10.2f %10.2f %9.1f", c.name.c_str(), (long long)c.batch, s.median_ms, s.min_ms,
                s.max_ms, gflops);
    if (args.peak) std::printf("  (%.0f%% of FMA peak)", 100 * gflops / peak["fma_gflops"].get<double>());
    std::printf("\n");
    results["cases"].push_back({{"name", c.name}, {"batch", c.batch}, {"seq", S}, {"flops", flops},
                                {"median_ms", s.median_ms}, {"min_ms", s.min_ms}, {"mean_ms", s.mean_ms},
                                {"max_ms", s.max_ms}, {"all_ms", s.all_ms}});
  }
  cf::io::save_file(outputs, args.dir + "/cppformers_out.safetensors");
  std::ofstream(args.dir + "/cppformers_results.json") << results.dump(2) << "\n";
  std::printf("wrote %s/{config.json,model.safetensors,inputs.safetensors,cppformers_out.safetensors,"
              "cppformers_results.json}\n", args.dir.c_str());

  if (args.profile) {
    profile(*model, cases[0], std::max(args.iters / 2, 3));
    profile(*model, cases[1], std::max(args.iters / 4, 2));
  }
  return 0;
}
