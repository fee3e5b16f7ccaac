// GPU indexes against the CPU indexes on the same data (need a device;
// skipped without one): exact search matches IndexFlat (fp32, TF32 off),
// IVF indexes copied from CPU ones give the CPU's results up to float ties.
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "gpu/GpuCloner.h"
#include "gpu/GpuIndexFlat.h"
#include "gpu/GpuIndexIVFFlat.h"
#include "gpu/GpuIndexIVFPQ.h"
#include "gpu/GpuKmeans.h"
#include "gpu_compare.h"
#include "reference.h"
#include "sextant/Clustering.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {
namespace {

using test::expect_same_up_to_ties;

// Clustered data: IVF lists of uneven sizes, like real embeddings.
std::vector<float> clustered(size_t n, size_t d, uint32_t seed) {
  auto centers = test::random_vectors(64, d, seed, -3, 3);
  auto x = test::random_vectors(n, d, seed + 1, -0.5f, 0.5f);
  std::mt19937 rng(seed + 2);
  for (size_t i = 0; i < n; i++) {
    const size_t c = rng() % 64;
    for (size_t j = 0; j < d; j++) x[i * d + j] += centers[c * d + j];
  }
  return x;
}

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

TEST(GpuIndexFlat, MatchesCpuExactSearch) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 64, nb = 20000, nq = 500;
  auto xb = clustered(nb, d, 1);
  auto xq = clustered(nq, d, 2);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    IndexFlat cpu(d, metric);
    cpu.add(nb, xb.data());
    GpuIndexFlat gpu(res, d, metric);
    gpu.add(nb / 3, xb.data());  // in pieces: storage grows
    gpu.add(nb - nb / 3, xb.data() + (nb / 3) * d);
    ASSERT_EQ(gpu.ntotal(), idx_t(nb));
    for (size_t k : {1, 10, 100, 2048}) {
      Results a = search(cpu, xq, k), b = search(gpu, xq, k);
      const double shared = expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, k, 1e-4, "flat");
      EXPECT_GE(shared, 0.999) << metric_name(metric) << " k=" << k;
    }
  }
}

TEST(GpuIndexFlat, TensorCorePrecisions) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 128, nb = 20000, nq = 300, k = 10;
  auto xb = clustered(nb, d, 21);
  auto xq = clustered(nq, d, 22);
  IndexFlat cpu(d);
  cpu.add(nb, xb.data());
  Results a = search(cpu, xq, k);
  GpuIndexFlatConfig config;
  config.precision = GemmPrecision::tf32x3;  // fp32-level accuracy: the CPU's results
  GpuIndexFlat x3(res, cpu, config);
  Results b = search(x3, xq, k);
  EXPECT_GE(expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, k, 1e-4, "3xtf32"), 0.999);
  config.precision = GemmPrecision::tf32;  // one pass: close, not exact
  GpuIndexFlat x1(res, cpu, config);
  EXPECT_GE(test::recall_at_k(a.I, search(x1, xq, k).I, nq, k), 0.95);
}

TEST(GpuIndexFlat, DeviceArraysFp16AndPadding) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 32, nb = 5000, nq = 100, k = 20;
  auto xb = clustered(nb, d, 3);
  auto xq = clustered(nq, d, 4);
  IndexFlat cpu(d);
  cpu.add(nb, xb.data());
  GpuIndexFlat gpu(res, cpu);
  Results host = search(gpu, xq, k);
  {  // the same search with device queries and results
    DeviceBuffer<float> q(nq * d), D(nq * k);
    DeviceBuffer<int64_t> I(nq * k);
    copy_to_device(*res, q.data(), xq.data(), xq.size() * 4);
    gpu.search_device(nq, q.data(), k, D.data(), I.data());
    Results dev{std::vector<float>(nq * k), std::vector<idx_t>(nq * k)};
    copy_to_host(*res, dev.D.data(), D.data(), dev.D.size() * 4);
    copy_to_host(*res, dev.I.data(), I.data(), dev.I.size() * 8);
    EXPECT_EQ(dev.I, host.I);
    EXPECT_EQ(dev.D, host.D);
  }
  GpuIndexFlatConfig half;
  half.use_float16 = true;
  GpuIndexFlat gpu16(res, cpu, half);
  Results a = search(cpu, xq, k), b = search(gpu16, xq, k);
  EXPECT_GE(test::recall_at_k(a.I, b.I, nq, k), 0.95);
  std::vector<float> v(d);
  gpu16.reconstruct(7, v.data());
  for (size_t j = 0; j < d; j++) EXPECT_NEAR(v[j], xb[7 * d + j], 1e-2 * std::max(1.f, std::abs(xb[7 * d + j])));

  GpuIndexFlat small(res, d);  // fewer vectors than k: padded with (+inf, -1)
  small.add(5, xb.data());
  Results p = search(small, xq, 8);
  for (size_t q = 0; q < nq; q++) {
    for (size_t r = 5; r < 8; r++) {
      EXPECT_EQ(p.I[q * 8 + r], -1);
      EXPECT_EQ(p.D[q * 8 + r], worst_distance(MetricType::L2));
    }
  }
  EXPECT_THROW(search(gpu, xq, 2049), Error);
  EXPECT_THROW(gpu.range_search(1, xq.data(), 1.0f), Error);
}

TEST(GpuIndexIVFFlat, CopiedFromCpuGivesCpuResults) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 48, nb = 30000, nq = 300, nlist = 64;
  auto xb = clustered(nb, d, 5);
  auto xq = clustered(nq, d, 6);
  for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
    auto cpu = std::make_unique<IndexIVFFlat>(std::make_shared<IndexFlat>(d, metric), d, nlist, metric);
    cpu->train(nb, xb.data());
    cpu->add(nb, xb.data());
    auto gpu = index_cpu_to_gpu(res, 0, *cpu);
    for (int64_t nprobe : {1, 7, 64}) {
      SearchParams p;
      p.nprobe = nprobe;
      for (size_t k : {1, 10, 300}) {
        Results a = search(*cpu, xq, k, p), b = search(*gpu, xq, k, p);
        EXPECT_GE(expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, k, 1e-4, "ivf-flat"), 0.999)
            << metric_name(metric) << " nprobe=" << nprobe << " k=" << k;
      }
    }
    // Back to the CPU: the same lists and ids; adding continues the ids.
    auto back = index_gpu_to_cpu(*gpu);
    SearchParams p;
    p.nprobe = 7;
    Results a = search(*cpu, xq, 10, p), c = search(*back, xq, 10, p);
    EXPECT_EQ(a.I, c.I);
    back->add(10, xb.data());
    EXPECT_EQ(static_cast<IndexIVF&>(*back).next_id(), idx_t(nb + 10));
  }
}

TEST(GpuIndexIVF, MaxCodesStopsWhereTheCpuIndexStops) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 32, nb = 20000, nq = 200, nlist = 64;
  auto xb = clustered(nb, d, 15);
  auto xq = clustered(nq, d, 16);
  auto cpu = std::make_unique<IndexIVFFlat>(std::make_shared<IndexFlat>(d), d, nlist);
  cpu->train(nb, xb.data());
  cpu->add(nb, xb.data());
  auto gpu = index_cpu_to_gpu(res, 0, *cpu);
  for (int64_t max_codes : {1, 100, 777, 5000}) {
    SearchParams p;
    p.nprobe = 16;
    p.max_codes = max_codes;
    Results a = search(*cpu, xq, 10, p), b = search(*gpu, xq, 10, p);
    EXPECT_GE(expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, 10, 1e-4, "max_codes"), 0.999)
        << "max_codes=" << max_codes;
  }
  SearchParams bad;
  bad.max_codes = -1;
  std::vector<float> D(10);
  std::vector<idx_t> I(10);
  EXPECT_THROW(gpu->search(1, xq.data(), 10, D.data(), I.data(), bad), Error);
}

TEST(GpuIndexIVFFlat, TrainedOnGpuFindsNeighbours) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 32, nb = 20000, nq = 200, k = 10;
  auto xb = clustered(nb, d, 7);
  auto xq = clustered(nq, d, 8);
  GpuIndexIVFFlat gpu(res, d, 100);
  gpu.train(nb, xb.data());
  Results empty = search(gpu, xq, 5);  // trained, nothing stored: padding
  EXPECT_EQ(empty.I, std::vector<idx_t>(nq * 5, -1));
  gpu.add(nb, xb.data());
  IndexFlat exact(d);
  exact.add(nb, xb.data());
  Results truth = search(exact, xq, k);
  SearchParams all;
  all.nprobe = 100;
  Results full = search(gpu, xq, k, all);  // every list: exact
  expect_same_up_to_ties(truth.D, truth.I, full.D, full.I, nq, k, 1e-4, "ivf all lists");
  SearchParams some;
  some.nprobe = 10;
  EXPECT_GE(test::recall_at_k(truth.I, search(gpu, xq, k, some).I, nq, k), 0.8);
}

void compare_ivfpq(std::shared_ptr<GpuResources> res, size_t d, size_t M, size_t nbits, MetricType metric,
                   bool by_residual) {
  const size_t nb = 20000, nq = 200, nlist = 32;
  auto xb = clustered(nb, d, 9);
  auto xq = clustered(nq, d, 10);
  auto cpu = std::make_unique<IndexIVFPQ>(std::make_shared<IndexFlat>(d, metric), d, nlist, M, nbits, metric,
                                          by_residual);
  cpu->train(nb, xb.data());
  cpu->add(nb, xb.data());
  GpuIndexIVFPQ gpu(res, *cpu);
  for (int64_t nprobe : {1, 8, 32}) {
    SearchParams p;
    p.nprobe = nprobe;
    for (size_t k : {1, 20, 256}) {
      Results a = search(*cpu, xq, k, p), b = search(gpu, xq, k, p);
      // PQ distances tie often (equal codes): compare up to ties.
      const double shared = expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, k, 1e-4, "ivf-pq");
      EXPECT_GE(shared, 0.98) << "M=" << M << " nbits=" << nbits << " " << metric_name(metric)
                              << " residual=" << by_residual << " nprobe=" << nprobe << " k=" << k;
    }
  }
  auto back = gpu.to_cpu();
  SearchParams p;
  p.nprobe = 8;
  Results a = search(*cpu, xq, 10, p), c = search(*back, xq, 10, p);
  EXPECT_EQ(a.I, c.I);
  EXPECT_EQ(a.D, c.D);
}

TEST(GpuIndexIVFPQ, CopiedFromCpuGivesCpuResults) {
  SEXTANT_GPU_OR_SKIP(res);
  compare_ivfpq(res, 32, 8, 8, MetricType::L2, true);   // precomputed tables
  compare_ivfpq(res, 32, 8, 4, MetricType::L2, true);
  compare_ivfpq(res, 30, 10, 5, MetricType::L2, true);  // codes not byte-aligned
  compare_ivfpq(res, 36, 6, 6, MetricType::L2, false);
  compare_ivfpq(res, 32, 16, 8, MetricType::INNER_PRODUCT, true);
}

TEST(GpuIndexIVFPQ, LargeTablesStayFp32UnlessAskedFor) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 128, M = 128, nb = 20000, nq = 100, k = 10;
  auto xb = clustered(nb, d, 11);
  auto xq = clustered(nq, d, 12);
  IndexIVFPQ cpu(std::make_shared<IndexFlat>(d), d, 16, M, 8);
  cpu.train(nb, xb.data());
  cpu.add(nb, xb.data());
  SearchParams p;
  p.nprobe = 4;
  Results a = search(cpu, xq, k, p);
  GpuIndexIVFPQ gpu(res, cpu);  // 128 KB of fp32 per table: one table per list, no precomputed terms
  EXPECT_FALSE(gpu.uses_fp16_tables());
  EXPECT_FALSE(gpu.uses_precomputed_table());
  Results b = search(gpu, xq, k, p);
  EXPECT_GE(expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, k, 1e-4, "ivf-pq M=128"), 0.98);
  GpuIndexIVFPQConfig half;
  half.use_fp16_tables = true;
  GpuIndexIVFPQ gpu16(res, cpu, half);
  EXPECT_TRUE(gpu16.uses_fp16_tables());
  EXPECT_GE(test::recall_at_k(a.I, search(gpu16, xq, k, p).I, nq, k), 0.9);
}

TEST(GpuIndexIVFPQ, TrainedOnGpuWithReranking) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 32, nb = 30000, nq = 200, k = 10;
  auto xb = clustered(nb, d, 13);
  auto xq = clustered(nq, d, 14);
  GpuIndexIVFPQConfig config;
  config.keep_raw_vectors = true;
  GpuIndexIVFPQ gpu(res, d, 64, 8, 8, MetricType::L2, true, config);
  gpu.train(nb, xb.data());
  gpu.add(nb, xb.data());
  IndexFlat exact(d);
  exact.add(nb, xb.data());
  Results truth = search(exact, xq, k);
  SearchParams plain, rerank;
  plain.nprobe = rerank.nprobe = 16;
  rerank.k_factor = 8;
  const double r1 = test::recall_at_k(truth.I, search(gpu, xq, k, plain).I, nq, k);
  Results refined = search(gpu, xq, k, rerank);
  const double r8 = test::recall_at_k(truth.I, refined.I, nq, k);
  EXPECT_GT(r8, r1);
  EXPECT_GE(r8, 0.9);
  // Re-ranked distances are exact.
  for (size_t q = 0; q < 20; q++) {
    const idx_t id = refined.I[q * k];
    ASSERT_GE(id, 0);
    EXPECT_NEAR(refined.D[q * k], test::exact_distance(&xq[q * d], &xb[id * d], d, MetricType::L2), 1e-3);
  }
}

TEST(GpuIndexIVF, LargeNprobeAndK) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 16, nb = 60000, nq = 20, nlist = 4096;
  auto xb = test::random_vectors(nb, d, 15);
  auto xq = test::random_vectors(nq, d, 16);
  auto cpu = std::make_unique<IndexIVFFlat>(std::make_shared<IndexFlat>(d), d, nlist);
  cpu->clustering_params().niter = 2;
  cpu->train(nb, xb.data());
  cpu->add(nb, xb.data());
  auto gpu = index_cpu_to_gpu(res, 0, *cpu);
  SearchParams p;
  p.nprobe = 2048;
  Results a = search(*cpu, xq, 2048, p), b = search(*gpu, xq, 2048, p);
  expect_same_up_to_ties(a.D, a.I, b.D, b.I, nq, 2048, 1e-4, "nprobe 2048, k 2048");
  p.nprobe = 2049;
  EXPECT_THROW(search(*gpu, xq, 10, p), Error);
}

TEST(GpuIndex, ConcurrentSearchesAgree) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 32, nb = 10000, nq = 300, k = 10;
  auto xb = clustered(nb, d, 17);
  auto xq = clustered(nq, d, 18);
  GpuIndexFlat gpu(res, d);
  gpu.add(nb, xb.data());
  Results ref = search(gpu, xq, k);
  std::vector<Results> out(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) threads.emplace_back([&, t] { out[t] = search(gpu, xq, k); });
  for (auto& t : threads) t.join();
  for (const auto& r : out) EXPECT_EQ(r.I, ref.I);
}

TEST(GpuKmeans, MatchesCpuKmeans) {
  SEXTANT_GPU_OR_SKIP(res);
  const size_t d = 16, n = 20000, k = 50;
  auto x = clustered(n, d, 19);
  KMeansParams params;
  params.niter = 10;
  KMeansResult cpu = kmeans(n, d, x.data(), k, params, exact_assign(d, MetricType::L2), false);
  KMeansResult gpu = gpu_kmeans(res, n, d, x.data(), k, params);
  ASSERT_EQ(gpu.objective.size(), cpu.objective.size());
  // Same seed, same initial centroids; assignments can differ only at exact ties.
  EXPECT_NEAR(gpu.objective.back(), cpu.objective.back(), 1e-3 * cpu.objective.back());
}

TEST(GpuCloner, RejectsWhatHasNoGpuTwin) {
  SEXTANT_GPU_OR_SKIP(res);
  IndexFlat flat(8);
  EXPECT_THROW(index_cpu_to_gpu(res, 1 + res->device(), flat), Error);
  GpuIndexFlat gpu(res, 8);
  EXPECT_EQ(index_gpu_to_cpu(gpu)->type_name(), "IndexFlat");
}

}  // namespace
}  // namespace sextant::gpu
