#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <mutex>
#include <string>

#include "gpu/DeviceMemory.h"

namespace sextant::gpu {

/// Number of CUDA devices usable here; 0 when there is no device or no driver.
int device_count();

/// Throws sextant::Error naming `call` when `status` is not success.
void check_cuda(cudaError_t status, const char* call, const char* file, int line);
void check_cublas(cublasStatus_t status, const char* call, const char* file, int line);
class GpuResources;
/// Throws when the last kernel launch failed, naming the kernel. Where the
/// resources synchronise launches (sync_launches()), it also waits for the
/// kernel, so that a fault while it runs is reported here, naming it, instead
/// of at some later call.
void check_launch(const GpuResources& res, const char* kernel, const char* file, int line);

/// Whether launches are synchronised: on in debug builds, and wherever the
/// environment variable SEXTANT_GPU_SYNC_LAUNCHES is 1 (the tests set it);
/// SEXTANT_GPU_SYNC_LAUNCHES=0 turns it off.
bool sync_launches_from(const char* env_value, bool debug_build);

/// What GPU work runs on: one device, two streams, a cuBLAS handle and a
/// scratch-memory arena. Passed to every GPU index and kernel; the library
/// holds no global GPU state.
///
/// Work goes to stream(); aux_stream() lets a second kernel overlap with it
/// (the exact search runs selection there while the next GEMM tile runs),
/// always joined back into stream() before a call returns. The cuBLAS handle
/// runs on stream(), with TF32 off by default (exact float32 products).
/// One GPU operation at a time uses a resources object: indexes hold lock()
/// for the duration of a call, so searches from several host threads
/// sharing it are safe (they queue one after the other).
class GpuResources {
 public:
  /// Default scratch size: enough for the tiles of large batched searches.
  static constexpr size_t kDefaultScratchBytes = size_t{1} << 30;

  /// Throws sextant::Error when `device` does not exist (saying when no CUDA device is present).
  explicit GpuResources(int device = 0, size_t scratch_bytes = kDefaultScratchBytes);
  ~GpuResources();
  GpuResources(const GpuResources&) = delete;
  GpuResources& operator=(const GpuResources&) = delete;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cudaStream_t aux_stream() const { return aux_stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  ScratchArena& scratch() { return scratch_; }

  /// Multiprocessors of the device.
  int sm_count() const { return sm_count_; }
  /// Largest dynamic shared memory a block may ask for (after opting in).
  size_t max_shared_per_block() const { return max_shared_per_block_; }
  /// Device name, e.g. "NVIDIA H200".
  const std::string& device_name() const { return name_; }
  /// Bytes of L2 cache.
  int64_t l2_bytes() const { return l2_bytes_; }
  /// Kernel launches are followed by a device synchronisation (see check_launch).
  bool sync_launches() const { return sync_launches_; }

  /// Holds this resources object for one GPU operation (and makes its device current).
  std::unique_lock<std::mutex> lock();
  /// Blocks until the streams' work is done.
  void synchronize() const;

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  cudaStream_t aux_stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  int sm_count_ = 0;
  size_t max_shared_per_block_ = 0;
  int64_t l2_bytes_ = 0;
  bool sync_launches_ = false;
  std::string name_;
  ScratchArena scratch_;
  std::mutex mutex_;
};

}  // namespace sextant::gpu

#define SEXTANT_CUDA_CHECK(call) ::sextant::gpu::check_cuda((call), #call, __FILE__, __LINE__)
#define SEXTANT_CUBLAS_CHECK(call) ::sextant::gpu::check_cublas((call), #call, __FILE__, __LINE__)
/// After a kernel launch: SEXTANT_LAUNCH_CHECK(res, "select_rows_kernel");
#define SEXTANT_LAUNCH_CHECK(res, kernel) ::sextant::gpu::check_launch((res), (kernel), __FILE__, __LINE__)
