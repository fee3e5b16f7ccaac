#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gpu/DeviceMemory.h"
#include "gpu/GpuResources.h"
#include "gpu/kernels/Select.h"
#include "sextant/base/Error.h"

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

TEST(GpuResources, SyncLaunchesSetting) {
  EXPECT_FALSE(sync_launches_from(nullptr, false));
  EXPECT_TRUE(sync_launches_from(nullptr, true));  // debug builds
  EXPECT_TRUE(sync_launches_from("1", false));
  EXPECT_FALSE(sync_launches_from("0", true));
  EXPECT_FALSE(sync_launches_from("", false));
}

// A kernel that faults while it runs (it reads an address that is not device
// memory) is named by the check after its launch when launches are
// synchronised, as in the tests. In a child process: the fault ruins the CUDA context.
TEST(GpuResources, KernelFaultNamesTheKernel) {
  if (device_count() == 0) GTEST_SKIP() << "no CUDA device";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("SEXTANT_GPU_SYNC_LAUNCHES", "1", 1);
        GpuResources res(0);
        DeviceBuffer<float> values(4 * 10);
        DeviceBuffer<int64_t> indices(4 * 10);
        const auto* nowhere = reinterpret_cast<const float*>(uintptr_t{1} << 46);
        try {
          auto lock = res.lock();
          select_k(res, nowhere, 4, 100000, 100000, 10, false, values.data(), indices.data());
        } catch (const Error& e) {
          std::fprintf(stderr, "%s\n", e.what());
          std::_Exit(3);
        }
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(3), "kernel select_rows_kernel failed while running");
}

}  // namespace
}  // namespace sextant::gpu
