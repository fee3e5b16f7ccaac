// config.json of the supported model families, read into plain structs with
// Hugging Face's defaults. Unknown model types and impossible values are
// rejected with an error that names the field.
//
// Field names follow config.json's keys, so a field's meaning is the one in
// the model's Hugging Face documentation (BertConfig, DeepseekV2Config,
// DeepseekV3Config); comments here say only what sextant adds or restricts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sextant::embed {

class Json;

/// The model_type values understood: "bert" (and BERT-family encoders with
/// the same layout), "deepseek_v2", "deepseek_v3".
enum class ModelFamily { bert, deepseek_v2, deepseek_v3 };

/// A BERT-family encoder (post-norm transformer, absolute positions).
struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";  // gelu (erf), gelu_new / gelu_pytorch_tanh, relu
};

/// Rotary embeddings: plain RoPE or YaRN (the only scaling DeepSeek ships).
struct RopeConfig {
  double theta = 10000.0;
  bool yarn = false;
  double factor = 1.0;
  int64_t original_max_position_embeddings = 4096;
  double beta_fast = 32.0, beta_slow = 1.0;
  double mscale = 0.0, mscale_all_dim = 0.0;  // 0: not given
  std::optional<double> attention_factor;     // overrides the mscale ratio when given
  bool truncate = true;
};

/// A DeepSeek V2/V3 decoder: multi-head latent attention (the q/kv LoRA
/// ranks and head dimensions below), RMSNorm, and mixture-of-experts layers.
struct DeepseekConfig {
  int version = 3;  // 2 or 3
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t moe_intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  std::optional<int64_t> q_lora_rank;  // null: a direct q projection
  int64_t kv_lora_rank = 512;
  int64_t qk_nope_head_dim = 128, qk_rope_head_dim = 64, v_head_dim = 128;
  double rms_norm_eps = 1e-6;
  int64_t max_position_embeddings = 2048;
  RopeConfig rope;
  bool rope_interleave = true;  // V2 always rotates interleaved pairs
  bool attention_bias = false, mlp_bias = false;
  std::string hidden_act = "silu";

  // Mixture of experts; n_routed_experts == 0 means every layer is dense.
  int64_t n_routed_experts = 0;
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  int64_t n_group = 1, topk_group = 1;
  std::string topk_method = "greedy";  // V2: greedy | group_limited_greedy; V3: noaux_tc
  std::string scoring_func = "softmax";  // V2: softmax; V3: sigmoid
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;

  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  bool is_moe_layer(int64_t layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
};

/// A whole config.json: `family` says which of `bert` / `deepseek` is filled.
struct ModelConfig {
  ModelFamily family = ModelFamily::bert;
  BertConfig bert;
  DeepseekConfig deepseek;
  /// Block size of FP8 weight scales (quantization_config.weight_block_size).
  int64_t fp8_block_rows = 128, fp8_block_cols = 128;
};

/// The config of a parsed config.json; `source` names it in errors.
ModelConfig parse_model_config(const Json& config, const std::string& source);
/// Reads and parses the config.json at `path`.
ModelConfig read_model_config(const std::string& path);

}  // namespace sextant::embed
