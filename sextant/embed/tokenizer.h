// A Hugging Face tokenizer read from tokenizer.json: added (special) tokens,
// normaliser, pre-tokeniser, WordPiece or BPE model, post-processor
// ([CLS] ... [SEP] or a BOS token), truncation and padding.
//
// Added tokens are matched in the raw text (before normalisation), which is
// what the `tokenizers` package does for tokens with "normalized": false and
// for every token of BERT and DeepSeek tokenizers that matters in practice.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sextant/embed/text_pipeline.h"
#include "sextant/embed/token_models.h"

namespace sextant::embed {

struct EncodeOptions {
  bool add_special_tokens = true;
  /// Total length after special tokens; 0 = no truncation. Unset = tokenizer.json's setting.
  std::optional<size_t> max_length;
};

/// A padded batch: ids and mask are (rows x length), row-major.
struct PaddedBatch {
  size_t rows = 0, length = 0;
  std::vector<int32_t> ids;
  std::vector<uint8_t> mask;
};

class Tokenizer {
 public:
  static Tokenizer from_file(const std::string& path);
  static Tokenizer from_json(const Json& spec);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
  /// Encodes many texts on the library's threads.
  std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string>& texts,
                                                 const EncodeOptions& options = {}) const;

  /// Pads to the longest sequence (or tokenizer.json's fixed length), on the configured side.
  PaddedBatch pad(const std::vector<std::vector<int32_t>>& sequences) const;

  /// tokenizer.json's truncation length (0 = none).
  size_t max_length() const { return max_length_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t token_to_id(const std::string& token) const;
  size_t vocab_size() const { return model_->vocab_size(); }
  /// Ids the post-processor adds before and after a single sequence.
  const std::vector<int32_t>& prefix_ids() const { return prefix_; }
  const std::vector<int32_t>& suffix_ids() const { return suffix_; }

  struct AddedToken {
    std::u32string content;
    int32_t id = 0;
    bool lstrip = false, rstrip = false, single_word = false;
  };

 private:
  /// Splits raw text into runs of plain text and added tokens.
  void encode_text(const std::u32string& text, std::vector<int32_t>& ids) const;
  void encode_plain(const std::u32string& text, std::vector<int32_t>& ids) const;

  std::vector<AddedToken> added_;  // longest first, so the longest match wins
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  std::shared_ptr<const TokenModel> model_;
  std::vector<int32_t> prefix_, suffix_;
  size_t max_length_ = 0;
  bool truncate_left_ = false;
  bool pad_left_ = false;
  size_t pad_fixed_ = 0, pad_multiple_ = 0;
  int32_t pad_id_ = 0;
};

}  // namespace sextant::embed
