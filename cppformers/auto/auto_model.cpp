#include "cppformers/auto/auto_model.hpp"

#include <filesystem>
#include <functional>
#include <map>

#include "cppformers/io/hub.hpp"
#include "cppformers/io/json.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/models/bert/modeling.hpp"
#include "cppformers/models/distilbert/modeling.hpp"
#include "cppformers/models/gemma/config.hpp"
#include "cppformers/models/gemma2/config.hpp"
#include "cppformers/models/gpt2/modeling.hpp"
#include "cppformers/models/llama/modeling.hpp"
#include "cppformers/models/mistral/config.hpp"
#include "cppformers/models/phi3/config.hpp"
#include "cppformers/models/qwen2/config.hpp"
#include "cppformers/models/roberta/modeling.hpp"
#include "cppformers/models/vit/modeling.hpp"
#include "cppformers/models/clip/modeling.hpp"
#include "cppformers/models/wav2vec2/modeling.hpp"
#include "cppformers/models/t5/modeling.hpp"
#include "cppformers/models/bart/modeling.hpp"
#include "cppformers/models/whisper/modeling.hpp"

namespace cppformers {

namespace fs = std::filesystem;
using nlohmann::json;

const char* task_name(Task t) {
  switch (t) {
    case Task::kBase: return "AutoModel";
    case Task::kSequenceClassification: return "AutoModelForSequenceClassification";
    case Task::kTokenClassification: return "AutoModelForTokenClassification";
    case Task::kQuestionAnswering: return "AutoModelForQuestionAnswering";
    case Task::kMaskedLM: return "AutoModelForMaskedLM";
    case Task::kCausalLM: return "AutoModelForCausalLM";
    case Task::kImageClassification: return "AutoModelForImageClassification";
    case Task::kZeroShotImageClassification: return "AutoModelForZeroShotImageClassification";
    case Task::kCTC: return "AutoModelForCTC";
    case Task::kSeq2SeqLM: return "AutoModelForSeq2SeqLM";
    case Task::kSpeechSeq2Seq: return "AutoModelForSpeechSeq2Seq";
  }
  return "?";
}

namespace {

using ConfigParser = std::function<std::shared_ptr<PretrainedConfig>(const json&, const std::string&)>;
using Builder = std::function<std::shared_ptr<PreTrainedModel>(const PretrainedConfig&)>;

struct ModelClass {
  Task task;
  std::string name;  // the HF class name, as in config.json's architectures
  Builder build;
};
struct Family {
  std::vector<std::string> model_types;
  ConfigParser parse;
  std::vector<ModelClass> classes;
};

template <class C>
ConfigParser parser(C (*f)(const json&, const std::string&)) {
  return [f](const json& j, const std::string& file) { return std::make_shared<C>(f(j, file)); };
}
template <class M, class C, class... Extra>
Builder builder(Extra... extra) {
  return [=](const PretrainedConfig& c) {
    return std::shared_ptr<PreTrainedModel>(std::make_shared<M>(static_cast<const C&>(c), extra...));
  };
}

std::vector<ModelClass> llama_family_classes(const std::string& prefix) {
  return {{Task::kBase, prefix + "Model", builder<LlamaModel, LlamaConfig>()},
          {Task::kCausalLM, prefix + "ForCausalLM", builder<LlamaForCausalLM, LlamaConfig>()}};
}

// One entry per architecture family: adding an architecture is a folder under models/ plus a line here.
const std::vector<Family>& families() {
  static const std::vector<Family> all = {
      {{"bert"}, parser(&BertConfig::from_json),
       {{Task::kBase, "BertModel", builder<BertModel, BertConfig>(true)},
        {Task::kSequenceClassification, "BertForSequenceClassification", builder<BertForSequenceClassification, BertConfig>()},
        {Task::kTokenClassification, "BertForTokenClassification", builder<BertForTokenClassification, BertConfig>(false)},
        {Task::kQuestionAnswering, "BertForQuestionAnswering", builder<BertForQuestionAnswering, BertConfig>(false)},
        {Task::kMaskedLM, "BertForMaskedLM", builder<BertForMaskedLM, BertConfig>()}}},
      {{"roberta", "xlm-roberta"}, parser(&roberta_config_from_json),
       {{Task::kBase, "RobertaModel", [](const PretrainedConfig& c) {
           return std::shared_ptr<PreTrainedModel>(make_roberta_model(static_cast<const BertConfig&>(c)));
         }},
        {Task::kSequenceClassification, "RobertaForSequenceClassification", builder<RobertaForSequenceClassification, BertConfig>()},
        {Task::kTokenClassification, "RobertaForTokenClassification", builder<BertForTokenClassification, BertConfig>(true)},
        {Task::kQuestionAnswering, "RobertaForQuestionAnswering", builder<BertForQuestionAnswering, BertConfig>(true)},
        {Task::kMaskedLM, "RobertaForMaskedLM", builder<RobertaForMaskedLM, BertConfig>()}}},
      {{"distilbert"}, parser(&DistilBertConfig::from_json),
       {{Task::kBase, "DistilBertModel", builder<DistilBertModel, DistilBertConfig>()},
        {Task::kSequenceClassification, "DistilBertForSequenceClassification", builder<DistilBertForSequenceClassification, DistilBertConfig>()},
        {Task::kTokenClassification, "DistilBertForTokenClassification", builder<DistilBertForTokenClassification, DistilBertConfig>()},
        {Task::kQuestionAnswering, "DistilBertForQuestionAnswering", builder<DistilBertForQuestionAnswering, DistilBertConfig>()},
        {Task::kMaskedLM, "DistilBertForMaskedLM", builder<DistilBertForMaskedLM, DistilBertConfig>()}}},
      {{"gpt2"}, parser(&GPT2Config::from_json),
       {{Task::kBase, "GPT2Model", builder<GPT2Model, GPT2Config>()},
        {Task::kCausalLM, "GPT2LMHeadModel", builder<GPT2LMHeadModel, GPT2Config>()}}},
      // The Llama family: one implementation (models/llama), one config parser per member.
      {{"llama"}, parser(&LlamaConfig::from_json), llama_family_classes("Llama")},
      {{"mistral"}, parser(&mistral_config_from_json), llama_family_classes("Mistral")},
      {{"qwen2"}, parser(&qwen2_config_from_json), llama_family_classes("Qwen2")},
      {{"gemma"}, parser(&gemma_config_from_json), llama_family_classes("Gemma")},
      {{"gemma2"}, parser(&gemma2_config_from_json), llama_family_classes("Gemma2")},
      {{"phi3"}, parser(&phi3_config_from_json), llama_family_classes("Phi3")},
      // Vision and audio (models/vit, clip, wav2vec2).
      {{"vit"}, parser(&ViTConfig::from_json),
       {{Task::kBase, "ViTModel", builder<ViTModel, ViTConfig>()},
        {Task::kImageClassification, "ViTForImageClassification", builder<ViTForImageClassification, ViTConfig>()}}},
      {{"clip"}, parser(&CLIPConfig::from_json),
       {{Task::kBase, "CLIPModel", builder<CLIPModel, CLIPConfig>()},
        {Task::kZeroShotImageClassification, "CLIPModel", builder<CLIPModel, CLIPConfig>()}}},
      {{"wav2vec2"}, parser(&Wav2Vec2Config::from_json),
       {{Task::kBase, "Wav2Vec2Model", builder<Wav2Vec2Model, Wav2Vec2Config>()},
        {Task::kCTC, "Wav2Vec2ForCTC", builder<Wav2Vec2ForCTC, Wav2Vec2Config>()}}},
      // Encoder-decoders (models/t5, bart, whisper).
      {{"t5", "mt5"}, parser(&T5Config::from_json),
       {{Task::kSeq2SeqLM, "T5ForConditionalGeneration", builder<T5ForConditionalGeneration, T5Config>()}}},
      {{"bart"}, parser(&BartConfig::from_json),
       {{Task::kSeq2SeqLM, "BartForConditionalGeneration", builder<BartForConditionalGeneration, BartConfig>()}}},
      // mBART and Marian: the BART implementation with their config's architecture flags.
      {{"mbart"}, parser(&BartConfig::from_json),
       {{Task::kSeq2SeqLM, "MBartForConditionalGeneration", builder<BartForConditionalGeneration, BartConfig>()}}},
      {{"marian"}, parser(&BartConfig::from_json),
       {{Task::kSeq2SeqLM, "MarianMTModel", builder<BartForConditionalGeneration, BartConfig>()}}},
      {{"whisper"}, parser(&WhisperConfig::from_json),
       {{Task::kSpeechSeq2Seq, "WhisperForConditionalGeneration",
         builder<WhisperForConditionalGeneration, WhisperConfig>()}}},
  };
  return all;
}

struct Loaded {
  json j;
  std::string file;
  const Family* family;
};

Loaded read_config_file(const std::string& file);

Loaded read_config(const std::string& dir) {
  if (!fs::is_directory(dir))
    throw IOError(dir + ": not a model folder (no such directory)");
  const std::string file = (fs::path(dir) / "config.json").string();
  if (!fs::exists(file)) throw IOError(dir + ": no config.json in the model folder");
  return read_config_file(file);
}

Loaded read_config_file(const std::string& file) {
  json j = io::read_json_file(file);
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
  if (j.contains("auto_map"))
    throw NotSupportedError(file + ": the config asks for custom Python code ('auto_map': " + j["auto_map"].dump() +
                            "); cppformers never runs code from a model folder");
  const std::string type = io::json_get<std::string>(j, "model_type", "", file);
  if (type.empty()) throw FormatError(file + ": key 'model_type' is missing");
  for (const Family& f : families())
    for (const std::string& t : f.model_types)
      if (t == type) return {j, file, &f};
  std::string known;
  for (const std::string& t : known_model_types()) known += (known.empty() ? "" : ", ") + t;
  throw NotSupportedError(file + ": model_type '" + type + "' is not supported (known: " + known + ")");
}

std::string xlm_name(const std::string& class_name, const std::string& model_type) {
  if (model_type == "xlm-roberta" && class_name.rfind("Roberta", 0) == 0) return "XLM" + class_name;
  return class_name;
}

const ModelClass& pick_class(const Loaded& l, Task task, bool from_architectures) {
  const std::string type = l.j.value("model_type", "");
  if (from_architectures) {
    const auto archs = io::json_get<std::vector<std::string>>(l.j, "architectures", {}, l.file);
    if (!archs.empty()) {
      std::string names;
      for (const ModelClass& mc : l.family->classes) {
        if (archs[0] == mc.name || archs[0] == xlm_name(mc.name, type)) return mc;
        names += (names.empty() ? "" : ", ") + xlm_name(mc.name, type);
      }
      throw NotSupportedError(l.file + ": architecture '" + archs[0] + "' is not supported (known for '" + type +
                              "': " + names + ")");
    }
  }
  for (const ModelClass& mc : l.family->classes)
    if (mc.task == task) return mc;
  throw NotSupportedError(l.file + ": " + std::string(task_name(task)) + " has no class for model_type '" + type + "'");
}

std::shared_ptr<PreTrainedModel> build_and_load(const Loaded& l, const ModelClass& mc, const std::string& dir,
                                                const FromPretrainedOptions& opts) {
  std::shared_ptr<PretrainedConfig> cfg = l.family->parse(l.j, l.file);
  apply_label_options(*cfg, opts);
  std::shared_ptr<PreTrainedModel> model = mc.build(*cfg);
  model->load_pretrained(io::load_checkpoint(dir, opts.dtype), opts, dir);
  model->eval();
  return model;
}

}  // namespace

std::vector<std::string> known_model_types() {
  std::vector<std::string> out;
  for (const Family& f : families()) out.insert(out.end(), f.model_types.begin(), f.model_types.end());
  return out;
}

std::shared_ptr<PretrainedConfig> AutoConfig::from_pretrained(const std::string& id_or_dir, const FromPretrainedOptions& opts) {
  // A Hub id: only config.json is fetched (a cached one is used without a request).
  io::HubOptions config_only = opts.hub_options();
  config_only.allow_patterns = {"config.json"};
  const std::string dir = io::resolve_model(id_or_dir, config_only);
  Loaded l = read_config(dir);
  return l.family->parse(l.j, l.file);
}

std::shared_ptr<PreTrainedModel> load_auto_model(const std::string& id_or_dir, Task task, const FromPretrainedOptions& opts) {
  // A local folder as is; a Hub id via the cache (revision, token, ... from opts).
  const std::string dir = io::resolve_model(id_or_dir, opts.hub_options());
  Loaded l = read_config(dir);
  return build_and_load(l, pick_class(l, task, false), dir, opts);
}

std::shared_ptr<PreTrainedModel> load_model_from_architectures(const std::string& id_or_dir, const FromPretrainedOptions& opts) {
  const std::string dir = io::resolve_model(id_or_dir, opts.hub_options());  // as load_auto_model
  Loaded l = read_config(dir);
  return build_and_load(l, pick_class(l, Task::kBase, true), dir, opts);
}

std::shared_ptr<PreTrainedModel> model_from_config(const std::string& config_file, Task task, bool from_architectures) {
  Loaded l = read_config_file(config_file);
  std::shared_ptr<PretrainedConfig> cfg = l.family->parse(l.j, l.file);
  std::shared_ptr<PreTrainedModel> model = pick_class(l, task, from_architectures).build(*cfg);
  model->init_weights();
  model->apply_ties();
  return model;
}

}  // namespace cppformers
