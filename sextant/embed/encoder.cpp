#include "sextant/embed/encoder.h"

#include <algorithm>
#include <filesystem>

#include "sextant/base/Error.h"
#include "sextant/embed/json.h"

namespace sextant::embed {

namespace fs = std::filesystem;

Encoder::Encoder(const std::string& dir) : model_(load_model(dir)) {
  const fs::path root(dir);
  if (fs::exists(root / "tokenizer.json")) tokenizer_ = Tokenizer::from_file((root / "tokenizer.json").string());
  // sentence-transformers truncates at its own max_seq_length, not tokenizer.json's.
  max_length_ = tokenizer_ ? tokenizer_->max_length() : 0;
  if (fs::exists(root / "sentence_bert_config.json")) {
    const Json st = read_json_file((root / "sentence_bert_config.json").string());
    const int64_t len = st.get_int("max_seq_length", 0);
    SEXTANT_CHECK(len >= 0, "sentence_bert_config.json: max_seq_length must be >= 0");
    if (len > 0) max_length_ = static_cast<size_t>(len);
  }
  const size_t positions = static_cast<size_t>(model_->max_positions());
  if (max_length_ == 0 || max_length_ > positions) max_length_ = positions;
}

std::vector<std::vector<int32_t>> Encoder::tokenize(const std::vector<std::string>& texts,
                                                    bool add_special_tokens) const {
  SEXTANT_CHECK(tokenizer_.has_value(), "this model directory has no tokenizer.json: pass token ids instead of text");
  EncodeOptions options;
  options.add_special_tokens = add_special_tokens;
  options.max_length = max_length_;
  return tokenizer_->encode_batch(texts, options);
}

std::vector<Embeddings> Encoder::embed_ids(const std::vector<std::vector<int32_t>>& sequences,
                                           const EmbedOptions& options) const {
  SEXTANT_CHECK(options.batch_size > 0, "batch_size must be > 0");
  SEXTANT_CHECK(!options.layers.empty(), "at least one layer is needed");
  const int n_states = static_cast<int>(model_->num_layers()) + 1;
  std::vector<int> layers;
  for (int layer : options.layers) {
    SEXTANT_CHECK(layer >= -n_states && layer < n_states, "layer ", layer, " is out of range: the model has ",
                  n_states, " hidden states (0 .. ", n_states - 1, ", or -1 .. -", n_states, ")");
    layers.push_back(layer < 0 ? layer + n_states : layer);
  }
  const size_t d = static_cast<size_t>(model_->hidden_size());
  for (size_t i = 0; i < sequences.size(); i++) {
    SEXTANT_CHECK(!sequences[i].empty() || options.pooling == Pooling::none, "sequence ", i,
                  " is empty: there is nothing to pool");
    for (int32_t id : sequences[i]) {
      SEXTANT_CHECK(id >= 0 && id < model_->vocab_size(), "sequence ", i, " has token id ", id,
                    " outside the vocabulary [0, ", model_->vocab_size(), ")");
    }
  }
  std::vector<Embeddings> out(layers.size());
  size_t total_tokens = 0;
  for (const auto& s : sequences) total_tokens += s.size();
  for (Embeddings& e : out) {
    if (options.pooling == Pooling::none) {
      e.values = Matrix(total_tokens, d);
      e.offsets.assign(1, 0);
    } else {
      e.values = Matrix(sequences.size(), d);
    }
  }
  size_t token_cursor = 0;
  for (size_t start = 0; start < sequences.size(); start += options.batch_size) {
    const size_t end = std::min(sequences.size(), start + options.batch_size);
    TokenBatch batch;
    for (size_t i = start; i < end; i++) batch.add(sequences[i]);
    std::vector<Matrix> states = model_->hidden_states(batch, layers);
    for (size_t l = 0; l < layers.size(); l++) {
      Embeddings& e = out[l];
      if (options.pooling == Pooling::none) {
        Matrix& s = states[l];
        if (options.normalize) l2_normalize_rows(s);
        std::copy(s.values.begin(), s.values.end(), e.values.row(token_cursor));
        for (size_t i = 0; i < batch.size(); i++) e.offsets.push_back(e.offsets.back() + batch.length(i));
      } else {
        Matrix pooled = pool(states[l], batch.offsets, options.pooling);
        if (options.normalize) l2_normalize_rows(pooled);
        std::copy(pooled.values.begin(), pooled.values.end(), e.values.row(start));
      }
    }
    token_cursor += batch.tokens();
  }
  return out;
}

std::vector<Embeddings> Encoder::embed_texts(const std::vector<std::string>& texts, const EmbedOptions& options) const {
  return embed_ids(tokenize(texts), options);
}

}  // namespace sextant::embed
