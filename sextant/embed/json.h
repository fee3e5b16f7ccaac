// A small JSON reader for the files a model directory holds (config.json,
// tokenizer.json, safetensors headers). Untrusted input: every malformed
// document gives a sextant::Error that says what is wrong and where, never a
// crash; nesting depth and document size are bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sextant::embed {

class Json {
 public:
  enum class Type { null, boolean, number, string, array, object };
  using Array = std::vector<Json>;
  /// Members keep their order in the document (tokenizer files rely on it).
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  bool is_integer() const { return type_ == Type::number && is_integer_; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }

  /// Typed access; `what` names the value in the error raised on a type mismatch.
  bool as_bool(std::string_view what) const;
  double as_double(std::string_view what) const;
  /// An integer literal (no fraction or exponent) that fits in int64.
  int64_t as_int(std::string_view what) const;
  const std::string& as_string(std::string_view what) const;
  const Array& as_array(std::string_view what) const;
  const Object& as_object(std::string_view what) const;

  /// Member lookup on an object (null when absent or when this is not an object).
  const Json* find(std::string_view key) const;
  /// Member lookup that throws when the member is missing.
  const Json& at(std::string_view key, std::string_view what) const;

  /// Convenience readers for optional members of an object: the default when
  /// the member is absent or null, an error when it has the wrong type.
  int64_t get_int(std::string_view key, int64_t fallback) const;
  double get_double(std::string_view key, double fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::string get_string(std::string_view key, const std::string& fallback) const;

  /// A short description of the type, for error messages ("a string", "an array"...).
  static const char* type_name(Type type);

  static Json make_null() { return Json(); }
  static Json make_bool(bool v);
  static Json make_number(double v, std::optional<int64_t> exact_integer);
  static Json make_string(std::string v);
  static Json make_array(Array v);
  static Json make_object(Object v);

 private:
  Type type_ = Type::null;
  bool bool_ = false;
  bool is_integer_ = false;
  int64_t int_ = 0;
  double number_ = 0;
  std::string string_;
  // Behind a pointer so that Json stays small and copyable-by-move.
  std::shared_ptr<const Array> array_;
  std::shared_ptr<const Object> object_;
};

struct JsonLimits {
  size_t max_bytes = size_t(1) << 30;  // 1 GiB: a large tokenizer.json is ~10 MB
  int max_depth = 128;
};

/// Parses a whole document; `source` names the file in error messages.
Json parse_json(std::string_view text, std::string_view source, const JsonLimits& limits = {});

/// Reads and parses a file, with the same limits.
Json read_json_file(const std::string& path, const JsonLimits& limits = {});

}  // namespace sextant::embed
