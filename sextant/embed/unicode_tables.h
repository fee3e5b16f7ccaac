// The generated Unicode tables (unicode_tables.cpp); use them through unicode.h.
#pragma once

#include <cstdint>

namespace sextant::embed {

/// A coarse general category: what the tokenizers distinguish.
enum class CharClass : uint8_t {
  other,            // C*: control, format, surrogate, private use, unassigned
  letter,           // L*
  mark_nonspacing,  // Mn (what "strip accents" removes)
  mark_other,       // Mc, Me
  number,           // N*
  punctuation,      // P*
  symbol,           // S*
  separator,        // Z*
};

namespace unicode_tables {

/// Code points from `first` up to the next entry's `first` share one class.
struct CategoryRange {
  uint32_t first;
  CharClass cls;
};

/// Code points first, first + step, ..., last map to cp + delta (step 0: one code point).
struct LowercaseRun {
  uint32_t first, last;
  int32_t delta;
  uint32_t step;
};

/// A code point whose lower case is two code points.
struct LowercaseSpecial {
  uint32_t cp;
  uint32_t lower[2];
};

/// NFD without its non-spacing marks, for characters it changes (0 ends a short result).
struct StripAccents {
  uint32_t cp;
  uint32_t result[3];
};

extern const CategoryRange kCategories[2432];
extern const LowercaseRun kLowercase[181];
extern const LowercaseSpecial kLowercaseSpecial[1];
extern const StripAccents kStripAccents[2043];

}  // namespace unicode_tables
}  // namespace sextant::embed
