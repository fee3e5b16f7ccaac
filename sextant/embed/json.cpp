#include "sextant/embed/json.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sextant/base/Error.h"
#include "sextant/embed/unicode.h"

namespace sextant::embed {

// ---- value access --------------------------------------------------------

const char* Json::type_name(Type type) {
  switch (type) {
    case Type::null: return "null";
    case Type::boolean: return "a boolean";
    case Type::number: return "a number";
    case Type::string: return "a string";
    case Type::array: return "an array";
    case Type::object: return "an object";
  }
  return "?";
}

namespace {
[[noreturn]] void wrong_type(std::string_view what, const char* expected, Json::Type got) {
  SEXTANT_FAIL(what, " must be ", expected, ", got ", Json::type_name(got));
}
}  // namespace

bool Json::as_bool(std::string_view what) const {
  if (type_ != Type::boolean) wrong_type(what, "a boolean", type_);
  return bool_;
}

double Json::as_double(std::string_view what) const {
  if (type_ != Type::number) wrong_type(what, "a number", type_);
  return number_;
}

int64_t Json::as_int(std::string_view what) const {
  if (type_ != Type::number) wrong_type(what, "an integer", type_);
  SEXTANT_CHECK(is_integer_, what, " must be an integer, got ", number_);
  return int_;
}

const std::string& Json::as_string(std::string_view what) const {
  if (type_ != Type::string) wrong_type(what, "a string", type_);
  return string_;
}

const Json::Array& Json::as_array(std::string_view what) const {
  if (type_ != Type::array) wrong_type(what, "an array", type_);
  return *array_;
}

const Json::Object& Json::as_object(std::string_view what) const {
  if (type_ != Type::object) wrong_type(what, "an object", type_);
  return *object_;
}

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::object) return nullptr;
  for (const auto& [name, value] : *object_) {
    if (name == key) return &value;
  }
  return nullptr;
}

const Json& Json::at(std::string_view key, std::string_view what) const {
  SEXTANT_CHECK(type_ == Type::object, what, " must be an object, got ", type_name(type_));
  const Json* value = find(key);
  SEXTANT_CHECK(value != nullptr, what, " has no member \"", key, "\"");
  return *value;
}

int64_t Json::get_int(std::string_view key, int64_t fallback) const {
  const Json* v = find(key);
  return v == nullptr || v->is_null() ? fallback : v->as_int(key);
}

double Json::get_double(std::string_view key, double fallback) const {
  const Json* v = find(key);
  return v == nullptr || v->is_null() ? fallback : v->as_double(key);
}

bool Json::get_bool(std::string_view key, bool fallback) const {
  const Json* v = find(key);
  return v == nullptr || v->is_null() ? fallback : v->as_bool(key);
}

std::string Json::get_string(std::string_view key, const std::string& fallback) const {
  const Json* v = find(key);
  return v == nullptr || v->is_null() ? fallback : v->as_string(key);
}

Json Json::make_bool(bool v) {
  Json j;
  j.type_ = Type::boolean;
  j.bool_ = v;
  return j;
}

Json Json::make_number(double v, std::optional<int64_t> exact_integer) {
  Json j;
  j.type_ = Type::number;
  j.number_ = v;
  j.is_integer_ = exact_integer.has_value();
  j.int_ = exact_integer.value_or(0);
  return j;
}

Json Json::make_string(std::string v) {
  Json j;
  j.type_ = Type::string;
  j.string_ = std::move(v);
  return j;
}

Json Json::make_array(Array v) {
  Json j;
  j.type_ = Type::array;
  j.array_ = std::make_shared<const Array>(std::move(v));
  return j;
}

Json Json::make_object(Object v) {
  Json j;
  j.type_ = Type::object;
  j.object_ = std::make_shared<const Object>(std::move(v));
  return j;
}

// ---- parser ----------------------------------------------------------------

namespace {

/// Recursive-descent parser over the whole text; recursion is bounded by
/// limits.max_depth so hostile nesting cannot exhaust the stack.
class Parser {
 public:
  Parser(std::string_view text, std::string_view source, const JsonLimits& limits)
      : text_(text), source_(source), limits_(limits) {}

  Json document() {
    skip_space();
    Json value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected content after the JSON value");
    return value;
  }

 private:
  [[noreturn]] void fail(std::string_view why) const {
    // Report line and column: that is what a person fixing the file needs.
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); i++) {
      if (text_[i] == '\n') {
        line++;
        column = 1;
      } else {
        column++;
      }
    }
    SEXTANT_FAIL("invalid JSON in ", source_, " at line ", line, " column ", column, ": ", why);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t'))
      pos_++;
  }

  void expect_literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("unknown literal");
    pos_ += word.size();
  }

  Json parse_value(int depth) {
    if (depth > limits_.max_depth) fail("nesting deeper than the limit");
    if (at_end()) fail("unexpected end of input");
    switch (peek()) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Json::make_string(parse_string());
      case 't': expect_literal("true"); return Json::make_bool(true);
      case 'f': expect_literal("false"); return Json::make_bool(false);
      case 'n': expect_literal("null"); return Json::make_null();
      default: return parse_number();
    }
  }

  Json parse_object(int depth) {
    pos_++;  // '{'
    Json::Object members;
    skip_space();
    if (peek() == '}') {
      pos_++;
      return Json::make_object(std::move(members));
    }
    while (true) {
      skip_space();
      if (peek() != '"') fail("expected a string key");
      std::string key = parse_string();
      skip_space();
      if (peek() != ':') fail("expected ':' after a key");
      pos_++;
      skip_space();
      members.emplace_back(std::move(key), parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        pos_++;
        continue;
      }
      if (peek() == '}') {
        pos_++;
        return Json::make_object(std::move(members));
      }
      fail("expected ',' or '}' in an object");
    }
  }

  Json parse_array(int depth) {
    pos_++;  // '['
    Json::Array items;
    skip_space();
    if (peek() == ']') {
      pos_++;
      return Json::make_array(std::move(items));
    }
    while (true) {
      skip_space();
      items.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        pos_++;
        continue;
      }
      if (peek() == ']') {
        pos_++;
        return Json::make_array(std::move(items));
      }
      fail("expected ',' or ']' in an array");
    }
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; i++) {
      char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9') value |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') value |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') value |= unsigned(c - 'A' + 10);
      else fail("bad hex digit in a \\u escape");
    }
    return value;
  }

  std::string parse_string() {
    pos_++;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      char c = text_[pos_];
      if (c == '"') {
        pos_++;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) fail("control character inside a string");
      if (c != '\\') {
        out += c;
        pos_++;
        continue;
      }
      pos_++;
      if (at_end()) fail("unterminated escape");
      char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = parse_hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low surrogate.
            if (text_.substr(pos_, 2) != "\\u") fail("unpaired surrogate in a \\u escape");
            pos_ += 2;
            uint32_t low = parse_hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("unpaired surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate in a \\u escape");
          }
          append_utf8(char32_t(cp), out);
          break;
        }
        default: fail("unknown escape");
      }
    }
  }

  Json parse_number() {
    const size_t start = pos_;
    bool integral = true;
    if (peek() == '-') pos_++;
    if (!(peek() >= '0' && peek() <= '9')) fail("unexpected character");
    if (peek() == '0') {
      pos_++;
    } else {
      while (peek() >= '0' && peek() <= '9') pos_++;
    }
    if (peek() == '.') {
      integral = false;
      pos_++;
      if (!(peek() >= '0' && peek() <= '9')) fail("digit expected after '.'");
      while (peek() >= '0' && peek() <= '9') pos_++;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      pos_++;
      if (peek() == '+' || peek() == '-') pos_++;
      if (!(peek() >= '0' && peek() <= '9')) fail("digit expected in an exponent");
      while (peek() >= '0' && peek() <= '9') pos_++;
    }
    std::string_view literal = text_.substr(start, pos_ - start);
    std::optional<int64_t> exact;
    if (integral) {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), v);
      if (ec == std::errc() && end == literal.data() + literal.size()) exact = v;
    }
    // strtod needs a terminated copy; numbers are short.
    std::string copy(literal);
    double value = std::strtod(copy.c_str(), nullptr);
    if (!std::isfinite(value)) fail("number out of range");
    return Json::make_number(value, exact);
  }

  std::string_view text_;
  std::string_view source_;
  const JsonLimits& limits_;
  size_t pos_ = 0;
};

}  // namespace

Json parse_json(std::string_view text, std::string_view source, const JsonLimits& limits) {
  SEXTANT_CHECK(text.size() <= limits.max_bytes, source, " is ", text.size(), " bytes, more than the limit of ",
                limits.max_bytes, " for a JSON document");
  return Parser(text, source, limits).document();
}

Json read_json_file(const std::string& path, const JsonLimits& limits) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  SEXTANT_CHECK(in.good(), "cannot open ", path);
  const std::streamoff size = in.tellg();
  SEXTANT_CHECK(size >= 0, "cannot read the size of ", path);
  SEXTANT_CHECK(static_cast<size_t>(size) <= limits.max_bytes, path, " is ", size,
                " bytes, more than the limit of ", limits.max_bytes, " for a JSON document");
  std::string text(static_cast<size_t>(size), '\0');
  in.seekg(0);
  in.read(text.data(), size);
  SEXTANT_CHECK(in.good() || in.eof(), "cannot read ", path);
  return parse_json(text, path, limits);
}

}  // namespace sextant::embed
