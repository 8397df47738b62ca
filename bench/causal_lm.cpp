// Decoder-only LLM speed: prompt (prefill) tokens/s and decode tokens/s of a random-weight
// GPT-2-small or a ~1.1B-parameter Llama-shaped model (TinyLlama's shape), against the
// memory-bandwidth floor (weight bytes per decoded token over the DRAM read rate measured here
// with every thread). The PyTorch eager peer (bench/peers/torch_causal.py) loads the same folder.
//
//   bench_causal_lm --arch gpt2|llama1b --dir DIR [--make] [--prompt 128] [--decode 64]
//                   [--iters 3] [--threads 2] [--bf16]
//   --make   writes DIR (config.json, model.safetensors with HF _init_weights random weights,
//            prompt.safetensors) first; without it DIR must exist.
//   --bf16   loads the weights as bfloat16 (cppformers computes in f32).
// Prints one JSON line: prefill/decode tokens/s (median of iters), the floor, the greedy ids.
// The DRAM read rate is measured after every timed run, and decode_floor_share is the median of
// each run's decode rate over the floor from the rate measured right after it.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/peak.hpp"
#include "bench/stats.hpp"
#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/nn/kv_cache.hpp"
#include "cppformers/ops/ops.hpp"

namespace cf = cppformers;
using nlohmann::json;

static json config_for(const std::string& arch) {
  if (arch == "gpt2")
    return {{"model_type", "gpt2"}, {"architectures", {"GPT2LMHeadModel"}}, {"vocab_size", 50257},
            {"n_positions", 1024}, {"n_embd", 768}, {"n_layer", 12}, {"n_head", 12},
            {"activation_function", "gelu_new"}, {"resid_pdrop", 0.0}, {"embd_pdrop", 0.0}, {"attn_pdrop", 0.0},
            {"bos_token_id", 50256}, {"eos_token_id", 50256}};
  if (arch == "llama1b")
    return {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 32000},
            {"hidden_size", 2048}, {"intermediate_size", 5632}, {"num_hidden_layers", 22},
            {"num_attention_heads", 32}, {"num_key_value_heads", 4}, {"max_position_embeddings", 2048},
            {"rms_norm_eps", 1e-5}, {"rope_theta", 10000.0}, {"tie_word_embeddings", false},
            {"bos_token_id", 1}, {"eos_token_id", 2}};
  throw cf::ValueError("--arch: gpt2 or llama1b");
}

int main(int argc, char** argv) {
  std::string arch = "gpt2", dir;
  bool make = false, bf16 = false;
  int prompt = 128, decode = 64, iters = 3, threads = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--arch") arch = next();
    else if (a == "--dir") dir = next();
    else if (a == "--make") make = true;
    else if (a == "--bf16") bf16 = true;
    else if (a == "--prompt") prompt = std::stoi(next());
    else if (a == "--decode") decode = std::stoi(next());
    else if (a == "--iters") iters = std::stoi(next());
    else if (a == "--threads") threads = std::stoi(next());
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if (dir.empty()) { std::fprintf(stderr, "--dir is required\n"); return 2; }
  omp_set_num_threads(threads);
  namespace fs = std::filesystem;
  if (make) {
    fs::create_directories(dir);
    const std::string cfg = dir + "/config.json";
    std::ofstream(cfg) << config_for(arch).dump(2) << "\n";
    cf::ops::manual_seed(0);
    auto m = cf::model_from_config(cfg, cf::Task::kCausalLM);
    m->save_pretrained(dir);
    cf::ops::Generator g(1);
    const int64_t vocab = config_for(arch)["vocab_size"];
    std::vector<int64_t> ids;
    for (int i = 0; i < prompt; ++i) ids.push_back(int64_t(g.engine()() % uint64_t(vocab - 3)) + 3);
    cf::io::save_file({{"input_ids", cf::Tensor::from_vector(ids, {1, prompt})}}, dir + "/prompt.safetensors");
  }
  cf::FromPretrainedOptions opts;
  if (bf16) opts.dtype = cf::kBF16;
  auto model = cf::AutoModelForCausalLM::from_pretrained(dir, opts);
  int64_t weight_bytes = 0;
  for (const cf::Tensor& t : model->parameters()) weight_bytes += t.numel() * (t.dtype() == cf::kF32 ? 4 : 2);
  const cf::Tensor ids = cf::io::load_file(dir + "/prompt.safetensors").at("input_ids");
  const int64_t P = ids.size(1);
  cf::autograd::NoGradGuard no_grad;
  std::vector<double> pre, dec, dram, share;
  std::vector<int64_t> out_ids;
  for (int it = 0; it < iters + 1; ++it) {  // the first run warms up
    cf::nn::KVCache cache(P + decode);
    cf::ModelInputs in;
    in.input_ids = ids;
    in.past_key_values = &cache;
    in.num_logits_to_keep = 1;
    double t0 = bench::now_s();
    cf::Tensor logits = model->forward(in).logits;
    int64_t tok = cf::ops::argmax(logits.reshape({-1}), 0).to_vector<int64_t>()[0];
    double t1 = bench::now_s();
    std::vector<int64_t> gen{tok};
    for (int s = 1; s < decode; ++s) {
      cf::ModelInputs step;
      step.input_ids = cf::Tensor::from_vector(std::vector<int64_t>{tok}, {1, 1});
      step.past_key_values = &cache;
      tok = cf::ops::argmax(model->forward(step).logits.reshape({-1}), 0).to_vector<int64_t>()[0];
      gen.push_back(tok);
    }
    double t2 = bench::now_s();
    if (it == 0) { out_ids = gen; continue; }
    pre.push_back(double(P) / (t1 - t0));
    dec.push_back(double(decode - 1) / (t2 - t1));
    // The machine's memory rate drifts over minutes: measure it right after each decode, and
    // compare each decode with its own floor.
    dram.push_back(bench::dram_read_gbs(threads));
    share.push_back(dec.back() / (dram.back() * 1e9 / double(weight_bytes)));
  }
  const double gbs = bench::median(dram);
  const double floor_tps = gbs * 1e9 / double(weight_bytes);
  json r = {{"impl", "cppformers"}, {"arch", arch}, {"weights", bf16 ? "bf16" : "f32"}, {"threads", threads},
            {"prompt_tokens", P}, {"decode_tokens", decode}, {"prefill_tok_s", bench::median(pre)},
            {"prefill_tok_s_best", *std::max_element(pre.begin(), pre.end())}, {"decode_tok_s", bench::median(dec)},
            {"decode_tok_s_best", *std::max_element(dec.begin(), dec.end())}, {"weight_bytes", weight_bytes},
            {"dram_read_gbs", gbs}, {"floor_decode_tok_s", floor_tps}, {"ids", out_ids},
            {"prefill_runs", pre}, {"decode_runs", dec}, {"dram_runs", dram},
            {"decode_floor_share", bench::median(share)}, {"floor_share_runs", share}};
  std::printf("%s\n", r.dump().c_str());
  return 0;
}
