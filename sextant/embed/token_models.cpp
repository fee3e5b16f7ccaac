#include "sextant/embed/token_models.h"

#include <climits>
#include <cstdio>

#include "sextant/base/Error.h"
#include "sextant/embed/json.h"
#include "sextant/embed/unicode.h"

namespace sextant::embed {

namespace {

std::unordered_map<std::string, int32_t> read_vocab(const Json& spec, const char* model) {
  std::unordered_map<std::string, int32_t> vocab;
  const auto& entries = spec.at("vocab", model).as_object(std::string(model) + " vocab");
  vocab.reserve(entries.size());
  for (const auto& [token, id] : entries) {
    const int64_t v = id.as_int(std::string(model) + " vocab id");
    SEXTANT_CHECK(v >= 0 && v <= INT32_MAX, model, " vocab id ", v, " of \"", token, "\" is out of range");
    vocab.emplace(token, static_cast<int32_t>(v));
  }
  SEXTANT_CHECK(!vocab.empty(), model, " vocab is empty");
  return vocab;
}

int32_t lookup(const std::unordered_map<std::string, int32_t>& vocab, const std::string& token) {
  auto it = vocab.find(token);
  return it == vocab.end() ? -1 : it->second;
}

}  // namespace

std::unique_ptr<TokenModel> TokenModel::from_json(const Json& spec) {
  const std::string type = spec.at("type", "tokenizer model").as_string("model type");
  if (type == "WordPiece") return std::make_unique<WordPiece>(spec);
  if (type == "BPE") return std::make_unique<Bpe>(spec);
  SEXTANT_FAIL("tokenizer model \"", type, "\" is not supported (WordPiece, BPE)");
}

// ---- WordPiece ---------------------------------------------------------------------

WordPiece::WordPiece(const Json& spec) : vocab_(read_vocab(spec, "WordPiece")) {
  continuing_prefix_ = spec.get_string("continuing_subword_prefix", "##");
  max_chars_ = static_cast<size_t>(spec.get_int("max_input_chars_per_word", 100));
  const std::string unk = spec.get_string("unk_token", "[UNK]");
  unk_id_ = lookup(vocab_, unk);
  SEXTANT_CHECK(unk_id_ >= 0, "WordPiece unk_token \"", unk, "\" is not in the vocabulary");
}

int32_t WordPiece::token_to_id(const std::string& token) const { return lookup(vocab_, token); }

void WordPiece::encode_piece(const std::u32string& piece, std::vector<int32_t>& ids) const {
  if (piece.size() > max_chars_) {
    ids.push_back(unk_id_);
    return;
  }
  const size_t first = ids.size();
  size_t start = 0;
  while (start < piece.size()) {
    int32_t found = -1;
    size_t end = piece.size();
    for (; end > start; end--) {
      std::string candidate = start > 0 ? continuing_prefix_ : std::string();
      candidate += u32_to_utf8(std::u32string_view(piece).substr(start, end - start));
      found = lookup(vocab_, candidate);
      if (found >= 0) break;
    }
    if (found < 0) {  // the word cannot be covered: it is unknown as a whole
      ids.resize(first);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(found);
    start = end;
  }
}

// ---- BPE ---------------------------------------------------------------------------

Bpe::Bpe(const Json& spec) : vocab_(read_vocab(spec, "BPE")) {
  const std::string unk = spec.get_string("unk_token", "");
  if (!unk.empty()) unk_id_ = lookup(vocab_, unk);
  ignore_merges_ = spec.get_bool("ignore_merges", false);
  byte_fallback_ = spec.get_bool("byte_fallback", false);
  SEXTANT_CHECK(spec.get_string("continuing_subword_prefix", "").empty() &&
                    spec.get_string("end_of_word_suffix", "").empty(),
                "BPE continuing_subword_prefix / end_of_word_suffix are not supported");
  const auto& merges = spec.at("merges", "BPE model").as_array("BPE merges");
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); rank++) {
    std::string left, right;
    if (merges[rank].is_string()) {  // "a b"
      const std::string& m = merges[rank].as_string("BPE merge");
      const size_t space = m.find(' ', 1);
      SEXTANT_CHECK(space != std::string::npos, "BPE merge \"", m, "\" must be two tokens separated by a space");
      left = m.substr(0, space);
      right = m.substr(space + 1);
    } else {  // ["a", "b"]
      const auto& pair = merges[rank].as_array("BPE merge");
      SEXTANT_CHECK(pair.size() == 2, "BPE merge ", rank, " must hold two tokens");
      left = pair[0].as_string("BPE merge");
      right = pair[1].as_string("BPE merge");
    }
    const int32_t a = lookup(vocab_, left), b = lookup(vocab_, right), merged = lookup(vocab_, left + right);
    SEXTANT_CHECK(a >= 0 && b >= 0 && merged >= 0, "BPE merge \"", left, " ", right,
                  "\" uses a token missing from the vocabulary");
    merges_.emplace(std::make_pair(a, b), Merge{static_cast<int32_t>(rank), merged});
  }
}

int32_t Bpe::token_to_id(const std::string& token) const { return lookup(vocab_, token); }

void Bpe::encode_piece(const std::u32string& piece, std::vector<int32_t>& ids) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (int32_t whole = lookup(vocab_, u32_to_utf8(piece)); whole >= 0) {
      ids.push_back(whole);
      return;
    }
  }
  std::vector<int32_t> symbols;
  symbols.reserve(piece.size());
  for (char32_t c : piece) {
    std::string utf8;
    append_utf8(c, utf8);
    int32_t id = lookup(vocab_, utf8);
    if (id >= 0) {
      symbols.push_back(id);
    } else if (byte_fallback_) {
      for (unsigned char b : utf8) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const int32_t byte_id = lookup(vocab_, name);
        if (byte_id >= 0) symbols.push_back(byte_id);
        else if (unk_id_ >= 0) symbols.push_back(unk_id_);
      }
    } else if (unk_id_ >= 0) {
      symbols.push_back(unk_id_);
    }
    // Without unk token or byte fallback, an unknown character is dropped (as tokenizers does).
  }
  // Repeatedly merge the adjacent pair of lowest rank, leftmost first.
  while (symbols.size() > 1) {
    int32_t best_rank = INT32_MAX, best_result = -1;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < symbols.size(); i++) {
      auto it = merges_.find({symbols[i], symbols[i + 1]});
      if (it != merges_.end() && it->second.rank < best_rank) {
        best_rank = it->second.rank;
        best_result = it->second.result;
        best_at = i;
      }
    }
    if (best_result < 0) break;
    symbols[best_at] = best_result;
    symbols.erase(symbols.begin() + static_cast<ptrdiff_t>(best_at) + 1);
  }
  ids.insert(ids.end(), symbols.begin(), symbols.end());
}

}  // namespace sextant::embed
