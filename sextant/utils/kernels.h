#pragma once

#include <cstddef>
#include <cstdint>

#include "sextant/utils/simd_level.h"
#include "sextant/utils/sq_codecs.h"

namespace sextant {

/// Scores n scalar-quantizer codes (code_size bytes apart, d components) for a
/// query prepared as (u, v). Integer codecs: L2 = sum (u_i - q_i v_i)^2 and
/// IP = sum u_i q_i; float codecs (v unused): L2 = sum (u_i - f_i)^2 and
/// IP = sum u_i f_i. (ScalarQuantizer explains how u and v come from a query.)
using SQScoreFn = void (*)(const float* u, const float* v, const uint8_t* codes, size_t code_size, size_t n,
                           size_t d, float* out);

/// A query for split rows (FlatGraphStorage). A row of d floats is stored as
/// w = ceil(d / 2) words of the floats' high 16 bits (elements 2i and 2i + 1 in
/// the low and high halves of word i; a missing last element is 0) and, in a
/// separate array, w words of their low 16 bits. The query's floats are split
/// the same way: `even` and `odd` (w floats each: elements 2i and 2i + 1), and
/// `words`, its own high then low words (2w), which rows read once they have
/// crossed the bound.
struct SplitQuery {
  const float* even;
  const float* odd;
  const uint32_t* words;
};

/// The distance and filtering kernels of one instruction-set level. Each level
/// lives in its own translation unit built with its own compiler flags; the
/// scalar level is the plain reference every other level is tested against.
/// All arrays are row-major floats (split rows excepted); d is the dimension, rows are d apart.
struct Kernels {
  SimdLevel level;

  /// Squared L2 distance and inner product of two d-vectors.
  float (*l2sqr)(const float* x, const float* y, size_t d);
  float (*inner_product)(const float* x, const float* y, size_t d);

  /// out[j] = distance between x and row j of y, for j < ny.
  void (*l2sqr_ny)(const float* x, const float* y, size_t ny, size_t d, float* out);
  void (*inner_product_ny)(const float* x, const float* y, size_t ny, size_t d, float* out);

  /// For j < n, computes s = scale * v[j] + (bias ? bias[j] : 0) and, when
  /// s < threshold, appends j to idx and s to vals. Returns the count. This is
  /// the first stage of k-selection: most candidates fail the compare and cost
  /// a fraction of a cycle each.
  size_t (*collect_below)(const float* v, const float* bias, float scale, size_t n, float threshold,
                          uint32_t* idx, float* vals);
  /// The smallest s = scale * v[j] + (bias ? bias[j] : 0) over 0 < n < 2^24
  /// positions, written to *key; returns its position (the first on ties).
  /// Selection for k = 1: one pass, no candidate lists.
  size_t (*min_key)(const float* v, const float* bias, float scale, size_t n, float* key);

  /// Scalar-quantizer scoring, indexed by SQCodec.
  SQScoreFn sq_l2[kNumSQCodecs];
  SQScoreFn sq_ip[kNumSQCodecs];

  /// 4-bit PQ fast-scan (layouts in impl/FastScan.h): for each code of
  /// nblocks blocks of 32, sums its 8-bit look-up entries over npairs
  /// sub-quantizer pairs (16-bit sums: the largest entries of the pairs must
  /// add up to at most 65535, as fastscan_quantize makes them), and appends
  /// (position, sum) of each code whose sum is <= threshold. Returns the count.
  size_t (*fastscan_collect)(const uint8_t* blocks, size_t nblocks, size_t npairs, const uint8_t* luts,
                             uint16_t threshold, uint32_t* idx, uint16_t* sums);
  /// The 16-bit sums of the 32 codes of one block, in vector order: what
  /// fastscan_collect compares, for scorers whose order of codes is not the
  /// order of their sums (RaBitQ's per-vector factors).
  void (*fastscan_sums)(const uint8_t* block, size_t npairs, const uint8_t* luts, uint16_t* sums);
  /// Quantizes a fast-scan look-up table (M sub-quantizers x 16 float entries,
  /// smaller is better) to bytes in the pair layout: entry c of sub-quantizer m
  /// goes to out[(m / 2) * 32 + (m % 2) * 16 + c] as round((t - lo_m) / step),
  /// lo_m the sub-quantizer's smallest entry, step = fastscan_step() of the
  /// lo..hi ranges (so that any sum of one entry per sub-quantizer fits 16
  /// bits). Other bytes of out are left alone. Writes step and bias = sum of
  /// the lo_m.
  void (*fastscan_quantize)(const float* table, size_t M, uint8_t* out, float* step, float* bias);
  /// out[j] = distance between x and row ids[j] of `base` (rows d floats
  /// apart), for j < n: one query against the scattered rows of a graph
  /// node's neighbours. Rows are read a few at a time in lockstep, so that
  /// several cache misses are in flight, and the heads of the next rows are
  /// prefetched. l2sqr_gather may stop rows after a block of 64 floats once
  /// their partial sums are >= bound, and then writes those partial sums (so
  /// out[j] >= bound tells the caller to reject the row either way); bound =
  /// +inf gives full distances.
  void (*l2sqr_gather)(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n, float bound,
                       float* out);
  void (*inner_product_gather)(const float* x, const float* base, size_t d, const uint32_t* ids, size_t n,
                               float* out);
  /// The gathers over split rows (row i: words i * w of `high` and `low`):
  /// with `exact`, distances to the rows' floats; without, to the floats
  /// truncated to their high halves (8 significant bits), reading half the
  /// bytes, for a graph traversal whose results are re-ranked exactly. The L2
  /// one stops rows against `bound` like l2sqr_gather, every kSplitGatherBlock words.
  void (*l2sqr_split_gather)(const SplitQuery& q, const uint32_t* high, const uint32_t* low, size_t w,
                             const uint32_t* ids, size_t n, float bound, bool exact, float* out);
  void (*inner_product_split_gather)(const SplitQuery& q, const uint32_t* high, const uint32_t* low, size_t w,
                                     const uint32_t* ids, size_t n, bool exact, float* out);
  /// The same traversal distance between two rows' high halves (w words each).
  float (*l2sqr_split_pair)(const uint32_t* a, const uint32_t* b, size_t w);
  float (*inner_product_split_pair)(const uint32_t* a, const uint32_t* b, size_t w);
  /// The nearest of a few low-dimensional centroids to each of n points
  /// (rows d apart): the k-means and PQ assignment step, where a GEMM spends
  /// more on packing than on arithmetic. ct holds the centroids transposed (d
  /// rows of kpad floats, kpad a multiple of kNearestPad), norms their squared
  /// norms (+inf in padding columns, which are then never chosen). Writes the
  /// centroid with the smallest score ||c||^2 - 2 <x, c> (the squared distance
  /// less ||x||^2; ties to the smaller index) and that score.
  void (*l2_nearest)(const float* x, size_t n, size_t d, const float* ct, const float* norms, size_t kpad,
                     int64_t* labels, float* scores);
  /// Product-quantizer look-up tables: out[m * ny + j] = distance between
  /// sub-vector m of x (the d floats at x + m * d) and centroid j of subspace
  /// m, for m < M and j < ny. ct holds each subspace's centroids transposed (d
  /// rows of ny floats, subspace m at ct + m * d * ny), so that each query
  /// component meets a vector of centroids: no horizontal sums, whereas rows of
  /// d = 8-16 floats would need one per centroid.
  void (*l2sqr_table)(const float* x, const float* ct, size_t M, size_t d, size_t ny, float* out);
  void (*inner_product_table)(const float* x, const float* ct, size_t M, size_t d, size_t ny, float* out);
  /// RaBitQ scoring (impl/RaBitQuantizer.h): for n codes code_size bytes
  /// apart, each starting with bits_size bytes of sign bits (bit j of byte
  /// j / 8), dots[i] = sum over p < nplanes of popcount(bits & plane p) << p
  /// and counts[i] = popcount(bits). planes holds nplanes rows of words
  /// 64-bit words (words = ceil(bits_size / 8), zero past the last bit);
  /// 1 <= nplanes <= RaBitQuantizer::kMaxQueryBits (8).
  void (*rabitq_popcounts)(const uint8_t* codes, size_t n, size_t code_size, size_t bits_size,
                           const uint64_t* planes, size_t words, size_t nplanes, uint32_t* dots, uint32_t* counts);
  /// A query's residual to a centroid for RaBitQ scoring: r = x - c over d
  /// floats (c null: the origin) and stats = {sum, min, max, squared norm} of r.
  void (*rabitq_residual)(const float* x, const float* c, size_t d, float* r, float* stats);
  /// A multi-bit RaBitQ code's dot product with r: the sum over j < d of r_j
  /// times (sign_j << e) | stored_j, sign_j bit j of signs (bit j % 8 of byte
  /// j / 8), stored_j the e bits (1 <= e <= 8) at bit j e of packed, which
  /// must be followed by 7 readable bytes.
  float (*rabitq_extended_dot)(const uint8_t* signs, const uint8_t* packed, size_t e, const float* r, size_t d);
};

/// Column padding of l2_nearest's transposed centroids (at least any level's lanes).
constexpr size_t kNearestPad = 16;

/// Floats between two bound checks of l2sqr_gather.
constexpr size_t kGatherBlock = 64;
/// Words (two elements each) between two bound checks of l2sqr_split_gather:
/// as many bytes as kGatherBlock floats (+10% QPS over half as many).
constexpr size_t kSplitGatherBlock = 64;

/// The step of a quantized fast-scan look-up table of M < 65535 sub-quantizers
/// whose widest entry range is `range` and whose ranges add up to `total`:
/// range / 255, so that the widest one spans the byte, and, beyond 256
/// sub-quantizers, at least total / (65535 - M), so that sums of rounded
/// entries (each at most its range / step + 1/2) still fit 16 bits; 1 for flat
/// tables. Defined once, outside the ISA units: every level gets the same step.
float fastscan_step(float range, float total, size_t M);

/// The kernels of the active level (simd_level()).
const Kernels& kernels();

/// The kernels of one level, or null when this build or CPU lacks it.
const Kernels* kernels_for(SimdLevel level);

namespace simd_scalar { const Kernels& table(); }
namespace simd_avx2 { const Kernels& table(); }
namespace simd_avx512 { const Kernels& table(); }
namespace simd_avx512icl { const Kernels& table(); }

}  // namespace sextant
