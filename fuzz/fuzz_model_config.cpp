// libFuzzer target: config.json text -> ModelConfig (the JSON parser, then
// the BERT / DeepSeek-V2 / DeepSeek-V3 readers). A document must either give
// a config or raise sextant::Error; a config that reads must hold the
// invariants the model builders rely on.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sextant/base/Error.h"
#include "sextant/embed/json.h"
#include "sextant/embed/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant::embed;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ModelConfig config;
  try {
    config = parse_model_config(parse_json(text, "config.json"), "config.json");
  } catch (const sextant::Error&) {
    return 0;
  }
  if (config.fp8_block_rows <= 0 || config.fp8_block_cols <= 0) __builtin_trap();
  if (config.family == ModelFamily::bert) {
    const BertConfig& b = config.bert;
    if (b.vocab_size <= 0 || b.hidden_size <= 0 || b.num_attention_heads <= 0 || b.num_hidden_layers <= 0 ||
        b.hidden_size % b.num_attention_heads != 0)
      __builtin_trap();
  } else {
    const DeepseekConfig& d = config.deepseek;
    if (d.hidden_size <= 0 || d.num_attention_heads <= 0 || d.qk_head_dim() <= 0 || d.v_head_dim <= 0 ||
        d.qk_rope_head_dim % 2 != 0 || d.moe_layer_freq <= 0)
      __builtin_trap();
    for (int64_t layer = 0; layer < 4; layer++) (void)d.is_moe_layer(layer);
    if (d.n_routed_experts > 0 &&
        (d.num_experts_per_tok > d.n_routed_experts || d.n_group <= 0 || d.n_routed_experts % d.n_group != 0))
      __builtin_trap();
  }
  return 0;
}
