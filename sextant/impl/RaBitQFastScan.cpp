#include "sextant/impl/RaBitQFastScan.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "sextant/utils/kernels.h"

namespace sextant {

RaBitQFastScanScorer::RaBitQFastScanScorer(const RaBitQuantizer& rq, int qb)
    : rq_(rq),
      M_((rq.d() + 3) / 4),
      qb_(RaBitQuantizer::checked_query_bits(qb, "RaBitQ fast-scan")),
      layout_(layout(rq)),
      extended_(rq, 0),
      signs_(rq.bits_size()),
      residual_(4 * M_, 0.0f),
      levels_(qb > 0 ? rq.d() : 0),
      table_(16 * M_) {}

void RaBitQFastScanScorer::set_query(const float* x, const float* centroid) {
  // Once per list an inverted file probes: every loop is written to vectorise.
  const size_t d = rq_.d();
  const Kernels& k = kernels();
  float* r = residual_.data();  // zero past d since construction
  float stats[4];  // sum, min, max, squared norm
  k.rabitq_residual(x, centroid, d, r, stats);
  const float lo = stats[1], hi = stats[2];
  residual_sum_ = stats[0];
  q_to_c_l2sqr_ = stats[3];
  q_norm_l2sqr_ = rq_.metric() == MetricType::INNER_PRODUCT ? k.inner_product(x, x, d) : 0.0f;
  if (qb_ > 0) {  // the levels RaBitQuantizer::Scorer rounds the query to, as floats
    const float delta = RaBitQuantizer::level_step(lo, hi, qb_);
    const uint32_t sum = RaBitQuantizer::round_to_levels(r, d, lo, delta, qb_, levels_.data());
    for (size_t j = 0; j < d; j++) r[j] = lo + delta * float(levels_[j]);
    residual_sum_ = float(d) * lo + delta * float(sum);
  }
  // Entry p of sub-code m: minus the sum of the residual over the set bits of
  // p (smaller is better: more of the residual along the code's signs). The
  // four entries of bits 0-1, then the same minus each choice of bits 2-3:
  // four vectors of four.
  for (size_t m = 0; m < M_; m++) {
    const float* v = r + 4 * m;
    const float low[4] = {0, -v[0], -v[1], -v[0] - v[1]};
    const float high[4] = {0, v[2], v[3], v[2] + v[3]};
    float* t = table_.data() + 16 * m;
    for (size_t h = 0; h < 4; h++) {
      for (size_t l = 0; l < 4; l++) t[4 * h + l] = low[l] - high[h];
    }
  }
  lut_.build(table_.data(), M_);
  if (rq_.nb_bits() > 1) extended_.set_query(x, centroid);
}

// A code's dot with the residual over its set bits is minus its table sum;
// <q - c, b> = (2 dot - sum of the residual) / sqrt(d), and the estimate is
// RaBitQuantizer::Scorer's: ||o - c||^2 + ||q - c||^2 - 2 dp_multiplier <q - c, b>.
void RaBitQFastScanScorer::block_keys(const uint16_t* sums, const float* or_minus_c_l2sqr,
                                      const float* dp_multiplier, float* keys) const {
  const float scale = 2.0f / std::sqrt(float(rq_.d()));
  // 2 * key(s) = 2 * step * s + 2 * bias: one multiply-add per code.
  const float step2 = 2 * lut_.step(), base = 2 * lut_.bias() + residual_sum_;
  const float qc = q_to_c_l2sqr_;
  if (rq_.metric() == MetricType::L2) {
    for (size_t v = 0; v < fastscan::kBlock; v++) {
      const float pre = or_minus_c_l2sqr[v] + qc + dp_multiplier[v] * scale * (step2 * float(sums[v]) + base);
      keys[v] = std::max(0.0f, pre);
    }
  } else {
    const float qn = q_norm_l2sqr_;
    for (size_t v = 0; v < fastscan::kBlock; v++) {
      const float pre = or_minus_c_l2sqr[v] + qc + dp_multiplier[v] * scale * (step2 * float(sums[v]) + base);
      keys[v] = 0.5f * (pre - qn);
    }
  }
}

void RaBitQFastScanScorer::scan(const uint8_t* blocks, size_t begin, size_t end, const idx_t* ids, TopKHeap& heap,
                                const IDSelector* sel) const {
  const Kernels& k = kernels();
  const size_t np = fastscan::npairs(M_), stride = layout_.stride();
  const bool multi_bit = rq_.nb_bits() > 1, l2 = rq_.metric() == MetricType::L2;
  const float q_norm = std::sqrt(q_to_c_l2sqr_);
  uint16_t sums[fastscan::kBlock];
  float keys[fastscan::kBlock];
  for (size_t b = begin / fastscan::kBlock; b < fastscan::nblocks(end); b++) {
    const uint8_t* block = blocks + b * stride;
    k.fastscan_sums(block, np, lut_.bytes(), sums);
    const float* factors = layout_.aux(block);
    block_keys(sums, factors, factors + fastscan::kBlock, keys);
    const float* sign_bounds = factors + 2 * fastscan::kBlock;  // multi-bit codes' third factor
    const size_t j0 = b * fastscan::kBlock;
    float bound = heap.admission_bound();
    for (size_t j = std::max(begin, j0); j < std::min(end, j0 + fastscan::kBlock); j++) {
      const size_t v = j - j0;
      float key = keys[v];
      if (multi_bit) {  // the multi-bit estimate where the 1-bit bound leaves a chance
        if (!rq_.may_enter(key, sign_bounds[v] * q_norm, bound)) continue;
        fastscan::get_code(block, M_, v, signs_.data());
        const float estimate = extended_.extended_estimate(signs_.data(), layout_.tail(block, v));
        key = l2 ? estimate : -estimate;
      }
      if (!(key < bound)) continue;
      const idx_t id = ids ? ids[j] : idx_t(j);
      if (sel != nullptr && !sel->is_member(id)) continue;
      heap.push(key, id);
      bound = heap.admission_bound();
    }
  }
}

void RaBitQFastScanScorer::score(const uint8_t* codes, size_t n, float* out) const {
  if (rq_.nb_bits() > 1) return extended_.score(codes, n, out);
  const size_t cs = rq_.code_size(), bits = rq_.bits_size(), d = rq_.d();
  const float scale = 2.0f / std::sqrt(float(d));
  for (size_t i = 0; i < n; i++) {
    const uint8_t* code = codes + i * cs;
    float dot = 0;
    for (size_t j = 0; j < d; j++) dot += (code[j / 8] >> (j % 8)) & 1 ? residual_[j] : 0.0f;
    RaBitQuantizer::Factors f;
    std::memcpy(&f, code + bits, sizeof(f));
    const float pre = f.or_minus_c_l2sqr + q_to_c_l2sqr_ + f.dp_multiplier * scale * (residual_sum_ - 2 * dot);
    out[i] = rq_.metric() == MetricType::L2 ? std::max(0.0f, pre) : -0.5f * (pre - q_norm_l2sqr_);
  }
}

}  // namespace sextant
