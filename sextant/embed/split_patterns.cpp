#include "sextant/embed/split_patterns.h"

#include <cstdint>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/embed/unicode.h"

namespace sextant::embed {

namespace {

// ---- character predicates -------------------------------------------------

bool is_newline(char32_t c) { return c == U'\r' || c == U'\n'; }
bool is_l_or_m(char32_t c) { return is_letter(c) || is_mark(c); }
bool is_p_or_s(char32_t c) { return is_punctuation(c) || is_symbol(c); }
bool is_ascii_letter(char32_t c) { return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z'); }
bool is_ascii_punct(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

template <class Pred>
size_t run_length(std::u32string_view text, size_t pos, Pred pred) {
  size_t end = pos;
  while (end < text.size() && pred(text[end])) end++;
  return end - pos;
}

/// ` ?X+`: an optional space, then one or more characters of class X.
template <class Pred>
size_t optional_space_then_run(std::u32string_view text, size_t pos, Pred pred) {
  if (text[pos] == U' ' && pos + 1 < text.size() && pred(text[pos + 1])) return 1 + run_length(text, pos + 1, pred);
  return run_length(text, pos, pred);
}

/// `\s+(?!\S)|\s+`: a run of spaces, leaving the last one to the next word when
/// a non-space follows (so " word" keeps its leading space).
size_t spaces_before_word_or_all(std::u32string_view text, size_t pos) {
  const size_t r = run_length(text, pos, is_whitespace);
  if (r == 0) return 0;
  if (pos + r == text.size() || r == 1) return r;
  return r - 1;
}

// ---- the hand-written patterns -------------------------------------------------------

size_t match_numbers_1_to_3(std::u32string_view text, size_t pos) {
  return std::min<size_t>(3, run_length(text, pos, is_number));
}

size_t match_numbers(std::u32string_view text, size_t pos) { return run_length(text, pos, is_number); }

/// `\s+$` where $ (Oniguruma) matches at the end or before a line feed.
size_t match_trailing_spaces(std::u32string_view text, size_t pos) {
  for (size_t len = run_length(text, pos, is_whitespace); len > 0; len--) {
    if (pos + len == text.size() || text[pos + len] == U'\n') return len;
  }
  return 0;
}

/// DeepSeek-V3's third split pattern, alternative by alternative (the first that matches wins):
///   [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+
///   | [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
///   | ?[\p{P}\p{S}]+[\r\n]*
///   | \s*[\r\n]+
///   | \s+(?!\S)
///   | \s+
size_t match_deepseek_v3_words(std::u32string_view text, size_t pos) {
  const size_t n = text.size();
  const char32_t c = text[pos];
  if (is_ascii_punct(c) && pos + 1 < n && is_ascii_letter(text[pos + 1])) {
    return 1 + run_length(text, pos + 1, is_ascii_letter);
  }
  const bool lead_ok = !is_newline(c) && !is_letter(c) && !is_punctuation(c) && !is_symbol(c);
  if (lead_ok && pos + 1 < n && is_l_or_m(text[pos + 1])) return 1 + run_length(text, pos + 1, is_l_or_m);
  if (is_l_or_m(c)) return run_length(text, pos, is_l_or_m);
  if (size_t len = optional_space_then_run(text, pos, is_p_or_s); len > 0) {
    return len + run_length(text, pos + len, is_newline);
  }
  const size_t spaces = run_length(text, pos, is_whitespace);
  for (size_t k = spaces; k > 0; k--) {  // \s*[\r\n]+ : up to the last line break of the run
    if (is_newline(text[pos + k - 1])) return k;
  }
  return spaces_before_word_or_all(text, pos);
}

// ---- bracket classes: [abc\p{L}x-y]+ with an optional \s? in front --------------------

struct CharClassPattern {
  struct Range {
    char32_t lo, hi;
  };
  std::vector<Range> ranges;
  std::vector<CharClass> classes;
  bool whitespace = false, negated = false;

  bool contains(char32_t c) const {
    bool in = whitespace && is_whitespace(c);
    for (const Range& r : ranges) in = in || (c >= r.lo && c <= r.hi);
    if (!in && !classes.empty()) {
      const CharClass k = char_class(c);
      for (CharClass want : classes) {
        in = in || k == want || (want == CharClass::mark_other && k == CharClass::mark_nonspacing);
      }
    }
    return in != negated;
  }
};

struct BracketPattern {
  bool optional_space = false, repeat = false;
  CharClassPattern cls;

  size_t match(std::u32string_view text, size_t pos) const {
    auto in = [this](char32_t c) { return cls.contains(c); };
    auto take = [&](size_t from) { return repeat ? run_length(text, from, in) : size_t(from < text.size() && in(text[from])); };
    if (optional_space && is_whitespace(text[pos])) {
      if (size_t len = pos + 1 < text.size() ? take(pos + 1) : 0; len > 0) return 1 + len;
    }
    return take(pos);
  }
};

/// Parses `(\s?)?[...](+)?`; returns false when the pattern has another shape.
bool parse_bracket_pattern(std::u32string_view p, BracketPattern& out) {
  size_t i = 0;
  if (p.substr(0, 3) == U"\\s?") {
    out.optional_space = true;
    i = 3;
  }
  if (i >= p.size() || p[i] != U'[') return false;
  i++;
  if (i < p.size() && p[i] == U'^') {
    out.cls.negated = true;
    i++;
  }
  // Reads one class member; returns false at the closing bracket.
  auto read_char = [&](char32_t& c, bool& is_set) -> bool {
    is_set = false;
    if (i >= p.size()) return false;
    if (p[i] == U']') return false;
    if (p[i] != U'\\') {
      c = p[i++];
      return true;
    }
    if (i + 1 >= p.size()) return false;
    const char32_t e = p[i + 1];
    i += 2;
    switch (e) {
      case U'r': c = U'\r'; return true;
      case U'n': c = U'\n'; return true;
      case U't': c = U'\t'; return true;
      case U's': out.cls.whitespace = true; is_set = true; return true;
      case U'p': {
        if (i + 2 >= p.size() || p[i] != U'{' || p[i + 2] != U'}') return false;
        const char32_t k = p[i + 1];
        i += 3;
        is_set = true;
        if (k == U'L') out.cls.classes.push_back(CharClass::letter);
        else if (k == U'N') out.cls.classes.push_back(CharClass::number);
        else if (k == U'P') out.cls.classes.push_back(CharClass::punctuation);
        else if (k == U'S') out.cls.classes.push_back(CharClass::symbol);
        else if (k == U'M') out.cls.classes.push_back(CharClass::mark_other);
        else return false;
        return true;
      }
      default:
        if (is_letter(e) || is_number(e)) return false;  // \d, \w... : not supported
        c = e;  // an escaped punctuation character stands for itself
        return true;
    }
  };
  while (true) {
    char32_t lo = 0;
    bool is_set = false;
    if (!read_char(lo, is_set)) break;
    if (is_set) continue;
    if (i + 1 < p.size() && p[i] == U'-' && p[i + 1] != U']') {
      i++;
      char32_t hi = 0;
      if (!read_char(hi, is_set) || is_set || hi < lo) return false;
      out.cls.ranges.push_back({lo, hi});
    } else {
      out.cls.ranges.push_back({lo, lo});
    }
  }
  if (i >= p.size() || p[i] != U']') return false;
  i++;
  if (i < p.size() && p[i] == U'+') {
    out.repeat = true;
    i++;
  }
  return i == p.size();
}

/// One spelling for each pattern: control characters written as escapes,
/// \uXXXX escapes as the characters they stand for, quotes unescaped.
std::u32string canonical(const std::string& regex) {
  std::u32string in = utf8_to_u32(regex), out;
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] == U'\r') {
      out += U"\\r";
    } else if (in[i] == U'\n') {
      out += U"\\n";
    } else if (in[i] == U'\\' && i + 1 < in.size() && (in[i + 1] == U'"' || in[i + 1] == U'\'')) {
      out += in[i + 1];  // quotes are never special: \" and " mean the same
      i++;
    } else if (in[i] == U'\\' && i + 5 < in.size() && in[i + 1] == U'u') {
      char32_t value = 0;
      bool hex = true;
      for (size_t k = 2; k < 6; k++) {
        const char32_t h = in[i + k];
        value <<= 4;
        if (h >= U'0' && h <= U'9') value |= h - U'0';
        else if (h >= U'a' && h <= U'f') value |= h - U'a' + 10;
        else if (h >= U'A' && h <= U'F') value |= h - U'A' + 10;
        else hex = false;
      }
      if (hex) {
        // Inside a class a literal '-' or ']' would change the meaning; keep those escaped.
        if (value == U'-' || value == U']' || value == U'\\' || value == U'^' || value == U'[') out += U'\\';
        out += value;
        i += 5;
      } else {
        out += in[i];
      }
    } else {
      out += in[i];
    }
  }
  return out;
}

const std::u32string kGpt2 = U"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const std::u32string kDeepseekV3Words =
    U"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
    U"?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

}  // namespace

size_t match_gpt2(std::u32string_view text, size_t pos) {
  const size_t n = text.size();
  if (text[pos] == U'\'' && pos + 1 < n) {
    const char32_t a = text[pos + 1], b = pos + 2 < n ? text[pos + 2] : 0;
    if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
  }
  if (size_t len = optional_space_then_run(text, pos, is_letter); len > 0) return len;
  if (size_t len = optional_space_then_run(text, pos, is_number); len > 0) return len;
  auto other = [](char32_t c) { return !is_whitespace(c) && !is_letter(c) && !is_number(c); };
  if (size_t len = optional_space_then_run(text, pos, other); len > 0) return len;
  return spaces_before_word_or_all(text, pos);
}

MatchAt compile_split_pattern(const std::string& regex) {
  const std::u32string p = canonical(regex);
  if (p == kGpt2) return match_gpt2;
  if (p == kDeepseekV3Words) return match_deepseek_v3_words;
  if (p == U"\\p{N}{1,3}") return match_numbers_1_to_3;
  if (p == U"\\p{N}+") return match_numbers;
  if (p == U"\\s+$") return match_trailing_spaces;
  BracketPattern bracket;
  if (parse_bracket_pattern(p, bracket)) {
    return [bracket](std::u32string_view text, size_t pos) { return bracket.match(text, pos); };
  }
  SEXTANT_FAIL("tokenizer split pattern not supported: \"", regex,
               "\" (supported: GPT-2's and DeepSeek's byte-level patterns, \\p{N}{1,3}, \\p{N}+, \\s+$, and "
               "bracket classes like \\s?[...]+)");
}

}  // namespace sextant::embed
