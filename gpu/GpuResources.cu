#include "gpu/GpuResources.h"

#include "sextant/utils/Error.h"

namespace sextant::gpu {

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

GpuResources::GpuResources(int device) : device_(device) {
  const int count = device_count();
  SEXTANT_CHECK(device >= 0 && device < count, "GPU device ", device, " does not exist: ",
                count == 0 ? std::string("no CUDA device is present") : std::to_string(count) + " device(s) present");
  SEXTANT_CUDA_CHECK(cudaSetDevice(device_));
  SEXTANT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  cublasStatus_t status = cublasCreate(&cublas_);
  if (status != CUBLAS_STATUS_SUCCESS) {
    cudaStreamDestroy(stream_);
    SEXTANT_CUBLAS_CHECK(status);
  }
  SEXTANT_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
}

GpuResources::~GpuResources() {
  if (cublas_) cublasDestroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
}

void GpuResources::synchronize() const { SEXTANT_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

}  // namespace sextant::gpu
