#pragma once

#include <cstdint>
#include <vector>

#include "sextant/IDSelector.h"
#include "sextant/impl/FastScan.h"
#include "sextant/impl/RaBitQuantizer.h"
#include "sextant/utils/TopK.h"

namespace sextant {

/// RaBitQ codes scored by 4-bit fast-scan (Faiss's "RaBitQfs"). A code's bits
/// are read 4 dimensions at a time as a sub-code of 16 values: dimensions
/// 4m..4m+3 are sub-code m (bit k of it dimension 4m + k), which is also where
/// RaBitQuantizer puts them, so a RaBitQ code is already a plain fast-scan code
/// of (d + 3) / 4 sub-codes followed by its two factors. Sub-code m looks up the
/// sum of the query's residual over the set dimensions of its 4, from a table
/// quantized to 8 bits (fastscan::QuantizedLUT), 32 codes per shuffle; the
/// per-vector factors then turn each block's 32 sums into estimates. Codes of
/// more bits (RaBitQ<nb_bits>) keep their 1-bit bound as a third factor and
/// their magnitudes in the blocks' tails: the multi-bit estimate replaces the
/// 1-bit one where that bound leaves the candidate a chance.
class RaBitQFastScanScorer {
 public:
  /// qb in [1, 8] rounds the query's residual to 2^qb levels before the table
  /// is built (Faiss's qb); qb = 0 builds it from the floats.
  RaBitQFastScanScorer(const RaBitQuantizer& rq, int qb);
  const fastscan::QuantizedLUT& lut() const { return lut_; }

  /// The query and the centroid the codes were taken against (nullptr: the origin).
  void set_query(const float* x, const float* centroid);
  /// Heap keys (L2 distances, negated similarities) of a block's 32 codes
  /// from their fast-scan sums and factors (RaBitQuantizer::Factors, one
  /// float array of 32 each).
  void block_keys(const uint16_t* sums, const float* or_minus_c_l2sqr, const float* dp_multiplier,
                  float* keys) const;
  /// The blocks of rq's codes: (d + 3) / 4 sub-codes, the two factors (and
  /// with more bits the 1-bit bound), then the magnitudes and their factors.
  static fastscan::BlockLayout layout(const RaBitQuantizer& rq) {
    const size_t floats = rq.nb_bits() > 1 ? 3 : 2;
    return {(rq.d() + 3) / 4, floats, rq.code_size() - rq.bits_size() - sizeof(float) * floats};
  }
  /// Offers entries [begin, end) of blocks in layout(d) to the heap with their
  /// estimates as keys; entry j has id ids[j] (j when ids is null).
  void scan(const uint8_t* blocks, size_t begin, size_t end, const idx_t* ids, TopKHeap& heap,
            const IDSelector* sel) const;
  /// Estimates (distances, similarities) of n codes in the plain layout, from
  /// the residual (rounded to qb bits, but not to the 8-bit table; multi-bit
  /// codes: the float residual).
  void score(const uint8_t* codes, size_t n, float* out) const;

 private:
  const RaBitQuantizer& rq_;
  size_t M_;
  int qb_;
  fastscan::BlockLayout layout_;
  RaBitQuantizer::Scorer extended_;        // the multi-bit estimates (float queries)
  mutable std::vector<uint8_t> signs_;     // one vector's sign bits, out of its block
  std::vector<float> residual_;  // q - c, rounded to the qb-bit levels when qb > 0, zero past d
  std::vector<uint8_t> levels_;  // the residual's qb-bit levels (qb > 0)
  std::vector<float> table_;     // M x 16 float entries, before their quantization
  fastscan::QuantizedLUT lut_;
  float q_to_c_l2sqr_ = 0, q_norm_l2sqr_ = 0, residual_sum_ = 0;
};

}  // namespace sextant
