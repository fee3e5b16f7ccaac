// max_codes on the GPU: how many entries of each probed list a query scans, so
// that it stops after max_codes codes as the CPU IndexIVF does (its probes in
// order, nearest list first, the last one cut short). Plain arithmetic shared
// by the device kernel and the CPU tests.
#pragma once

#include <cstdint>

#include "gpu/select/HostDevice.h"

namespace sextant::gpu {

/// For one query: out[p] = the entries to scan of list probes[p] (-1: none),
/// whose sizes are sizes[list]; at most max_codes (> 0) in all, in probe order.
SEXTANT_HD void probe_limits(const int64_t* probes, const int64_t* sizes, int64_t nprobe, int64_t max_codes,
                             int64_t* out) {
  int64_t seen = 0;
  for (int64_t p = 0; p < nprobe; p++) {
    const int64_t size = probes[p] < 0 ? 0 : sizes[probes[p]];
    const int64_t left = max_codes - seen;
    out[p] = size < left ? size : left;
    seen += out[p];
  }
}

}  // namespace sextant::gpu
