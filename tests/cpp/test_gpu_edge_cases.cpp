// GPU indexes at the edges of their plans (need a device; skipped without
// one): NaN distances, one query against a large database, the largest k,
// shared memory past the default 48 KB, unnormalised 0..255 data in IVF-PQ,
// and configurations refused at construction.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "gpu/GpuIndex.h"
#include "gpu/GpuIndexFlat.h"
#include "gpu/GpuIndexIVFFlat.h"
#include "gpu/GpuIndexIVFPQ.h"
#include "gpu_compare.h"
#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {
namespace {

using test::expect_same_up_to_ties;

struct Results {
  std::vector<float> D;
  std::vector<idx_t> I;
};

Results search(const Index& index, const std::vector<float>& xq, size_t k, const SearchParams& params = {}) {
  const size_t n = xq.size() / index.d();
  Results r{std::vector<float>(n * k), std::vector<idx_t>(n * k)};
  index.search(n, xq.data(), k, r.D.data(), r.I.data(), params);
  return r;
}

// Integer pixels in 0..255 around 32 random images (MNIST-like magnitudes).
std::vector<float> pixels(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 25.0f);
  std::vector<float> centers(32 * d), x(n * d);
  std::mt19937 crng(4242);  // the same images for base and queries
  for (auto& v : centers) v = float(std::uniform_int_distribution<int>(0, 255)(crng));
  for (size_t i = 0; i < n; i++) {
    const size_t c = rng() % 32;
    for (size_t j = 0; j < d; j++) {
      x[i * d + j] = std::clamp(std::round(centers[c * d + j] + noise(rng)), 0.0f, 255.0f);
    }
  }
  return x;
}

TEST(GpuIndexFlat, NanDistanceIsNotReportedAsZero) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 16, nb = 1000, k = 5;
  auto xb = test::random_vectors(nb, d, 1);
  std::vector<float> xq = test::random_vectors(2, d, 2);
  xq[d + 3] = std::numeric_limits<float>::quiet_NaN();  // query 1 has a NaN: every L2 distance is NaN
  GpuIndexFlatL2 gpu(res, d);
  gpu.add(nb, xb.data());
  auto device_search = [&](const std::vector<float>& q) {
    DeviceBuffer<float> x(q.size()), D(2 * k);
    DeviceBuffer<int64_t> I(2 * k);
    copy_to_device(*res, x.data(), q.data(), q.size() * 4);
    gpu.search_device(2, x.data(), k, D.data(), I.data());  // device queries are not checked for NaN
    Results r{std::vector<float>(2 * k), std::vector<idx_t>(2 * k)};
    copy_to_host(*res, r.D.data(), D.data(), r.D.size() * 4);
    copy_to_host(*res, r.I.data(), I.data(), r.I.size() * 8);
    return r;
  };
  Results r = device_search(xq);
  for (size_t j = 0; j < k; j++) {
    EXPECT_FALSE(std::isnan(r.D[j])) << j;
    EXPECT_TRUE(std::isnan(r.D[k + j])) << "rank " << j << ": " << r.D[k + j];
  }
}

TEST(GpuIndexFlat, FewQueriesAgainstManyVectorsAndLargestK) {
  SEXTANT_GPU_OR_SKIP(res);
  // One query sweeps 300,000 vectors in one tile split over many warps; k = 2048 keeps
  // several queues' worth of columns per warp.
  const size_t d = 24, nb = 300000;
  auto xb = test::random_vectors(nb, d, 3);
  IndexFlat cpu(d);
  cpu.add(nb, xb.data());
  GpuIndexFlat gpu(res, cpu);
  for (size_t nq : {1, 3, 200}) {
    auto xq = test::random_vectors(nq, d, 4 + uint32_t(nq));
    for (size_t k : {1, 10, 1000, 2048}) {
      Results a = search(cpu, xq, k), b = search(gpu, xq, k);
      EXPECT_GE(expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, k, 1e-4, "few queries"), 0.999)
          << "nq=" << nq << " k=" << k;
    }
  }
}

TEST(GpuIndexIVFFlat, QueryPastTheDefaultSharedMemoryWithLargestK) {
  SEXTANT_GPU_OR_SKIP(res);
  // d = 9000: a 36 KB query beside the k = 2048 queue's 16 KB of merge scratch (52 KB > 48 KB).
  const size_t d = 9000, nb = 3000, nq = 4, nlist = 4;
  auto xb = test::random_vectors(nb, d, 5);
  auto xq = test::random_vectors(nq, d, 6);
  auto cpu = std::make_unique<IndexIVFFlat>(std::make_shared<IndexFlat>(d), d, nlist);
  cpu->clustering_params().niter = 2;
  cpu->train(nb, xb.data());
  cpu->add(nb, xb.data());
  GpuIndexIVFFlat gpu(res, *cpu);
  SearchParams all;
  all.nprobe = nlist;
  for (size_t k : {10, 2048}) {
    Results a = search(*cpu, xq, k, all), b = search(gpu, xq, k, all);
    EXPECT_GE(expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, k, 1e-4, "ivf-flat d=9000"), 0.999) << k;
  }
}

TEST(GpuIndexIVFFlat, RefusesADimensionNoScanCouldLaunch) {
  SEXTANT_GPU_OR_SKIP(res);
  EXPECT_THROW(GpuIndexIVFFlat(res, 60000, 16), Error);  // 240 KB of query: more than any device's shared memory
}

void compare_pixels(std::shared_ptr<GpuResources> res, size_t d, size_t M, bool by_residual, bool fp16,
                    bool expect_fp16) {
  const size_t nb = 20000, nq = 200, nlist = 32;
  auto xb = pixels(nb, d, 7);
  auto xq = pixels(nq, d, 8);
  auto cpu = std::make_unique<IndexIVFPQ>(std::make_shared<IndexFlat>(d), d, nlist, M, 8, MetricType::L2,
                                          by_residual);
  cpu->train(nb, xb.data());
  cpu->add(nb, xb.data());
  GpuIndexIVFPQConfig config;
  config.use_fp16_tables = fp16;
  GpuIndexIVFPQ gpu(res, *cpu, config);
  ASSERT_EQ(gpu.uses_fp16_tables(), expect_fp16);
  for (int64_t nprobe : {1, 8}) {
    SearchParams p;
    p.nprobe = nprobe;
    for (size_t k : {1, 20, 100}) {
      Results a = search(*cpu, xq, k, p), b = search(gpu, xq, k, p);
      for (float v : b.D) ASSERT_TRUE(std::isfinite(v)) << "distances overflowed";
      if (!expect_fp16) {
        const double shared = expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, k, 1e-4, "ivf-pq pixels");
        EXPECT_GE(shared, 0.98) << "d=" << d << " M=" << M << " nprobe=" << nprobe << " k=" << k;
      } else {
        // fp16 squared distances: ~5e-4 relative error per entry, so ranks may swap near ties.
        EXPECT_GE(test::recall_at_k(a.I, b.I, nq, k), 0.9) << "fp16 M=" << M << " nprobe=" << nprobe << " k=" << k;
        for (size_t i = 0; i < a.D.size(); i++) EXPECT_NEAR(b.D[i], a.D[i], 3e-3 * a.D[i] + 1.0) << i;
      }
    }
  }
}

TEST(GpuIndexIVFPQ, UnnormalisedPixelDataMatchesCpu) {
  SEXTANT_GPU_OR_SKIP(res);
  compare_pixels(res, 64, 16, true, false, false);   // precomputed terms, fp32
  compare_pixels(res, 128, 128, true, false, false);  // too large twice: tables per list, fp32 (was fp16: overflowed)
  compare_pixels(res, 64, 32, false, false, false);   // no residuals: per-query tables
  compare_pixels(res, 64, 16, true, true, true);      // fp16 asked for: scaled squared distances
  compare_pixels(res, 64, 32, false, true, true);
}

TEST(GpuIndexIVFPQ, RefusesWhatNoSearchCouldLaunch) {
  SEXTANT_GPU_OR_SKIP(res);
  // Inner-product tables are fp32 only: 512 x 256 entries fit in no device's shared memory.
  EXPECT_THROW(GpuIndexIVFPQ(res, 512, 16, 512, 8, MetricType::INNER_PRODUCT), Error);
  GpuIndexIVFPQConfig fp16;
  fp16.use_fp16_tables = true;
  EXPECT_THROW(GpuIndexIVFPQ(res, 64, 16, 8, 8, MetricType::INNER_PRODUCT, true, fp16), Error);
  // L2 falls back to fp16 squared distances where fp32 does not fit.
  GpuIndexIVFPQ l2(res, 256, 16, 256, 8);
  EXPECT_TRUE(l2.uses_fp16_tables());
  EXPECT_FALSE(l2.uses_precomputed_table());
}

}  // namespace
}  // namespace sextant::gpu
