#include "sextant/embed/unicode.h"

#include <algorithm>
#include <iterator>

namespace sextant::embed {

namespace ut = unicode_tables;

CharClass char_class(char32_t c) {
  if (c < 0x80) {
    // ASCII is the common case: skip the binary search.
    if (c < 0x20 || c == 0x7F) return CharClass::other;
  }
  if (c >= 0x110000) return CharClass::other;
  auto it = std::upper_bound(std::begin(ut::kCategories), std::end(ut::kCategories), uint32_t(c),
                             [](uint32_t cp, const ut::CategoryRange& r) { return cp < r.first; });
  return std::prev(it)->cls;
}

bool is_whitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

void append_lowercase(char32_t c, std::u32string& out) {
  if (c < 0x80) {
    out += (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return;
  }
  for (const auto& s : ut::kLowercaseSpecial) {
    if (s.cp == c) {
      out += char32_t(s.lower[0]);
      out += char32_t(s.lower[1]);
      return;
    }
  }
  auto it = std::upper_bound(std::begin(ut::kLowercase), std::end(ut::kLowercase), uint32_t(c),
                             [](uint32_t cp, const ut::LowercaseRun& r) { return cp < r.first; });
  if (it != std::begin(ut::kLowercase)) {
    const ut::LowercaseRun& run = *std::prev(it);
    if (c <= run.last && (run.step == 0 ? c == run.first : (c - run.first) % run.step == 0)) {
      out += char32_t(int32_t(c) + run.delta);
      return;
    }
  }
  out += c;
}

void append_without_accents(char32_t c, std::u32string& out) {
  if (c < 0xC0) {  // nothing below U+00C0 decomposes or is a mark
    out += c;
    return;
  }
  // Hangul syllables decompose algorithmically into two or three jamo (Unicode ch. 3.12).
  constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
  constexpr char32_t kVCount = 21, kTCount = 28, kSCount = 19 * 21 * 28;
  if (c >= kSBase && c < kSBase + kSCount) {
    const char32_t s = c - kSBase;
    out += kLBase + s / (kVCount * kTCount);
    out += kVBase + (s % (kVCount * kTCount)) / kTCount;
    if (s % kTCount != 0) out += kTBase + s % kTCount;
    return;
  }
  if (char_class(c) == CharClass::mark_nonspacing) return;
  auto it = std::lower_bound(std::begin(ut::kStripAccents), std::end(ut::kStripAccents), uint32_t(c),
                             [](const ut::StripAccents& e, uint32_t cp) { return e.cp < cp; });
  if (it != std::end(ut::kStripAccents) && it->cp == c) {
    for (uint32_t r : it->result) {
      if (r != 0) out += char32_t(r);
    }
    return;
  }
  out += c;
}

std::u32string utf8_to_u32(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b = s[i];
    char32_t cp;
    size_t len;
    if (b < 0x80) {
      cp = b;
      len = 1;
    } else if ((b & 0xE0) == 0xC0) {
      cp = b & 0x1F;
      len = 2;
    } else if ((b & 0xF0) == 0xE0) {
      cp = b & 0x0F;
      len = 3;
    } else if ((b & 0xF8) == 0xF0) {
      cp = b & 0x07;
      len = 4;
    } else {
      out += 0xFFFD;
      i++;
      continue;
    }
    bool ok = i + len <= n;
    for (size_t k = 1; ok && k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      out += 0xFFFD;
      i++;
      continue;
    }
    out += cp;
    i += len;
  }
  return out;
}

void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

std::string u32_to_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) append_utf8(c, out);
  return out;
}

}  // namespace sextant::embed
