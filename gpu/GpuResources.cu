#include "gpu/GpuResources.h"

#include <cstdlib>
#include <cstring>

#include "sextant/base/Error.h"

namespace sextant::gpu {

namespace {
#if defined(NDEBUG)
constexpr bool kDebugBuild = false;
#else
constexpr bool kDebugBuild = true;
#endif
}  // namespace

int device_count() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver / no device" error
    return 0;
  }
  return count;
}

void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  throw Error(std::string(call) + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")",
              file, line);
}

void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw Error(std::string(call) + " failed: " + cublasGetStatusName(status) + " (" + cublasGetStatusString(status) +
                  ")",
              file, line);
}

void check_launch(const GpuResources& res, const char* kernel, const char* file, int line) {
  cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess) {
    throw Error(std::string("launch of kernel ") + kernel + " failed: " + cudaGetErrorName(status) + " (" +
                    cudaGetErrorString(status) + ")",
                file, line);
  }
  if (!res.sync_launches()) return;
  status = cudaDeviceSynchronize();
  if (status == cudaSuccess) return;
  throw Error(std::string("kernel ") + kernel + " failed while running: " + cudaGetErrorName(status) + " (" +
                  cudaGetErrorString(status) + ")",
              file, line);
}

bool sync_launches_from(const char* env_value, bool debug_build) {
  if (env_value != nullptr && std::strcmp(env_value, "1") == 0) return true;
  if (env_value != nullptr && std::strcmp(env_value, "0") == 0) return false;
  return debug_build;
}

void* device_allocate(size_t bytes) {
  void* p = nullptr;
  SEXTANT_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}

void device_free(void* p) noexcept {
  if (p != nullptr) cudaFree(p);
}

CudaEvent::CudaEvent() { SEXTANT_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming)); }
CudaEvent::~CudaEvent() {
  if (event_) cudaEventDestroy(event_);
}
void CudaEvent::record(cudaStream_t stream) { SEXTANT_CUDA_CHECK(cudaEventRecord(event_, stream)); }
void CudaEvent::wait_in(cudaStream_t stream) const { SEXTANT_CUDA_CHECK(cudaStreamWaitEvent(stream, event_, 0)); }

void* ScratchArena::try_push(size_t bytes) {
  const size_t need = rounded(bytes);
  if (top_ + need > capacity_) return nullptr;
  if (block_.empty()) block_.reallocate(capacity_);
  void* p = block_.data() + top_;
  top_ += need;
  return p;
}

void ScratchArena::pop(void* p, size_t bytes) {
  const size_t need = rounded(bytes);
  SEXTANT_CHECK(top_ >= need && p == block_.data() + (top_ - need),
                "scratch memory given back out of order (internal error)");
  top_ -= need;
}

GpuResources::GpuResources(int device, size_t scratch_bytes) : device_(device), scratch_(scratch_bytes) {
  const int count = device_count();
  SEXTANT_CHECK(device >= 0 && device < count, "GPU device ", device, " does not exist: ",
                count == 0 ? std::string("no CUDA device is present") : std::to_string(count) + " device(s) present");
  SEXTANT_CUDA_CHECK(cudaSetDevice(device_));
  cudaDeviceProp prop{};
  SEXTANT_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
  sm_count_ = prop.multiProcessorCount;
  max_shared_per_block_ = prop.sharedMemPerBlockOptin;
  l2_bytes_ = prop.l2CacheSize;
  name_ = prop.name;
  sync_launches_ = sync_launches_from(std::getenv("SEXTANT_GPU_SYNC_LAUNCHES"), kDebugBuild);
  // Members are released in the destructor; if a step below throws, the
  // destructor does not run, so undo what was made so far by hand.
  auto undo = [this] {
    if (cublas_) cublasDestroy(cublas_);
    if (aux_stream_) cudaStreamDestroy(aux_stream_);
    if (stream_) cudaStreamDestroy(stream_);
  };
  try {
    SEXTANT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    SEXTANT_CUDA_CHECK(cudaStreamCreateWithFlags(&aux_stream_, cudaStreamNonBlocking));
    SEXTANT_CUBLAS_CHECK(cublasCreate(&cublas_));
    SEXTANT_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    // Exact float32 products unless a call asks otherwise (no TF32).
    SEXTANT_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
  } catch (...) {
    undo();
    throw;
  }
}

GpuResources::~GpuResources() {
  if (cublas_) cublasDestroy(cublas_);
  if (aux_stream_) cudaStreamDestroy(aux_stream_);
  if (stream_) cudaStreamDestroy(stream_);
}

std::unique_lock<std::mutex> GpuResources::lock() {
  std::unique_lock<std::mutex> held(mutex_);
  SEXTANT_CUDA_CHECK(cudaSetDevice(device_));
  return held;
}

void GpuResources::synchronize() const {
  SEXTANT_CUDA_CHECK(cudaStreamSynchronize(aux_stream_));
  SEXTANT_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

}  // namespace sextant::gpu
