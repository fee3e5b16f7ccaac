// How the IVF-PQ scan lays out its look-up tables in shared memory, and in
// which precision: plain arithmetic shared by the index (which refuses at
// construction what no search could launch), the kernel and the CPU tests.
//
// The distance of a code is a sum of M table entries (plus the coarse term).
// fp16 entries carry a relative error of 2^-11 each; that is harmless when
// every entry is a squared distance (non-negative: the sum's relative error
// stays 2^-11), and ruinous when entries of both signs cancel: the
// precomputed L2 form |r|^2 + 2 <c, r> - 2 <x, r> added to a large coarse
// distance, or inner products. So fp16 is used only for tables of squared
// distances, scaled by a power of two so that unnormalised data (0..255
// pixels: entries up to 65025 per dimension) cannot overflow fp16's 65504.
#pragma once

#include <cmath>
#include <cstdint>

#include "gpu/select/Planning.h"

namespace sextant::gpu {

/// How the look-up table of a (query, list) pair is made.
enum class PqTableMode : int {
  /// L2 with residuals: pre[list] - 2 <x_m, C_mc> (the per-query part kept in
  /// shared memory once per block), plus the coarse distance. fp32 only.
  precomputed = 0,
  /// No residuals, or inner product: one table per query, built once per
  /// block: |x_m - C_mc|^2 (L2) or <x_m, C_mc> (plus the coarse term with residuals).
  per_query = 1,
  /// L2 with residuals, no precomputed terms: |x - c_list - C_mc|^2, per pair.
  per_list = 2,
};

/// What decides the table layout.
struct PqTableShape {
  int64_t M = 0, ksub = 0, d = 0;
  bool l2 = true;
  bool by_residual = true;
  bool precomputed_available = false;  ///< the nlist x M x ksub terms exist (within their memory budget)
  bool want_fp16 = false;              ///< asked for fp16 tables (faster builds, less shared memory)
};

struct PqTablePlan {
  PqTableMode mode = PqTableMode::per_query;
  bool fp16 = false;
  bool fits = false;          ///< false: no layout fits the device's shared memory
  int64_t dynamic_bytes = 0;  ///< dynamic shared memory of the scan kernel
};

/// Whether a mode's entries are squared distances (fp16 is safe for them).
SEXTANT_HD bool pq_entries_non_negative(PqTableMode mode, bool l2) {
  return l2 && mode != PqTableMode::precomputed;
}

/// Shared-memory layout of the scan: precomputed: [query part, fp32 | list
/// table, fp32]; per_query: [table]; per_list: [table | residual, d floats].
/// Offsets in bytes from the start of the dynamic shared memory.
SEXTANT_HD int64_t pq_list_table_offset(PqTableMode mode, int64_t M, int64_t ksub) {
  return mode == PqTableMode::precomputed ? M * ksub * 4 : 0;
}
SEXTANT_HD int64_t pq_residual_offset(bool fp16, int64_t M, int64_t ksub) {
  return round_up(M * ksub * (fp16 ? 2 : 4), 16);
}

/// Dynamic shared memory of a layout.
SEXTANT_HD int64_t pq_table_bytes(PqTableMode mode, bool fp16, int64_t M, int64_t ksub, int64_t d) {
  int64_t bytes = pq_list_table_offset(mode, M, ksub) + M * ksub * (fp16 ? 2 : 4);
  if (mode == PqTableMode::per_list) bytes = pq_residual_offset(fp16, M, ksub) + d * 4;
  return round_up(bytes, 16);
}

/// The layout of the scan's tables: fp32 wherever it fits (the CPU index's
/// results), fp16 only for squared distances, when asked for or when fp32
/// does not fit. `static_bytes`: the scan kernel's own shared memory (the
/// largest over its queue sizes); `optin_limit`: the device's per-block limit.
inline PqTablePlan plan_pq_tables(const PqTableShape& s, int64_t static_bytes, int64_t optin_limit) {
  PqTablePlan p;
  auto take = [&](PqTableMode mode, bool fp16) {
    if (p.fits) return;
    if (fp16 && !pq_entries_non_negative(mode, s.l2)) return;
    const int64_t bytes = pq_table_bytes(mode, fp16, s.M, s.ksub, s.d);
    if (!plan_shared_memory(static_bytes, bytes, optin_limit).fits) return;
    p = PqTablePlan{mode, fp16, true, bytes};
  };
  if (!s.by_residual || !s.l2) {
    if (!s.want_fp16) take(PqTableMode::per_query, false);
    take(PqTableMode::per_query, true);
  } else {
    if (!s.want_fp16) {
      if (s.precomputed_available) take(PqTableMode::precomputed, false);
      take(PqTableMode::per_list, false);
    }
    take(PqTableMode::per_list, true);
  }
  return p;
}

/// Scale of an fp16 table whose entries are at most `bound`: a power of two s
/// with bound * s < 2^15, so scaled entries stay below fp16's largest value
/// (65504) and the sum comes back exactly (divided by s).
SEXTANT_HD float fp16_table_scale(float bound) {
  if (!(bound > 0.0f) || bound > 3.0e38f) return 1.0f;  // zero, NaN or inf: nothing to scale by
  int e = 0;
#if defined(__CUDA_ARCH__)
  frexpf(bound, &e);  // bound < 2^e
#else
  std::frexp(bound, &e);
#endif
  int shift = 15 - e;
  shift = shift > 120 ? 120 : (shift < -120 ? -120 : shift);
#if defined(__CUDA_ARCH__)
  return ldexpf(1.0f, shift);
#else
  return std::ldexp(1.0f, shift);
#endif
}

/// Bound on the squared distances |v_m - C_mc|^2 of a table: (max_m |v_m| + max_mc |C_mc|)^2.
SEXTANT_HD float squared_distance_bound(float max_sub_norm, float max_centroid_norm) {
  const float r = max_sub_norm + max_centroid_norm;
  return r * r;
}

}  // namespace sextant::gpu
