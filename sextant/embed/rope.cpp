#include "sextant/embed/rope.h"

#include <algorithm>
#include <cmath>

#include "sextant/base/Error.h"

namespace sextant::embed {

namespace {

double yarn_mscale(double scale, double mscale) { return scale <= 1 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

/// The dimension index at which a frequency completes `rotations` turns over the original context.
double correction_dim(double rotations, double dim, double base, double max_positions) {
  return dim * std::log(max_positions / (rotations * 2 * M_PI)) / (2 * std::log(base));
}

}  // namespace

Rope::Rope(const RopeConfig& c, size_t dim, bool interleaved) : dim_(dim), interleaved_(interleaved) {
  SEXTANT_CHECK(dim % 2 == 0, "the rotary dimension must be even, got ", dim);
  const size_t half = dim / 2;
  inv_freq_.resize(half);
  // As transformers computes it: the powers in float32.
  std::vector<float> pos_freq(half), extrapolation(half);
  for (size_t i = 0; i < half; i++) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    pos_freq[i] = static_cast<float>(std::pow(double(float(c.theta)), double(exponent)));
    extrapolation[i] = 1.0f / pos_freq[i];
  }
  if (!c.yarn) {
    inv_freq_ = extrapolation;
    return;
  }
  // YaRN: interpolate the low frequencies by `factor`, keep the high ones, ramp in between.
  double low = correction_dim(c.beta_fast, double(dim), c.theta, double(c.original_max_position_embeddings));
  double high = correction_dim(c.beta_slow, double(dim), c.theta, double(c.original_max_position_embeddings));
  if (c.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  low = std::max(low, 0.0);
  high = std::min(high, double(dim) - 1);
  if (low == high) high += 0.001;
  for (size_t i = 0; i < half; i++) {
    const float interpolation = 1.0f / (static_cast<float>(c.factor) * pos_freq[i]);
    const float ramp = std::clamp(static_cast<float>((double(i) - low) / (high - low)), 0.0f, 1.0f);
    const float keep = 1.0f - ramp;
    inv_freq_[i] = interpolation * (1.0f - keep) + extrapolation[i] * keep;
  }
  if (c.attention_factor) {
    attention_factor_ = static_cast<float>(*c.attention_factor);
  } else if (c.mscale != 0 && c.mscale_all_dim != 0) {
    attention_factor_ = static_cast<float>(yarn_mscale(c.factor, c.mscale) / yarn_mscale(c.factor, c.mscale_all_dim));
  } else {
    attention_factor_ = static_cast<float>(yarn_mscale(c.factor, 1.0));
  }
  if (c.mscale_all_dim != 0) {
    const double m = yarn_mscale(c.factor, c.mscale_all_dim);
    softmax_factor_ = m * m;
  }
}

void Rope::apply(float* x, size_t position) const {
  const size_t half = dim_ / 2;
  for (size_t i = 0; i < half; i++) {
    const float angle = static_cast<float>(position) * inv_freq_[i];
    const float cos = static_cast<float>(std::cos(double(angle))) * attention_factor_;
    const float sin = static_cast<float>(std::sin(double(angle))) * attention_factor_;
    float& a = interleaved_ ? x[2 * i] : x[i];
    float& b = interleaved_ ? x[2 * i + 1] : x[i + half];
    const float x1 = a, x2 = b;
    a = x1 * cos - x2 * sin;
    b = x2 * cos + x1 * sin;
  }
}

}  // namespace sextant::embed
