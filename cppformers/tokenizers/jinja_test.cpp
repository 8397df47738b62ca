// The Jinja engine against renders of the real jinja2 3.1 (testdata/chat_goldens.json, written by
// testdata/make_chat_goldens.py with transformers' environment), plus error locations, limits
// and fuzz-ish garbage that must fail cleanly.
#include "cppformers/tokenizers/jinja.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

namespace cppformers::tokenizers::jinja {
namespace {

using ojson = nlohmann::ordered_json;

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

// Renders `tpl` with `ctx`: "OK:<output>" or "<kind>:<message>".
std::string run(const std::string& tpl, const ojson& ctx = ojson::object()) {
  try {
    return "OK:" + Template(tpl).render(ctx);
  } catch (const TemplateSyntaxError& e) {
    return std::string("syntax:") + e.what();
  } catch (const TemplateRaised& e) {
    return std::string("raised:") + e.what();
  } catch (const TemplateRuntimeError& e) {
    return std::string("runtime:") + e.what();
  }
}

TEST(Jinja, FeatureGoldensFromJinja2) {
  const ojson& g = goldens();
  ASSERT_GE(g["features"].size(), 150u);
  size_t n = 0;
  for (const auto& c : g["features"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name + ": " + c["template"].get<std::string>());
    const std::string got = run(c["template"], c["context"]);
    if (c.contains("output")) {
      EXPECT_EQ(got, "OK:" + c["output"].get<std::string>());
    } else {
      const std::string kind = c["error"];
      EXPECT_EQ(got.substr(0, kind.size() + 1), kind + ":") << got << "\n  jinja2: " << c["message"];
      if (kind == "raised") {
        EXPECT_EQ(got, "raised:" + c["message"].get<std::string>());
      }
    }
    ++n;
  }
  EXPECT_EQ(n, g["features"].size());
}

TEST(Jinja, RandomExpressionsMatchJinja2) {
  const ojson& g = goldens();
  ASSERT_GE(g["random_expressions"].size(), 1000u);
  size_t outputs = 0;
  for (const auto& c : g["random_expressions"]) {
    SCOPED_TRACE(c["template"].get<std::string>());
    const std::string got = run(c["template"], g["random_context"]);
    if (c.contains("output")) {
      EXPECT_EQ(got, "OK:" + c["output"].get<std::string>());
      ++outputs;
    } else {
      const std::string kind = c["error"];
      EXPECT_EQ(got.substr(0, kind.size() + 1), kind + ":") << got << "\n  jinja2: " << c["message"];
    }
  }
  EXPECT_GE(outputs, 800u);  // most render; the rest are errors in both
}

TEST(Jinja, RandomWhitespaceControlMatchesJinja2) {
  const ojson& g = goldens();
  ASSERT_GE(g["random_templates"].size(), 1000u);
  for (const auto& c : g["random_templates"]) {
    SCOPED_TRACE(c["template"].dump());
    const std::string got = run(c["template"], g["random_template_context"]);
    if (c.contains("output")) {
      EXPECT_EQ(got, "OK:" + c["output"].get<std::string>());
    } else {
      const std::string kind = c["error"];
      EXPECT_EQ(got.substr(0, kind.size() + 1), kind + ":") << got << "\n  jinja2: " << c["message"];
    }
  }
}

TEST(Jinja, ErrorsNameLineAndColumn) {
  std::string e = run("line one\n{% if x %}\n  {{ 1 + }}\n{% endif %}");
  EXPECT_EQ(e.rfind("syntax:template line 3, column 10:", 0), 0u) << e;
  e = run("{% for m in messages %}\n{{ m.a.b }}{% endfor %}", {{"messages", ojson::array({ojson::object()})}});
  EXPECT_EQ(e.rfind("runtime:template line 2,", 0), 0u) << e;
  EXPECT_NE(e.find("'dict object' has no attribute 'a'"), std::string::npos) << e;
  e = run("{% frobnicate %}");
  EXPECT_NE(e.find("unknown tag 'frobnicate'"), std::string::npos) << e;
  e = run("{% include 'x.html' %}");
  EXPECT_NE(e.find("not supported"), std::string::npos) << e;
  // raise_exception carries exactly the message
  EXPECT_EQ(run("{{ raise_exception('Only user and assistant roles are supported!') }}"),
            "raised:Only user and assistant roles are supported!");
}

TEST(Jinja, PythonNumberFormatting) {
  EXPECT_EQ(py_float_repr(0.1), "0.1");
  EXPECT_EQ(py_float_repr(1e16), "1e+16");
  EXPECT_EQ(py_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(py_float_repr(1.5e-7), "1.5e-07");
  EXPECT_EQ(py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(py_float_repr(-0.0), "-0.0");
  EXPECT_EQ(py_float_repr(123.0), "123.0");
  EXPECT_EQ(py_float_repr(1.0 / 3), "0.3333333333333333");
}

TEST(Jinja, ContextValuesKeepJsonOrder) {
  ojson ctx = ojson::parse(R"({"tool": {"type": "function", "function": {"name": "f", "b": 1, "a": 2}}})");
  EXPECT_EQ(Template("{{ tool | tojson }}").render(ctx),
            R"({"type": "function", "function": {"name": "f", "b": 1, "a": 2}})");
}

TEST(Jinja, StrftimeNow) {
  std::string year = Template("{{ strftime_now('%Y') }}").render(ojson::object());
  ASSERT_EQ(year.size(), 4u);
  EXPECT_GE(std::stoi(year), 2024);
  EXPECT_EQ(Template("{{ strftime_now('%d %b %Y') | length }}").render(ojson::object()), "11");
}

TEST(Jinja, LimitsStopRunawayTemplates) {
  Options o;
  o.max_steps = 100000;
  // nested loops over large ranges: stopped by the step limit, not a hang
  EXPECT_THROW(Template("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", o)
                   .render(ojson::object()),
               TemplateRuntimeError);
  // unbounded recursion
  EXPECT_THROW(Template("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", o).render(ojson::object()),
               TemplateRuntimeError);
  // output / string size
  Options small;
  small.max_output_bytes = 1000;
  EXPECT_THROW(Template("{{ 'x' * 100000 }}", small).render(ojson::object()), TemplateRuntimeError);
  EXPECT_THROW(Template("{% for i in range(10000) %}xxxx{% endfor %}", small).render(ojson::object()),
               TemplateRuntimeError);
  EXPECT_THROW(Template("{{ 'x' * 9223372036854775807 }}", o).render(ojson::object()), TemplateRuntimeError);
  // deep nesting in the source
  EXPECT_EQ(Template(std::string(100000, '(')).render(ojson::object()).size(), 100000u);  // plain text
  EXPECT_THROW(Template("{{ " + std::string(100000, '(') + " }}"), TemplateSyntaxError);
  // work proportional to sizes counts too: ranges rebuilt in a loop, long strings repeated
  EXPECT_THROW(Template("{% for a in range(100000) %}{% set x = range(100000) %}{% endfor %}", o).render(ojson::object()),
               TemplateRuntimeError);
  EXPECT_THROW(Template("{% for a in range(100000) %}{% set x = 'y' * 100000 %}{% endfor %}", o).render(ojson::object()),
               TemplateRuntimeError);
  EXPECT_THROW(Template("{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}"), TemplateSyntaxError);
  EXPECT_THROW(Template("{{ " + std::string(100000, '-') + "1 }}"), TemplateSyntaxError);
  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += "{% if true %}";
  EXPECT_THROW(Template(nested + "x"), TemplateSyntaxError);
  // deeply nested values, built by a template or given as JSON; a namespace holding itself
  EXPECT_THROW(Template("{% set ns = namespace(x=[]) %}{% for i in range(2000) %}{% set ns.x = [ns.x] %}{% endfor %}")
                   .render(ojson::object()),
               TemplateRuntimeError);
  const ojson deep = ojson::parse("{\"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
  EXPECT_THROW(Template("{{ x }}").render(deep), TemplateRuntimeError);
  EXPECT_EQ(Template("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}").render(ojson::object()),
            "<Namespace {'me': <Namespace ...>}>");
}

// Garbage in: every input either renders or throws a TemplateError (never crashes or hangs).
void must_fail_cleanly(const std::string& src, const ojson& ctx) {
  Options o;
  o.max_steps = 200000;
  o.max_output_bytes = 1 << 20;
  try {
    Template t(src, o);
    t.render(ctx);
  } catch (const TemplateError&) {
  }
}

TEST(Jinja, FuzzishGarbageFailsCleanly) {
  const ojson ctx = ojson::parse(R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant",
    "content": null, "tool_calls": [{"function": {"name": "f", "arguments": {"a": [1, 2.5]}}}]}],
    "add_generation_prompt": true, "tools": [{"type": "function"}], "bos_token": "<s>"})");
  // every prefix of a real template (unterminated tags, strings, blocks)
  std::string qwen = goldens()["family_templates"]["qwen2_style"];
  for (size_t i = 0; i <= qwen.size(); i += 3) must_fail_cleanly(qwen.substr(0, i), ctx);
  // token soup
  const std::vector<std::string> pieces = {
      "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", "if", "elif", "else", "endif", "for", "in",
      "endfor", "set", "=", "macro", "endmacro", "(", ")", "[", "]", "{", "}", ",", ":", ".", "|", "~", "+", "-",
      "*", "/", "//", "%", "**", "==", "!=", "<", ">", "not", "and", "or", "is", "defined", "none", "'s'", "\"",
      "'", "\\", "1", "2.5", "1e9", "messages", "m", "loop", "index0", "ns", "namespace", "tojson", "length",
      "raise_exception", "x", "y", "\n", " ", "  ", "raw", "endraw", "break", "continue", "filter", "endfilter",
      "with", "endwith", "range", "(1000)", "items", "selectattr", "map", "attribute", "join", "é", "\xff", "\xc3",
      "\x00", "generation", "endgeneration", "call", "block", "endblock", "0x", "_", "[::-1]", "[1:]", "**kw"};
  std::mt19937 rng(1234);
  for (int t = 0; t < 3000; ++t) {
    std::string src;
    const int n = 1 + int(rng() % 40);
    for (int k = 0; k < n; ++k) src += pieces[rng() % pieces.size()] + (rng() % 3 ? " " : "");
    must_fail_cleanly(src, ctx);
  }
  // random bytes
  for (int t = 0; t < 500; ++t) {
    std::string src;
    const int n = int(rng() % 200);
    for (int k = 0; k < n; ++k) src.push_back(char(rng() % 256));
    must_fail_cleanly(src, ctx);
    must_fail_cleanly("{{ " + src + " }}", ctx);
    must_fail_cleanly("{% " + src + " %}", ctx);
  }
}

}  // namespace
}  // namespace cppformers::tokenizers::jinja
