#include "sextant/embed/model_config.h"

#include <cstdint>

#include "sextant/base/Error.h"
#include "sextant/embed/json.h"

namespace sextant::embed {

namespace {

int64_t positive(const Json& config, const char* key, int64_t fallback, const std::string& source) {
  const int64_t v = config.get_int(key, fallback);
  SEXTANT_CHECK(v > 0, source, ": ", key, " must be > 0, got ", v);
  return v;
}

BertConfig parse_bert(const Json& c, const std::string& src) {
  BertConfig b;
  b.vocab_size = positive(c, "vocab_size", b.vocab_size, src);
  b.hidden_size = positive(c, "hidden_size", b.hidden_size, src);
  b.num_hidden_layers = positive(c, "num_hidden_layers", b.num_hidden_layers, src);
  b.num_attention_heads = positive(c, "num_attention_heads", b.num_attention_heads, src);
  b.intermediate_size = positive(c, "intermediate_size", b.intermediate_size, src);
  b.max_position_embeddings = positive(c, "max_position_embeddings", b.max_position_embeddings, src);
  b.type_vocab_size = positive(c, "type_vocab_size", b.type_vocab_size, src);
  b.layer_norm_eps = c.get_double("layer_norm_eps", b.layer_norm_eps);
  b.hidden_act = c.get_string("hidden_act", b.hidden_act);
  SEXTANT_CHECK(b.hidden_size % b.num_attention_heads == 0, src, ": hidden_size ", b.hidden_size,
                " must be a multiple of num_attention_heads ", b.num_attention_heads);
  SEXTANT_CHECK(b.hidden_act == "gelu" || b.hidden_act == "gelu_new" || b.hidden_act == "gelu_pytorch_tanh" ||
                    b.hidden_act == "relu",
                src, ": hidden_act \"", b.hidden_act, "\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
  const std::string position = c.get_string("position_embedding_type", "absolute");
  SEXTANT_CHECK(position == "absolute", src, ": position_embedding_type \"", position,
                "\" is not supported (absolute)");
  return b;
}

/// Reads RoPE settings from either transformers 5's "rope_parameters" or the
/// older "rope_theta" + "rope_scaling" pair that DeepSeek's own configs use.
RopeConfig parse_rope(const Json& c, const std::string& src) {
  RopeConfig r;
  r.theta = c.get_double("rope_theta", r.theta);
  const Json* params = c.find("rope_parameters");
  if (params == nullptr || params->is_null()) params = c.find("rope_scaling");
  if (params == nullptr || params->is_null()) return r;
  SEXTANT_CHECK(params->is_object(), src, ": rope_scaling must be an object or null");
  r.theta = params->get_double("rope_theta", r.theta);
  std::string type = params->get_string("rope_type", params->get_string("type", "default"));
  if (type == "default") return r;
  SEXTANT_CHECK(type == "yarn", src, ": rope type \"", type, "\" is not supported (default, yarn)");
  r.yarn = true;
  r.original_max_position_embeddings =
      params->get_int("original_max_position_embeddings", c.get_int("max_position_embeddings", 4096));
  const Json* factor = params->find("factor");
  r.factor = factor != nullptr && !factor->is_null()
                 ? factor->as_double("rope factor")
                 : double(c.get_int("max_position_embeddings", 2048)) / double(r.original_max_position_embeddings);
  r.beta_fast = params->get_double("beta_fast", 32.0);
  r.beta_slow = params->get_double("beta_slow", 1.0);
  r.mscale = params->get_double("mscale", 0.0);
  r.mscale_all_dim = params->get_double("mscale_all_dim", 0.0);
  if (const Json* a = params->find("attention_factor"); a != nullptr && !a->is_null()) {
    r.attention_factor = a->as_double("attention_factor");
  }
  r.truncate = params->get_bool("truncate", true);
  SEXTANT_CHECK(r.factor > 0 && r.original_max_position_embeddings > 0, src, ": YaRN factor and ",
                "original_max_position_embeddings must be > 0");
  return r;
}

DeepseekConfig parse_deepseek(const Json& c, const std::string& src, int version) {
  DeepseekConfig d;
  d.version = version;
  d.vocab_size = positive(c, "vocab_size", 0, src);
  d.hidden_size = positive(c, "hidden_size", 0, src);
  d.intermediate_size = positive(c, "intermediate_size", 0, src);
  d.num_hidden_layers = positive(c, "num_hidden_layers", 0, src);
  d.num_attention_heads = positive(c, "num_attention_heads", 0, src);
  if (const Json* q = c.find("q_lora_rank"); q != nullptr && !q->is_null()) {
    d.q_lora_rank = q->as_int("q_lora_rank");
    SEXTANT_CHECK(*d.q_lora_rank > 0, src, ": q_lora_rank must be > 0 or null");
  }
  d.kv_lora_rank = positive(c, "kv_lora_rank", d.kv_lora_rank, src);
  d.qk_nope_head_dim = c.get_int("qk_nope_head_dim", d.qk_nope_head_dim);
  d.qk_rope_head_dim = c.get_int("qk_rope_head_dim", d.qk_rope_head_dim);
  d.v_head_dim = positive(c, "v_head_dim", d.v_head_dim, src);
  SEXTANT_CHECK(d.qk_nope_head_dim >= 0 && d.qk_rope_head_dim >= 0 && d.qk_rope_head_dim % 2 == 0 &&
                    d.qk_nope_head_dim <= INT64_MAX - d.qk_rope_head_dim && d.qk_head_dim() > 0,
                src, ": qk_nope_head_dim and qk_rope_head_dim must be >= 0, their sum positive and within int64, the rope part even");
  d.rms_norm_eps = c.get_double("rms_norm_eps", d.rms_norm_eps);
  d.max_position_embeddings = c.get_int("max_position_embeddings", d.max_position_embeddings);
  d.rope = parse_rope(c, src);
  d.rope_interleave = version == 2 ? true : c.get_bool("rope_interleave", true);
  d.attention_bias = c.get_bool("attention_bias", false);
  d.mlp_bias = c.get_bool("mlp_bias", false);
  d.hidden_act = c.get_string("hidden_act", "silu");
  SEXTANT_CHECK(d.hidden_act == "silu", src, ": hidden_act \"", d.hidden_act, "\" is not supported (silu)");
  SEXTANT_CHECK(c.get_int("num_key_value_heads", d.num_attention_heads) == d.num_attention_heads, src,
                ": num_key_value_heads must equal num_attention_heads (MLA)");

  d.n_routed_experts = c.get_int("n_routed_experts", 0);
  SEXTANT_CHECK(d.n_routed_experts >= 0, src, ": n_routed_experts must be >= 0");
  if (d.n_routed_experts > 0) {
    d.moe_intermediate_size = positive(c, "moe_intermediate_size", 0, src);
    d.n_shared_experts = c.get_int("n_shared_experts", 0);
    d.num_experts_per_tok = positive(c, "num_experts_per_tok", 0, src);
    d.first_k_dense_replace = c.get_int("first_k_dense_replace", 0);
    d.moe_layer_freq = positive(c, "moe_layer_freq", 1, src);
    d.n_group = positive(c, "n_group", 1, src);
    d.topk_group = positive(c, "topk_group", 1, src);
    d.topk_method = c.get_string("topk_method", version == 3 ? "noaux_tc" : "greedy");
    d.scoring_func = c.get_string("scoring_func", version == 3 ? "sigmoid" : "softmax");
    d.norm_topk_prob = c.get_bool("norm_topk_prob", version == 3);
    d.routed_scaling_factor = c.get_double("routed_scaling_factor", version == 3 ? 2.5 : 1.0);
    SEXTANT_CHECK(d.n_shared_experts >= 0 && d.first_k_dense_replace >= 0, src,
                  ": n_shared_experts and first_k_dense_replace must be >= 0");
    SEXTANT_CHECK(d.num_experts_per_tok <= d.n_routed_experts, src, ": num_experts_per_tok ", d.num_experts_per_tok,
                  " exceeds n_routed_experts ", d.n_routed_experts);
    SEXTANT_CHECK(d.n_routed_experts % d.n_group == 0 && d.topk_group <= d.n_group, src,
                  ": n_routed_experts must be a multiple of n_group, and topk_group <= n_group");
    if (version == 3) {
      SEXTANT_CHECK(d.scoring_func == "sigmoid", src, ": DeepSeek-V3 scoring_func must be sigmoid, got ",
                    d.scoring_func);
      SEXTANT_CHECK(d.topk_method == "noaux_tc", src, ": DeepSeek-V3 topk_method must be noaux_tc, got ",
                    d.topk_method);
      SEXTANT_CHECK(d.n_routed_experts / d.n_group >= 2, src, ": V3 routing needs >= 2 experts per group");
    } else {
      SEXTANT_CHECK(d.scoring_func == "softmax", src, ": DeepSeek-V2 scoring_func must be softmax, got ",
                    d.scoring_func);
      SEXTANT_CHECK(d.topk_method == "greedy" || d.topk_method == "group_limited_greedy", src,
                    ": DeepSeek-V2 topk_method must be greedy or group_limited_greedy, got ", d.topk_method);
    }
  }
  return d;
}

}  // namespace

ModelConfig parse_model_config(const Json& c, const std::string& source) {
  SEXTANT_CHECK(c.is_object(), source, " must hold a JSON object");
  const std::string type = c.get_string("model_type", "");
  ModelConfig out;
  if (type == "bert") {
    out.family = ModelFamily::bert;
    out.bert = parse_bert(c, source);
  } else if (type == "deepseek_v2" || type == "deepseek_v3") {
    out.family = type == "deepseek_v2" ? ModelFamily::deepseek_v2 : ModelFamily::deepseek_v3;
    out.deepseek = parse_deepseek(c, source, type == "deepseek_v2" ? 2 : 3);
  } else {
    SEXTANT_FAIL(source, ": model_type \"", type, "\" is not supported (bert, deepseek_v2, deepseek_v3)");
  }
  if (const Json* q = c.find("quantization_config"); q != nullptr && q->is_object()) {
    if (const Json* block = q->find("weight_block_size"); block != nullptr && !block->is_null()) {
      const auto& dims = block->as_array("quantization_config.weight_block_size");
      SEXTANT_CHECK(dims.size() == 2, source, ": weight_block_size must hold two numbers");
      out.fp8_block_rows = dims[0].as_int("weight_block_size");
      out.fp8_block_cols = dims[1].as_int("weight_block_size");
      SEXTANT_CHECK(out.fp8_block_rows > 0 && out.fp8_block_cols > 0, source, ": weight_block_size must be > 0");
    }
  }
  return out;
}

ModelConfig read_model_config(const std::string& path) { return parse_model_config(read_json_file(path), path); }

}  // namespace sextant::embed
