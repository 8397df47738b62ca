#include "cppformers/tokenizers/chat_template.hpp"

#include <algorithm>

#include "cppformers/tokenizers/jinja_util.hpp"

namespace cppformers::tokenizers {

std::string select_chat_template(const ChatTemplates& t, const std::optional<std::string>& requested, bool has_tools) {
  if (!t.named.empty()) {
    auto find = [&](const std::string& name) -> const std::string* {
      for (const auto& [n, text] : t.named)
        if (n == name) return &text;
      return nullptr;
    };
    if (requested) {
      if (const std::string* s = find(*requested)) return *s;
      return *requested;  // not a name: the template itself
    }
    if (has_tools)
      if (const std::string* s = find("tool_use")) return *s;
    if (const std::string* s = find("default")) return *s;
    std::string names;
    for (const auto& [n, text] : t.named) names += (names.empty() ? "'" : ", '") + n + "'";
    throw ValueError(
        "This model has multiple chat templates with no default specified! Please either pass a chat template or "
        "the name of the template you wish to use to the `chat_template` argument. Available template names are [" +
        names + "].");
  }
  if (requested) return *requested;
  if (t.single) return *t.single;
  throw ValueError(
      "Cannot use chat template functions because tokenizer.chat_template is not set and no template argument was "
      "passed! (a tokenizer folder gives one in tokenizer_config.json's \"chat_template\", or in chat_template.jinja)");
}

std::string render_chat_template(const std::string& template_text, const jinja::Value& messages,
                                 const ChatTemplateOptions& o,
                                 const std::vector<std::pair<std::string, jinja::Value>>& special_tokens) {
  using jinja::Value;
  if (o.continue_final_message && o.add_generation_prompt)
    throw ValueError(
        "continue_final_message and add_generation_prompt are not compatible. Use continue_final_message when you "
        "want the model to continue the final message, and add_generation_prompt when you want to add a header that "
        "will prompt it to start a new assistant message instead.");
  if (!o.kwargs.is_null() && !o.kwargs.is_object()) throw ValueError("apply_chat_template: kwargs must be a JSON object");
  // transformers: template.render(messages=..., tools=..., documents=..., add_generation_prompt=...,
  //                               **{**special_tokens_map, **kwargs})
  std::vector<std::pair<std::string, Value>> vars;
  vars.emplace_back("messages", messages);
  vars.emplace_back("tools", o.tools ? Value::from_json(*o.tools) : Value::none());
  vars.emplace_back("documents", o.documents ? Value::from_json(*o.documents) : Value::none());
  vars.emplace_back("add_generation_prompt", Value(o.add_generation_prompt));
  auto set = [&](const std::string& k, Value v) {
    for (auto& kv : vars)
      if (kv.first == k) {
        kv.second = std::move(v);
        return;
      }
    vars.emplace_back(k, std::move(v));
  };
  for (const auto& [k, v] : special_tokens) set(k, v);
  if (o.kwargs.is_object())
    for (auto it = o.kwargs.begin(); it != o.kwargs.end(); ++it) {
      const std::string& k = it.key();
      if (k == "messages" || k == "tools" || k == "documents" || k == "add_generation_prompt")
        throw ValueError("apply_chat_template: '" + k + "' is an argument of its own, not one of the extra kwargs");
      set(k, Value::from_json(it.value()));
    }
  std::string rendered = jinja::Template(template_text).render(vars);
  if (o.continue_final_message) {
    // Cut the render just after the final message's text (stripped, as transformers does).
    if (!messages.is_list() || messages.items().empty())
      throw ValueError("continue_final_message needs at least one message");
    const Value& last = messages.items().back();
    Value content = last.is_dict() && last.dict_data().find(Value("content")) ? *last.dict_data().find(Value("content"))
                                                                            : Value();
    if (content.is_list() && !content.items().empty()) {
      const Value& part = content.items().back();
      content = part.is_dict() && part.dict_data().find(Value("text")) ? *part.dict_data().find(Value("text")) : Value();
    }
    if (!content.is_string()) throw ValueError("continue_final_message: the final message has no text content");
    std::u32string u = jinja::util::decode(content.str_ref());  // str.strip(): Unicode whitespace
    size_t b = 0, e = u.size();
    while (b < e && jinja::util::is_space(u[b])) ++b;
    while (e > b && jinja::util::is_space(u[e - 1])) --e;
    const std::string final = jinja::util::encode(std::u32string_view(u).substr(b, e - b));
    const size_t at = rendered.rfind(final);  // str.rindex
    if (at == std::string::npos)
      throw ValueError("continue_final_message: the final message's text does not appear in the rendered chat");
    std::u32string r = jinja::util::decode(std::string_view(rendered).substr(0, at + final.size()));
    while (!r.empty() && jinja::util::is_space(r.back())) r.pop_back();  // .rstrip()
    rendered = jinja::util::encode(r);
  }
  return rendered;
}

void parse_chat_template_field(const nlohmann::json& field, const std::string& where, ChatTemplates& out) {
  if (field.is_null()) return;
  if (field.is_string()) {
    out.single = field.get<std::string>();
    out.named.clear();
    return;
  }
  if (field.is_array()) {
    ChatTemplates t;
    for (size_t i = 0; i < field.size(); ++i) {
      const auto& e = field[i];
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("template") ||
          !e["template"].is_string())
        throw FormatError(where + ": chat_template[" + std::to_string(i) +
                          "]: expected {\"name\": string, \"template\": string}");
      t.named.emplace_back(e["name"].get<std::string>(), e["template"].get<std::string>());
    }
    out = std::move(t);
    return;
  }
  if (field.is_object()) {  // {name: template}, as some tools write it
    ChatTemplates t;
    for (auto it = field.begin(); it != field.end(); ++it) {
      if (!it.value().is_string()) throw FormatError(where + ": chat_template." + it.key() + ": expected a string");
      t.named.emplace_back(it.key(), it.value().get<std::string>());
    }
    out = std::move(t);
    return;
  }
  throw FormatError(where + ": chat_template: expected a string or a list of {\"name\", \"template\"}");
}

}  // namespace cppformers::tokenizers
