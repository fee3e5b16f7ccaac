// libFuzzer target: tokenizer.json loading and encoding. The first byte picks
// the mode (byte % 5) and a truncation length (byte / 5; 0 = the tokenizer's):
//   0..3: a fixed valid tokenizer encodes the rest of the input as text
//         (any bytes: invalid UTF-8 must become U+FFFD, never a failure):
//         0 WordPiece (BERT normaliser and pre-tokeniser, [CLS] $A [SEP]),
//         1 byte-level BPE with DeepSeek-V3's split patterns and added tokens,
//         2 byte-level BPE with GPT-2's pattern and digit splitting,
//         3 BPE with byte fallback, Prepend/Replace normalisers, left truncation
//           and fixed, left-side padding (SentencePiece style);
//   4:    the rest up to the first NUL byte is tokenizer.json, what follows is
//         the text (JSON cannot hold a raw NUL byte).
// Loading must give a tokenizer or raise sextant::Error; a loaded tokenizer
// must encode any text without an exception, with special tokens, truncation
// and padding consistent with each other.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/embed/json.h"
#include "sextant/embed/text_pipeline.h"
#include "sextant/embed/tokenizer.h"
#include "sextant/embed/unicode.h"

namespace {

using namespace sextant::embed;

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

/// A vocabulary in id order, with merges that only use its tokens.
struct Vocab {
  std::vector<std::string> tokens;
  std::vector<std::pair<std::string, std::string>> merges;

  void add(const std::string& token) {
    if (std::find(tokens.begin(), tokens.end(), token) == tokens.end()) tokens.push_back(token);
  }
  void merge(const std::string& a, const std::string& b) {
    add(a);
    add(b);
    add(a + b);
    merges.emplace_back(a, b);
  }
  std::string vocab_json() const {
    std::string out = "{";
    for (size_t i = 0; i < tokens.size(); i++) out += (i ? "," : "") + quote(tokens[i]) + ":" + std::to_string(i);
    return out + "}";
  }
  std::string merges_json(bool as_pairs) const {
    std::string out = "[";
    for (size_t i = 0; i < merges.size(); i++) {
      out += i ? "," : "";
      out += as_pairs ? "[" + quote(merges[i].first) + "," + quote(merges[i].second) + "]"
                      : quote(merges[i].first + " " + merges[i].second);
    }
    return out + "]";
  }
  int id(const std::string& token) const {
    return static_cast<int>(std::find(tokens.begin(), tokens.end(), token) - tokens.begin());
  }
};

std::string byte_level(std::string_view text) {
  std::u32string mapped;
  for (unsigned char b : text) mapped += byte_to_unicode(b);
  return u32_to_utf8(mapped);
}

std::string wordpiece_json() {
  Vocab v;
  for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) v.add(t);
  for (char c = 33; c < 127; c++) {
    if (c >= 'A' && c <= 'Z') continue;  // lower-cased away
    v.add(std::string(1, c));
    v.add("##" + std::string(1, c));
  }
  for (const char* t : {"the", "hello", "world", "un", "##able", "##ing", "##ed", "##s", "café", "中", "文", "é"})
    v.add(t);
  return R"({"version":"1.0","truncation":null,"padding":null,"added_tokens":[)"
         R"({"id":0,"content":"[PAD]","special":true},{"id":1,"content":"[UNK]","special":true},)"
         R"({"id":2,"content":"[CLS]","special":true},{"id":3,"content":"[SEP]","special":true},)"
         R"({"id":4,"content":"[MASK]","lstrip":true,"special":true}],)"
         R"("normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,)"
         R"("strip_accents":null,"lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},)"
         R"("post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},)"
         R"({"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],"pair":[],)"
         R"("special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},)"
         R"("[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},)"
         R"("model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",)"
         R"("max_input_chars_per_word":100,"vocab":)" +
         v.vocab_json() + "}}";
}

/// Byte-level BPE: the 256 byte symbols, a few merges, added tokens at the end.
Vocab byte_level_vocab() {
  Vocab v;
  for (int b = 0; b < 256; b++) v.add(byte_level(std::string(1, char(b))));
  for (const char* word : {" the", " hello", "hello", " world", "ing", " 123", "中文", "é", "\n\n", "  "}) {
    const std::string w = byte_level(word);
    // Left to right: the prefix so far merges with the next symbol.
    std::u32string symbols = utf8_to_u32(w);
    std::string prefix = u32_to_utf8(symbols.substr(0, 1));
    for (size_t i = 1; i < symbols.size(); i++) {
      const std::string next = u32_to_utf8(symbols.substr(i, 1));
      v.merge(prefix, next);
      prefix += next;
    }
  }
  return v;
}

std::string bpe_json(bool deepseek) {
  const Vocab v = byte_level_vocab();
  const size_t n = v.tokens.size();
  const std::string bos = "<｜begin▁of▁sentence｜>";
  std::string added = R"([{"id":)" + std::to_string(n) + R"(,"content":)" + quote(bos) + R"(,"special":true},)" +
                      R"({"id":)" + std::to_string(n + 1) + R"(,"content":"<｜User｜>","lstrip":true,"rstrip":true},)" +
                      R"({"id":)" + std::to_string(n + 2) + R"(,"content":"the","single_word":true},)" +
                      R"({"id":)" + std::to_string(n + 3) + R"(,"content":"","special":true}])";
  std::string pre;
  auto split = [](const char* regex, const char* behavior, bool invert) {
    return std::string(R"({"type":"Split","pattern":{"Regex":)") + quote(regex) + R"(},"behavior":")" + behavior +
           R"(","invert":)" + (invert ? "true" : "false") + "}";
  };
  if (deepseek) {
    pre = R"({"type":"Sequence","pretokenizers":[)" + split(R"re(\p{N}{1,3})re", "Isolated", false) + "," +
          split("[一-龥\u3040-ゟ゠-ヿ]+", "Isolated", false) + "," +
          split(R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re",
                "Isolated", false) +
          R"(,{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":false}]})";
  } else {
    pre = R"({"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},)"
          R"({"type":"Split","pattern":{"String":"--"},"behavior":"MergedWithNext","invert":false},)" +
          split(R"re(\s+$)re", "Removed", false) + "," + split(R"re(\s?[A-Za-z\p{M}]+)re", "MergedWithPrevious", true) +
          R"(,{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}]})";
  }
  return R"({"version":"1.0","truncation":null,"padding":null,"added_tokens":)" + added +
         R"(,"normalizer":{"type":"Sequence","normalizers":[]},"pre_tokenizer":)" + pre +
         R"(,"post_processor":{"type":"Sequence","processors":[{"type":"ByteLevel"},)"
         R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":)" +
         quote(bos) + R"(,"type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{)" +
         quote(bos) + R"(:{"id":)" + quote(bos) + R"(,"ids":[)" + std::to_string(n) + R"(],"tokens":[)" + quote(bos) +
         R"(]}}}]},"model":{"type":"BPE","dropout":null,"unk_token":null,"fuse_unk":false,"byte_fallback":false,)"
         R"("ignore_merges":)" +
         (deepseek ? "false" : "true") + R"(,"vocab":)" + v.vocab_json() + R"(,"merges":)" + v.merges_json(deepseek) +
         "}}";
}

std::string byte_fallback_json() {
  Vocab v;
  v.add("<unk>");
  v.add("<s>");
  v.add("</s>");
  for (int b = 0; b < 256; b += 3) {  // every third byte: the others fall back to <unk>
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    v.add(name);
  }
  for (const char* word : {"▁the", "▁hello", "▁world", "ing", "ab", "▁▁"}) {
    std::u32string symbols = utf8_to_u32(word);
    std::string prefix = u32_to_utf8(symbols.substr(0, 1));
    for (size_t i = 1; i < symbols.size(); i++) {
      const std::string next = u32_to_utf8(symbols.substr(i, 1));
      v.merge(prefix, next);
      prefix += next;
    }
  }
  return R"({"version":"1.0","truncation":{"direction":"Left","max_length":24,"strategy":"LongestFirst","stride":0},)"
         R"("padding":{"strategy":{"Fixed":20},"direction":"Left","pad_to_multiple_of":8,"pad_id":0,)"
         R"("pad_type_id":0,"pad_token":"<unk>"},"added_tokens":[{"id":1,"content":"<s>","special":true},)"
         R"({"id":2,"content":"</s>","special":true}],)"
         R"("normalizer":{"type":"Sequence","normalizers":[{"type":"Strip","strip_left":false,"strip_right":true},)"
         R"({"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"},)"
         R"({"type":"Lowercase"},{"type":"StripAccents"}]},"pre_tokenizer":null,)"
         R"("post_processor":{"type":"BertProcessing","sep":["</s>",2],"cls":["<s>",1]},)"
         R"("model":{"type":"BPE","dropout":null,"unk_token":"<unk>","fuse_unk":true,"byte_fallback":true,)"
         R"("vocab":)" +
         v.vocab_json() + R"(,"merges":)" + v.merges_json(false) + "}}";
}

struct Fixed {
  Tokenizer tokenizer;
  size_t id_bound;  // every id it produces is below this
};

const std::vector<Fixed>& fixed_tokenizers() {
  static const std::vector<Fixed> all = [] {
    std::vector<Fixed> out;
    for (const std::string& spec : {wordpiece_json(), bpe_json(true), bpe_json(false), byte_fallback_json()}) {
      Tokenizer t = Tokenizer::from_json(parse_json(spec, "fixed tokenizer"));
      const size_t bound = t.vocab_size() + 4;  // the BPE tokenizers add four tokens after the vocabulary
      out.push_back(Fixed{std::move(t), bound});
    }
    return out;
  }();
  return all;
}

void check(const Tokenizer& t, std::string_view text, size_t max_length, size_t id_bound) {
  EncodeOptions plain;
  plain.add_special_tokens = false;
  plain.max_length = 0;
  const std::vector<int32_t> content = t.encode(text, plain);
  EncodeOptions special;
  special.max_length = 0;
  const std::vector<int32_t> full = t.encode(text, special);
  // Special tokens: exactly the post-processor's prefix and suffix around the content.
  const auto& prefix = t.prefix_ids();
  const auto& suffix = t.suffix_ids();
  if (full.size() != prefix.size() + content.size() + suffix.size() ||
      !std::equal(prefix.begin(), prefix.end(), full.begin()) ||
      !std::equal(content.begin(), content.end(), full.begin() + static_cast<ptrdiff_t>(prefix.size())) ||
      !std::equal(suffix.begin(), suffix.end(), full.end() - static_cast<ptrdiff_t>(suffix.size())))
    __builtin_trap();
  if (id_bound > 0) {
    for (int32_t id : full) {
      if (id < 0 || static_cast<size_t>(id) >= id_bound) __builtin_trap();
    }
  }
  EncodeOptions truncated;
  if (max_length > 0) truncated.max_length = max_length;
  const std::vector<int32_t> cut = t.encode(text, truncated);
  const size_t limit = truncated.max_length.value_or(t.max_length());
  if (limit > 0 && cut.size() > std::max(limit, prefix.size() + suffix.size())) __builtin_trap();
  if (limit == 0 && cut != full) __builtin_trap();
  const PaddedBatch batch = t.pad({cut, content});
  if (batch.rows != 2 || batch.length < std::max(cut.size(), content.size()) ||
      batch.ids.size() != 2 * batch.length || batch.mask.size() != 2 * batch.length)
    __builtin_trap();
  if (static_cast<size_t>(std::count(batch.mask.begin(), batch.mask.end(), 1)) != cut.size() + content.size())
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 5;
  const size_t max_length = data[0] / 5;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode < 4) {
    const Fixed& f = fixed_tokenizers()[static_cast<size_t>(mode)];
    check(f.tokenizer, rest, max_length, f.id_bound);
    return 0;
  }
  const size_t nul = rest.find('\0');
  const std::string_view spec = rest.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  std::unique_ptr<Tokenizer> tokenizer;
  try {
    tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_json(parse_json(spec, "tokenizer.json")));
  } catch (const sextant::Error&) {
    return 0;
  }
  check(*tokenizer, text, max_length, 0);
  return 0;
}
