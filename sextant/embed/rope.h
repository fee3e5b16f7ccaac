// Rotary position embeddings as DeepSeek uses them: plain RoPE or YaRN, on
// interleaved pairs (x0, x1), (x2, x3)... or on half-split pairs (x_i, x_{i+d/2}).
#pragma once

#include <cstddef>
#include <vector>

#include "sextant/embed/model_config.h"

namespace sextant::embed {

class Rope {
 public:
  /// `dim` is the number of rotated dimensions (qk_rope_head_dim).
  Rope(const RopeConfig& config, size_t dim, bool interleaved);

  /// Rotates `dim` values at x for the given position, scaling them by the
  /// YaRN attention factor (1 for plain RoPE), as transformers scales cos and sin.
  void apply(float* x, size_t position) const;

  /// The factor on the softmax scale: YaRN's mscale(factor, mscale_all_dim)^2, else 1.
  double softmax_scale_factor() const { return softmax_factor_; }
  const std::vector<float>& inv_freq() const { return inv_freq_; }

 private:
  size_t dim_;
  bool interleaved_;
  std::vector<float> inv_freq_;
  float attention_factor_ = 1.0f;
  double softmax_factor_ = 1.0;
};

}  // namespace sextant::embed
