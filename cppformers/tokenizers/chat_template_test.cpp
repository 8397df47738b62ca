// apply_chat_template against real jinja2 renders (testdata/chat_goldens.json, made by
// testdata/make_chat_goldens.py with transformers' environment and render variables): the chat
// templates of the qwen3 and deepseek_v3 fixtures (read from ../shared/fixtures at test time) and
// hand-written templates in the style of common families, over several conversations; plus how
// templates are found in a folder and chosen by name.
#include "cppformers/tokenizers/chat_template.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppformers/tokenizers/auto_tokenizer.hpp"
#include "cppformers/tokenizers/test_util.hpp"

namespace cppformers::tokenizers {
namespace {

using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

const ojson& goldens() {
  static const ojson g = [] {
    const std::string path = std::string(CPPFORMERS_SOURCE_DIR) + "/cppformers/tokenizers/testdata/chat_goldens.json";
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ojson::parse(ss.str());
  }();
  return g;
}

ChatTemplateOptions options_from(const ojson& settings) {
  ChatTemplateOptions o;
  for (auto it = settings.begin(); it != settings.end(); ++it) {
    const std::string& k = it.key();
    if (k == "add_generation_prompt") o.add_generation_prompt = it.value().get<bool>();
    else if (k == "continue_final_message") o.continue_final_message = it.value().get<bool>();
    else if (k == "tools") o.tools = it.value();
    else if (k == "documents") o.documents = it.value();
    else o.kwargs[k] = it.value();
  }
  return o;
}

// "OK:<text>" or "<kind>:<message>", kinds as the goldens name them.
template <class F>
std::string outcome(F&& f) {
  try {
    return "OK:" + f();
  } catch (const jinja::TemplateRaised& e) {
    return std::string("raised:") + e.what();
  } catch (const jinja::TemplateSyntaxError& e) {
    return std::string("syntax:") + e.what();
  } catch (const jinja::TemplateRuntimeError& e) {
    return std::string("runtime:") + e.what();
  } catch (const ValueError& e) {  // continue_final_message without the final text
    return std::string("runtime:") + e.what();
  }
}

void expect_matches(const std::string& got, const ojson& rec) {
  if (rec.contains("output")) {
    EXPECT_EQ(got, "OK:" + rec["output"].get<std::string>());
  } else {
    const std::string kind = rec["error"];
    EXPECT_EQ(got.substr(0, kind.size() + 1), kind + ":") << got << "\n  jinja2: " << rec["message"];
    if (kind == "raised") {
      EXPECT_EQ(got, "raised:" + rec["message"].get<std::string>());
    }
  }
}

TEST(ChatTemplate, FixtureTemplatesMatchJinja2) {
  const ojson& g = goldens();
  std::map<std::string, AutoTokenizer> toks;
  size_t n = 0, tokenized = 0;
  for (const auto& rec : g["fixtures"]) {
    const std::string fixture = rec["fixture"];
    if (!toks.count(fixture)) toks.emplace(fixture, AutoTokenizer::from_pretrained(testing::fixtures_dir() + "/" + fixture));
    const AutoTokenizer& tok = toks.at(fixture);
    ASSERT_TRUE(tok.chat_templates.single.has_value()) << fixture;
    // the special tokens a template sees are transformers' special_tokens_map
    ojson expected_map = rec["special_tokens"], ours = ojson::object();
    for (const auto& [k, v] : tok.special_tokens_map()) ours[k] = v.to_json();
    EXPECT_EQ(ours.dump(), expected_map.dump()) << fixture;

    const std::string conv = rec["conversation"];
    SCOPED_TRACE(fixture + " / " + conv + " / " + rec["settings"].dump().substr(0, 120));
    const ojson& messages = g["conversations"][conv];
    ChatTemplateOptions o = options_from(rec["settings"]);
    o.tokenize = false;
    expect_matches(outcome([&] { return tok.apply_chat_template(messages, o).text; }), rec);
    if (rec.contains("output") && tokenized < 6) {  // tokenized as tok(text, add_special_tokens=False)
      o.tokenize = true;
      ChatTemplateOutput out = tok.apply_chat_template(messages, o);
      EXPECT_EQ(out.input_ids, tok.encode(rec["output"].get<std::string>(), false));
      EXPECT_EQ(out.attention_mask, std::vector<int64_t>(out.input_ids.size(), 1));
      ++tokenized;
    }
    ++n;
  }
  EXPECT_GE(n, 40u);
}

TEST(ChatTemplate, FixtureSpecialTokensAreNotAddedTwice) {
  // DeepSeek's template writes bos_token itself; apply_chat_template tokenizes without adding it again.
  AutoTokenizer tok = AutoTokenizer::from_pretrained(testing::fixtures_dir() + "/deepseek_v3");
  ChatTemplateOptions o;
  o.add_generation_prompt = true;
  ChatTemplateOutput out = tok.apply_chat_template(ojson::parse(R"([{"role": "user", "content": "Hi"}])"), o);
  EXPECT_EQ(out.text, "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>");
  const int64_t bos = *tok.token_to_id("<｜begin▁of▁sentence｜>");
  ASSERT_FALSE(out.input_ids.empty());
  EXPECT_EQ(out.input_ids[0], bos);
  EXPECT_EQ(std::count(out.input_ids.begin(), out.input_ids.end(), bos), 1);
  EXPECT_EQ(out.input_ids.back(), *tok.token_to_id("<｜Assistant｜>"));
}

TEST(ChatTemplate, FamilyStyleTemplatesMatchJinja2) {
  const ojson& g = goldens();
  size_t n = 0;
  for (const auto& rec : g["families"]) {
    const std::string fam = rec["family"], conv = rec["conversation"];
    SCOPED_TRACE(fam + " / " + conv + " / " + rec["settings"].dump().substr(0, 120));
    std::vector<std::pair<std::string, jinja::Value>> special;
    for (auto it = rec["special_tokens"].begin(); it != rec["special_tokens"].end(); ++it)
      special.emplace_back(it.key(), jinja::Value::from_json(it.value()));
    const ChatTemplateOptions o = options_from(rec["settings"]);
    const jinja::Value messages = jinja::Value::from_json(g["conversations"][conv]);
    const std::string tpl = g["family_templates"][fam];
    expect_matches(outcome([&] { return render_chat_template(tpl, messages, o, special); }), rec);
    ++n;
  }
  EXPECT_GE(n, 150u);
}

// A tokenizer folder made at test time from a fixture tokenizer.json plus the given files.
struct TempFolder {
  fs::path dir;
  explicit TempFolder(const std::string& name) {
    dir = fs::temp_directory_path() / ("cppformers_chat_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::copy_file(testing::fixtures_dir() + "/gpt2/tokenizer.json", dir / "tokenizer.json");
  }
  ~TempFolder() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void write(const std::string& rel, const std::string& text) const {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel, std::ios::binary) << text;
  }
  AutoTokenizer load() const { return AutoTokenizer::from_pretrained(dir.string()); }
};

const ojson kChat = ojson::parse(R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}])");

std::string text_of(const AutoTokenizer& tok, ChatTemplateOptions o = {}) {
  o.tokenize = false;
  return tok.apply_chat_template(kChat, o).text;
}

TEST(ChatTemplate, ChoosesNamedTemplatesAsTransformers) {
  TempFolder f("named");
  f.write("tokenizer_config.json", R"({"eos_token": "<|endoftext|>", "chat_template": [
      {"name": "default", "template": "D{{ messages | length }}{{ eos_token }}"},
      {"name": "tool_use", "template": "T{{ tools | length }}"},
      {"name": "rag", "template": "R{{ documents[0].title }}"}]})");
  AutoTokenizer tok = f.load();
  EXPECT_FALSE(tok.chat_templates.single);
  ASSERT_EQ(tok.chat_templates.named.size(), 3u);
  EXPECT_EQ(text_of(tok), "D2<|endoftext|>");
  ChatTemplateOptions o;
  o.tools = ojson::parse(R"([{"type": "function"}])");
  EXPECT_EQ(text_of(tok, o), "T1");  // tools given: "tool_use" unless a template is named
  o.chat_template = "default";
  EXPECT_EQ(text_of(tok, o), "D2<|endoftext|>");
  ChatTemplateOptions r;
  r.chat_template = "rag";
  r.documents = ojson::parse(R"([{"title": "Doc", "text": "x"}])");
  EXPECT_EQ(text_of(tok, r), "RDoc");
  r.chat_template = "{{ 'inline ' ~ messages[1].content }}";  // not a name: the template itself
  EXPECT_EQ(text_of(tok, r), "inline Yo");
  // tokenized without special tokens
  EXPECT_EQ(tok.apply_chat_template(kChat).input_ids, tok.encode("D2<|endoftext|>", false));
}

TEST(ChatTemplate, MissingOrAmbiguousTemplatesAreClearErrors) {
  TempFolder f("none");
  f.write("tokenizer_config.json", R"({"eos_token": "</s>"})");
  AutoTokenizer tok = f.load();
  EXPECT_TRUE(tok.chat_templates.empty());
  try {
    text_of(tok);
    FAIL() << "no template: expected an error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("chat_template is not set"), std::string::npos) << e.what();
  }
  ChatTemplateOptions o;
  o.chat_template = "{{ messages[0].content }}!";
  EXPECT_EQ(text_of(tok, o), "Hi!");

  TempFolder g("nodefault");
  g.write("tokenizer_config.json", R"({"chat_template": [{"name": "a", "template": "A"}, {"name": "b", "template": "B"}]})");
  try {
    text_of(g.load());
    FAIL() << "several templates without a default: expected an error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("['a', 'b']"), std::string::npos) << e.what();
  }
  TempFolder h("badfield");
  h.write("tokenizer_config.json", R"({"chat_template": [{"name": "a"}]})");
  EXPECT_THROW(h.load(), FormatError);
  // a broken template: the error names its line
  ChatTemplateOptions bad;
  bad.chat_template = "{% for m in messages %}\n{{ m.role }";
  try {
    text_of(tok, bad);
    FAIL();
  } catch (const jinja::TemplateSyntaxError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  // kwargs may not replace the call's own arguments
  ChatTemplateOptions clash;
  clash.chat_template = "x";
  clash.kwargs["messages"] = ojson::array();
  EXPECT_THROW(text_of(tok, clash), ValueError);
  ChatTemplateOptions both;
  both.chat_template = "x";
  both.add_generation_prompt = both.continue_final_message = true;
  EXPECT_THROW(text_of(tok, both), ValueError);
}

TEST(ChatTemplate, TemplateFilesTakePriority) {
  TempFolder f("files");
  f.write("tokenizer_config.json", R"({"bos_token": "<s>", "chat_template": "config {{ bos_token }}"})");
  EXPECT_EQ(text_of(f.load()), "config <s>");
  f.write("chat_template.json", R"({"chat_template": "json {{ bos_token }}"})");
  EXPECT_EQ(text_of(f.load()), "json <s>");
  f.write("chat_template.jinja", "jinja {{ bos_token }}\n");  // one trailing newline is dropped, as jinja2 does
  AutoTokenizer tok = f.load();
  EXPECT_EQ(text_of(tok), "jinja <s>");
  EXPECT_TRUE(tok.chat_templates.single.has_value());
  f.write("additional_chat_templates/tool_use.jinja", "tools {{ tools | tojson }}");
  tok = f.load();
  ASSERT_EQ(tok.chat_templates.named.size(), 2u);
  EXPECT_EQ(text_of(tok), "jinja <s>");
  ChatTemplateOptions o;
  o.tools = ojson::parse(R"([{"b": 1, "a": "é"}])");
  EXPECT_EQ(text_of(tok, o), R"(tools [{"b": 1, "a": "é"}])");
  // special_tokens_map.json entries override tokenizer_config.json's
  f.write("special_tokens_map.json", R"({"bos_token": {"content": "<BOS>"}, "additional_special_tokens": ["<x>", "<y>"]})");
  tok = f.load();
  EXPECT_EQ(text_of(tok), "jinja <BOS>");
  ChatTemplateOptions extra;
  extra.chat_template = "{{ additional_special_tokens | join(',') }}|{{ bos_token }}|{{ enable_thinking }}";
  extra.kwargs["enable_thinking"] = false;
  extra.kwargs["bos_token"] = "<override>";  // kwargs override the special tokens
  EXPECT_EQ(text_of(tok, extra), "<x>,<y>|<override>|False");
}

TEST(ChatTemplate, ContinueFinalMessage) {
  TempFolder f("continue");
  f.write("tokenizer_config.json", R"({"chat_template": "{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>\n{% endfor %}"})");
  AutoTokenizer tok = f.load();
  ChatTemplateOptions o;
  o.continue_final_message = true;
  o.tokenize = false;
  auto msgs = ojson::parse(R"([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Sure, here  "}])");
  EXPECT_EQ(tok.apply_chat_template(msgs, o).text, "<user>Hi</user>\n<assistant>Sure, here");
  // list content: the last part's text
  msgs = ojson::parse(R"([{"role": "assistant", "content": [{"type": "text", "text": "Part"}]}])");
  o.chat_template = "{{ messages[0].content[0].text }} and more";
  EXPECT_EQ(tok.apply_chat_template(msgs, o).text, "Part");
}

}  // namespace
}  // namespace cppformers::tokenizers
