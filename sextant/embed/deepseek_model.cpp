// The DeepSeek-V2 / V3 decoder (pre-norm): per layer
//   x += o_proj(MLA(RMSNorm(x)));  x += FFN(RMSNorm(x))
// where FFN is a dense SwiGLU for the first `first_k_dense_replace` layers and
// DeepSeekMoE after. Multi-head Latent Attention: queries from a direct or a
// low-rank (q_a -> norm -> q_b) projection; keys and values from a compressed
// latent (kv_a -> norm -> kv_b) plus one rotary key part shared by all heads.
#include "sextant/embed/deepseek_model.h"

#include <cmath>
#include <optional>
#include <variant>

#include "sextant/base/Error.h"
#include "sextant/embed/deepseek_moe.h"
#include "sextant/embed/rope.h"

namespace sextant::embed {

namespace {

struct MlaWeights {
  std::optional<Linear> q_proj;              // when q_lora_rank is null
  Linear q_a_proj, q_b_proj;                 // otherwise
  std::vector<float> q_a_norm;
  Linear kv_a_proj;                          // -> kv_lora_rank + qk_rope_head_dim
  std::vector<float> kv_a_norm;
  Linear kv_b_proj;                          // -> heads * (qk_nope_head_dim + v_head_dim)
  Linear o_proj;
};

struct DecoderLayer {
  std::vector<float> input_norm, post_attention_norm;
  MlaWeights attn;
  std::variant<SwiGLU, MoE> ffn;
};

class DeepseekModel final : public Model {
 public:
  DeepseekModel(const DeepseekConfig& config, const Checkpoint& ckpt)
      : c_(config), rope_(config.rope, static_cast<size_t>(config.qk_rope_head_dim), config.rope_interleave) {
    const int64_t h = c_.hidden_size;
    embed_tokens_ = ckpt.load("embed_tokens.weight", {c_.vocab_size, h});
    final_norm_ = load_vector(ckpt, "norm.weight", h);
    for (int64_t i = 0; i < c_.num_hidden_layers; i++) {
      const std::string p = "layers." + std::to_string(i) + ".";
      DecoderLayer layer{load_vector(ckpt, p + "input_layernorm.weight", h),
                         load_vector(ckpt, p + "post_attention_layernorm.weight", h), load_mla(ckpt, p + "self_attn."),
                         SwiGLU()};
      if (c_.is_moe_layer(i)) {
        layer.ffn.emplace<MoE>(c_, ckpt, p + "mlp.");
      } else {
        layer.ffn = SwiGLU::load(ckpt, p + "mlp.", h, c_.intermediate_size, c_.mlp_bias);
      }
      layers_.push_back(std::move(layer));
    }
    softmax_scale_ = static_cast<float>(std::pow(double(c_.qk_head_dim()), -0.5) * rope_.softmax_scale_factor());
  }

  int64_t hidden_size() const override { return c_.hidden_size; }
  int64_t num_layers() const override { return c_.num_hidden_layers; }
  int64_t vocab_size() const override { return c_.vocab_size; }
  int64_t max_positions() const override { return c_.max_position_embeddings; }
  std::string family() const override { return c_.version == 2 ? "deepseek_v2" : "deepseek_v3"; }

 protected:
  void forward(const TokenBatch& batch, int last, const std::function<void(int, const Matrix&)>& keep) const override {
    Matrix x = gather_rows(embed_tokens_, batch.ids, "token");
    const int n_layers = static_cast<int>(c_.num_hidden_layers);
    keep(0, n_layers == 0 ? final_norm(x) : x);
    const size_t h = x.cols;
    Matrix normed(x.rows, h);
    for (int l = 0; l < last; l++) {
      const DecoderLayer& layer = layers_[static_cast<size_t>(l)];
      rms_norm(x.values.data(), x.rows, h, h, layer.input_norm, float(c_.rms_norm_eps), normed.values.data(), h);
      add_in_place(x, attention(layer.attn, normed, batch));
      rms_norm(x.values.data(), x.rows, h, h, layer.post_attention_norm, float(c_.rms_norm_eps),
               normed.values.data(), h);
      if (const auto* mlp = std::get_if<SwiGLU>(&layer.ffn)) {
        add_in_place(x, mlp->apply(normed));
      } else {
        add_in_place(x, std::get<MoE>(layer.ffn).apply(normed));
      }
      // The last hidden state is reported after the final norm, as transformers does.
      keep(l + 1, l + 1 == n_layers ? final_norm(x) : x);
    }
  }

 private:
  Matrix final_norm(const Matrix& x) const {
    Matrix out(x.rows, x.cols);
    rms_norm(x.values.data(), x.rows, x.cols, x.cols, final_norm_, float(c_.rms_norm_eps), out.values.data(), x.cols);
    return out;
  }

  MlaWeights load_mla(const Checkpoint& ckpt, const std::string& p) const {
    const int64_t h = c_.hidden_size, heads = c_.num_attention_heads;
    MlaWeights w;
    if (c_.q_lora_rank) {
      w.q_a_proj = Linear(ckpt, p + "q_a_proj", h, *c_.q_lora_rank, c_.attention_bias);
      w.q_a_norm = load_vector(ckpt, p + "q_a_layernorm.weight", *c_.q_lora_rank);
      w.q_b_proj = Linear(ckpt, p + "q_b_proj", *c_.q_lora_rank, heads * c_.qk_head_dim(), false);
    } else {
      w.q_proj = Linear(ckpt, p + "q_proj", h, heads * c_.qk_head_dim(), false);
    }
    w.kv_a_proj = Linear(ckpt, p + "kv_a_proj_with_mqa", h, c_.kv_lora_rank + c_.qk_rope_head_dim, c_.attention_bias);
    w.kv_a_norm = load_vector(ckpt, p + "kv_a_layernorm.weight", c_.kv_lora_rank);
    w.kv_b_proj = Linear(ckpt, p + "kv_b_proj", c_.kv_lora_rank, heads * (c_.qk_nope_head_dim + c_.v_head_dim), false);
    w.o_proj = Linear(ckpt, p + "o_proj", heads * c_.v_head_dim, h, c_.attention_bias);
    return w;
  }

  Matrix attention(const MlaWeights& w, const Matrix& x, const TokenBatch& batch) const {
    const size_t tokens = x.rows, heads = static_cast<size_t>(c_.num_attention_heads);
    const size_t nope = static_cast<size_t>(c_.qk_nope_head_dim), rot = static_cast<size_t>(c_.qk_rope_head_dim);
    const size_t qk = nope + rot, vd = static_cast<size_t>(c_.v_head_dim), rank = static_cast<size_t>(c_.kv_lora_rank);
    const float eps = float(c_.rms_norm_eps);

    Matrix q;
    if (w.q_proj) {
      q = w.q_proj->apply(x);
    } else {
      Matrix qa = w.q_a_proj.apply(x);
      rms_norm(qa.values.data(), tokens, qa.cols, qa.cols, w.q_a_norm, eps, qa.values.data(), qa.cols);
      q = w.q_b_proj.apply(qa);
    }
    Matrix ckv = w.kv_a_proj.apply(x);  // [latent | shared rotary key]
    Matrix latent(tokens, rank);
    rms_norm(ckv.values.data(), tokens, ckv.cols, rank, w.kv_a_norm, eps, latent.values.data(), rank);
    Matrix kv = w.kv_b_proj.apply(latent);  // per head [k_nope | v]

    // Keys per head: [k_nope_h | k_rot]; rotary parts of q and k get their positions.
    Matrix k(tokens, heads * qk);
#pragma omp parallel for if (tokens > 16)
    for (size_t s = 0; s < batch.size(); s++) {
      for (size_t t = batch.offsets[s]; t < batch.offsets[s + 1]; t++) {
        const size_t position = t - batch.offsets[s];
        float* k_rot = ckv.row(t) + rank;
        rope_.apply(k_rot, position);
        for (size_t hd = 0; hd < heads; hd++) {
          rope_.apply(q.row(t) + hd * qk + nope, position);
          float* kh = k.row(t) + hd * qk;
          std::copy_n(kv.row(t) + hd * (nope + vd), nope, kh);
          std::copy_n(k_rot, rot, kh + nope);
        }
      }
    }
    AttentionArgs args;
    args.q = q.values.data();
    args.k = k.values.data();
    args.v = kv.values.data() + nope;
    args.q_stride = args.k_stride = heads * qk;
    args.v_stride = heads * (nope + vd);
    args.q_head_stride = args.k_head_stride = qk;
    args.v_head_stride = nope + vd;
    args.heads = heads;
    args.qk_dim = qk;
    args.v_dim = vd;
    args.scale = softmax_scale_;
    args.causal = true;
    Matrix context(tokens, heads * vd);
    embed::attention(args, batch.offsets, context.values.data(), context.cols);
    return w.o_proj.apply(context);
  }

  DeepseekConfig c_;
  Rope rope_;
  float softmax_scale_ = 1.0f;
  Tensor embed_tokens_;
  std::vector<float> final_norm_;
  std::vector<DecoderLayer> layers_;
};

}  // namespace

std::unique_ptr<Model> make_deepseek_model(const DeepseekConfig& config, const Checkpoint& ckpt) {
  return std::make_unique<DeepseekModel>(config, ckpt);
}

}  // namespace sextant::embed
