// Exact search on the GPU: cuBLAS GEMM tiles with the norms trick and the
// k-selection fused on each tile (see FlatSearch.cu).
#pragma once

#include <cstdint>

#include "sextant/MetricType.h"

namespace sextant::gpu {

class GpuResources;

/// How the fp32 inner products are computed.
enum class GemmPrecision : int {
  fp32 = 0,    ///< plain fp32 (SGEMM): the CPU's results
  tf32 = 1,    ///< one TF32 tensor-core pass: fastest, ~1e-3 relative error
  tf32x3 = 2,  ///< hi*hi + hi*lo + lo*hi on TF32 splits (select/Tf32Split.h): fp32-level error, tensor-core speed
};

/// A database of nb vectors of dimension d in device memory, fp32 or fp16.
struct FlatDatabase {
  const float* xb32 = nullptr;     ///< nb x d floats, or null
  const uint16_t* xb16 = nullptr;  ///< nb x d fp16 values, or null
  const float* xb_split = nullptr; ///< nb x 3d TF32 splits [hi | lo | hi] (tf32x3)
  const float* norms = nullptr;    ///< nb squared norms (L2 only)
  int64_t nb = 0;
  int d = 0;
};

struct FlatSearchOptions {
  MetricType metric = MetricType::L2;
  GemmPrecision precision = GemmPrecision::fp32;
  /// Bytes of one block of inner products (queries x database vectors) that
  /// the GEMM writes and the selection reads; two are in use at a time.
  /// 0: a quarter of the device's L2 cache (flat_tile_bytes), so both stay in it.
  int64_t tile_bytes = 0;
};

/// The best 32 * slots database entries of each of the nq device queries,
/// sorted, as selection entries (keys |y|^2 - 2 <x, y> for L2 or -<x, y>; ids =
/// database rows), into out (nq x 32 * slots, device memory).
void flat_search_entries(GpuResources& res, const float* xq, int64_t nq, const FlatDatabase& db, int slots,
                         const FlatSearchOptions& options, uint64_t* out);

/// The k nearest database vectors of each of the nq device queries: distances
/// and labels (nq x k, device memory), best first, ties to the smaller id,
/// padded with (+inf or -inf, -1). k <= 2048.
void flat_search(GpuResources& res, const float* xq, int64_t nq, const FlatDatabase& db, int64_t k,
                 const FlatSearchOptions& options, float* distances, int64_t* labels);

}  // namespace sextant::gpu
