// Helpers of the GPU tests: skip without a device, compare GPU results with
// the CPU index's up to floating-point ties.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <vector>

#include "gpu/GpuResources.h"
#include "reference.h"
#include "sextant/MetricType.h"

namespace sextant::test {

/// Resources on device 0, or a skipped test when there is no CUDA device.
#define SEXTANT_GPU_OR_SKIP(res)                                                     \
  if (::sextant::gpu::device_count() == 0) GTEST_SKIP() << "no CUDA device present"; \
  auto res = std::make_shared<::sextant::gpu::GpuResources>(0)

/// Two result sets (n rows of k) agree: per rank the distances are within
/// rtol (relative to max(1, |d|)), and every label whose distance is clearly
/// inside the row (not tied with the k-th one within tolerance) appears in
/// both. Returns the fraction of labels shared overall.
inline double expect_same_up_to_ties(const std::vector<float>& Da, const std::vector<idx_t>& Ia,
                                     const std::vector<float>& Db, const std::vector<idx_t>& Ib, size_t n, size_t k,
                                     double rtol, const char* what) {
  size_t shared = 0, total = 0, bad_rows = 0;
  for (size_t q = 0; q < n; q++) {
    const float* da = &Da[q * k];
    const float* db = &Db[q * k];
    bool row_ok = true;
    for (size_t r = 0; r < k; r++) {
      const double scale = std::max(1.0, std::abs(double(da[r])));
      if (std::isinf(da[r]) || std::isinf(db[r])) {
        row_ok &= da[r] == db[r];
      } else {
        row_ok &= std::abs(double(da[r]) - double(db[r])) <= rtol * scale;
      }
    }
    std::set<idx_t> sb(Ib.begin() + q * k, Ib.begin() + (q + 1) * k);
    const double kth = std::max(da[k - 1], db[k - 1]);
    for (size_t r = 0; r < k; r++) {
      total++;
      const idx_t id = Ia[q * k + r];
      if (sb.count(id)) {
        shared++;
        continue;
      }
      const double scale = std::max(1.0, std::abs(kth));
      if (std::abs(double(da[r]) - kth) > 2 * rtol * scale) row_ok = false;  // not a boundary tie
    }
    if (!row_ok && ++bad_rows <= 3) ADD_FAILURE() << what << ": row " << q << " differs (first rank "
                                                   << da[0] << " vs " << db[0] << ")";
  }
  EXPECT_EQ(bad_rows, 0u) << what;
  return total ? double(shared) / double(total) : 1.0;
}

}  // namespace sextant::test
