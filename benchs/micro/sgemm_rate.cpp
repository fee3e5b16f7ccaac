// The physical limit of exact search: the SGEMM rate of the BLAS sextant
// links, on one shape, with all threads. Prints one JSON object.
//   sgemm_rate M N K [repeats]   (C = A B^T, A: M x K, B: N x K)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "sextant/base/threads.h"
#include "sextant/utils/blas.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s M N K [repeats]\n", argv[0]);
    return 2;
  }
  const size_t m = std::strtoull(argv[1], nullptr, 10), n = std::strtoull(argv[2], nullptr, 10),
               k = std::strtoull(argv[3], nullptr, 10);
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 3;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(0, 1);
  std::vector<float> a(m * k), b(n * k), c(m * n);
  for (float& v : a) v = uniform(rng);
  for (float& v : b) v = uniform(rng);
  sextant::gemm_abt(m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);  // warm-up, page-in
  double best = 1e30;
  for (int r = 0; r < repeats; r++) {
    auto t0 = std::chrono::steady_clock::now();
    sextant::gemm_abt(m, n, k, 1.0f, a.data(), k, b.data(), k, 0.0f, c.data(), n);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("{\"m\": %zu, \"n\": %zu, \"k\": %zu, \"threads\": %d, \"seconds\": %.6f, \"gflops\": %.3f, \"blas\": \"%s\"}\n",
              m, n, k, sextant::get_num_threads(), best, 2.0 * m * n * k / best * 1e-9, sextant::blas_info());
  return 0;
}
