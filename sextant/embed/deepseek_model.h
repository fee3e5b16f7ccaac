#pragma once

#include <memory>

#include "sextant/embed/model.h"
#include "sextant/embed/safetensors.h"

namespace sextant::embed {

/// A DeepSeek-V2 / V3 decoder (MLA attention, dense and MoE layers) with the
/// weights of the checkpoint; the multi-token-prediction layers are ignored.
std::unique_ptr<Model> make_deepseek_model(const DeepseekConfig& config, const Checkpoint& ckpt);

}  // namespace sextant::embed
