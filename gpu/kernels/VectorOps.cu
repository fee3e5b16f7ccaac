#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "gpu/GpuResources.h"
#include "gpu/kernels/VectorOps.h"
#include "gpu/select/Planning.h"
#include "gpu/select/Tf32Split.h"

namespace sextant::gpu {

namespace {

// One warp per row; lanes stride over the row and reduce with shuffles.
template <class T>
__device__ __forceinline__ float to_float(T v) {
  return static_cast<float>(v);
}
template <>
__device__ __forceinline__ float to_float<uint16_t>(uint16_t v) {
  return __half2float(__ushort_as_half(v));
}

template <class T>
__global__ void row_norms_kernel(const T* x, int64_t n, int d, float* out) {
  const int64_t row = (blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (row >= n) return;
  const T* r = x + row * d;
  float s = 0;
  for (int j = lane; j < d; j += 32) {
    const float v = to_float(r[j]);
    s = fmaf(v, v, s);
  }
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xFFFFFFFFu, s, o);
  if (lane == 0) out[row] = s;
}

__global__ void to_fp16_kernel(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __half_as_ushort(__float2half_rn(x[i]));
}

__global__ void from_fp16_kernel(const uint16_t* x, int64_t n, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = __half2float(__ushort_as_half(x[i]));
}

__global__ void split_tf32_kernel(const float* x, int64_t n, int d, bool database, float* out) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n * d; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / d, col = i % d;
    float hi, lo;
    split_tf32(x[i], hi, lo);
    float* o = out + row * 3 * d + col;
    o[0] = hi;
    o[d] = database ? lo : hi;
    o[2 * d] = database ? hi : lo;
  }
}

__global__ void scatter_ids_kernel(const int64_t* src, const int64_t* pos, int64_t n, int64_t* dst) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < n) dst[pos[i]] = src[i];
}

// One block per row; bytes copied 4 at a time when both rows are aligned.
__global__ void scatter_rows_kernel(const uint8_t* src, const int64_t* pos, int64_t row_bytes, uint8_t* dst) {
  const uint8_t* s = src + blockIdx.x * row_bytes;
  uint8_t* t = dst + pos[blockIdx.x] * row_bytes;
  if (row_bytes % 4 == 0) {
    for (int64_t j = threadIdx.x; j < row_bytes / 4; j += blockDim.x)
      reinterpret_cast<uint32_t*>(t)[j] = reinterpret_cast<const uint32_t*>(s)[j];
  } else {
    for (int64_t j = threadIdx.x; j < row_bytes; j += blockDim.x) t[j] = s[j];
  }
}

// One block per segment (an inverted list moving to its new place).
__global__ void copy_segments_kernel(const uint8_t* src, uint8_t* dst, const int64_t* from, const int64_t* to,
                                     const int64_t* count, int64_t row_bytes) {
  const int64_t bytes = count[blockIdx.x] * row_bytes;
  const uint8_t* s = src + from[blockIdx.x] * row_bytes;
  uint8_t* t = dst + to[blockIdx.x] * row_bytes;
  if (row_bytes % 4 == 0) {
    for (int64_t j = threadIdx.x; j < bytes / 4; j += blockDim.x)
      reinterpret_cast<uint32_t*>(t)[j] = reinterpret_cast<const uint32_t*>(s)[j];
  } else {
    for (int64_t j = threadIdx.x; j < bytes; j += blockDim.x) t[j] = s[j];
  }
}

int64_t grid_for(int64_t n, int threads) { return min64(max64(ceil_div(n, threads), 1), 65536); }

}  // namespace

void row_norms(GpuResources& res, const float* x, int64_t n, int d, float* out) {
  if (n == 0) return;
  row_norms_kernel<float><<<ceil_div(n * 32, 256), 256, 0, res.stream()>>>(x, n, d, out);
  SEXTANT_LAUNCH_CHECK(res, "row_norms_kernel<float>");
}

void row_norms_fp16(GpuResources& res, const uint16_t* x, int64_t n, int d, float* out) {
  if (n == 0) return;
  row_norms_kernel<uint16_t><<<ceil_div(n * 32, 256), 256, 0, res.stream()>>>(x, n, d, out);
  SEXTANT_LAUNCH_CHECK(res, "row_norms_kernel<fp16>");
}

void to_fp16(GpuResources& res, const float* x, int64_t n, uint16_t* out) {
  if (n == 0) return;
  to_fp16_kernel<<<grid_for(n, 256), 256, 0, res.stream()>>>(x, n, out);
  SEXTANT_LAUNCH_CHECK(res, "to_fp16_kernel");
}

void from_fp16(GpuResources& res, const uint16_t* x, int64_t n, float* out) {
  if (n == 0) return;
  from_fp16_kernel<<<grid_for(n, 256), 256, 0, res.stream()>>>(x, n, out);
  SEXTANT_LAUNCH_CHECK(res, "from_fp16_kernel");
}

void split_tf32_rows(GpuResources& res, const float* x, int64_t n, int d, bool database, float* out) {
  if (n == 0) return;
  split_tf32_kernel<<<grid_for(n * d, 256), 256, 0, res.stream()>>>(x, n, d, database, out);
  SEXTANT_LAUNCH_CHECK(res, "split_tf32_kernel");
}

void scatter_ids(GpuResources& res, const int64_t* src, const int64_t* pos, int64_t n, int64_t* dst) {
  if (n == 0) return;
  scatter_ids_kernel<<<ceil_div(n, 256), 256, 0, res.stream()>>>(src, pos, n, dst);
  SEXTANT_LAUNCH_CHECK(res, "scatter_ids_kernel");
}

void scatter_rows(GpuResources& res, const uint8_t* src, const int64_t* pos, int64_t n, int64_t row_bytes,
                  uint8_t* dst) {
  if (n == 0 || row_bytes == 0) return;
  scatter_rows_kernel<<<n, 128, 0, res.stream()>>>(src, pos, row_bytes, dst);
  SEXTANT_LAUNCH_CHECK(res, "scatter_rows_kernel");
}

void copy_segments(GpuResources& res, const uint8_t* src, uint8_t* dst, const int64_t* from, const int64_t* to,
                   const int64_t* count, int64_t nseg, int64_t row_bytes) {
  if (nseg == 0 || row_bytes == 0) return;
  copy_segments_kernel<<<nseg, 256, 0, res.stream()>>>(src, dst, from, to, count, row_bytes);
  SEXTANT_LAUNCH_CHECK(res, "copy_segments_kernel");
}

}  // namespace sextant::gpu
