// The Unicode facts the tokenizers need, from compact generated tables:
// coarse categories, lower-casing and accent stripping, plus UTF-8 helpers.
#pragma once

#include <string>
#include <string_view>

#include "sextant/embed/unicode_tables.h"

namespace sextant::embed {

CharClass char_class(char32_t c);

inline bool is_letter(char32_t c) { return char_class(c) == CharClass::letter; }
inline bool is_number(char32_t c) { return char_class(c) == CharClass::number; }
inline bool is_punctuation(char32_t c) { return char_class(c) == CharClass::punctuation; }
inline bool is_symbol(char32_t c) { return char_class(c) == CharClass::symbol; }
inline bool is_mark(char32_t c) {
  CharClass k = char_class(c);
  return k == CharClass::mark_nonspacing || k == CharClass::mark_other;
}
inline bool is_other(char32_t c) { return char_class(c) == CharClass::other; }

/// The White_Space property (Rust's char::is_whitespace, regex \s).
bool is_whitespace(char32_t c);

/// Appends the lower case of c (one or two code points).
void append_lowercase(char32_t c, std::u32string& out);

/// Appends c after canonical decomposition (NFD) with non-spacing marks removed:
/// 'é' -> 'e', a Hangul syllable -> its jamo, a lone combining accent -> nothing.
void append_without_accents(char32_t c, std::u32string& out);

/// UTF-8 to code points; invalid bytes become U+FFFD.
std::u32string utf8_to_u32(std::string_view text);
void append_utf8(char32_t c, std::string& out);
std::string u32_to_utf8(std::u32string_view text);

}  // namespace sextant::embed
