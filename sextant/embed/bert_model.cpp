// The BERT encoder (post-norm): embeddings + LayerNorm, then per layer
// self-attention -> dense -> residual + LayerNorm -> GELU feed-forward ->
// residual + LayerNorm. Matches transformers' BertModel in float32.
#include "sextant/embed/bert_model.h"

#include <cmath>

#include "sextant/base/Error.h"

namespace sextant::embed {

namespace {

struct LayerNormWeights {
  std::vector<float> gamma, beta;
  LayerNormWeights() = default;
  LayerNormWeights(const Checkpoint& ckpt, const std::string& name, int64_t d)
      : gamma(load_vector(ckpt, name + ".weight", d)), beta(load_vector(ckpt, name + ".bias", d)) {}
};

struct BertLayer {
  Linear qkv, attention_out, intermediate, output;
  LayerNormWeights attention_norm, output_norm;
};

class BertModel final : public Model {
 public:
  BertModel(const BertConfig& config, const Checkpoint& ckpt) : config_(config) {
    const int64_t h = config.hidden_size, inter = config.intermediate_size;
    word_ = ckpt.load("embeddings.word_embeddings.weight", {config.vocab_size, h});
    position_ = ckpt.load("embeddings.position_embeddings.weight", {config.max_position_embeddings, h});
    token_type_ = ckpt.load("embeddings.token_type_embeddings.weight", {config.type_vocab_size, h});
    embedding_norm_ = LayerNormWeights(ckpt, "embeddings.LayerNorm", h);
    activation_ = activation_from_name(config.hidden_act);
    for (int64_t i = 0; i < config.num_hidden_layers; i++) {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      BertLayer layer;
      layer.qkv = Linear::concat({Linear(ckpt, p + "attention.self.query", h, h, true),
                                  Linear(ckpt, p + "attention.self.key", h, h, true),
                                  Linear(ckpt, p + "attention.self.value", h, h, true)});
      layer.attention_out = Linear(ckpt, p + "attention.output.dense", h, h, true);
      layer.attention_norm = LayerNormWeights(ckpt, p + "attention.output.LayerNorm", h);
      layer.intermediate = Linear(ckpt, p + "intermediate.dense", h, inter, true);
      layer.output = Linear(ckpt, p + "output.dense", inter, h, true);
      layer.output_norm = LayerNormWeights(ckpt, p + "output.LayerNorm", h);
      layers_.push_back(std::move(layer));
    }
  }

  int64_t hidden_size() const override { return config_.hidden_size; }
  int64_t num_layers() const override { return config_.num_hidden_layers; }
  int64_t vocab_size() const override { return config_.vocab_size; }
  int64_t max_positions() const override { return config_.max_position_embeddings; }
  std::string family() const override { return "bert"; }

 protected:
  void forward(const TokenBatch& batch, int last, const std::function<void(int, const Matrix&)>& keep) const override {
    const size_t h = static_cast<size_t>(config_.hidden_size);
    Matrix x = embed(batch);
    keep(0, x);
    const size_t heads = static_cast<size_t>(config_.num_attention_heads), head_dim = h / heads;
    Matrix context(x.rows, h);
    for (int l = 0; l < last; l++) {
      const BertLayer& layer = layers_[static_cast<size_t>(l)];
      Matrix qkv = layer.qkv.apply(x);
      AttentionArgs args;
      args.q = qkv.values.data();
      args.k = args.q + h;
      args.v = args.q + 2 * h;
      args.q_stride = args.k_stride = args.v_stride = 3 * h;
      args.q_head_stride = args.k_head_stride = args.v_head_stride = head_dim;
      args.heads = heads;
      args.qk_dim = args.v_dim = head_dim;
      args.scale = static_cast<float>(1.0 / std::sqrt(double(head_dim)));
      attention(args, batch.offsets, context.values.data(), h);
      Matrix attn = layer.attention_out.apply(context);
      add_in_place(attn, x);
      layer_norm(attn, layer.attention_norm.gamma, layer.attention_norm.beta, float(config_.layer_norm_eps));
      Matrix inter = layer.intermediate.apply(attn);
      activate(activation_, inter.values.data(), inter.values.size());
      x = layer.output.apply(inter);
      add_in_place(x, attn);
      layer_norm(x, layer.output_norm.gamma, layer.output_norm.beta, float(config_.layer_norm_eps));
      keep(l + 1, x);
    }
  }

 private:
  /// Word + position + token type 0 embeddings, LayerNorm.
  Matrix embed(const TokenBatch& batch) const {
    Matrix x = gather_rows(word_, batch.ids, "token");
    const size_t h = x.cols;
    for (size_t s = 0; s < batch.size(); s++) {
      SEXTANT_CHECK(batch.length(s) <= static_cast<size_t>(config_.max_position_embeddings), "sequence ", s, " has ",
                    batch.length(s), " tokens, more than the model's ", config_.max_position_embeddings, " positions");
      for (size_t t = batch.offsets[s]; t < batch.offsets[s + 1]; t++) {
        const float* pos = position_.data() + (t - batch.offsets[s]) * h;
        float* row = x.row(t);
        for (size_t j = 0; j < h; j++) row[j] += pos[j] + token_type_.values[j];
      }
    }
    layer_norm(x, embedding_norm_.gamma, embedding_norm_.beta, float(config_.layer_norm_eps));
    return x;
  }

  BertConfig config_;
  Tensor word_, position_, token_type_;
  LayerNormWeights embedding_norm_;
  Activation activation_ = Activation::gelu_erf;
  std::vector<BertLayer> layers_;
};

}  // namespace

std::unique_ptr<Model> make_bert_model(const BertConfig& config, const Checkpoint& ckpt) {
  return std::make_unique<BertModel>(config, ckpt);
}

}  // namespace sextant::embed
