#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>

namespace sextant::gpu {

/// Number of CUDA devices usable here; 0 when there is no device or no driver.
int device_count();

/// Throws sextant::Error naming `call` when `status` is not success.
void check_cuda(cudaError_t status, const char* call, const char* file, int line);
void check_cublas(cublasStatus_t status, const char* call, const char* file, int line);

/// What GPU work runs on: one device, a stream and a cuBLAS handle bound to
/// it. Passed to every GPU index and kernel; the library holds no global GPU state.
class GpuResources {
 public:
  /// Throws sextant::Error when `device` does not exist.
  explicit GpuResources(int device = 0);
  ~GpuResources();
  GpuResources(const GpuResources&) = delete;
  GpuResources& operator=(const GpuResources&) = delete;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  /// Blocks until the stream's work is done.
  void synchronize() const;

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
};

}  // namespace sextant::gpu

#define SEXTANT_CUDA_CHECK(call) ::sextant::gpu::check_cuda((call), #call, __FILE__, __LINE__)
#define SEXTANT_CUBLAS_CHECK(call) ::sextant::gpu::check_cublas((call), #call, __FILE__, __LINE__)
