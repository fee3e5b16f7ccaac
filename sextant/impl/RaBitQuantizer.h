#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "sextant/IDSelector.h"
#include "sextant/MetricType.h"
#include "sextant/utils/TopK.h"

namespace sextant {

struct Kernels;

/// RaBitQ codes (Gao & Long, SIGMOD 2024), in Faiss's layout: one bit per
/// dimension, the sign of the vector minus a centroid (bit j of byte j / 8),
/// then two floats per vector that correct the estimate. The random rotation
/// that the method's error bound assumes is applied outside, as in Faiss
/// ("RR<d>,RaBitQ"); Gaussian-like data need none.
///
/// For o - c with unit direction u and the code's unit vector
/// b = sign(o - c) / sqrt(d), <q - c, o - c> is estimated by
/// ||o - c|| <q - c, b> / <b, u>, which is unbiased. Its error is close to
/// normal with deviation ||o - c|| ||q - c|| sqrt((1 / <b, u>^2 - 1) / (d - 1));
/// the bound is eps0 = 1.9 deviations (the paper's and Faiss's constant), which
/// about 94% of errors stay within on randomly rotated data.
///
/// With nb_bits = 1 + e > 1 (extended RaBitQ, Gao et al., SIGMOD 2025; Faiss's
/// "RaBitQ<nb_bits>") each dimension also keeps e magnitude bits: |o - c| / ||o - c||
/// is scaled by the t that best aligns y = sign * (floor(t |u_j|) + 0.5) with u,
/// and the same estimator runs with y in place of b. The code then holds the
/// sign bits, three floats (the two above and the 1-bit estimate's error bound
/// over ||q - c||), the e-bit magnitudes (bit k of dimension j at bit j e + k,
/// stored complemented where the sign bit is 0), and two floats for the
/// e-bit estimate. A search ranks by the 1-bit estimate first and computes the
/// e-bit one only where the first one's bound leaves the candidate a chance.
class RaBitQuantizer {
 public:
  /// The two floats stored after the bits. L2: ||o - c||^2; inner product:
  /// ||o - c||^2 - ||o||^2. Then ||o - c|| / <b, u>.
  struct Factors {
    float or_minus_c_l2sqr;
    float dp_multiplier;
  };
  /// The floats after the magnitude bits (nb_bits > 1): the e-bit estimate is
  /// base + add + rescale * <q - c, y>, base ||q - c||^2 (L2) or <q, c> (inner
  /// product).
  struct ExtraFactors {
    float add;
    float rescale;
  };
  /// The error bound's confidence constant (eps0 of the paper, Faiss's value).
  static constexpr float kEpsilon0 = 1.9f;
  /// The largest number of bits a query may be quantised to (Faiss's qb).
  static constexpr int kMaxQueryBits = 8;
  /// The largest number of bits a dimension may be coded with (Faiss's limit).
  static constexpr int kMaxBits = 9;
  /// qb when it is in [0, kMaxQueryBits]; else an Error naming `owner`.
  static int checked_query_bits(int qb, const char* owner);

  /// nb_bits in [1, kMaxBits] bits a dimension.
  RaBitQuantizer(size_t d, MetricType metric, int nb_bits = 1);
  size_t d() const { return d_; }
  MetricType metric() const { return metric_; }
  int nb_bits() const { return nb_bits_; }
  size_t code_size() const { return extra_offset() + (ex_bits() ? extra_size() + sizeof(ExtraFactors) : 0); }
  size_t bits_size() const { return (d_ + 7) / 8; }

  /// The mean of n vectors: the centroid a flat index codes against (an
  /// empty set gives the origin, as Faiss).
  std::vector<float> train(size_t n, const float* x) const;
  /// Codes of n vectors against centroid (nullptr: the origin).
  void encode(size_t n, const float* x, const float* centroid, uint8_t* codes) const;
  /// The vectors the codes stand for: c + ||o - c|| / <b, u> b (with e bits:
  /// c + ||o - c|| / <y, u> y). They keep inner products with the query, not
  /// the vectors' shape.
  void decode(size_t n, const uint8_t* codes, const float* centroid, float* x) const;
  /// Throws unless each of n codes has finite factors.
  void check_codes(size_t n, const uint8_t* codes) const;
  /// A query's residual is quantised to qb bits as levels lo + delta * v, v in
  /// [0, 2^qb - 1], over its range [lo, hi]: this delta.
  static float level_step(float lo, float hi, int qb);
  /// The levels v of the d values of r (clamped, rounded half up; all 0 when
  /// delta is 0), and their sum.
  static uint32_t round_to_levels(const float* r, size_t d, float lo, float delta, int qb, uint8_t* levels);
  /// The paper's bound on |estimate - exact| for a code and a query at squared
  /// distance q_to_c_l2sqr from the code's centroid (Scorer::error_bound).
  float error_bound(const uint8_t* code, float q_to_c_l2sqr) const;
  /// The 1-bit estimate's bound over ||q - c|| (stored for nb_bits > 1): a
  /// search skips the multi-bit estimate where the 1-bit one less this bound
  /// cannot enter the results.
  float sign_bound(const uint8_t* code) const;
  /// Whether a multi-bit code whose 1-bit estimate has heap key `key` (L2
  /// distance, negated similarity) and bound `slack` (sign_bound times
  /// ||q - c||) may enter a heap admitting keys below `admission`: its best
  /// key, key - slack (an L2 distance no less than 0), is below it.
  bool may_enter(float key, float slack, float admission) const {
    const float best = key - slack;
    return (metric_ == MetricType::L2 ? std::max(0.0f, best) : best) < admission;
  }
  /// out[i] = error_bound(code_of(ids[i]), q_to_c_l2sqr) for n stored vectors
  /// coded against one centroid, infinity for an id of -1 (no result).
  template <class CodeOf>
  void error_bounds(float q_to_c_l2sqr, const idx_t* ids, size_t n, float* out, CodeOf&& code_of) const {
    for (size_t i = 0; i < n; i++) {
      out[i] = ids[i] < 0 ? std::numeric_limits<float>::infinity() : error_bound(code_of(ids[i]), q_to_c_l2sqr);
    }
  }

  /// Estimates distances (L2) or similarities (inner product) of one query to
  /// codes. qb = 0 keeps the query in floats; qb in [1, 8] quantises the
  /// query's residual to qb bits per dimension and scores codes with popcounts.
  class Scorer {
   public:
    Scorer(const RaBitQuantizer& rq, int qb);
    /// The query and the centroid the codes were taken against (nullptr: the origin).
    void set_query(const float* x, const float* centroid);
    /// The estimate for one code.
    float estimate(const uint8_t* code) const;
    /// out[i] = estimate for codes[i], n codes one after the other.
    void score(const uint8_t* codes, size_t n, float* out) const;
    /// Offers n codes (one after the other) to the heap, keys as
    /// InvertedListScanner::scan's, ids ids[i] (or first + i when ids is
    /// null). Multi-bit codes: the e-bit estimate only for codes whose 1-bit
    /// estimate, less its bound, may enter the heap.
    void scan(const uint8_t* codes, size_t n, const idx_t* ids, idx_t first, TopKHeap& heap,
              const IDSelector* sel) const;
    /// The paper's bound on |estimate - exact| for this code (eps0 deviations;
    /// L2: twice the inner product's; a 1-bit inner-product code lacks
    /// ||o - c|| and gets a looser one; e bits: the e-bit estimate's); with a
    /// quantised query it covers the code's error, not the query's rounding.
    float error_bound(const uint8_t* code) const;
    /// The e-bit estimate (nb_bits > 1) of the code with these sign bits and
    /// this rest after the three floats (the magnitudes, then ExtraFactors):
    /// what a fast-scan layout keeps apart.
    float extended_estimate(const uint8_t* signs, const uint8_t* extra) const;

   private:
    float finish(const uint8_t* code, float q_dot_b) const;
    /// The 1-bit estimates of n codes.
    void score_signs(const uint8_t* codes, size_t n, float* out) const;

    const RaBitQuantizer& rq_;
    const Kernels& kernels_;
    int qb_;
    std::vector<float> residual_;           // q - c (qb = 0)
    std::vector<uint8_t> levels_;           // the quantised residual (qb > 0), zero-padded to whole bytes of bits
    std::vector<uint64_t> planes_;          // bit p of every level (plane p), words_ words per plane
    size_t words_ = 0;
    float c1_ = 0, c2_ = 0, c34_ = 0;       // <q - c, b> = c1 * dot + c2 * popcount - c34
    float q_to_c_l2sqr_ = 0, q_norm_l2sqr_ = 0;
    float residual_sum_ = 0, q_dot_c_ = 0;  // for the e-bit estimate
  };

 private:
  int ex_bits() const { return nb_bits_ - 1; }
  /// Bytes of the floats after the sign bits (the 1-bit bound's with e bits).
  size_t factors_size() const { return sizeof(Factors) + (ex_bits() ? sizeof(float) : 0); }
  /// Where the magnitude bits start, and their bytes.
  size_t extra_offset() const { return bits_size() + factors_size(); }
  size_t extra_size() const { return (d_ * size_t(ex_bits()) + 7) / 8; }
  /// The magnitude of dimension j (the complement undone), in [0, 2^e - 1].
  uint32_t magnitude(const uint8_t* code, size_t j) const;
  void encode_extra(const float* residual, float norm, const float* centroid, uint8_t* code) const;

  size_t d_;
  MetricType metric_;
  int nb_bits_;
};

}  // namespace sextant
