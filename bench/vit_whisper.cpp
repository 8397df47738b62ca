// Vision and speech forward speed: a ViT-base-shaped image classifier (batch 1 and 8) and a
// Whisper-tiny-shaped encode + 32-token greedy decode, random weights (HF _init_weights), the
// same folders the PyTorch eager peer (bench/peers/torch_vit_whisper.py) loads.
//
//   bench_vit_whisper --arch vit|whisper --dir DIR [--make] [--iters 5] [--threads 2]
//                     [--batch 1] [--decode 32]
//   --make   writes DIR (config.json, model.safetensors, inputs.safetensors) first.
// Prints one JSON line: median/best times in ms (vit: forward; whisper: encode, decode) and,
// to check both sides computed the same thing, a checksum of the logits (vit) or the ids.
#include <omp.h>

#include <algorithm>
#include <cstdio>
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
#include "cppformers/models/seq2seq.hpp"
#include "cppformers/ops/ops.hpp"

namespace cf = cppformers;
using nlohmann::json;

static json config_for(const std::string& arch) {
  if (arch == "vit")  // google/vit-base-patch16-224's shape
    return {{"model_type", "vit"}, {"architectures", {"ViTForImageClassification"}}, {"hidden_size", 768},
            {"num_hidden_layers", 12}, {"num_attention_heads", 12}, {"intermediate_size", 3072},
            {"hidden_act", "gelu"}, {"hidden_dropout_prob", 0.0}, {"attention_probs_dropout_prob", 0.0},
            {"initializer_range", 0.02}, {"layer_norm_eps", 1e-12}, {"image_size", 224}, {"patch_size", 16},
            {"num_channels", 3}, {"qkv_bias", true}, {"num_labels", 1000}};
  if (arch == "whisper")  // openai/whisper-tiny's shape
    return {{"model_type", "whisper"}, {"architectures", {"WhisperForConditionalGeneration"}},
            {"vocab_size", 51865}, {"num_mel_bins", 80}, {"d_model", 384}, {"encoder_layers", 4},
            {"decoder_layers", 4}, {"encoder_attention_heads", 6}, {"decoder_attention_heads", 6},
            {"encoder_ffn_dim", 1536}, {"decoder_ffn_dim", 1536}, {"max_source_positions", 1500},
            {"max_target_positions", 448}, {"activation_function", "gelu"}, {"dropout", 0.0},
            {"attention_dropout", 0.0}, {"activation_dropout", 0.0}, {"scale_embedding", false},
            {"pad_token_id", 50257}, {"bos_token_id", 50257}, {"eos_token_id", 50257},
            {"decoder_start_token_id", 50258}, {"tie_word_embeddings", true}};
  throw cf::ValueError("--arch: vit or whisper");
}

int main(int argc, char** argv) {
  std::string arch = "vit", dir;
  bool make = false;
  int iters = 5, threads = 2, batch = 1, decode = 32;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--arch") arch = next();
    else if (a == "--dir") dir = next();
    else if (a == "--make") make = true;
    else if (a == "--iters") iters = std::stoi(next());
    else if (a == "--threads") threads = std::stoi(next());
    else if (a == "--batch") batch = std::stoi(next());
    else if (a == "--decode") decode = std::stoi(next());
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if (dir.empty()) { std::fprintf(stderr, "--dir is required\n"); return 2; }
  omp_set_num_threads(threads);
  const bool vit = arch == "vit";
  const cf::Task task = vit ? cf::Task::kImageClassification : cf::Task::kSpeechSeq2Seq;
  if (make) {
    std::filesystem::create_directories(dir);
    const std::string cfg = dir + "/config.json";
    std::ofstream(cfg) << config_for(arch).dump(2) << "\n";
    cf::ops::manual_seed(0);
    cf::model_from_config(cfg, task)->save_pretrained(dir);
    cf::ops::manual_seed(1);
    // Inputs of a plausible scale: normalised pixels, log-mel features in [-1, 1].
    cf::io::save_file({{"pixel_values", cf::ops::randn({8, 3, 224, 224})},
                       {"input_features", cf::ops::rand({1, 80, 3000}) * 2.0 - 1.0}},
                      dir + "/inputs.safetensors");
  }
  auto model = vit ? cf::AutoModelForImageClassification::from_pretrained(dir)
                   : cf::AutoModelForSpeechSeq2Seq::from_pretrained(dir);
  const auto inputs = cf::io::load_file(dir + "/inputs.safetensors");
  cf::autograd::NoGradGuard no_grad;
  json r = {{"impl", "cppformers"}, {"arch", arch}, {"threads", threads}};
  if (vit) {
    cf::ModelInputs in;
    in.pixel_values = inputs.at("pixel_values").narrow(0, 0, batch).contiguous();
    std::vector<double> ms;
    cf::Tensor logits;
    for (int it = 0; it < iters + 1; ++it) {
      const double t0 = bench::now_s();
      logits = model->forward(in).logits;
      if (it > 0) ms.push_back(1e3 * (bench::now_s() - t0));
    }
    r["batch"] = batch;
    r["forward_ms"] = bench::median(ms);
    r["forward_ms_best"] = *std::min_element(ms.begin(), ms.end());
    r["logits_sum"] = cf::ops::sum(logits).item();
  } else {
    auto& s2s = dynamic_cast<cf::Seq2SeqLM&>(*model);
    cf::ModelInputs in;
    in.input_features = inputs.at("input_features");
    std::vector<double> enc_ms, dec_ms;
    std::vector<int64_t> ids;
    for (int it = 0; it < iters + 1; ++it) {
      const double t0 = bench::now_s();
      cf::Seq2SeqState st = s2s.encode(in);
      const double t1 = bench::now_s();
      std::vector<int64_t> gen;
      int64_t tok = s2s.decoder_start_token_id();
      for (int s = 0; s < decode; ++s) {  // greedy, no stopping: exactly `decode` tokens
        cf::Tensor logits = s2s.decode_step(cf::Tensor::from_vector(std::vector<int64_t>{tok}, {1, 1}), st);
        tok = cf::ops::argmax(logits.reshape({-1}), 0).to_vector<int64_t>()[0];
        gen.push_back(tok);
      }
      const double t2 = bench::now_s();
      if (it == 0) { ids = gen; continue; }
      enc_ms.push_back(1e3 * (t1 - t0));
      dec_ms.push_back(1e3 * (t2 - t1));
    }
    r["decode_tokens"] = decode;
    r["encode_ms"] = bench::median(enc_ms);
    r["encode_ms_best"] = *std::min_element(enc_ms.begin(), enc_ms.end());
    r["decode_ms"] = bench::median(dec_ms);
    r["decode_ms_best"] = *std::min_element(dec_ms.begin(), dec_ms.end());
    r["ids"] = ids;
  }
  std::printf("%s\n", r.dump().c_str());
  return 0;
}
