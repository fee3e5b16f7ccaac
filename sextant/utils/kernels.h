#pragma once

#include <cstddef>
#include <cstdint>

#include "sextant/utils/simd_level.h"

namespace sextant {

/// The distance and filtering kernels of one instruction-set level. Each level
/// lives in its own translation unit built with its own compiler flags; the
/// scalar level is the plain reference every other level is tested against.
/// All arrays are row-major floats; d is the dimension, rows are d apart.
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
};

/// Floats between two bound checks of l2sqr_gather.
constexpr size_t kGatherBlock = 64;

/// The kernels of the active level (simd_level()).
const Kernels& kernels();

/// The kernels of one level, or null when this build or CPU lacks it.
const Kernels* kernels_for(SimdLevel level);

namespace simd_scalar { const Kernels& table(); }
namespace simd_avx2 { const Kernels& table(); }
namespace simd_avx512 { const Kernels& table(); }

}  // namespace sextant
