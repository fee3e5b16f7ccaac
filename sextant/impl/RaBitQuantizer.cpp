#include "sextant/impl/RaBitQuantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sextant/base/Error.h"
#include "sextant/utils/kernels.h"

namespace sextant {

namespace {

RaBitQuantizer::Factors read_factors(const uint8_t* code, size_t bits_size) {
  RaBitQuantizer::Factors f;
  std::memcpy(&f, code + bits_size, sizeof(f));  // codes are packed: no alignment
  return f;
}

bool bit(const uint8_t* bits, size_t j) { return (bits[j / 8] >> (j % 8)) & 1; }

}  // namespace

int RaBitQuantizer::checked_query_bits(int qb, const char* owner) {
  SEXTANT_CHECK(qb >= 0 && qb <= kMaxQueryBits, owner, ": qb must be in [0, ", kMaxQueryBits, "], got ", qb);
  return qb;
}

RaBitQuantizer::RaBitQuantizer(size_t d, MetricType metric) : d_(d), metric_(metric) {
  SEXTANT_CHECK(d > 0, "RaBitQ: d must be > 0, got ", d);
}

std::vector<float> RaBitQuantizer::train(size_t n, const float* x) const {
  std::vector<double> sum(d_, 0.0);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < d_; j++) sum[j] += x[i * d_ + j];
  }
  std::vector<float> centroid(d_, 0.0f);
  if (n > 0) {
    for (size_t j = 0; j < d_; j++) centroid[j] = float(sum[j] / double(n));
  }
  return centroid;
}

void RaBitQuantizer::encode(size_t n, const float* x, const float* centroid, uint8_t* codes) const {
  constexpr float eps = std::numeric_limits<float>::epsilon();
  const float inv_sqrt_d = 1.0f / std::sqrt(float(d_));
#pragma omp parallel for if (n > 1000)
  for (size_t i = 0; i < n; i++) {
    const float* o = x + i * d_;
    uint8_t* code = codes + i * code_size();
    std::memset(code, 0, bits_size());
    // ||o - c||^2, ||o||^2 and <o - c, sign(o - c)> = sum |o_j - c_j|.
    float norm_sqr = 0, o_sqr = 0, abs_sum = 0;
    for (size_t j = 0; j < d_; j++) {
      const float r = o[j] - (centroid ? centroid[j] : 0.0f);
      norm_sqr += r * r;
      o_sqr += o[j] * o[j];
      abs_sum += std::fabs(r);
      if (r > 0) code[j / 8] |= uint8_t(1u << (j % 8));
    }
    const float norm = std::sqrt(norm_sqr);
    // <b, u>; a zero residual (the vector is the centroid) keeps the factors finite.
    const float b_dot_u = abs_sum * (norm_sqr < eps ? 1.0f : 1.0f / norm) * inv_sqrt_d;
    Factors f;
    f.or_minus_c_l2sqr = metric_ == MetricType::INNER_PRODUCT ? norm_sqr - o_sqr : norm_sqr;
    f.dp_multiplier = (std::fabs(b_dot_u) < eps ? 1.0f : 1.0f / b_dot_u) * norm;
    std::memcpy(code + bits_size(), &f, sizeof(f));
  }
}

void RaBitQuantizer::decode(size_t n, const uint8_t* codes, const float* centroid, float* x) const {
  const float inv_sqrt_d = 1.0f / std::sqrt(float(d_));
  for (size_t i = 0; i < n; i++) {
    const uint8_t* code = codes + i * code_size();
    const float step = read_factors(code, bits_size()).dp_multiplier * inv_sqrt_d;
    for (size_t j = 0; j < d_; j++) {
      x[i * d_ + j] = (bit(code, j) ? step : -step) + (centroid ? centroid[j] : 0.0f);
    }
  }
}

void RaBitQuantizer::check_codes(size_t n, const uint8_t* codes) const {
  for (size_t i = 0; i < n; i++) {
    const Factors f = read_factors(codes + i * code_size(), bits_size());
    SEXTANT_CHECK(std::isfinite(f.or_minus_c_l2sqr) && std::isfinite(f.dp_multiplier), "RaBitQ code ", i,
                  " has a NaN or infinite correction factor");
  }
}

float RaBitQuantizer::level_step(float lo, float hi, int qb) { return (hi - lo) / float((1 << qb) - 1); }

uint32_t RaBitQuantizer::round_to_levels(const float* r, size_t d, float lo, float delta, int qb, uint8_t* levels) {
  if (!(delta > 0)) {  // a flat residual: every value is lo
    std::fill(levels, levels + d, uint8_t(0));
    return 0;
  }
  const float inv_delta = 1.0f / delta, top = float((1 << qb) - 1);
  uint32_t sum = 0;
  for (size_t i = 0; i < d; i++) {  // clamped, then rounded half up: no branch
    const float v = std::min(std::max((r[i] - lo) * inv_delta, 0.0f), top);
    levels[i] = uint8_t(int(v + 0.5f));
    sum += levels[i];
  }
  return sum;
}

RaBitQuantizer::Scorer::Scorer(const RaBitQuantizer& rq, int qb)
    : rq_(rq), kernels_(kernels()), qb_(qb), residual_(rq.d()) {
  SEXTANT_CHECK(qb >= 0 && qb <= kMaxQueryBits, "RaBitQ: qb (query bits) must be in [0, ", kMaxQueryBits,
                "], got ", qb);
  words_ = (rq.d() + 63) / 64;
  if (qb > 0) {
    planes_.resize(words_ * size_t(qb));
    levels_.resize(rq.bits_size() * 8);  // zero past d
  }
}

void RaBitQuantizer::Scorer::set_query(const float* x, const float* centroid) {
  const size_t d = rq_.d();
  const float inv_sqrt_d = 1.0f / std::sqrt(float(d));
  // Set once per list an inverted file probes: the residual and its sum,
  // range and norm in one SIMD pass, the rest written to vectorise.
  float* residual = residual_.data();
  float stats[4];
  kernels_.rabitq_residual(x, centroid, d, residual, stats);
  const float sum = stats[0], lo = stats[1], hi = stats[2];
  q_to_c_l2sqr_ = stats[3];
  q_norm_l2sqr_ = rq_.metric() == MetricType::INNER_PRODUCT ? kernels_.inner_product(x, x, d) : 0.0f;
  if (qb_ == 0) {
    // <q - c, b> = (2 * sum of q - c over the set bits - sum of q - c) / sqrt(d).
    c1_ = 2 * inv_sqrt_d;
    c2_ = 0;
    c34_ = sum * inv_sqrt_d;
    return;
  }
  // Residual values rounded to levels lo + delta * v, v in [0, 2^qb - 1]; the
  // levels' bits are laid out as planes so that a code scores with popcounts.
  const float delta = level_step(lo, hi, qb_);
  uint8_t* levels = levels_.data();  // zero past d since construction
  const uint32_t sum_levels = round_to_levels(residual, d, lo, delta, qb_, levels);
  // Bit p of 8 levels at once: the bytes' bits p masked to bit 0, then gathered
  // into one byte by a multiply (byte i's bit lands on bit 56 + i); each
  // plane's word is built in a register, then stored.
  const size_t groups = levels_.size() / 8;
  for (size_t w = 0; w < words_; w++) {
    uint64_t plane_words[kMaxQueryBits] = {};
    for (size_t g = 8 * w; g < groups && g < 8 * w + 8; g++) {
      uint64_t eight;
      std::memcpy(&eight, levels + 8 * g, 8);
      for (int p = 0; p < qb_; p++) {
        const uint64_t bits = (((eight >> p) & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56;
        plane_words[p] |= bits << (8 * (g % 8));
      }
    }
    for (int p = 0; p < qb_; p++) planes_[size_t(p) * words_ + w] = plane_words[p];
  }
  c1_ = 2 * delta * inv_sqrt_d;
  c2_ = 2 * lo * inv_sqrt_d;
  c34_ = inv_sqrt_d * (delta * float(sum_levels) + float(d) * lo);
}

// ||o - c||^2 + ||q - c||^2 - 2 <q - c, o - c> (minus ||o||^2 for inner
// product), <q - c, o - c> estimated as dp_multiplier <q - c, b>.
float RaBitQuantizer::Scorer::finish(const uint8_t* code, float q_dot_b) const {
  const Factors f = read_factors(code, rq_.bits_size());
  const float pre = f.or_minus_c_l2sqr + q_to_c_l2sqr_ - 2 * f.dp_multiplier * q_dot_b;
  if (rq_.metric() == MetricType::L2) return std::max(0.0f, pre);
  return -0.5f * (pre - q_norm_l2sqr_);  // <q, o> = (||q||^2 + ||o||^2 - ||q - o||^2) / 2
}

float RaBitQuantizer::Scorer::estimate(const uint8_t* code) const {
  float out;
  score(code, 1, &out);
  return out;
}

// <q - c, b> = c1 * dot + c2 * popcount - c34, where dot is the sum of the
// query (its levels when quantised) over the set bits.
void RaBitQuantizer::Scorer::score(const uint8_t* codes, size_t n, float* out) const {
  const size_t d = rq_.d(), cs = rq_.code_size();
  if (qb_ == 0) {
    for (size_t i = 0; i < n; i++) {
      const uint8_t* bits = codes + i * cs;
      float dot = 0;
      for (size_t j = 0; j < d; j++) dot += bit(bits, j) ? residual_[j] : 0.0f;
      out[i] = finish(bits, c1_ * dot - c34_);
    }
    return;
  }
  constexpr size_t kChunk = 256;
  uint32_t dots[kChunk], counts[kChunk];
  for (size_t i0 = 0; i0 < n; i0 += kChunk) {
    const size_t m = std::min(kChunk, n - i0);
    const uint8_t* chunk = codes + i0 * cs;
    kernels_.rabitq_popcounts(chunk, m, cs, rq_.bits_size(), planes_.data(), words_, size_t(qb_), dots, counts);
    for (size_t i = 0; i < m; i++) {
      out[i0 + i] = finish(chunk + i * cs, c1_ * float(dots[i]) + c2_ * float(counts[i]) - c34_);
    }
  }
}

float RaBitQuantizer::Scorer::error_bound(const uint8_t* code) const { return rq_.error_bound(code, q_to_c_l2sqr_); }

float RaBitQuantizer::error_bound(const uint8_t* code, float q_to_c_l2sqr) const {
  const Factors f = read_factors(code, bits_size());
  // ||o - c|| sqrt(1 / <b, u>^2 - 1) = sqrt(dp_multiplier^2 - ||o - c||^2). The
  // inner-product code does not keep ||o - c||: dp_multiplier bounds it from above.
  const float dp_sqr = f.dp_multiplier * f.dp_multiplier;
  const float spread = metric_ == MetricType::L2 ? std::sqrt(std::max(0.0f, dp_sqr - f.or_minus_c_l2sqr))
                                                 : std::fabs(f.dp_multiplier);
  const float ip_error = std::sqrt(q_to_c_l2sqr) * spread * kEpsilon0 / std::sqrt(float(std::max<size_t>(1, d_ - 1)));
  // The L2 estimate carries -2 <q - c, o - c>, the inner-product one +<q - c, o - c>.
  return metric_ == MetricType::L2 ? 2 * ip_error : ip_error;
}

}  // namespace sextant
