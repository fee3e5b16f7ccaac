// GPU k-selection against std::sort (needs a device; skipped without one).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "gpu/DeviceMemory.h"
#include "gpu/GpuIndex.h"
#include "gpu/kernels/Select.h"
#include "gpu_compare.h"

namespace sextant::gpu {
namespace {

// Rows with ties, +-inf and NaN; the expected order puts NaN last, ties by column.
std::vector<float> awkward_matrix(size_t rows, size_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(rows * cols);
  for (auto& v : x) {
    const int r = int(rng() % 50);
    v = r == 0 ? std::numeric_limits<float>::infinity()
        : r == 1 ? -std::numeric_limits<float>::infinity()
        : r == 2 ? std::numeric_limits<float>::quiet_NaN()
        : r < 8  ? float(rng() % 3)
                 : normal(rng);
  }
  return x;
}

void reference(const std::vector<float>& x, size_t rows, size_t cols, size_t k, bool largest, std::vector<float>& v,
               std::vector<idx_t>& idx) {
  v.assign(rows * k, largest ? -INFINITY : INFINITY);
  idx.assign(rows * k, -1);
  for (size_t r = 0; r < rows; r++) {
    std::vector<idx_t> order(cols);
    std::iota(order.begin(), order.end(), 0);
    const float* row = &x[r * cols];
    auto key = [&](idx_t c) { return largest ? -row[c] : row[c]; };
    std::stable_sort(order.begin(), order.end(), [&](idx_t a, idx_t b) {
      const float ka = key(a), kb = key(b);
      if (std::isnan(ka) || std::isnan(kb)) return !std::isnan(ka) && std::isnan(kb);
      return ka < kb;
    });
    for (size_t j = 0; j < std::min(k, cols); j++) {
      v[r * k + j] = row[order[j]];
      idx[r * k + j] = order[j];
    }
  }
}

void check_select(GpuResources& res, size_t rows, size_t cols, size_t k, bool largest, uint32_t seed) {
  auto x = awkward_matrix(rows, cols, seed);
  std::vector<float> want_v, got_v(rows * k);
  std::vector<idx_t> want_i, got_i(rows * k);
  reference(x, rows, cols, k, largest, want_v, want_i);
  auto lock = res.lock();
  DeviceBuffer<float> in(rows * cols), ov(rows * k);
  DeviceBuffer<int64_t> oi(rows * k);
  copy_to_device(res, in.data(), x.data(), x.size() * 4);
  select_k(res, in.data(), rows, cols, cols, k, largest, ov.data(), oi.data());
  copy_to_host(res, got_v.data(), ov.data(), got_v.size() * 4);
  copy_to_host(res, got_i.data(), oi.data(), got_i.size() * 8);
  EXPECT_EQ(got_i, want_i) << rows << "x" << cols << " k=" << k << " largest=" << largest;
  for (size_t i = 0; i < got_v.size(); i++) {
    if (std::isnan(want_v[i])) {
      EXPECT_TRUE(std::isnan(got_v[i])) << i;
    } else {
      EXPECT_EQ(got_v[i], want_v[i]) << i;
    }
  }
}

TEST(GpuSelect, RegisterQueuesMatchStdSort) {
  SEXTANT_GPU_OR_SKIP(res);
  for (size_t k : {1, 10, 32, 100, 256, 1000, 2048}) {
    check_select(*res, 7, 5000, k, false, 1);
    check_select(*res, 3, 70000, k, true, 2);  // several splits per row
  }
}

TEST(GpuSelect, MultiPassMatchesStdSort) {
  SEXTANT_GPU_OR_SKIP(res);
  for (size_t k : {2049, 5000, 16384}) {
    check_select(*res, 4, 40000, k, false, 3);
    check_select(*res, 2, 20000, k, true, 4);
  }
}

TEST(GpuSelect, ShortRowsArePadded) {
  SEXTANT_GPU_OR_SKIP(res);
  check_select(*res, 5, 20, 64, false, 5);
  check_select(*res, 5, 20, 3000, false, 6);
  check_select(*res, 1, 1, 1, true, 7);
}

TEST(GpuSelect, AllTiesGoToSmallestColumns) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t rows = 3, cols = 30000, k = 300;
  std::vector<float> x(rows * cols, 1.5f);
  std::vector<float> v(rows * k);
  std::vector<idx_t> idx(rows * k);
  auto lock = res->lock();
  DeviceBuffer<float> in(x.size()), ov(rows * k);
  DeviceBuffer<int64_t> oi(rows * k);
  copy_to_device(*res, in.data(), x.data(), x.size() * 4);
  select_k(*res, in.data(), rows, cols, cols, k, false, ov.data(), oi.data());
  copy_to_host(*res, idx.data(), oi.data(), idx.size() * 8);
  for (size_t r = 0; r < rows; r++)
    for (size_t j = 0; j < k; j++) ASSERT_EQ(idx[r * k + j], idx_t(j));
}

}  // namespace
}  // namespace sextant::gpu
