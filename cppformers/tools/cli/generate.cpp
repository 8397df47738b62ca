// cppformers generate --model DIR_OR_ID [PROMPT] [--inputs IN.safetensors] [--max-new-tokens N]
//                     [--num-beams K] [--do-sample --temperature T --top-k K --top-p P --min-p P --seed S]
//                     [--repetition-penalty R] [--no-repeat-ngram-size N] [--stop STR ...] [--json]
// Generates with a causal LM. With --inputs (input_ids, attention_mask: a left-padded batch) it
// needs no tokenizer and prints {"sequences": [[ids...], ...]} (prompt included, as Python's
// generate returns them; beam search adds "sequences_scores"). With a PROMPT it reads the model
// folder's tokenizer and streams the new text to stdout (--json: ids and text as JSON instead).
// Defaults come from the folder's generation_config.json; the flags override them, as kwargs.
// With --chat the model is a chat model: PROMPT (or each line of stdin, a conversation that goes
// on) is a user message, rendered with the tokenizer's chat template and the generation prompt
// (--system adds a system message, --template-kwargs e.g. '{"enable_thinking": false}'), and the
// assistant's reply is streamed.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/generation/utils.hpp"
#include "cppformers/io/hub.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/tools/cli/command.hpp"
#include "cppformers/tools/cli/token_ids.hpp"

namespace cppformers::cli {
// generate_seq2seq.cpp: the encoder-decoder branch (T5, BART, Whisper).
bool is_encoder_decoder_folder(const std::string& dir);
int run_seq2seq_generate(const std::string& dir, PreTrainedModel& model, const std::string& inputs,
                         const std::string& prompt, const GenerationConfig& cfg, const nlohmann::json& kwargs);
namespace {

struct GenerateArgs {
  std::string model, prompt, inputs, dtype = "float32", kwargs, early_stopping;
  std::optional<int64_t> max_new_tokens, max_length, min_new_tokens, num_beams, top_k, no_repeat_ngram_size,
      num_return_sequences, pad_token_id, seed;
  std::optional<double> temperature, top_p, min_p, repetition_penalty, length_penalty;
  std::vector<int64_t> eos_token_id;
  std::vector<std::string> stop;
  bool do_sample = false, greedy = false, json_out = false, no_cache = false, skip_special = true, chat = false;
  std::string system, template_kwargs;
  io::HubOptions hub;
};

int run_generate(const GenerateArgs& a) {
  // A Hub id is resolved once, so the model, its generation_config.json and its tokenizer all
  // come from the same snapshot.
  const std::string dir = io::resolve_model(a.model, a.hub);
  FromPretrainedOptions opts;
  if (a.dtype == "bfloat16" || a.dtype == "bf16") opts.dtype = kBF16;
  else if (a.dtype != "float32" && a.dtype != "f32") throw ValueError("--dtype: expected float32 or bfloat16, got '" + a.dtype + "'");
  if (a.chat && !a.inputs.empty()) throw ValueError("--chat takes a PROMPT (or user messages on stdin), not --inputs");
  if (!a.chat && a.inputs.empty() == a.prompt.empty()) throw ValueError("give exactly one of PROMPT and --inputs FILE.safetensors");
  if (!a.chat && !a.system.empty()) throw ValueError("--system needs --chat (it adds a system message to the chat)");
  if (!a.chat && !a.template_kwargs.empty()) throw ValueError("--template-kwargs needs --chat");
  const bool seq2seq = is_encoder_decoder_folder(dir);
  if (seq2seq && a.chat) throw NotSupportedError("--chat needs a decoder-only (causal) language model");
  auto model = seq2seq ? load_model_from_architectures(dir, opts) : AutoModelForCausalLM::from_pretrained(dir, opts);
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  nlohmann::json kw = a.kwargs.empty() ? nlohmann::json::object() : io::parse_json(a.kwargs, "--kwargs");
  GenerationConfig::check_kwarg_names(kw, "--kwargs");
  auto set = [&](const char* k, const auto& v) { if (v) kw[k] = *v; };
  set("max_new_tokens", a.max_new_tokens);
  set("max_length", a.max_length);
  set("min_new_tokens", a.min_new_tokens);
  set("num_beams", a.num_beams);
  set("top_k", a.top_k);
  set("no_repeat_ngram_size", a.no_repeat_ngram_size);
  set("num_return_sequences", a.num_return_sequences);
  set("pad_token_id", a.pad_token_id);
  set("seed", a.seed);
  set("temperature", a.temperature);
  set("top_p", a.top_p);
  set("min_p", a.min_p);
  set("repetition_penalty", a.repetition_penalty);
  set("length_penalty", a.length_penalty);
  if (a.do_sample) kw["do_sample"] = true;
  if (a.greedy) kw["do_sample"] = false;
  if (a.no_cache) kw["use_cache"] = false;
  if (!a.eos_token_id.empty()) kw["eos_token_id"] = a.eos_token_id;
  if (!a.stop.empty()) kw["stop_strings"] = a.stop;
  if (!a.early_stopping.empty())
    kw["early_stopping"] = a.early_stopping == "never" ? nlohmann::json("never") : nlohmann::json(a.early_stopping == "true");
  cfg.update(kw, "--kwargs / command-line flags");
  if (seq2seq) return run_seq2seq_generate(dir, *model, a.inputs, a.prompt, cfg, kw);

  if (!a.inputs.empty()) {
    io::StateDict t = io::load_file(a.inputs);
    if (!t.count("input_ids")) throw ValueError(a.inputs + ": no 'input_ids' tensor");
    // Other tensors (a golden file's outputs next to its inputs) are ignored.
    check_token_ids(t.at("input_ids"), *model, a.inputs + ": tensor 'input_ids'");
    Tensor mask = t.count("attention_mask") ? t.at("attention_mask") : Tensor();
    if (mask.defined()) {
      for (double v : mask.to_vector<double>())
        if (v != 0 && v != 1)
          throw ValueError(a.inputs + ": tensor 'attention_mask' must hold only 0 and 1, found " + nlohmann::json(v).dump());
    }
    GenerateOutput out;
    try {
      out = generate(*model, t.at("input_ids"), mask, cfg);
    } catch (const GenerationError& e) {  // print what was generated, then the error
      std::printf("%s\n", nlohmann::json({{"sequences", e.partial.sequences}}).dump().c_str());
      std::fflush(stdout);
      throw;
    }
    nlohmann::json j;
    j["sequences"] = out.sequences;
    if (!out.sequences_scores.empty()) j["sequences_scores"] = out.sequences_scores;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  AutoTokenizer tok = AutoTokenizer::from_pretrained(dir);
  GenerateOptions o;
  o.tokenizer = &tok;
  std::unique_ptr<TextStreamer> streamer;
  const bool stream = !a.json_out && cfg.num_beams == 1 && cfg.num_return_sequences == 1;
  if (stream) {
    streamer = std::make_unique<TextStreamer>(tok, [](const std::string& text, bool end) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      if (end) std::fputc('\n', stdout);
      std::fflush(stdout);
    }, /*skip_prompt=*/true, a.skip_special);
    o.streamer = streamer.get();
  }
  // Generates from prompt ids; prints (streams) the new text, or JSON; returns the first reply.
  // When generation stops early on an error, what was generated is printed before the error.
  auto run_ids = [&](const std::vector<int64_t>& ids) {
    std::vector<std::string> texts;
    auto print = [&](const GenerateOutput& out) {
      for (auto& s : out.sequences)
        texts.push_back(tok.decode(std::vector<int64_t>(s.begin() + int64_t(ids.size()), s.end()), a.skip_special));
      if (stream) return;  // already on stdout
      nlohmann::json j;
      j["sequences"] = out.sequences;
      j["generated_text"] = texts;
      if (!out.sequences_scores.empty()) j["sequences_scores"] = out.sequences_scores;
      std::printf("%s\n", j.dump().c_str());
      std::fflush(stdout);
    };
    try {
      print(generate(*model, Tensor::from_vector(ids, {1, int64_t(ids.size())}), Tensor(), cfg, o));
    } catch (const GenerationError& e) {
      print(e.partial);
      throw;
    }
    return texts.empty() ? std::string() : texts[0];
  };
  if (a.chat) {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array();
    if (!a.system.empty()) messages.push_back({{"role", "system"}, {"content", a.system}});
    tokenizers::ChatTemplateOptions co;
    co.add_generation_prompt = true;
    if (!a.template_kwargs.empty()) {
      nlohmann::json k = io::parse_json(a.template_kwargs, "--template-kwargs");
      if (!k.is_object()) throw ValueError("--template-kwargs: expected a JSON object");
      co.kwargs = nlohmann::ordered_json::parse(k.dump());
    }
    auto turn = [&](const std::string& user) {
      messages.push_back({{"role", "user"}, {"content", user}});
      std::vector<int64_t> ids = tok.apply_chat_template(messages, co).input_ids;
      if (ids.empty()) throw ValueError("the chat template renders to no tokens");
      messages.push_back({{"role", "assistant"}, {"content", run_ids(ids)}});
    };
    if (!a.prompt.empty()) {
      turn(a.prompt);
    } else {
      std::string line;
      while (std::getline(std::cin, line))
        if (!line.empty()) turn(line);
    }
    return 0;
  }
  std::vector<int64_t> ids = tok.encode(a.prompt);
  if (ids.empty() && cfg.bos_token_id) ids.push_back(*cfg.bos_token_id);
  if (ids.empty()) throw ValueError("the prompt encodes to no tokens");
  run_ids(ids);
  return 0;
}

// CLI11 2.1 turns an integer beyond int64 into INT64_MAX/MIN without a word; reject it instead.
const CLI::Validator kFitsInt64(
    [](std::string& text) -> std::string {
      errno = 0;
      char* end = nullptr;
      std::strtoll(text.c_str(), &end, 10);
      if (errno == ERANGE) return "'" + text + "' is out of range for a 64-bit integer";
      return {};
    },
    "INT64");

CommandRegistration reg{{"generate", "Generate text (or token ids) with a causal language model",
                         [](CLI::App& app) -> std::function<int()> {
                           auto a = std::make_shared<GenerateArgs>();
                           app.add_option("--model", a->model, "model folder (config.json + *.safetensors) or Hub id")->required();
                           app.add_option("prompt", a->prompt, "text to continue (needs the folder's tokenizer)");
                           app.add_option("--inputs", a->inputs, "safetensors with input_ids (and attention_mask): prints ids as JSON");
                           app.add_option("--max-new-tokens", a->max_new_tokens, "tokens to generate")->check(kFitsInt64);
                           app.add_option("--max-length", a->max_length, "total length, prompt included")->check(kFitsInt64);
                           app.add_option("--min-new-tokens", a->min_new_tokens, "no eos before this many new tokens")->check(kFitsInt64);
                           app.add_option("--num-beams", a->num_beams, "beam search with this many beams")->check(kFitsInt64);
                           app.add_flag("--do-sample", a->do_sample, "sample instead of greedy/beam search");
                           app.add_flag("--greedy", a->greedy, "never sample (overrides generation_config.json)");
                           app.add_option("--temperature", a->temperature, "sampling temperature");
                           app.add_option("--top-k", a->top_k, "keep the k most likely tokens (0: all)")->check(kFitsInt64);
                           app.add_option("--top-p", a->top_p, "nucleus sampling threshold");
                           app.add_option("--min-p", a->min_p, "drop tokens below min_p x the top probability");
                           app.add_option("--seed", a->seed, "sampling seed (reproducible runs)")->check(kFitsInt64);
                           app.add_option("--repetition-penalty", a->repetition_penalty, "penalise repeated tokens");
                           app.add_option("--no-repeat-ngram-size", a->no_repeat_ngram_size, "never repeat an n-gram")->check(kFitsInt64);
                           app.add_option("--length-penalty", a->length_penalty, "beam score = logprob / length^this");
                           app.add_option("--early-stopping", a->early_stopping, "beam search: true, false or never")
                               ->check(CLI::IsMember({"true", "false", "never"}));
                           app.add_option("--num-return-sequences", a->num_return_sequences, "sequences per prompt")->check(kFitsInt64);
                           app.add_option("--eos-token-id", a->eos_token_id, "end-of-sequence id(s)")->check(kFitsInt64);
                           app.add_option("--pad-token-id", a->pad_token_id, "padding id")->check(kFitsInt64);
                           app.add_option("--stop", a->stop, "stop strings");
                           app.add_option("--kwargs", a->kwargs, "further generate() kwargs as a JSON object");
                           app.add_flag("--no-cache", a->no_cache, "recompute the whole sequence every step");
                           app.add_option("--dtype", a->dtype, "weight dtype: float32 (default) or bfloat16");
                           app.add_flag("--json", a->json_out, "print ids (and text) as JSON instead of streaming text");
                           app.add_flag("--chat", a->chat, "chat model: PROMPT (or each stdin line) is a user message, "
                                        "rendered with the chat template; streams the reply");
                           app.add_option("--system", a->system, "--chat: a system message first");
                           app.add_option("--template-kwargs", a->template_kwargs,
                                          "--chat: extra chat-template variables as a JSON object");
                           add_hub_options(app, a->hub);
                           add_progress_options(app);
                           return [a] { return run_generate(*a); };
                         }}};

}  // namespace
}  // namespace cppformers::cli
