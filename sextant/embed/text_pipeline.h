// The first two stages of a Hugging Face tokenizer, read from tokenizer.json:
// the normaliser (text -> text) and the pre-tokeniser (text -> pieces that the
// model splits further). Text travels as code points (std::u32string).
#pragma once

#include <string>
#include <vector>

#include "sextant/embed/split_patterns.h"

namespace sextant::embed {

class Json;

class Normalizer {
 public:
  /// From tokenizer.json's "normalizer" (null: the identity).
  static Normalizer from_json(const Json& spec);
  std::u32string apply(std::u32string text) const;

  struct Step {
    enum class Kind { bert, lowercase, strip_accents, strip, replace, prepend } kind = Kind::bert;
    // bert
    bool clean_text = true, handle_chinese_chars = true, strip_accents = true, lowercase = true;
    // strip
    bool left = false, right = false;
    // replace (a literal pattern) and prepend
    std::u32string pattern, content;
  };

 private:
  std::vector<Step> steps_;
};

class PreTokenizer {
 public:
  /// From tokenizer.json's "pre_tokenizer" (null: the whole text is one piece).
  static PreTokenizer from_json(const Json& spec);
  /// Pieces of the text; after a ByteLevel step they are spelled in the
  /// byte-level alphabet (each UTF-8 byte as one printable code point).
  std::vector<std::u32string> apply(const std::u32string& text) const;

  enum class Behavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };
  struct Step {
    enum class Kind { bert, whitespace_split, byte_level, split, digits } kind = Kind::bert;
    MatchAt matcher;                 // split (and byte_level with use_regex)
    std::u32string literal;          // split on a literal string instead of a regex
    Behavior behavior = Behavior::isolated;
    bool invert = false;
    bool add_prefix_space = false;   // byte_level
    bool individual_digits = false;  // digits
  };

 private:
  std::vector<Step> steps_;
};

/// The byte-level alphabet: byte b as one printable code point (GPT-2's table).
char32_t byte_to_unicode(unsigned char b);

/// CJK ideographs that BERT surrounds with spaces.
bool is_cjk_ideograph(char32_t c);

}  // namespace sextant::embed
