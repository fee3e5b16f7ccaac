#include "sextant/embed/tokenizer.h"

#include <algorithm>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/embed/json.h"
#include "sextant/embed/unicode.h"

namespace sextant::embed {

namespace {

struct Affixes {
  std::vector<int32_t> prefix, suffix;
};

int32_t int32_id(const Json& v, const std::string& what) {
  const int64_t id = v.as_int(what);
  SEXTANT_CHECK(id >= 0 && id <= INT32_MAX, what, " ", id, " is out of range");
  return static_cast<int32_t>(id);
}

/// What the post-processor adds around a single sequence.
void add_post_processor(const Json& spec, Affixes& out) {
  if (spec.is_null()) return;
  const std::string type = spec.at("type", "post_processor").as_string("post_processor type");
  if (type == "Sequence") {
    for (const Json& inner : spec.at("processors", "Sequence post_processor").as_array("processors")) {
      add_post_processor(inner, out);
    }
  } else if (type == "ByteLevel") {
    // Only adjusts offsets.
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    const auto& cls = spec.at("cls", type).as_array(type + " cls");
    const auto& sep = spec.at("sep", type).as_array(type + " sep");
    SEXTANT_CHECK(cls.size() == 2 && sep.size() == 2, type, " cls and sep must be [token, id]");
    out.prefix.insert(out.prefix.begin(), int32_id(cls[1], type + " cls id"));
    out.suffix.push_back(int32_id(sep[1], type + " sep id"));
  } else if (type == "TemplateProcessing") {
    const Json& specials = spec.at("special_tokens", "TemplateProcessing");
    Affixes added;
    bool after_sequence = false;
    for (const Json& piece : spec.at("single", "TemplateProcessing").as_array("TemplateProcessing single")) {
      if (piece.find("Sequence") != nullptr) {
        after_sequence = true;
        continue;
      }
      const std::string& name = piece.at("SpecialToken", "template piece").at("id", "SpecialToken").as_string("id");
      const Json& token = specials.at(name, "TemplateProcessing special_tokens");
      for (const Json& id : token.at("ids", "special token " + name).as_array("ids")) {
        (after_sequence ? added.suffix : added.prefix).push_back(int32_id(id, "special token id"));
      }
    }
    out.prefix.insert(out.prefix.begin(), added.prefix.begin(), added.prefix.end());
    out.suffix.insert(out.suffix.end(), added.suffix.begin(), added.suffix.end());
  } else {
    SEXTANT_FAIL("post_processor \"", type,
                 "\" is not supported (TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)");
  }
}

bool is_word_char(char32_t c) { return is_letter(c) || is_number(c) || c == U'_'; }

}  // namespace

Tokenizer Tokenizer::from_file(const std::string& path) { return from_json(read_json_file(path)); }

Tokenizer Tokenizer::from_json(const Json& spec) {
  SEXTANT_CHECK(spec.is_object(), "tokenizer.json must hold a JSON object");
  Tokenizer t;
  t.model_ = TokenModel::from_json(spec.at("model", "tokenizer.json"));
  const Json null;
  const Json* normalizer = spec.find("normalizer");
  t.normalizer_ = Normalizer::from_json(normalizer ? *normalizer : null);
  const Json* pre = spec.find("pre_tokenizer");
  t.pre_tokenizer_ = PreTokenizer::from_json(pre ? *pre : null);
  if (const Json* added = spec.find("added_tokens"); added != nullptr && !added->is_null()) {
    for (const Json& a : added->as_array("added_tokens")) {
      AddedToken token;
      token.content = utf8_to_u32(a.at("content", "added token").as_string("added token content"));
      token.id = int32_id(a.at("id", "added token"), "added token id");
      token.lstrip = a.get_bool("lstrip", false);
      token.rstrip = a.get_bool("rstrip", false);
      token.single_word = a.get_bool("single_word", false);
      if (!token.content.empty()) t.added_.push_back(std::move(token));
    }
    std::stable_sort(t.added_.begin(), t.added_.end(),
                     [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  }
  Affixes affixes;
  if (const Json* post = spec.find("post_processor")) add_post_processor(*post, affixes);
  t.prefix_ = std::move(affixes.prefix);
  t.suffix_ = std::move(affixes.suffix);
  if (const Json* trunc = spec.find("truncation"); trunc != nullptr && !trunc->is_null()) {
    const int64_t max_length = trunc->at("max_length", "truncation").as_int("truncation max_length");
    SEXTANT_CHECK(max_length >= 0, "truncation max_length must be >= 0");
    t.max_length_ = static_cast<size_t>(max_length);
    t.truncate_left_ = trunc->get_string("direction", "Right") == "Left";
  }
  if (const Json* pad = spec.find("padding"); pad != nullptr && !pad->is_null()) {
    t.pad_id_ = int32_id(pad->at("pad_id", "padding"), "pad_id");
    t.pad_left_ = pad->get_string("direction", "Right") == "Left";
    const Json& strategy = pad->at("strategy", "padding");
    // Bounded: pad() allocates rows x length ids.
    constexpr int64_t kMaxPadLength = int64_t(1) << 24;
    if (const Json* fixed = strategy.find("Fixed")) {
      const int64_t length = fixed->as_int("padding Fixed length");
      SEXTANT_CHECK(length >= 0 && length <= kMaxPadLength, "padding Fixed length ", length, " must be in [0, ",
                    kMaxPadLength, "]");
      t.pad_fixed_ = static_cast<size_t>(length);
    }
    const int64_t multiple = pad->get_int("pad_to_multiple_of", 0);
    SEXTANT_CHECK(multiple >= 0 && multiple <= kMaxPadLength, "padding pad_to_multiple_of ", multiple,
                  " must be in [0, ", kMaxPadLength, "]");
    t.pad_multiple_ = static_cast<size_t>(multiple);
  }
  return t;
}

int32_t Tokenizer::token_to_id(const std::string& token) const {
  const std::u32string content = utf8_to_u32(token);
  for (const AddedToken& a : added_) {
    if (a.content == content) return a.id;
  }
  return model_->token_to_id(token);
}

void Tokenizer::encode_plain(const std::u32string& text, std::vector<int32_t>& ids) const {
  if (text.empty()) return;
  for (const std::u32string& piece : pre_tokenizer_.apply(normalizer_.apply(text))) model_->encode_piece(piece, ids);
}

void Tokenizer::encode_text(const std::u32string& text, std::vector<int32_t>& ids) const {
  size_t plain_start = 0, i = 0;
  while (i < text.size()) {
    const AddedToken* hit = nullptr;
    for (const AddedToken& a : added_) {
      if (a.content[0] != text[i] || text.compare(i, a.content.size(), a.content) != 0) continue;
      const size_t end = i + a.content.size();
      if (a.single_word && ((i > 0 && is_word_char(text[i - 1])) || (end < text.size() && is_word_char(text[end])))) {
        continue;
      }
      hit = &a;
      break;
    }
    if (hit == nullptr) {
      i++;
      continue;
    }
    size_t plain_end = i, next = i + hit->content.size();
    if (hit->lstrip) {
      while (plain_end > plain_start && is_whitespace(text[plain_end - 1])) plain_end--;
    }
    if (hit->rstrip) {
      while (next < text.size() && is_whitespace(text[next])) next++;
    }
    encode_plain(text.substr(plain_start, plain_end - plain_start), ids);
    ids.push_back(hit->id);
    plain_start = i = next;
  }
  encode_plain(text.substr(plain_start), ids);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> content;
  encode_text(utf8_to_u32(text), content);
  const size_t specials = options.add_special_tokens ? prefix_.size() + suffix_.size() : 0;
  const size_t max_length = options.max_length.value_or(max_length_);
  if (max_length > 0) {
    const size_t keep = max_length > specials ? max_length - specials : 0;
    if (content.size() > keep) {
      if (truncate_left_) content.erase(content.begin(), content.end() - static_cast<ptrdiff_t>(keep));
      else content.resize(keep);
    }
  }
  if (!options.add_special_tokens) return content;
  std::vector<int32_t> ids(prefix_);
  ids.insert(ids.end(), content.begin(), content.end());
  ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  return ids;
}

std::vector<std::vector<int32_t>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                          const EncodeOptions& options) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  ParallelErrors errors;
#pragma omp parallel for schedule(dynamic, 16)
  for (size_t i = 0; i < texts.size(); i++) errors.run([&] { out[i] = encode(texts[i], options); });
  errors.rethrow();
  return out;
}

PaddedBatch Tokenizer::pad(const std::vector<std::vector<int32_t>>& sequences) const {
  PaddedBatch batch;
  batch.rows = sequences.size();
  size_t longest = 0;
  for (const auto& s : sequences) longest = std::max(longest, s.size());
  batch.length = std::max(longest, pad_fixed_);
  if (pad_multiple_ > 0 && batch.length % pad_multiple_ != 0) {
    batch.length += pad_multiple_ - batch.length % pad_multiple_;
  }
  batch.ids.assign(batch.rows * batch.length, pad_id_);
  batch.mask.assign(batch.rows * batch.length, 0);
  for (size_t r = 0; r < batch.rows; r++) {
    const auto& s = sequences[r];
    const size_t n = std::min(s.size(), batch.length);
    const size_t offset = pad_left_ ? batch.length - n : 0;
    std::copy_n(s.begin(), n, batch.ids.begin() + static_cast<ptrdiff_t>(r * batch.length + offset));
    std::fill_n(batch.mask.begin() + static_cast<ptrdiff_t>(r * batch.length + offset), n, 1);
  }
  return batch;
}

}  // namespace sextant::embed
