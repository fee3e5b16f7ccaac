#include "sextant/embed/model.h"

#include <algorithm>
#include <filesystem>

#include "sextant/base/Error.h"
#include "sextant/embed/bert_model.h"
#include "sextant/embed/deepseek_model.h"

namespace sextant::embed {

std::vector<Matrix> Model::hidden_states(const TokenBatch& batch, const std::vector<int>& layers) const {
  const int n = static_cast<int>(num_layers());
  int deepest = 0;
  for (int layer : layers) {
    SEXTANT_CHECK(layer >= 0 && layer <= n, "layer ", layer, " is out of range: the model has ", n + 1,
                  " hidden states (0 = embeddings ... ", n, " = last)");
    deepest = std::max(deepest, layer);
  }
  std::vector<Matrix> out(layers.size());
  if (batch.tokens() == 0) {
    for (Matrix& m : out) m = Matrix(0, static_cast<size_t>(hidden_size()));
    return out;
  }
  forward(batch, deepest, [&](int index, const Matrix& state) {
    for (size_t i = 0; i < layers.size(); i++) {
      if (layers[i] == index) out[i] = state;
    }
  });
  return out;
}

std::unique_ptr<Model> load_model(const std::string& dir) {
  const std::filesystem::path root(dir);
  SEXTANT_CHECK(std::filesystem::is_directory(root), "model directory ", dir, " does not exist");
  const ModelConfig config = read_model_config((root / "config.json").string());
  const std::array<int64_t, 2> block{config.fp8_block_rows, config.fp8_block_cols};
  switch (config.family) {
    case ModelFamily::bert:
      return make_bert_model(config.bert, Checkpoint(dir, {"bert.", "model."}, block));
    case ModelFamily::deepseek_v2:
    case ModelFamily::deepseek_v3:
      return make_deepseek_model(config.deepseek, Checkpoint(dir, {"model."}, block));
  }
  return nullptr;
}

}  // namespace sextant::embed
