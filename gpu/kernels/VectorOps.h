// Small element-wise and row-wise kernels (norms, fp16 conversion, gathers).
#pragma once

#include <cstdint>

namespace sextant::gpu {

class GpuResources;

/// out[i] = squared L2 norm of row i of the n x d matrix x (device memory).
void row_norms(GpuResources& res, const float* x, int64_t n, int d, float* out);
/// Same for a matrix of fp16 values (stored as their 16-bit patterns).
void row_norms_fp16(GpuResources& res, const uint16_t* x, int64_t n, int d, float* out);
/// fp32 -> fp16 (round to nearest) and back, n values.
void to_fp16(GpuResources& res, const float* x, int64_t n, uint16_t* out);
void from_fp16(GpuResources& res, const uint16_t* x, int64_t n, float* out);
/// TF32 splits of n rows of d floats into n rows of 3d: [hi | lo | hi] for a
/// database (database = true), [hi | hi | lo] for queries (select/Tf32Split.h).
void split_tf32_rows(GpuResources& res, const float* x, int64_t n, int d, bool database, float* out);
/// dst[pos[i]] = src[i] for n ids (scatter into list storage).
void scatter_ids(GpuResources& res, const int64_t* src, const int64_t* pos, int64_t n, int64_t* dst);
/// Row i of the n x row_bytes byte matrix src goes to row pos[i] of dst.
void scatter_rows(GpuResources& res, const uint8_t* src, const int64_t* pos, int64_t n, int64_t row_bytes,
                  uint8_t* dst);
/// Copies `count[l]` rows of `row_bytes` from src row from[l] to dst row to[l], for l < nseg.
void copy_segments(GpuResources& res, const uint8_t* src, uint8_t* dst, const int64_t* from, const int64_t* to,
                   const int64_t* count, int64_t nseg, int64_t row_bytes);

}  // namespace sextant::gpu
