// DeepSeekMoE: shared experts that see every token plus routed experts picked
// per token by a gate (V2: softmax scores, greedy or group-limited greedy;
// V3: sigmoid scores with a selection-only bias, group-limited top-k,
// normalised weights times routed_scaling_factor).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sextant/embed/layers.h"
#include "sextant/embed/model_config.h"

namespace sextant::embed {

/// A SwiGLU feed-forward block: down(silu(gate(x)) * up(x)); gate and up share one GEMM.
class SwiGLU {
 public:
  SwiGLU() = default;
  SwiGLU(Linear gate_up, Linear down) : gate_up_(std::move(gate_up)), down_(std::move(down)) {}
  /// Loads `<prefix>gate_proj`, `up_proj`, `down_proj`.
  static SwiGLU load(const Checkpoint& ckpt, const std::string& prefix, int64_t hidden, int64_t inter, bool bias);

  Matrix apply(const Matrix& x) const;

 private:
  Linear gate_up_, down_;
};

/// The routing decision for one token: experts and their weights.
struct Route {
  std::vector<int32_t> experts;
  std::vector<float> weights;
};

/// Routes one token from its gate logits (n_routed_experts values).
Route route_token(const DeepseekConfig& config, const float* logits, const float* correction_bias);

class MoE {
 public:
  MoE(const DeepseekConfig& config, const Checkpoint& ckpt, const std::string& prefix);
  Matrix apply(const Matrix& x) const;

 private:
  DeepseekConfig config_;
  Linear gate_;
  std::vector<float> correction_bias_;  // V3 only
  std::vector<SwiGLU> experts_;
  SwiGLU shared_;
  bool has_shared_ = false;
};

}  // namespace sextant::embed
