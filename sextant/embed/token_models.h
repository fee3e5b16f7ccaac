// The subword models of a tokenizer: WordPiece (BERT) and BPE (byte-level
// for GPT-2 / DeepSeek), each turning one pre-tokenised piece into ids.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sextant::embed {

class Json;

class TokenModel {
 public:
  virtual ~TokenModel() = default;
  /// Appends the ids of one piece.
  virtual void encode_piece(const std::u32string& piece, std::vector<int32_t>& ids) const = 0;
  /// The id of a token, or -1.
  virtual int32_t token_to_id(const std::string& token) const = 0;
  virtual size_t vocab_size() const = 0;

  /// From tokenizer.json's "model".
  static std::unique_ptr<TokenModel> from_json(const Json& spec);
};

/// Greedy longest-match-first WordPiece: a word that cannot be covered by
/// vocabulary pieces (or is longer than max_input_chars_per_word) becomes [UNK].
class WordPiece final : public TokenModel {
 public:
  explicit WordPiece(const Json& spec);
  void encode_piece(const std::u32string& piece, std::vector<int32_t>& ids) const override;
  int32_t token_to_id(const std::string& token) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  std::unordered_map<std::string, int32_t> vocab_;
  std::string continuing_prefix_ = "##";
  int32_t unk_id_ = -1;
  size_t max_chars_ = 100;
};

/// BPE: start from characters, apply the lowest-ranked merge until none applies.
class Bpe final : public TokenModel {
 public:
  explicit Bpe(const Json& spec);
  void encode_piece(const std::u32string& piece, std::vector<int32_t>& ids) const override;
  int32_t token_to_id(const std::string& token) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  struct PairHash {
    size_t operator()(const std::pair<int32_t, int32_t>& p) const {
      return std::hash<uint64_t>()((uint64_t(uint32_t(p.first)) << 32) | uint32_t(p.second));
    }
  };
  struct Merge {
    int32_t rank, result;
  };
  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<std::pair<int32_t, int32_t>, Merge, PairHash> merges_;
  int32_t unk_id_ = -1;
  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
};

}  // namespace sextant::embed
