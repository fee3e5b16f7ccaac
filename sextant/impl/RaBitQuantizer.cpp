#include "sextant/impl/RaBitQuantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sextant/base/Error.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/select.h"

namespace sextant {

namespace {

RaBitQuantizer::Factors read_factors(const uint8_t* code, size_t bits_size) {
  RaBitQuantizer::Factors f;
  std::memcpy(&f, code + bits_size, sizeof(f));  // codes are packed: no alignment
  return f;
}

bool bit(const uint8_t* bits, size_t j) { return (bits[j / 8] >> (j % 8)) & 1; }

// e bits at bit j e of packed (8 readable bytes from the one holding them).
uint32_t packed_value(const uint8_t* packed, size_t j, int e) {
  const size_t at = j * size_t(e);
  uint64_t window;
  std::memcpy(&window, packed + at / 8, sizeof(window));
  return uint32_t((window >> (at % 8)) & ((1u << e) - 1));
}

// The scale t of the magnitudes floor(t |u_j|) (|u| a unit vector's absolute
// values) that maximises the cosine between y = floor(t |u|) + 0.5 and |u|:
// the cosine changes only where some floor steps up, so those steps are
// visited in order of t inside the window [lo, hi) the extended RaBitQ
// reference implementation searches (the optimum lies there; hi lets the
// largest dimension saturate 10 levels early). The steps are put in order by
// buckets of t, about one step each, then each bucket sorted: linear time
// where a comparison sort of every step took most of the encoding.
float best_magnitude_scale(const float* u_abs, size_t d, int e) {
  static constexpr float kWindowStart[9] = {0.0f, 0.15f, 0.20f, 0.52f, 0.59f, 0.71f, 0.75f, 0.77f, 0.81f};
  constexpr float kRound = 1e-5f;  // t |u_j| at a step lands on the integer
  using Step = std::pair<float, uint32_t>;  // (t, dimension)
  const int top = (1 << e) - 1;
  const float hi = float(top + 10) / *std::max_element(u_abs, u_abs + d);
  const float lo = hi * kWindowStart[e];
  std::vector<int> level(d);
  std::vector<Step> steps;
  double num = 0, den = 0;  // <y, |u|>, ||y||^2
  for (size_t j = 0; j < d; j++) {
    level[j] = std::min(int(lo * u_abs[j] + kRound), top);
    num += (level[j] + 0.5) * u_abs[j];
    den += (level[j] + 0.5) * (level[j] + 0.5);
    for (int v = level[j] + 1; v <= top; v++) {
      const float t = float(v) / u_abs[j];  // infinity for a zero value: no step
      if (!(t < hi)) break;
      steps.emplace_back(t, uint32_t(j));
    }
  }
  const size_t n = steps.size();
  std::vector<uint32_t> first(n + 1, 0);  // bucket b holds sorted[first[b], first[b + 1])
  std::vector<Step> sorted(n);
  const float per_t = float(n) / (hi - lo);
  auto bucket = [&](float t) { return std::min(n - 1, size_t(std::max(0.0f, (t - lo) * per_t))); };
  for (const Step& step : steps) first[bucket(step.first) + 1]++;
  for (size_t b = 0; b < n; b++) first[b + 1] += first[b];
  std::vector<uint32_t> fill(first.begin(), first.begin() + n);
  for (const Step& step : steps) sorted[fill[bucket(step.first)]++] = step;
  for (size_t b = 0; b < n; b++) std::sort(sorted.begin() + first[b], sorted.begin() + first[b + 1]);
  // The cosine times ||u|| is num / sqrt(den), num >= 0: compared as num^2 / den, cross-multiplied.
  float best_t = lo;
  double best_num_sqr = num * num, best_den = den;
  for (const auto& [t, j] : sorted) {
    const int v = ++level[j];
    num += u_abs[j];
    den += 2.0 * v;  // (v + 0.5)^2 - (v - 0.5)^2
    if (num * num * best_den > best_num_sqr * den) {
      best_num_sqr = num * num;
      best_den = den;
      best_t = t;
    }
  }
  return best_t;
}

}  // namespace

int RaBitQuantizer::checked_query_bits(int qb, const char* owner) {
  SEXTANT_CHECK(qb >= 0 && qb <= kMaxQueryBits, owner, ": qb must be in [0, ", kMaxQueryBits, "], got ", qb);
  return qb;
}

RaBitQuantizer::RaBitQuantizer(size_t d, MetricType metric, int nb_bits) : d_(d), metric_(metric), nb_bits_(nb_bits) {
  SEXTANT_CHECK(d > 0, "RaBitQ: d must be > 0, got ", d);
  SEXTANT_CHECK(nb_bits >= 1 && nb_bits <= kMaxBits, "RaBitQ: nb_bits must be in [1, ", kMaxBits, "], got ",
                nb_bits);
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
    std::memset(code, 0, code_size());
    // ||o - c||^2, ||o||^2 and <o - c, sign(o - c)> = sum |o_j - c_j|.
    std::vector<float> residual(ex_bits() ? d_ : 0);
    float norm_sqr = 0, o_sqr = 0, abs_sum = 0;
    for (size_t j = 0; j < d_; j++) {
      const float r = o[j] - (centroid ? centroid[j] : 0.0f);
      norm_sqr += r * r;
      o_sqr += o[j] * o[j];
      abs_sum += std::fabs(r);
      if (r > 0) code[j / 8] |= uint8_t(1u << (j % 8));
      if (ex_bits()) residual[j] = r;
    }
    const float norm = std::sqrt(norm_sqr);
    // <b, u>; a zero residual (the vector is the centroid) keeps the factors finite.
    const float b_dot_u = abs_sum * (norm_sqr < eps ? 1.0f : 1.0f / norm) * inv_sqrt_d;
    Factors f;
    f.or_minus_c_l2sqr = metric_ == MetricType::INNER_PRODUCT ? norm_sqr - o_sqr : norm_sqr;
    f.dp_multiplier = (std::fabs(b_dot_u) < eps ? 1.0f : 1.0f / b_dot_u) * norm;
    std::memcpy(code + bits_size(), &f, sizeof(f));
    if (ex_bits()) {
      // The 1-bit bound over ||q - c||, kept because an inner-product code lacks ||o - c||.
      const float inv_cos_sqr = std::fabs(b_dot_u) < eps ? 1.0f : 1.0f / (b_dot_u * b_dot_u);
      float bound = norm * std::sqrt(std::max(0.0f, inv_cos_sqr - 1.0f)) * kEpsilon0 /
                    std::sqrt(float(std::max<size_t>(1, d_ - 1)));
      if (metric_ == MetricType::L2) bound *= 2;
      std::memcpy(code + bits_size() + sizeof(Factors), &bound, sizeof(bound));
      encode_extra(residual.data(), norm, centroid, code);
    }
  }
}

void RaBitQuantizer::encode_extra(const float* residual, float norm, const float* centroid, uint8_t* code) const {
  const int e = ex_bits(), top = (1 << e) - 1;
  const bool at_centroid = norm < 1e-10f;  // magnitudes 0, factors 0: the estimate is the centroid's
  uint8_t* packed = code + extra_offset();
  ExtraFactors f{0.0f, 0.0f};
  std::vector<float> u_abs(d_, 0.0f);
  for (size_t j = 0; j < d_ && !at_centroid; j++) u_abs[j] = std::fabs(residual[j]) / norm;
  const float t = at_centroid ? 0.0f : best_magnitude_scale(u_abs.data(), d_, e);
  double y_dot_u = 0;
  for (size_t j = 0; j < d_; j++) {
    const uint32_t level = uint32_t(std::min(int(t * u_abs[j] + 1e-5f), top));
    y_dot_u += (level + 0.5) * u_abs[j];
    // Complemented where the sign bit is 0: (sign << e | stored) - 2^e + 0.5 is then +-(level + 0.5).
    const uint32_t stored = bit(code, j) ? level : uint32_t(top) - level;
    const size_t at = j * size_t(e);
    for (int k = 0; k < e; k++) {
      if ((stored >> k) & 1) packed[(at + k) / 8] |= uint8_t(1u << ((at + k) % 8));
    }
  }
  if (!at_centroid) {
    float inv_y_dot_u = float(1.0 / y_dot_u);
    if (!std::isnormal(inv_y_dot_u)) inv_y_dot_u = 1.0f;
    if (metric_ == MetricType::L2) {
      f = {norm * norm, -2.0f * norm * inv_y_dot_u};
    } else {
      float c_dot_r = 0;
      for (size_t j = 0; centroid && j < d_; j++) c_dot_r += centroid[j] * residual[j];
      f = {c_dot_r, norm * inv_y_dot_u};
    }
  }
  std::memcpy(packed + extra_size(), &f, sizeof(f));
}

uint32_t RaBitQuantizer::magnitude(const uint8_t* code, size_t j) const {
  const uint32_t stored = packed_value(code + extra_offset(), j, ex_bits());
  return bit(code, j) ? stored : uint32_t((1 << ex_bits()) - 1) - stored;
}

void RaBitQuantizer::decode(size_t n, const uint8_t* codes, const float* centroid, float* x) const {
  const float inv_sqrt_d = 1.0f / std::sqrt(float(d_));
  for (size_t i = 0; i < n; i++) {
    const uint8_t* code = codes + i * code_size();
    float* xi = x + i * d_;
    if (ex_bits()) {  // c + ||o - c|| / <y, u> y
      ExtraFactors f;
      std::memcpy(&f, code + extra_offset() + extra_size(), sizeof(f));
      const float scale = metric_ == MetricType::L2 ? -0.5f * f.rescale : f.rescale;
      for (size_t j = 0; j < d_; j++) {
        const float y = float(magnitude(code, j)) + 0.5f;
        xi[j] = (bit(code, j) ? y : -y) * scale + (centroid ? centroid[j] : 0.0f);
      }
      continue;
    }
    const float step = read_factors(code, bits_size()).dp_multiplier * inv_sqrt_d;
    for (size_t j = 0; j < d_; j++) xi[j] = (bit(code, j) ? step : -step) + (centroid ? centroid[j] : 0.0f);
  }
}

void RaBitQuantizer::check_codes(size_t n, const uint8_t* codes) const {
  for (size_t i = 0; i < n; i++) {
    const uint8_t* code = codes + i * code_size();
    const Factors f = read_factors(code, bits_size());
    bool finite = std::isfinite(f.or_minus_c_l2sqr) && std::isfinite(f.dp_multiplier);
    if (ex_bits()) {
      ExtraFactors e;
      std::memcpy(&e, code + extra_offset() + extra_size(), sizeof(e));
      finite = finite && std::isfinite(sign_bound(code)) && std::isfinite(e.add) && std::isfinite(e.rescale);
    }
    SEXTANT_CHECK(finite, "RaBitQ code ", i, " has a NaN or infinite correction factor");
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
  residual_sum_ = sum;
  q_dot_c_ = rq_.metric() == MetricType::INNER_PRODUCT && centroid ? kernels_.inner_product(x, centroid, d) : 0.0f;
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

void RaBitQuantizer::Scorer::score(const uint8_t* codes, size_t n, float* out) const {
  if (rq_.ex_bits() == 0) return score_signs(codes, n, out);
  for (size_t i = 0; i < n; i++) {
    const uint8_t* code = codes + i * rq_.code_size();
    out[i] = extended_estimate(code, code + rq_.extra_offset());
  }
}

// <q - c, b> = c1 * dot + c2 * popcount - c34, where dot is the sum of the
// query (its levels when quantised) over the set bits.
void RaBitQuantizer::Scorer::score_signs(const uint8_t* codes, size_t n, float* out) const {
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

// base + add + rescale <q - c, y>, y_j = (sign << e | stored) - 2^e + 0.5 from
// the float residual (never quantised: few codes get here).
float RaBitQuantizer::Scorer::extended_estimate(const uint8_t* signs, const uint8_t* extra) const {
  const size_t d = rq_.d();
  const int e = rq_.ex_bits();
  // The magnitudes are followed by the 8 bytes of ExtraFactors, as the kernel needs.
  const float dot = kernels_.rabitq_extended_dot(signs, extra, size_t(e), residual_.data(), d);
  ExtraFactors f;
  std::memcpy(&f, extra + rq_.extra_size(), sizeof(f));
  const float q_dot_y = dot - (float(1 << e) - 0.5f) * residual_sum_;
  if (rq_.metric() == MetricType::L2) return std::max(0.0f, q_to_c_l2sqr_ + f.add + f.rescale * q_dot_y);
  return q_dot_c_ + f.add + f.rescale * q_dot_y;
}

void RaBitQuantizer::Scorer::scan(const uint8_t* codes, size_t n, const idx_t* ids, idx_t first, TopKHeap& heap,
                                  const IDSelector* sel) const {
  const bool l2 = rq_.metric() == MetricType::L2;
  const size_t cs = rq_.code_size();
  const float q_norm = std::sqrt(q_to_c_l2sqr_);
  constexpr size_t kChunk = 256;
  float scores[kChunk];
  for (size_t i0 = 0; i0 < n; i0 += kChunk) {
    const size_t m = std::min(kChunk, n - i0);
    const uint8_t* chunk = codes + i0 * cs;
    score_signs(chunk, m, scores);
    if (rq_.ex_bits() == 0) {
      push_candidates(kernels_, scores, nullptr, l2 ? 1.0f : -1.0f, m, ids ? ids + i0 : nullptr, first + idx_t(i0),
                      heap, sel);
      continue;
    }
    float admission = heap.admission_bound();  // changes only when the heap does
    for (size_t i = 0; i < m; i++) {
      const uint8_t* code = chunk + i * cs;
      if (!rq_.may_enter(l2 ? scores[i] : -scores[i], rq_.sign_bound(code) * q_norm, admission)) continue;
      const idx_t id = ids ? ids[i0 + i] : first + idx_t(i0 + i);
      if (sel && !sel->is_member(id)) continue;
      const float estimate = extended_estimate(code, code + rq_.extra_offset());
      heap.push(l2 ? estimate : -estimate, id);
      admission = heap.admission_bound();
    }
  }
}

float RaBitQuantizer::Scorer::error_bound(const uint8_t* code) const { return rq_.error_bound(code, q_to_c_l2sqr_); }

float RaBitQuantizer::sign_bound(const uint8_t* code) const {
  if (ex_bits()) {
    float bound;
    std::memcpy(&bound, code + bits_size() + sizeof(Factors), sizeof(bound));
    return bound;
  }
  const Factors f = read_factors(code, bits_size());
  // ||o - c|| sqrt(1 / <b, u>^2 - 1) = sqrt(dp_multiplier^2 - ||o - c||^2). The
  // inner-product code does not keep ||o - c||: dp_multiplier bounds it from above.
  const float dp_sqr = f.dp_multiplier * f.dp_multiplier;
  const float spread = metric_ == MetricType::L2 ? std::sqrt(std::max(0.0f, dp_sqr - f.or_minus_c_l2sqr))
                                                 : std::fabs(f.dp_multiplier);
  const float bound = spread * kEpsilon0 / std::sqrt(float(std::max<size_t>(1, d_ - 1)));
  // The L2 estimate carries -2 <q - c, o - c>, the inner-product one +<q - c, o - c>.
  return metric_ == MetricType::L2 ? 2 * bound : bound;
}

float RaBitQuantizer::error_bound(const uint8_t* code, float q_to_c_l2sqr) const {
  if (!ex_bits()) return std::sqrt(q_to_c_l2sqr) * sign_bound(code);
  // The same bound with y for b: ||o - c|| sqrt(1 / cos(y, u)^2 - 1) =
  // sqrt(s^2 ||y||^2 - ||o - c||^2) for s = ||o - c|| / <y, u>.
  const Factors f = read_factors(code, bits_size());
  ExtraFactors e;
  std::memcpy(&e, code + extra_offset() + extra_size(), sizeof(e));
  const float root_d = std::sqrt(float(std::max<size_t>(1, d_ - 1)));
  float norm_sqr = f.or_minus_c_l2sqr, scale = -0.5f * e.rescale;
  if (metric_ == MetricType::INNER_PRODUCT) {
    // The stored 1-bit bound is ||o - c|| sqrt(1 / <b, u>^2 - 1) eps0 / root_d,
    // dp_multiplier ||o - c|| / <b, u>: their squares differ by ||o - c||^2.
    const float spread = sign_bound(code) * root_d / kEpsilon0;
    norm_sqr = f.dp_multiplier * f.dp_multiplier - spread * spread;
    scale = e.rescale;
  }
  double y_sqr = 0;
  for (size_t j = 0; j < d_; j++) {
    const double y = magnitude(code, j) + 0.5;
    y_sqr += y * y;
  }
  const float spread = std::sqrt(std::max(0.0f, float(scale * scale * y_sqr) - std::max(0.0f, norm_sqr)));
  const float bound = std::sqrt(q_to_c_l2sqr) * spread * kEpsilon0 / root_d;
  return metric_ == MetricType::L2 ? 2 * bound : bound;
}

}  // namespace sextant
