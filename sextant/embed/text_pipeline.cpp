#include "sextant/embed/text_pipeline.h"

#include <utility>

#include "sextant/base/Error.h"
#include "sextant/embed/json.h"
#include "sextant/embed/unicode.h"

namespace sextant::embed {

bool is_cjk_ideograph(char32_t c) {
  // The ranges of tokenizers' BertNormalizer (and of the original BERT code).
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

char32_t byte_to_unicode(unsigned char b) {
  // Printable bytes stand for themselves; the others are shifted past 255 in order.
  if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) return b;
  int shifted = 0;
  for (int x = 0; x < b; x++) {
    if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) shifted++;
  }
  return char32_t(256 + shifted);
}

// ---- Normalizer ----------------------------------------------------------------

namespace {

void add_normalizer_steps(const Json& spec, std::vector<Normalizer::Step>& steps) {
  if (spec.is_null()) return;
  const std::string type = spec.at("type", "normalizer").as_string("normalizer type");
  using Kind = Normalizer::Step::Kind;
  Normalizer::Step step;
  if (type == "Sequence") {
    for (const Json& inner : spec.at("normalizers", "Sequence normalizer").as_array("normalizers")) {
      add_normalizer_steps(inner, steps);
    }
    return;
  } else if (type == "BertNormalizer") {
    step.clean_text = spec.get_bool("clean_text", true);
    step.handle_chinese_chars = spec.get_bool("handle_chinese_chars", true);
    step.lowercase = spec.get_bool("lowercase", true);
    // strip_accents null means: strip when lower-casing.
    step.strip_accents = spec.get_bool("strip_accents", step.lowercase);
  } else if (type == "Lowercase") {
    step.kind = Kind::lowercase;
  } else if (type == "StripAccents") {
    step.kind = Kind::strip_accents;
  } else if (type == "Strip") {
    step.kind = Kind::strip;
    step.left = spec.get_bool("strip_left", true);
    step.right = spec.get_bool("strip_right", true);
  } else if (type == "Prepend") {
    step.kind = Kind::prepend;
    step.content = utf8_to_u32(spec.at("prepend", "Prepend normalizer").as_string("prepend"));
  } else if (type == "Replace") {
    step.kind = Kind::replace;
    const Json& pattern = spec.at("pattern", "Replace normalizer");
    const Json* literal = pattern.find("String");
    SEXTANT_CHECK(literal != nullptr, "Replace normalizer: only String patterns are supported");
    step.pattern = utf8_to_u32(literal->as_string("Replace pattern"));
    SEXTANT_CHECK(!step.pattern.empty(), "Replace normalizer: the pattern must not be empty");
    step.content = utf8_to_u32(spec.at("content", "Replace normalizer").as_string("content"));
  } else {
    SEXTANT_FAIL("normalizer \"", type,
                 "\" is not supported (BertNormalizer, Lowercase, StripAccents, Strip, Prepend, Replace, Sequence)");
  }
  steps.push_back(std::move(step));
}

std::u32string apply_bert(const Normalizer::Step& s, const std::u32string& text) {
  std::u32string out;
  out.reserve(text.size() + 8);
  for (char32_t c : text) {
    if (s.clean_text) {
      if (c == 0 || c == 0xFFFD || (c != U'\t' && c != U'\n' && c != U'\r' && is_other(c))) continue;
      if (is_whitespace(c)) c = U' ';
    }
    if (s.handle_chinese_chars && is_cjk_ideograph(c)) {
      out += U' ';
      out += c;
      out += U' ';
    } else {
      out += c;
    }
  }
  if (s.strip_accents) {
    std::u32string stripped;
    stripped.reserve(out.size());
    for (char32_t c : out) append_without_accents(c, stripped);
    out.swap(stripped);
  }
  if (s.lowercase) {
    std::u32string lower;
    lower.reserve(out.size());
    for (char32_t c : out) append_lowercase(c, lower);
    out.swap(lower);
  }
  return out;
}

}  // namespace

Normalizer Normalizer::from_json(const Json& spec) {
  Normalizer n;
  add_normalizer_steps(spec, n.steps_);
  return n;
}

std::u32string Normalizer::apply(std::u32string text) const {
  for (const Step& s : steps_) {
    std::u32string out;
    switch (s.kind) {
      case Step::Kind::bert:
        out = apply_bert(s, text);
        break;
      case Step::Kind::lowercase:
        for (char32_t c : text) append_lowercase(c, out);
        break;
      case Step::Kind::strip_accents:
        for (char32_t c : text) {
          if (char_class(c) != CharClass::mark_nonspacing) out += c;
        }
        break;
      case Step::Kind::strip: {
        size_t b = 0, e = text.size();
        while (s.left && b < e && is_whitespace(text[b])) b++;
        while (s.right && e > b && is_whitespace(text[e - 1])) e--;
        out = text.substr(b, e - b);
        break;
      }
      case Step::Kind::prepend:
        out = text.empty() ? text : s.content + text;
        break;
      case Step::Kind::replace:
        for (size_t i = 0; i < text.size();) {
          if (text.compare(i, s.pattern.size(), s.pattern) == 0) {
            out += s.content;
            i += s.pattern.size();
          } else {
            out += text[i++];
          }
        }
        break;
    }
    text.swap(out);
  }
  return text;
}

// ---- PreTokenizer --------------------------------------------------------------------

namespace {

using Range = std::pair<size_t, size_t>;

PreTokenizer::Behavior parse_behavior(const std::string& name) {
  using B = PreTokenizer::Behavior;
  if (name == "Removed") return B::removed;
  if (name == "Isolated") return B::isolated;
  if (name == "MergedWithPrevious") return B::merged_with_previous;
  if (name == "MergedWithNext") return B::merged_with_next;
  if (name == "Contiguous") return B::contiguous;
  SEXTANT_FAIL("split behavior \"", name, "\" is not supported");
}

/// Cuts `piece` at the match ranges according to the behaviour, appending non-empty parts.
void split_by_matches(const std::u32string& piece, std::vector<Range> matches, PreTokenizer::Behavior behavior,
                      bool invert, std::vector<std::u32string>& out) {
  using B = PreTokenizer::Behavior;
  if (invert) {
    std::vector<Range> complement;
    size_t pos = 0;
    for (const Range& m : matches) {
      if (m.first > pos) complement.emplace_back(pos, m.first);
      pos = m.second;
    }
    if (pos < piece.size()) complement.emplace_back(pos, piece.size());
    matches.swap(complement);
  }
  if (behavior == B::contiguous) {  // adjacent matches become one
    std::vector<Range> merged;
    for (const Range& m : matches) {
      if (!merged.empty() && merged.back().second == m.first) merged.back().second = m.second;
      else merged.push_back(m);
    }
    matches.swap(merged);
  }
  // Parts alternate between gaps and matches; each part is (range, is_match).
  std::vector<std::pair<Range, bool>> parts;
  size_t pos = 0;
  for (const Range& m : matches) {
    if (m.first > pos) parts.push_back({{pos, m.first}, false});
    parts.push_back({m, true});
    pos = m.second;
  }
  if (pos < piece.size()) parts.push_back({{pos, piece.size()}, false});
  std::u32string pending;  // for merged_with_next
  bool produced = false;   // whether this piece has put a part in `out` yet
  for (const auto& [range, is_match] : parts) {
    std::u32string text = piece.substr(range.first, range.second - range.first);
    if (!is_match) {
      out.push_back(pending + text);
      pending.clear();
      produced = true;
      continue;
    }
    switch (behavior) {
      case B::removed:
        break;
      case B::isolated:
      case B::contiguous:
        out.push_back(text);
        produced = true;
        break;
      case B::merged_with_previous:
        if (produced) out.back() += text;
        else out.push_back(text);
        produced = true;
        break;
      case B::merged_with_next:
        pending += text;
        break;
    }
  }
  if (!pending.empty()) out.push_back(pending);
}

std::vector<Range> find_matches(const std::u32string& piece, const MatchAt& match) {
  std::vector<Range> ranges;
  for (size_t i = 0; i < piece.size();) {
    const size_t len = match(piece, i);
    if (len > 0) {
      ranges.emplace_back(i, i + len);
      i += len;
    } else {
      i++;
    }
  }
  return ranges;
}

std::vector<Range> find_chars(const std::u32string& piece, bool (*pred)(char32_t)) {
  std::vector<Range> ranges;
  for (size_t i = 0; i < piece.size(); i++) {
    if (pred(piece[i])) ranges.emplace_back(i, i + 1);
  }
  return ranges;
}

bool is_bert_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E) || is_punctuation(c);
}

void add_pre_tokenizer_steps(const Json& spec, std::vector<PreTokenizer::Step>& steps) {
  if (spec.is_null()) return;
  const std::string type = spec.at("type", "pre_tokenizer").as_string("pre_tokenizer type");
  using Kind = PreTokenizer::Step::Kind;
  PreTokenizer::Step step;
  if (type == "Sequence") {
    for (const Json& inner : spec.at("pretokenizers", "Sequence pre_tokenizer").as_array("pretokenizers")) {
      add_pre_tokenizer_steps(inner, steps);
    }
    return;
  } else if (type == "BertPreTokenizer") {
    step.kind = Kind::bert;
  } else if (type == "WhitespaceSplit") {
    step.kind = Kind::whitespace_split;
  } else if (type == "ByteLevel") {
    step.kind = Kind::byte_level;
    step.add_prefix_space = spec.get_bool("add_prefix_space", true);
    if (spec.get_bool("use_regex", true)) step.matcher = match_gpt2;
  } else if (type == "Digits") {
    step.kind = Kind::digits;
    step.individual_digits = spec.get_bool("individual_digits", false);
  } else if (type == "Split") {
    step.kind = Kind::split;
    const Json& pattern = spec.at("pattern", "Split pre_tokenizer");
    if (const Json* regex = pattern.find("Regex")) {
      step.matcher = compile_split_pattern(regex->as_string("Split regex"));
    } else {
      step.literal = utf8_to_u32(pattern.at("String", "Split pattern").as_string("Split string"));
      SEXTANT_CHECK(!step.literal.empty(), "Split pre_tokenizer: the pattern must not be empty");
    }
    step.behavior = parse_behavior(spec.at("behavior", "Split pre_tokenizer").as_string("behavior"));
    step.invert = spec.get_bool("invert", false);
  } else {
    SEXTANT_FAIL("pre_tokenizer \"", type,
                 "\" is not supported (BertPreTokenizer, WhitespaceSplit, ByteLevel, Split, Digits, Sequence)");
  }
  steps.push_back(std::move(step));
}

}  // namespace

PreTokenizer PreTokenizer::from_json(const Json& spec) {
  PreTokenizer p;
  add_pre_tokenizer_steps(spec, p.steps_);
  return p;
}

std::vector<std::u32string> PreTokenizer::apply(const std::u32string& text) const {
  std::vector<std::u32string> pieces{text};
  for (const Step& s : steps_) {
    std::vector<std::u32string> next;
    for (std::u32string& piece : pieces) {
      if (piece.empty()) continue;
      switch (s.kind) {
        case Step::Kind::bert: {
          std::vector<std::u32string> words;
          split_by_matches(piece, find_chars(piece, is_whitespace), Behavior::removed, false, words);
          for (const std::u32string& w : words) {
            split_by_matches(w, find_chars(w, is_bert_punctuation), Behavior::isolated, false, next);
          }
          break;
        }
        case Step::Kind::whitespace_split:
          split_by_matches(piece, find_chars(piece, is_whitespace), Behavior::removed, false, next);
          break;
        case Step::Kind::digits: {
          auto ranges = find_chars(piece, is_number);
          split_by_matches(piece, std::move(ranges), s.individual_digits ? Behavior::isolated : Behavior::contiguous,
                           false, next);
          break;
        }
        case Step::Kind::split: {
          std::vector<Range> ranges;
          if (s.matcher) {
            ranges = find_matches(piece, s.matcher);
          } else {
            for (size_t i = piece.find(s.literal); i != std::u32string::npos;
                 i = piece.find(s.literal, i + s.literal.size())) {
              ranges.emplace_back(i, i + s.literal.size());
            }
          }
          split_by_matches(piece, std::move(ranges), s.behavior, s.invert, next);
          break;
        }
        case Step::Kind::byte_level: {
          if (s.add_prefix_space && (piece.empty() || piece[0] != U' ')) piece.insert(piece.begin(), U' ');
          std::vector<std::u32string> parts;
          if (s.matcher) split_by_matches(piece, find_matches(piece, s.matcher), Behavior::isolated, false, parts);
          else parts.push_back(piece);
          for (const std::u32string& part : parts) {
            std::u32string mapped;
            for (unsigned char b : u32_to_utf8(part)) mapped += byte_to_unicode(b);
            next.push_back(std::move(mapped));
          }
          break;
        }
      }
    }
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace sextant::embed
