// max_codes on the GPU: the entries each query scans of each probed list.
#include <cuda_runtime.h>

#include "gpu/GpuResources.h"
#include "gpu/kernels/IvfScan.h"
#include "gpu/select/Planning.h"
#include "gpu/select/ProbeLimits.h"

namespace sextant::gpu {

namespace {

// One thread per query: its probes are walked in order (nprobe <= 2048).
__global__ void probe_limits_kernel(const int64_t* probes, const int64_t* sizes, int64_t nq, int64_t nprobe,
                                    int64_t max_codes, int64_t* limits) {
  const int64_t q = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (q < nq) probe_limits(probes + q * nprobe, sizes, nprobe, max_codes, limits + q * nprobe);
}

}  // namespace

void ivf_probe_limits(GpuResources& res, const int64_t* probes, const int64_t* sizes, int64_t nq, int64_t nprobe,
                      int64_t max_codes, int64_t* limits) {
  if (nq == 0) return;
  probe_limits_kernel<<<ceil_div(nq, 128), 128, 0, res.stream()>>>(probes, sizes, nq, nprobe, max_codes, limits);
  SEXTANT_LAUNCH_CHECK(res, "probe_limits_kernel");
}

}  // namespace sextant::gpu
