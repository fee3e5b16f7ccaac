// The embedding producer: a model directory (config.json, safetensors
// weights, tokenizer.json) turned into vectors, any layer, any pooling.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sextant/embed/model.h"
#include "sextant/embed/pooling.h"
#include "sextant/embed/tokenizer.h"

namespace sextant::embed {

struct EmbedOptions {
  /// Hidden-state indices as in Hugging Face's output_hidden_states: 0 =
  /// embeddings, N = last; negative counts from the end (-1 = last).
  std::vector<int> layers{-1};
  Pooling pooling = Pooling::mean;
  bool normalize = true;
  /// Sequences per forward pass (their tokens form one packed matrix).
  size_t batch_size = 32;
};

/// The vectors of one layer. Pooled: values is (n x hidden) and offsets is
/// empty. Pooling::none: values holds every token's row (sum of lengths x
/// hidden) and sequence i is rows offsets[i] .. offsets[i+1].
struct Embeddings {
  Matrix values;
  std::vector<size_t> offsets;
};

class Encoder {
 public:
  /// Reads config.json, the safetensors weights and, when present,
  /// tokenizer.json and sentence_bert_config.json (its max_seq_length).
  explicit Encoder(const std::string& dir);

  const Model& model() const { return *model_; }
  /// Null when the directory has no tokenizer.json (then only ids can be embedded).
  const Tokenizer* tokenizer() const { return tokenizer_ ? &*tokenizer_ : nullptr; }
  /// Truncation length applied to texts (special tokens included).
  size_t max_length() const { return max_length_; }

  std::vector<std::vector<int32_t>> tokenize(const std::vector<std::string>& texts,
                                             bool add_special_tokens = true) const;

  /// One Embeddings per requested layer.
  std::vector<Embeddings> embed_ids(const std::vector<std::vector<int32_t>>& sequences,
                                    const EmbedOptions& options) const;
  std::vector<Embeddings> embed_texts(const std::vector<std::string>& texts, const EmbedOptions& options) const;

 private:
  std::unique_ptr<Model> model_;
  std::optional<Tokenizer> tokenizer_;
  size_t max_length_ = 0;
};

}  // namespace sextant::embed
