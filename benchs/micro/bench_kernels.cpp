// Microbenchmarks of the kernels under exact search, per SIMD level:
// distances (GB/s of vectors read), the candidate filter (GB/s), top-k heap
// pushes, SGEMM and the fused exact search (GFLOP/s).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "sextant/utils/TopK.h"
#include "sextant/utils/blas.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/knn.h"

namespace {

using namespace sextant;

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> x(n);
  for (float& v : x) v = uniform(rng);
  return x;
}

// One query against 4096 rows (L2-resident for small d): compute-bound kernel speed.
void DistancesNy(benchmark::State& state, SimdLevel level, bool l2) {
  const Kernels* k = kernels_for(level);
  if (k == nullptr) return state.SkipWithError("level not available on this CPU");
  const size_t d = state.range(0), ny = 4096;
  auto x = random_floats(d, 1), y = random_floats(ny * d, 2);
  std::vector<float> out(ny);
  for (auto _ : state) {
    (l2 ? k->l2sqr_ny : k->inner_product_ny)(x.data(), y.data(), ny, d, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GB/s"] = benchmark::Counter(double(ny * d * sizeof(float)), benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void CollectBelow(benchmark::State& state, SimdLevel level) {
  const Kernels* k = kernels_for(level);
  if (k == nullptr) return state.SkipWithError("level not available on this CPU");
  const size_t n = 2048;
  auto v = random_floats(n, 3), bias = random_floats(n, 4);
  std::vector<uint32_t> idx(n);
  std::vector<float> vals(n);
  for (auto _ : state) {
    // A threshold that about 1% of candidates pass, as in a k-selection past its first rows.
    size_t c = k->collect_below(v.data(), bias.data(), 1.0f, n, -1.8f, idx.data(), vals.data());
    benchmark::DoNotOptimize(c);
  }
  state.counters["GB/s"] = benchmark::Counter(double(2 * n * sizeof(float)), benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::kIs1000);
}

void TopKPush(benchmark::State& state) {
  const size_t k = state.range(0), n = 1 << 16;
  auto keys = random_floats(n, 5);
  std::vector<float> hk(k);
  std::vector<idx_t> hi(k);
  for (auto _ : state) {
    TopKHeap heap(hk.data(), hi.data(), k);
    for (size_t i = 0; i < n; i++) heap.push(keys[i], idx_t(i));
    benchmark::DoNotOptimize(heap.finish());
  }
  state.counters["pushes/s"] = benchmark::Counter(double(n), benchmark::Counter::kIsIterationInvariantRate);
}

void Sgemm(benchmark::State& state) {
  const size_t m = state.range(0), n = state.range(1), d = state.range(2);
  auto a = random_floats(m * d, 6), b = random_floats(n * d, 7);
  std::vector<float> c(m * n);
  for (auto _ : state) gemm_abt(m, n, d, 1.0f, a.data(), d, b.data(), d, 0.0f, c.data(), n);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * d, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

// Exact search on the same shape as Sgemm: the ratio of the two is the fused top-k's overhead.
void ExactSearch(benchmark::State& state) {
  const size_t m = state.range(0), n = state.range(1), d = state.range(2), k = 10;
  auto a = random_floats(m * d, 6), b = random_floats(n * d, 7);
  std::vector<float> dist(m * k);
  std::vector<idx_t> labels(m * k);
  for (auto _ : state) exact_search(a.data(), m, VectorSet{b.data(), n, d}, k, MetricType::L2, dist.data(), labels.data());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * d, benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}

void register_all() {
  for (SimdLevel level : kSimdLevels) {
    std::string name = to_string(level);
    benchmark::RegisterBenchmark(("L2sqrNy/" + name).c_str(), DistancesNy, level, true)->Arg(17)->Arg(128)->Arg(784);
    benchmark::RegisterBenchmark(("InnerProductNy/" + name).c_str(), DistancesNy, level, false)->Arg(128);
    benchmark::RegisterBenchmark(("CollectBelow/" + name).c_str(), CollectBelow, level);
  }
  benchmark::RegisterBenchmark("TopKPush", TopKPush)->Arg(10)->Arg(100)->Arg(1000);
  benchmark::RegisterBenchmark("Sgemm", Sgemm)->Args({1024, 8192, 128})->Args({1024, 8192, 784})->UseRealTime();
  benchmark::RegisterBenchmark("ExactSearch", ExactSearch)->Args({1024, 8192, 128})->Args({1024, 8192, 784})->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
