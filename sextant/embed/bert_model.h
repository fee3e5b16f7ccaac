#pragma once

#include <memory>

#include "sextant/embed/model.h"
#include "sextant/embed/safetensors.h"

namespace sextant::embed {

/// A BERT encoder (BertModel) with the weights of the checkpoint.
std::unique_ptr<Model> make_bert_model(const BertConfig& config, const Checkpoint& ckpt);

}  // namespace sextant::embed
