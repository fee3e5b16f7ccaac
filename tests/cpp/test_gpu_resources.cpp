#include <gtest/gtest.h>

#include <string>

#include "gpu/GpuResources.h"
#include "sextant/utils/Error.h"

namespace sextant::gpu {
namespace {

// Runs everywhere: CUDA failures become errors that name the failing call.
TEST(GpuErrors, NameTheFailingCall) {
  try {
    check_cuda(cudaErrorInvalidValue, "cudaMemcpy(dst, src, n, kind)", "f.cu", 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cudaMemcpy(dst, src, n, kind) failed: cudaErrorInvalidValue"),
              std::string::npos)
        << e.what();
  }
  try {
    check_cublas(CUBLAS_STATUS_INVALID_VALUE, "cublasSgemm(...)", "f.cu", 1);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cublasSgemm(...) failed: CUBLAS_STATUS_INVALID_VALUE"), std::string::npos)
        << e.what();
  }
}

TEST(GpuResources, MissingDeviceIsAClearError) {
  EXPECT_THROW(GpuResources{device_count()}, Error);
  EXPECT_THROW(GpuResources{-1}, Error);
}

TEST(GpuResources, OwnsAStreamAndCublasHandle) {
  if (device_count() == 0) GTEST_SKIP() << "no CUDA device";
  GpuResources res(0);
  EXPECT_NE(res.stream(), nullptr);
  EXPECT_NE(res.cublas(), nullptr);
  res.synchronize();
}

}  // namespace
}  // namespace sextant::gpu
