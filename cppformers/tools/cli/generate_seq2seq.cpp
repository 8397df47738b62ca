// The encoder-decoder branch of `cppformers generate` (T5, BART, Whisper): with --inputs the
// encoder inputs come from a safetensors file (input_ids + attention_mask, or input_features)
// and the ids are printed as JSON; with a PROMPT the text is tokenized as the encoder input.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cppformers/generation/encoder_decoder.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/tokenizers/auto_tokenizer.hpp"

namespace cppformers::cli {

bool is_encoder_decoder_folder(const std::string& dir) { return is_encoder_decoder_model(dir); }

int run_seq2seq_generate(const std::string& dir, PreTrainedModel& model, const std::string& inputs,
                         const std::string& prompt, const GenerationConfig& cfg, const nlohmann::json& kwargs) {
  auto* s2s = dynamic_cast<Seq2SeqLM*>(&model);
  if (!s2s) throw NotSupportedError(dir + ": " + model.class_name() + " cannot generate");
  Seq2SeqGenerationExtras extras = Seq2SeqGenerationExtras::from_pretrained(dir, *s2s);
  extras.update(kwargs);
  std::unique_ptr<AutoTokenizer> tok;
  ModelInputs in;
  if (!inputs.empty()) {
    in = ModelInputs::from_tensors(io::load_file(inputs));
    if (!in.input_ids.defined() && !in.input_features.defined())
      throw ValueError(inputs + ": no 'input_ids' or 'input_features' tensor");
  } else {
    tok = std::make_unique<AutoTokenizer>(AutoTokenizer::from_pretrained(dir));
    std::vector<int64_t> ids = tok->encode(prompt);
    in.input_ids = Tensor::from_vector(ids, {1, int64_t(ids.size())});
    in.attention_mask = Tensor::ones({1, int64_t(ids.size())}, kI64);
  }
  // The ids (and, from a prompt, the texts) as JSON; what was generated is printed before an
  // error that stopped generation early.
  auto print = [&](const GenerateOutput& out) {
    nlohmann::json j;
    j["sequences"] = out.sequences;
    if (tok) {
      std::vector<std::string> texts;
      for (auto& s : out.sequences) texts.push_back(tok->decode(s, true));
      j["generated_text"] = texts;
    }
    if (!out.sequences_scores.empty()) j["sequences_scores"] = out.sequences_scores;
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  };
  try {
    print(generate_seq2seq(*s2s, in, cfg, extras));
  } catch (const GenerationError& e) {
    print(e.partial);
    throw;
  }
  return 0;
}

}  // namespace cppformers::cli
