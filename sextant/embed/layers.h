// Building blocks of the forward passes, on packed batches: the tokens of all
// sequences are rows of one matrix (no padding), so every projection is one
// large GEMM, and attention runs per (sequence, head) with the sequence
// boundaries acting as the attention mask.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sextant/embed/safetensors.h"

namespace sextant::embed {

/// Token ids of a batch, packed: sequence i is ids[offsets[i] .. offsets[i+1]).
struct TokenBatch {
  std::vector<int32_t> ids;
  std::vector<size_t> offsets{0};

  size_t size() const { return offsets.size() - 1; }
  size_t tokens() const { return ids.size(); }
  size_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
  void add(const std::vector<int32_t>& sequence);
};

/// A row-major float matrix.
struct Matrix {
  size_t rows = 0, cols = 0;
  std::vector<float> values;

  Matrix() = default;
  Matrix(size_t r, size_t c) : rows(r), cols(c), values(r * c) {}
  float* row(size_t i) { return values.data() + i * cols; }
  const float* row(size_t i) const { return values.data() + i * cols; }
};

/// y = x W^T + b, W stored (out, in) as in PyTorch's nn.Linear.
class Linear {
 public:
  Linear() = default;
  /// Loads `<name>.weight` (and `<name>.bias` when `bias`), checking the shape.
  Linear(const Checkpoint& ckpt, const std::string& name, int64_t in, int64_t out, bool bias);
  /// Wraps a weight (and optional bias) already in memory (rows = out).
  Linear(std::vector<float> weight, std::vector<float> bias, int64_t in, int64_t out);
  /// Stacks the outputs of several projections of the same input into one
  /// (so that, say, Q, K and V come out of a single GEMM).
  static Linear concat(const std::vector<Linear>& parts);

  size_t in() const { return in_; }
  size_t out() const { return out_; }
  /// y (rows x out, row stride ldy) = x (rows x in, row stride ldx) W^T + b.
  void apply(const float* x, size_t rows, size_t ldx, float* y, size_t ldy) const;
  Matrix apply(const Matrix& x) const;

 private:
  size_t in_ = 0, out_ = 0;
  std::vector<float> weight_, bias_;
};

/// A normalisation weight (and bias) vector.
std::vector<float> load_vector(const Checkpoint& ckpt, const std::string& name, int64_t size);

/// x <- LayerNorm(x) * gamma + beta, row by row.
void layer_norm(Matrix& x, const std::vector<float>& gamma, const std::vector<float>& beta, float eps);

/// out <- x / rms(x) * weight, row by row, over `dim` columns starting at column `col` of x.
void rms_norm(const float* x, size_t rows, size_t ldx, size_t dim, const std::vector<float>& weight, float eps,
              float* out, size_t ldo);

/// The vectorisable exp and erf the activations and softmax use (exposed for tests).
float exp_approx(float x);
float erf_approx(float x);

enum class Activation { gelu_erf, gelu_tanh, relu, silu };
Activation activation_from_name(const std::string& name);
void activate(Activation act, float* x, size_t n);

/// Rows of an embedding table for the ids (range-checked).
Matrix gather_rows(const Tensor& table, const std::vector<int32_t>& ids, const char* what);

/// Scaled dot-product attention over a packed batch. Head h of token t reads
/// q[t * q_stride + h * q_head_stride ...] (qk_dim values), likewise k and v;
/// writes out[t * out_stride + h * v_dim ...]. Causal masks future tokens.
struct AttentionArgs {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  size_t q_stride = 0, k_stride = 0, v_stride = 0;
  size_t q_head_stride = 0, k_head_stride = 0, v_head_stride = 0;
  size_t heads = 0, qk_dim = 0, v_dim = 0;
  float scale = 1.0f;
  bool causal = false;
};
void attention(const AttentionArgs& args, const std::vector<size_t>& offsets, float* out, size_t out_stride);

/// Element-wise a += b.
void add_in_place(Matrix& a, const Matrix& b);

}  // namespace sextant::embed
