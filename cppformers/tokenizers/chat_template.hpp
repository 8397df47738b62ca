#pragma once
// Chat templates as transformers applies them (PreTrainedTokenizerBase.apply_chat_template):
// choosing the template (a single one, or one of several named ones), the render variables
// (messages, tools, documents, add_generation_prompt, the special tokens, extra keyword
// arguments) and continue_final_message. The Jinja engine is tokenizers/jinja.hpp.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cppformers/tokenizers/jinja.hpp"

namespace cppformers::tokenizers {

struct ChatTemplateOptions {
  bool add_generation_prompt = false;
  // Leave the final (assistant) message open for the model to continue: the render is cut just
  // after that message's text (incompatible with add_generation_prompt).
  bool continue_final_message = false;
  std::optional<nlohmann::ordered_json> tools;      // a list of JSON tool schemas
  std::optional<nlohmann::ordered_json> documents;  // a list of {"title", "text"} (RAG templates)
  // The name of one of the tokenizer's templates, or a template's text itself.
  std::optional<std::string> chat_template;
  // Further variables for the template (e.g. {"enable_thinking": false}); they override the
  // special tokens of the same name.
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();
  // Tokenizing the render (AutoTokenizer::apply_chat_template): as tok(text, add_special_tokens=False).
  bool tokenize = true;
  bool truncation = false;
  std::optional<size_t> max_length;
};

struct ChatTemplateOutput {
  std::string text;                     // the rendered prompt
  std::vector<int64_t> input_ids;       // with tokenize (else empty)
  std::vector<int64_t> attention_mask;  // with tokenize (else empty)
};

// The tokenizer's templates: either one (`single`) or several by name (`named`, as a list of
// {"name", "template"} in tokenizer_config.json or additional_chat_templates/*.jinja give).
struct ChatTemplates {
  std::optional<std::string> single;
  std::vector<std::pair<std::string, std::string>> named;
  bool empty() const { return !single && named.empty(); }
};

// transformers' get_chat_template: the template text to use for a call.
std::string select_chat_template(const ChatTemplates& templates, const std::optional<std::string>& requested,
                                 bool has_tools);

// Renders `template_text` with transformers' variables. `special_tokens` are the tokenizer's
// special_tokens_map (bos_token, eos_token, ..., additional_special_tokens) as strings.
std::string render_chat_template(const std::string& template_text, const jinja::Value& messages,
                                 const ChatTemplateOptions& options,
                                 const std::vector<std::pair<std::string, jinja::Value>>& special_tokens);

// Reads the `chat_template` entry of tokenizer_config.json (a string, or a list of
// {"name", "template"}) into `out`; `where` names the file in errors.
void parse_chat_template_field(const nlohmann::json& field, const std::string& where, ChatTemplates& out);

}  // namespace cppformers::tokenizers
