// The split patterns of byte-level BPE pre-tokenisers, as hand-written
// matchers instead of a regex engine. tokenizer.json states its patterns as
// regexes (Oniguruma syntax); we recognise the ones that real tokenizers use:
//   - GPT-2's pattern (ByteLevel with use_regex),
//   - DeepSeek-V3's three Split patterns (numbers in runs of 1-3, CJK/kana
//     runs, and the word/punctuation/space alternation),
//   - single bracket classes with an optional leading \s? and a + (DeepSeek
//     LLM/V2's letter, punctuation and CJK patterns), \p{N}+ and \s+$,
// and reject any other pattern with an error that quotes it.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sextant::embed {

/// Length of the match that starts exactly at `pos` (0 = no match there).
/// Patterns that can match the empty string are not supported.
using MatchAt = std::function<size_t(std::u32string_view text, size_t pos)>;

/// The matcher of a regex from tokenizer.json; throws for unsupported patterns.
MatchAt compile_split_pattern(const std::string& regex);

/// GPT-2's pattern: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
size_t match_gpt2(std::u32string_view text, size_t pos);

}  // namespace sextant::embed
