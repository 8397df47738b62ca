#include "cppformers/io/model_card.hpp"

#include <yaml.h>

#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>
#include <memory>
#include <regex>
#include <sstream>

#include "cppformers/core/error.hpp"

namespace cppformers::io {

namespace {

using nlohmann::json;

constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 200000;  // aliases can make a small document expand hugely

// The YAML block as huggingface_hub finds it (REGEX_YAML_BLOCK): optional leading whitespace,
// a '---' line, the block, a '---' line (at the end of the text or followed by a newline).
bool front_matter(const std::string& text, std::string* block) {
  size_t at = text.find_first_not_of(" \t\r\n");
  if (at == std::string::npos || text.compare(at, 3, "---") != 0) return false;
  at += 3;
  size_t nl = at;
  while (nl < text.size() && (text[nl] == '\r' || text[nl] == '\n')) ++nl;
  if (nl == at) return false;  // '---' must end its line
  const size_t begin = nl;
  for (size_t p = begin; p < text.size(); ++p) {
    if (text[p] != '\r' && text[p] != '\n') continue;
    size_t q = p;
    while (q < text.size() && (text[q] == '\r' || text[q] == '\n')) ++q;
    if (text.compare(q, 3, "---") != 0) continue;
    const size_t after = q + 3;
    if (after == text.size() || text[after] == '\n' || text.compare(after, 2, "\r\n") == 0) {
      *block = text.substr(begin, p - begin);
      return true;
    }
  }
  return false;
}

// PyYAML's implicit resolvers (YAML 1.1) for plain scalars; decimal integers only.
json plain_scalar(const std::string& s) {
  static const std::regex null_re("~|null|Null|NULL|");
  static const std::regex true_re("yes|Yes|YES|true|True|TRUE|on|On|ON");
  static const std::regex false_re("no|No|NO|false|False|FALSE|off|Off|OFF");
  static const std::regex int_re("[-+]?(0|[1-9][0-9_]*)");
  static const std::regex float_re("[-+]?([0-9][0-9_]*)?\\.[0-9_]*([eE][-+][0-9]+)?");
  if (std::regex_match(s, null_re)) return nullptr;
  if (std::regex_match(s, true_re)) return true;
  if (std::regex_match(s, false_re)) return false;
  std::string digits;
  for (char c : s)
    if (c != '_') digits += c;
  try {
    if (std::regex_match(s, int_re)) return json(std::stoll(digits));
    if (std::regex_match(s, float_re) && digits != "." && digits != "+." && digits != "-.")
      return json(std::stod(digits));
  } catch (const std::exception&) {  // out of range: keep the text
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF")
    return json(std::numeric_limits<double>::infinity());
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return json(-std::numeric_limits<double>::infinity());
  return s;
}

// Builds JSON from libyaml's events (the event API keeps what the document API loses: whether
// a scalar was plain and untagged, which decides its type). Anchors are kept with their node
// counts, so aliases are counted, not walked, against kMaxNodes.
class Builder {
 public:
  explicit Builder(std::string where) : where_(std::move(where)) {}

  // Feeds one event; returns false once the first document is complete.
  bool on(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_SCALAR_EVENT: {
        std::string v(reinterpret_cast<const char*>(e.data.scalar.value), e.data.scalar.length);
        const char* tag = reinterpret_cast<const char*>(e.data.scalar.tag);
        const bool plain = !tag && e.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        add(plain ? plain_scalar(v) : json(v), 1, e.data.scalar.anchor);
        return true;
      }
      case YAML_SEQUENCE_START_EVENT:
        open(json::array(), e.data.sequence_start.anchor);
        return true;
      case YAML_MAPPING_START_EVENT:
        open(json::object(), e.data.mapping_start.anchor);
        return true;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        add(std::move(f.value), f.nodes + 1, f.anchor.empty() ? nullptr : f.anchor.c_str());
        return true;
      }
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors_.end()) throw FormatError(where_ + ": YAML front matter uses an undefined alias");
        add(it->second.first, it->second.second, nullptr);
        return true;
      }
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT:
        return false;
      default:
        return true;
    }
  }
  json take() { return std::move(root_); }

 private:
  struct Frame {
    json value;
    std::string anchor;
    size_t nodes = 0;
    std::optional<std::string> key;  // a mapping's key waiting for its value
  };

  void open(json v, const unsigned char* anchor) {
    if (stack_.size() >= size_t(kMaxDepth))
      throw FormatError(where_ + ": YAML front matter nests deeper than " + std::to_string(kMaxDepth) + " levels");
    stack_.push_back({std::move(v), anchor ? reinterpret_cast<const char*>(anchor) : "", 0, std::nullopt});
  }

  void add(json v, size_t nodes, const void* anchor) {
    total_ += nodes;
    if (total_ > kMaxNodes)
      throw FormatError(where_ + ": YAML front matter expands to more than " + std::to_string(kMaxNodes) + " nodes");
    if (anchor) anchors_[static_cast<const char*>(anchor)] = {v, nodes};
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& f = stack_.back();
    f.nodes += nodes;
    if (f.value.is_array()) {
      f.value.push_back(std::move(v));
    } else if (!f.key) {
      f.key = v.is_string() ? v.get<std::string>() : v.dump();  // as json.dumps keys a non-string
    } else {
      f.value[*f.key] = std::move(v);
      f.key.reset();
    }
  }

  std::string where_;
  std::vector<Frame> stack_;
  std::map<std::string, std::pair<json, size_t>> anchors_;
  json root_;
  size_t total_ = 0;
};

}  // namespace

json parse_model_card_metadata(const std::string& text, const std::string& where) {
  std::string block;
  if (!front_matter(text, &block)) return json::object();
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) throw Error("libyaml: cannot initialise a parser");
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser_guard(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(block.data()), block.size());
  Builder b(where);
  for (bool more = true; more;) {
    yaml_event_t e;
    if (!yaml_parser_parse(&parser, &e)) {
      std::ostringstream m;
      m << where << ": the YAML front matter does not parse: " << (parser.problem ? parser.problem : "error")
        << " (line " << parser.problem_mark.line + 2 << ")";  // +1 for 1-based, +1 for the '---' line
      throw FormatError(m.str());
    }
    std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> event_guard(&e, yaml_event_delete);
    more = b.on(e);
  }
  json out = b.take();
  if (out.is_null()) return json::object();
  if (!out.is_object()) throw FormatError(where + ": the YAML front matter should be a mapping (key: value lines), got " +
                                          std::string(out.type_name()));
  return out;
}

json read_model_card_metadata(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(path + ": cannot read the model card");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_model_card_metadata(ss.str(), path);
}

}  // namespace cppformers::io
