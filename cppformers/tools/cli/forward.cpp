// cppformers forward --model DIR (--inputs IN.safetensors | --input-ids 1,2,3) [--out OUT.safetensors]
//                    [--head auto|base] [--dtype float32|bfloat16|float16]
// Runs the model's forward pass on the input tensors found in IN (input_ids, attention_mask,
// token_type_ids, position_ids, labels, ...; other tensors are ignored, so a golden file holding
// a model's inputs and outputs can be passed whole) and writes every output the Python model
// returns, named as transformers names them (logits, hidden_states.N, ...).
#include <cstdio>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/tools/cli/command.hpp"
#include "cppformers/tools/cli/token_ids.hpp"

namespace cppformers::cli {
namespace {

struct ForwardArgs {
  std::string model, inputs, out, head = "auto", dtype = "float32", input_ids;
};

// "1,5,9,2" -> a [1, n] input_ids tensor.
Tensor parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(',', at);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(at, end - at);
    try {
      size_t used = 0;
      ids.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw ValueError("--input-ids: '" + item + "' is not an integer (expected e.g. 101,7592,102)");
    }
    at = end + 1;
  }
  if (ids.empty()) throw ValueError("--input-ids: no ids given");
  return Tensor::from_vector(ids, {1, int64_t(ids.size())});
}

int run_forward(const ForwardArgs& a) {
  FromPretrainedOptions opts;
  if (a.dtype == "bfloat16" || a.dtype == "bf16") opts.dtype = kBF16;
  else if (a.dtype == "float16" || a.dtype == "f16") opts.dtype = kF16;
  else if (a.dtype != "float32" && a.dtype != "f32")
    throw ValueError("--dtype: expected float32, bfloat16 or float16, got '" + a.dtype + "'");
  auto model = a.head == "base" ? load_auto_model(a.model, Task::kBase, opts) : load_model_from_architectures(a.model, opts);
  if (a.inputs.empty() == a.input_ids.empty())
    throw ValueError("give exactly one of --inputs FILE.safetensors and --input-ids 1,2,3");
  io::StateDict named = a.inputs.empty() ? io::StateDict{{"input_ids", parse_ids(a.input_ids)}} : io::load_file(a.inputs);
  for (const char* name : {"input_ids", "decoder_input_ids"})
    if (named.count(name))
      check_token_ids(named.at(name), *model,
                      a.inputs.empty() ? std::string("--input-ids") : a.inputs + ": tensor '" + name + "'");
  ModelInputs in = ModelInputs::from_tensors(named);
  in.output_hidden_states = in.output_attentions = true;
  in.return_loss = true;  // CLIP: the contrastive loss, as the goldens record it
  autograd::NoGradGuard no_grad;
  ModelOutput out = model->forward(in);
  io::StateDict result;
  for (auto& [name, t] : out.named()) {
    result[name] = t.dtype() == kF32 ? t : t.to(kF32);
    if (t.numel() <= 64) std::printf("%s = %s\n", name.c_str(), t.to_string().c_str());
    else std::printf("%s %s\n", name.c_str(), shape_str(t.shape()).c_str());
  }
  if (!a.out.empty()) io::save_file(result, a.out);
  return 0;
}

CommandRegistration reg{{"forward", "Run a model's forward pass on tensors from a safetensors file",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<ForwardArgs>();
                           app.add_option("--model", a->model, "model folder (config.json + *.safetensors)")->required();
                           app.add_option("--inputs", a->inputs, "safetensors file with the input tensors");
                           app.add_option("--input-ids", a->input_ids, "one sequence of token ids, e.g. 101,7592,102");
                           app.add_option("--out", a->out, "safetensors file to write the outputs to (else printed)");
                           app.add_option("--head", a->head, "auto: config.json's architecture; base: the bare model")
                               ->check(CLI::IsMember({"auto", "base"}));
                           app.add_option("--dtype", a->dtype, "weight dtype: float32 (default, as Python), bfloat16, float16");
                           return [a] { return run_forward(*a); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
