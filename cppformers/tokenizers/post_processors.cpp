#include "cppformers/tokenizers/post_processors.hpp"

#include <map>

#include "cppformers/tokenizers/byte_level.hpp"
#include "cppformers/tokenizers/unicode.hpp"

namespace cppformers::tokenizers {

using namespace jsonutil;

Encoding PostProcessor::process(Encoding encoding, Encoding* pair, bool add_special_tokens) const {
  std::vector<Encoding> encs;
  encs.push_back(std::move(encoding));
  if (pair) encs.push_back(std::move(*pair));
  for (size_t i = 0; i < encs.size(); ++i) encs[i].set_sequence_id(i);
  return Encoding::merge(process_encodings(std::move(encs), add_special_tokens), false);
}

Encoding PostProcessor::default_process(Encoding encoding, Encoding* pair) {
  if (!pair) return encoding;
  encoding.set_sequence_id(0);
  pair->set_sequence_id(1);
  std::vector<Encoding> v;
  v.push_back(std::move(encoding));
  v.push_back(std::move(*pair));
  return Encoding::merge(std::move(v), false);
}

namespace {

// ByteLevel offset trimming: drop the leading/trailing spaces a token carries from its offsets.
void trim_offsets(Encoding& e, bool add_prefix_space) {
  const char32_t space = byte_level::byte_to_char(' ');
  auto is_sp = [&](char32_t c) { return c == space || unicode::is_whitespace(c); };
  auto is_cont = [](char b) { return (static_cast<unsigned char>(b) & 0xC0) == 0x80; };
  for (size_t i = 0; i < e.tokens.size(); ++i) {
    // Spaces (in chars) at the start and at the end of the token; all of it counts as both.
    std::string_view t = e.tokens[i];
    size_t leading = 0, trailing = 0;
    for (size_t k = 0; k < t.size();) {
      if (!is_sp(unicode::next_char(t, k))) break;
      ++leading;
    }
    for (size_t end = t.size(); end > 0;) {
      size_t k = end - 1;
      while (k > 0 && is_cont(t[k])) --k;
      size_t j = k;
      if (!is_sp(unicode::next_char(t, j))) break;
      ++trailing;
      end = k;
    }
    auto& off = e.offsets[i];
    if (leading > 0 || trailing > 0) {
      if (leading > 0) {
        bool is_first = i == 0 || off.first == 0;
        if (is_first && add_prefix_space && leading == 1) leading = 0;
        off.first = std::min(off.first + leading, off.second);
      }
      if (trailing > 0 && off.second >= trailing) off.second = std::max(off.second - trailing, off.first);
    }
  }
}

class ByteLevelPost : public PostProcessor {
 public:
  ByteLevelPost(const json& j, const std::string& where)
      : trim_(get_bool_or(j, "trim_offsets", where, true)), add_prefix_space_(get_bool_or(j, "add_prefix_space", where, true)) {}
  size_t added_tokens(bool) const override { return 0; }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool) const override {
    if (trim_) {
      for (auto& e : encs) {
        trim_offsets(e, add_prefix_space_);
        for (auto& o : e.overflowing) trim_offsets(o, add_prefix_space_);
      }
    }
    for (size_t i = 0; i < encs.size(); ++i) encs[i].set_sequence_id(i);
    if (encs.size() == 1) return encs;
    std::vector<Encoding> out;
    out.push_back(Encoding::merge(std::move(encs), false));
    return out;
  }

 private:
  bool trim_, add_prefix_space_;
};

std::pair<std::string, uint32_t> parse_token_pair(const json& j, const char* key, const std::string& where) {
  const json* v = find(j, key);
  std::string w = where + "." + key;
  if (!v || !v->is_array() || v->size() != 2 || !(*v)[0].is_string() || !(*v)[1].is_number_unsigned())
    fail(w, "expected [token, id]");
  return {(*v)[0].get<std::string>(), (*v)[1].get<uint32_t>()};
}

// [CLS] A [SEP] (B [SEP]) with all the bookkeeping BertProcessing/RobertaProcessing share.
Encoding wrap(const Encoding& e, const std::pair<std::string, uint32_t>* first, const std::pair<std::string, uint32_t>& last,
              uint32_t first_type, uint32_t last_type, size_t seq_id, std::optional<uint32_t> content_type = std::nullopt) {
  Encoding o;
  if (first) o.push(first->second, first->first, {0, 0}, std::nullopt, first_type, 1, 1);
  for (size_t i = 0; i < e.size(); ++i)
    o.push(e.ids[i], e.tokens[i], e.offsets[i], e.words[i], content_type ? *content_type : e.type_ids[i], 0, 1);
  o.push(last.second, last.first, {0, 0}, std::nullopt, last_type, 1, 1);
  size_t s = first ? 1 : 0;
  o.sequence_ranges[seq_id] = {s, s + e.size()};
  return o;
}

class BertProcessing : public PostProcessor {
 public:
  BertProcessing(const json& j, const std::string& where)
      : sep_(parse_token_pair(j, "sep", where)), cls_(parse_token_pair(j, "cls", where)) {}
  size_t added_tokens(bool is_pair) const override { return is_pair ? 3 : 2; }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add) const override {
    if (!add) return encs;
    std::vector<Encoding> out;
    for (size_t i = 0; i < encs.size(); ++i) {
      Encoding& e = encs[i];
      Encoding o = i == 0 ? wrap(e, &cls_, sep_, 0, 0, 0) : wrap(e, nullptr, sep_, 0, 1, 1);
      for (auto& ov : e.overflowing)
        o.overflowing.push_back(i == 0 ? wrap(ov, &cls_, sep_, 0, 0, 0) : wrap(ov, nullptr, sep_, 0, 1, 1));
      out.push_back(std::move(o));
    }
    return out;
  }

 private:
  std::pair<std::string, uint32_t> sep_, cls_;
};

class RobertaProcessing : public PostProcessor {
 public:
  RobertaProcessing(const json& j, const std::string& where)
      : sep_(parse_token_pair(j, "sep", where)),
        cls_(parse_token_pair(j, "cls", where)),
        trim_(get_bool_or(j, "trim_offsets", where, true)),
        add_prefix_space_(get_bool_or(j, "add_prefix_space", where, true)) {}
  size_t added_tokens(bool is_pair) const override { return is_pair ? 4 : 2; }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add) const override {
    if (trim_) {
      for (auto& e : encs) {
        trim_offsets(e, add_prefix_space_);
        for (auto& o : e.overflowing) trim_offsets(o, add_prefix_space_);
      }
    }
    for (auto& e : encs) e.set_type_ids(0);
    if (!add) return encs;
    std::vector<Encoding> out;
    for (size_t i = 0; i < encs.size(); ++i) {
      Encoding& e = encs[i];
      // RoBERTa gives every token type id 0, the overflowing parts included.
      Encoding o = i == 0 ? wrap(e, &cls_, sep_, 0, 0, 0, 0u) : wrap(e, &sep_, sep_, 0, 0, 1, 0u);
      for (auto& ov : e.overflowing) {
        Encoding w = i == 0 ? wrap(ov, &cls_, sep_, 0, 0, 0, 0u) : wrap(ov, &sep_, sep_, 0, 0, 1, 0u);
        o.overflowing.push_back(std::move(w));
      }
      out.push_back(std::move(o));
    }
    return out;
  }

 private:
  std::pair<std::string, uint32_t> sep_, cls_;
  bool trim_, add_prefix_space_;
};

class TemplateProcessing : public PostProcessor {
 public:
  struct Piece {
    bool is_sequence;
    int seq;              // 0 = A, 1 = B
    std::string special;  // special token id
    uint32_t type_id;
  };
  struct Special {
    std::vector<uint32_t> ids;
    std::vector<std::string> tokens;
  };

  TemplateProcessing(const json& j, const std::string& where) {
    single_ = parse_template(j, "single", where);
    pair_ = parse_template(j, "pair", where);
    if (const json* st = find(j, "special_tokens")) {
      if (!st->is_object()) fail(where + ".special_tokens", "expected an object");
      for (auto it = st->begin(); it != st->end(); ++it) {
        std::string w = where + ".special_tokens[\"" + it.key() + "\"]";
        const json& v = it.value();
        Special s;
        const json& ids = get_array(v, "ids", w);
        const json& toks = get_array(v, "tokens", w);
        for (auto& x : ids) {
          if (!x.is_number_unsigned()) fail(w + ".ids", "expected non-negative integers");
          s.ids.push_back(x.get<uint32_t>());
        }
        for (auto& x : toks) {
          if (!x.is_string()) fail(w + ".tokens", "expected strings");
          s.tokens.push_back(x.get<std::string>());
        }
        if (s.ids.size() != s.tokens.size()) fail(w, "ids and tokens differ in length");
        specials_[get_string_or(v, "id", w, it.key())] = std::move(s);
      }
    }
    for (auto* t : {&single_, &pair_})
      for (auto& p : *t)
        if (!p.is_sequence && !specials_.count(p.special))
          fail(where + ".special_tokens", "missing special token '" + p.special + "' used in the template");
  }

  size_t added_tokens(bool is_pair) const override {
    size_t n = 0;
    for (auto& p : is_pair ? pair_ : single_)
      if (!p.is_sequence) n += specials_.at(p.special).ids.size();
    return n;
  }

  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add) const override {
    const auto& tpl = encs.size() == 2 ? pair_ : single_;
    std::vector<Encoding> out;
    for (const auto& p : tpl) {
      if (p.is_sequence) {
        size_t i = p.seq == 0 ? 0 : 1;
        if (i >= encs.size()) continue;
        Encoding& e = encs[i];
        e.set_type_ids(p.type_id);
        e.set_sequence_id(i);
        out.push_back(e);
      } else if (add) {
        const Special& s = specials_.at(p.special);
        Encoding e;
        for (size_t k = 0; k < s.ids.size(); ++k) e.push(s.ids[k], s.tokens[k], {0, 0}, std::nullopt, p.type_id, 1, 1);
        out.push_back(std::move(e));
      }
    }
    return out;
  }

 private:
  static std::vector<Piece> parse_template(const json& j, const char* key, const std::string& where) {
    std::vector<Piece> out;
    const json* t = find(j, key);
    if (!t) return out;
    std::string w = where + "." + key;
    if (t->is_string()) {
      // "[CLS] $A [SEP]" form
      std::string s = t->get<std::string>();
      size_t pos = 0;
      while (pos < s.size()) {
        size_t e = s.find(' ', pos);
        if (e == std::string::npos) e = s.size();
        if (e > pos) out.push_back(parse_piece_string(s.substr(pos, e - pos), w));
        pos = e + 1;
      }
      return out;
    }
    if (!t->is_array()) fail(w, "expected an array of pieces");
    for (size_t i = 0; i < t->size(); ++i) {
      const json& p = (*t)[i];
      std::string pw = w + "[" + std::to_string(i) + "]";
      if (p.is_string()) {
        out.push_back(parse_piece_string(p.get<std::string>(), pw));
      } else if (const json* sq = find(p, "Sequence")) {
        std::string id = get_string(*sq, "id", pw + ".Sequence");
        if (id != "A" && id != "B") fail(pw + ".Sequence.id", "expected A or B");
        out.push_back({true, id == "A" ? 0 : 1, "", static_cast<uint32_t>(get_uint_or(*sq, "type_id", pw + ".Sequence", 0))});
      } else if (const json* sp = find(p, "SpecialToken")) {
        out.push_back({false, 0, get_string(*sp, "id", pw + ".SpecialToken"),
                       static_cast<uint32_t>(get_uint_or(*sp, "type_id", pw + ".SpecialToken", 0))});
      } else {
        fail(pw, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
      }
    }
    return out;
  }
  static Piece parse_piece_string(const std::string& s, const std::string& where) {
    std::string name = s;
    uint32_t type_id = 0;
    size_t colon = s.rfind(':');
    if (colon != std::string::npos && colon + 1 < s.size() &&
        s.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
      name = s.substr(0, colon);
      type_id = static_cast<uint32_t>(std::stoul(s.substr(colon + 1)));
    }
    if (!name.empty() && name[0] == '$') {
      std::string rest = name.substr(1);
      if (rest.empty() || rest == "A" || rest == "a") return {true, 0, "", type_id};
      if (rest == "B" || rest == "b") return {true, 1, "", type_id};
      if (rest.find_first_not_of("0123456789") == std::string::npos)
        return {true, 0, "", static_cast<uint32_t>(std::stoul(rest))};
      fail(where, "cannot parse template piece '" + s + "'");
    }
    return {false, 0, name, type_id};
  }

  std::vector<Piece> single_, pair_;
  std::map<std::string, Special> specials_;
};

class SequencePost : public PostProcessor {
 public:
  SequencePost(const json& j, const std::string& where) {
    const json& arr = get_array(j, "processors", where);
    for (size_t i = 0; i < arr.size(); ++i)
      items_.push_back(make_post_processor(arr[i], where + ".processors[" + std::to_string(i) + "]"));
  }
  size_t added_tokens(bool is_pair) const override {
    size_t n = 0;
    for (auto& p : items_) n += p->added_tokens(is_pair);
    return n;
  }
  std::vector<Encoding> process_encodings(std::vector<Encoding> encs, bool add) const override {
    for (auto& p : items_) encs = p->process_encodings(std::move(encs), add);
    return encs;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> items_;
};

template <typename T>
Registry<PostProcessor>::Factory factory() {
  return [](const json& j, const std::string& w) -> std::unique_ptr<PostProcessor> { return std::make_unique<T>(j, w); };
}

const Registry<PostProcessor>& registry() {
  static const Registry<PostProcessor> r = [] {
    Registry<PostProcessor> reg;
    reg.add("ByteLevel", factory<ByteLevelPost>());
    reg.add("BertProcessing", factory<BertProcessing>());
    reg.add("RobertaProcessing", factory<RobertaProcessing>());
    reg.add("TemplateProcessing", factory<TemplateProcessing>());
    reg.add("Sequence", factory<SequencePost>());
    return reg;
  }();
  return r;
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const json& j, const std::string& where) {
  return registry().create(j, where, "post-processor");
}

}  // namespace cppformers::tokenizers
