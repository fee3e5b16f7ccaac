// A transformer whose hidden states can be read at any layer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sextant/embed/layers.h"
#include "sextant/embed/model_config.h"

namespace sextant::embed {

class Model {
 public:
  virtual ~Model() = default;

  virtual int64_t hidden_size() const = 0;
  /// Number of transformer layers N; there are N + 1 hidden states.
  virtual int64_t num_layers() const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t max_positions() const = 0;
  /// "bert", "deepseek_v2" or "deepseek_v3".
  virtual std::string family() const = 0;

  /// Hidden states of the packed batch at each requested layer, as Hugging
  /// Face's output_hidden_states numbers them (0: embeddings, N: last, after the
  /// final norm for decoders). Each result is (batch.tokens() x hidden_size).
  /// Layers past the deepest requested one are not computed.
  std::vector<Matrix> hidden_states(const TokenBatch& batch, const std::vector<int>& layers) const;

 protected:
  /// Runs up to layer `last` (0..N) and hands each hidden state i <= last to `keep(i, state)`.
  virtual void forward(const TokenBatch& batch, int last,
                       const std::function<void(int, const Matrix&)>& keep) const = 0;
};

/// Loads config.json and the safetensors weights of a model directory.
std::unique_ptr<Model> load_model(const std::string& dir);

}  // namespace sextant::embed
