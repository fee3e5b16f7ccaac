#include "sextant/embed/layers.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/utils/blas.h"

namespace sextant::embed {

void TokenBatch::add(const std::vector<int32_t>& sequence) {
  ids.insert(ids.end(), sequence.begin(), sequence.end());
  offsets.push_back(ids.size());
}

// ---- Linear --------------------------------------------------------------------

Linear::Linear(const Checkpoint& ckpt, const std::string& name, int64_t in, int64_t out, bool bias)
    : in_(static_cast<size_t>(in)), out_(static_cast<size_t>(out)) {
  weight_ = ckpt.load(name + ".weight", {out, in}).values;
  if (bias) bias_ = ckpt.load(name + ".bias", {out}).values;
}

Linear::Linear(std::vector<float> weight, std::vector<float> bias, int64_t in, int64_t out)
    : in_(static_cast<size_t>(in)), out_(static_cast<size_t>(out)), weight_(std::move(weight)), bias_(std::move(bias)) {
  SEXTANT_CHECK(weight_.size() == in_ * out_, "Linear weight has ", weight_.size(), " values, expected ", in_ * out_);
  SEXTANT_CHECK(bias_.empty() || bias_.size() == out_, "Linear bias has ", bias_.size(), " values, expected ", out_);
}

Linear Linear::concat(const std::vector<Linear>& parts) {
  SEXTANT_CHECK(!parts.empty(), "Linear::concat needs at least one part");
  std::vector<float> weight, bias;
  size_t out = 0;
  const bool with_bias = !parts[0].bias_.empty();
  for (const Linear& p : parts) {
    SEXTANT_CHECK(p.in_ == parts[0].in_ && p.bias_.empty() != with_bias, "Linear::concat parts must share their input",
                  " size and all have or all lack a bias");
    weight.insert(weight.end(), p.weight_.begin(), p.weight_.end());
    bias.insert(bias.end(), p.bias_.begin(), p.bias_.end());
    out += p.out_;
  }
  return Linear(std::move(weight), std::move(bias), int64_t(parts[0].in_), int64_t(out));
}

void Linear::apply(const float* x, size_t rows, size_t ldx, float* y, size_t ldy) const {
  if (rows == 0) return;
  // Called outside parallel regions: the BLAS spreads one large GEMM over the threads.
  gemm_abt(rows, out_, in_, 1.0f, x, ldx, weight_.data(), in_, 0.0f, y, ldy);
  if (!bias_.empty()) {
#pragma omp parallel for if (rows * out_ > 32768)
    for (size_t r = 0; r < rows; r++) {
      float* yr = y + r * ldy;
      for (size_t j = 0; j < out_; j++) yr[j] += bias_[j];
    }
  }
}

Matrix Linear::apply(const Matrix& x) const {
  SEXTANT_CHECK(x.cols == in_, "Linear input has ", x.cols, " columns, expected ", in_);
  Matrix y(x.rows, out_);
  apply(x.values.data(), x.rows, x.cols, y.values.data(), out_);
  return y;
}

std::vector<float> load_vector(const Checkpoint& ckpt, const std::string& name, int64_t size) {
  return ckpt.load(name, {size}).values;
}

// ---- normalisation and activations ---------------------------------------------------

namespace {

// exp and erf without library calls, so that the element-wise loops vectorise
// (the library versions are scalar calls and cost as much as a third of the
// GEMM time in a small encoder).

/// exp(x) for x in [-87, 88] within ~2e-7 relative: 2^n * e^r with |r| <= ln2/2.
inline float fast_exp(float x) {
  x = x > 88.0f ? 88.0f : x;  // (ternaries, not std::clamp: they compile to min/max instructions)
  x = x < -87.0f ? -87.0f : x;
  // Round to nearest by adding and removing 1.5 * 2^23: plain SSE2, unlike floor().
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;  // ln2 split in two parts
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

/// erf(x) within 1.5e-7 (Abramowitz & Stegun 7.1.26).
inline float fast_erf(float x) {
  const float a = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float y = 1.0f - p * t * fast_exp(-a * a);
  return std::copysign(y, x);
}

}  // namespace

float exp_approx(float x) { return fast_exp(x); }
float erf_approx(float x) { return fast_erf(x); }

void layer_norm(Matrix& x, const std::vector<float>& gamma, const std::vector<float>& beta, float eps) {
  const size_t d = x.cols;
#pragma omp parallel for if (x.rows > 16)
  for (size_t r = 0; r < x.rows; r++) {
    float* row = x.row(r);
    double mean = 0;
    for (size_t j = 0; j < d; j++) mean += row[j];
    mean /= double(d);
    double var = 0;
    for (size_t j = 0; j < d; j++) var += (row[j] - mean) * (row[j] - mean);
    var /= double(d);
    const float m = static_cast<float>(mean), inv = static_cast<float>(1.0 / std::sqrt(var + eps));
    for (size_t j = 0; j < d; j++) row[j] = (row[j] - m) * inv * gamma[j] + beta[j];
  }
}

void rms_norm(const float* x, size_t rows, size_t ldx, size_t dim, const std::vector<float>& weight, float eps,
              float* out, size_t ldo) {
#pragma omp parallel for if (rows > 16)
  for (size_t r = 0; r < rows; r++) {
    const float* xr = x + r * ldx;
    float* o = out + r * ldo;
    double sum = 0;
    for (size_t j = 0; j < dim; j++) sum += double(xr[j]) * xr[j];
    const float inv = static_cast<float>(1.0 / std::sqrt(sum / double(dim) + eps));
    for (size_t j = 0; j < dim; j++) o[j] = weight[j] * (xr[j] * inv);
  }
}

Activation activation_from_name(const std::string& name) {
  if (name == "gelu") return Activation::gelu_erf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::gelu_tanh;
  if (name == "relu") return Activation::relu;
  if (name == "silu") return Activation::silu;
  SEXTANT_FAIL("activation \"", name, "\" is not supported");
}

void activate(Activation act, float* x, size_t n) {
  const ptrdiff_t count = static_cast<ptrdiff_t>(n);
  switch (act) {
    case Activation::gelu_erf:
#pragma omp parallel for simd if (n > 65536)
      for (ptrdiff_t i = 0; i < count; i++) x[i] = 0.5f * x[i] * (1.0f + fast_erf(x[i] * 0.70710678118654752f));
      return;
    case Activation::gelu_tanh:
#pragma omp parallel for simd if (n > 65536)
      for (ptrdiff_t i = 0; i < count; i++) {
        const float v = x[i];
        x[i] = 0.5f * v * (1.0f + std::tanh(0.7978845608028654f * (v + 0.044715f * v * v * v)));
      }
      return;
    case Activation::relu:
      for (ptrdiff_t i = 0; i < count; i++) x[i] = std::max(x[i], 0.0f);
      return;
    case Activation::silu:
#pragma omp parallel for simd if (n > 65536)
      for (ptrdiff_t i = 0; i < count; i++) x[i] = x[i] / (1.0f + fast_exp(-x[i]));
      return;
  }
}

Matrix gather_rows(const Tensor& table, const std::vector<int32_t>& ids, const char* what) {
  const size_t rows = table.rows(), d = table.cols();
  Matrix out(ids.size(), d);
  for (size_t t = 0; t < ids.size(); t++) {
    SEXTANT_CHECK(ids[t] >= 0 && static_cast<size_t>(ids[t]) < rows, what, " id ", ids[t], " is out of range [0, ",
                  rows, ")");
    std::copy_n(table.data() + static_cast<size_t>(ids[t]) * d, d, out.row(t));
  }
  return out;
}

void add_in_place(Matrix& a, const Matrix& b) {
  const size_t n = a.values.size();
#pragma omp parallel for simd if (n > 65536)
  for (size_t i = 0; i < n; i++) a.values[i] += b.values[i];
}

// ---- attention ----------------------------------------------------------------------

void attention(const AttentionArgs& a, const std::vector<size_t>& offsets, float* out, size_t out_stride) {
  const size_t n_seq = offsets.size() - 1;
  const size_t tasks = n_seq * a.heads;
  ParallelErrors errors;
#pragma omp parallel
  {
    std::vector<float> scores, v_t;  // per-thread scratch: L x L scores, V^T of one head
#pragma omp for schedule(dynamic)
    for (size_t task = 0; task < tasks; task++) errors.run([&] {
      const size_t s = task / a.heads, h = task % a.heads;
      const size_t begin = offsets[s], len = offsets[s + 1] - begin;
      if (len == 0) return;
      scores.resize(len * len);
      const float* q = a.q + begin * a.q_stride + h * a.q_head_stride;
      const float* k = a.k + begin * a.k_stride + h * a.k_head_stride;
      const float* v = a.v + begin * a.v_stride + h * a.v_head_stride;
      // Inside the parallel region the BLAS runs on this thread alone.
      gemm_abt(len, len, a.qk_dim, a.scale, q, a.q_stride, k, a.k_stride, 0.0f, scores.data(), len);
      for (size_t i = 0; i < len; i++) {
        float* row = scores.data() + i * len;
        const size_t visible = a.causal ? i + 1 : len;
        float mx = -std::numeric_limits<float>::infinity();
        for (size_t j = 0; j < visible; j++) mx = std::max(mx, row[j]);
        float sum = 0;
#pragma omp simd reduction(+ : sum)
        for (size_t j = 0; j < visible; j++) {
          row[j] = fast_exp(row[j] - mx);
          sum += row[j];
        }
        const float inv = 1.0f / sum;
        for (size_t j = 0; j < visible; j++) row[j] *= inv;
        for (size_t j = visible; j < len; j++) row[j] = 0.0f;
      }
      // out_h = P V: gemm_abt multiplies by a transposed right operand, so hand it V^T.
      v_t.resize(a.v_dim * len);
      for (size_t t = 0; t < len; t++) {
        const float* vr = v + t * a.v_stride;
        for (size_t j = 0; j < a.v_dim; j++) v_t[j * len + t] = vr[j];
      }
      gemm_abt(len, a.v_dim, len, 1.0f, scores.data(), len, v_t.data(), len, 0.0f,
               out + begin * out_stride + h * a.v_dim, out_stride);
    });
  }
  errors.rethrow();
}

}  // namespace sextant::embed
