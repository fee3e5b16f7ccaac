#include "sextant/impl/kmeans.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include <unistd.h>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/utils/blas.h"
#include "sextant/utils/distances.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/knn.h"

namespace sextant {

namespace {

constexpr size_t kSeedPointsPerCentroid = 8;  // k-means++ draws its seeds from this many points per centroid
constexpr size_t kSeedDimensions = 32;        // ... projected to at most this many dimensions

// Indices of m points drawn without replacement from n, in increasing order
// (sorted, so copying the sample reads the input front to back).
std::vector<size_t> sample_without_replacement(size_t n, size_t m, std::mt19937_64& rng) {
  std::vector<size_t> perm(n);
  std::iota(perm.begin(), perm.end(), size_t{0});
  for (size_t i = 0; i < m; i++) {
    size_t j = i + std::uniform_int_distribution<size_t>(0, n - i - 1)(rng);
    std::swap(perm[i], perm[j]);
  }
  perm.resize(m);
  std::sort(perm.begin(), perm.end());
  return perm;
}

// With verbose: a bar of the iterations redrawn in place on a terminal;
// nothing while a piped stderr would fill a log with one line per iteration.
class IterationBar {
 public:
  IterationBar(bool verbose, int total) : enabled_(verbose && isatty(STDERR_FILENO) == 1), total_(total) {}
  ~IterationBar() { close(); }  // an exception leaves no half-drawn bar behind
  IterationBar(const IterationBar&) = delete;
  IterationBar& operator=(const IterationBar&) = delete;
  void update(int done, double objective, double ms) {
    if (!enabled_) return;
    constexpr int kWidth = 24;
    const int filled = total_ > 0 ? done * kWidth / total_ : kWidth;
    const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
    width_ = std::fprintf(stderr, "\rk-means [%s] iteration %d/%d, objective %.6g, %.1f ms/iteration  ", bar.c_str(),
                          done, total_, objective, ms);
    std::fflush(stderr);
  }
  void close() {
    if (enabled_ && width_ > 0) std::fprintf(stderr, "\r%*s\r", width_, "");
    width_ = 0;
  }

 private:
  bool enabled_;
  int total_, width_ = 0;
};

void init_random(size_t n, size_t d, const float* x, size_t k, std::mt19937_64& rng, float* centroids) {
  std::vector<size_t> chosen = sample_without_replacement(n, k, rng);
  std::shuffle(chosen.begin(), chosen.end(), rng);
  for (size_t c = 0; c < k; c++) std::copy_n(x + chosen[c] * d, d, centroids + c * d);
}

// k-means++ seeding (Arthur and Vassilvitskii): each next centroid is a point
// drawn with probability proportional to its squared distance to the nearest
// centroid so far. On clustered data it seeds nearly every cluster, where a
// uniform draw leaves about a third of them unseeded and Lloyd's iterations
// cannot carry a surplus seed across the gap to one. Its k passes are
// sequential, so they run on a sample of kSeedPointsPerCentroid * k points
// projected to kSeedDimensions by a random Gaussian map (distances keep their
// order of magnitude, enough to draw by): about k^2 * 8 * 32 * 3 flops, under
// 1% of the Lloyd iterations that follow. The centroids are the chosen points.
void init_plus_plus(size_t n, size_t d, const float* x, size_t k, std::mt19937_64& rng, float* centroids) {
  const Kernels& kern = kernels();
  const size_t m = std::min(n, kSeedPointsPerCentroid * k), p = std::min(d, kSeedDimensions);
  std::vector<size_t> rows(m);
  if (m < n) {
    rows = sample_without_replacement(n, m, rng);
  } else {
    std::iota(rows.begin(), rows.end(), size_t{0});
  }
  std::vector<float> y(m * p);
  if (p == d) {
    for (size_t i = 0; i < m; i++) std::copy_n(x + rows[i] * d, d, y.data() + i * p);
  } else {
    std::normal_distribution<float> gauss(0.0f, 1.0f / std::sqrt(float(p)));
    std::vector<float> map(p * d), block(std::min<size_t>(m, 1024) * d);
    for (float& v : map) v = gauss(rng);
    for (size_t i0 = 0; i0 < m; i0 += 1024) {
      const size_t b = std::min<size_t>(1024, m - i0);
      for (size_t i = 0; i < b; i++) std::copy_n(x + rows[i0 + i] * d, d, block.data() + i * d);
      gemm_abt(b, p, d, 1.0f, block.data(), d, map.data(), d, 0.0f, y.data() + i0 * p, p);
    }
  }
  // Each step: the distances to the new centroid in one SIMD call, then one
  // pass that keeps the nearest and sums them, in order (the draw does not
  // depend on the thread count), and a scan to the drawn point.
  std::vector<float> nearest(m, std::numeric_limits<float>::infinity()), dist(m);
  size_t pick = std::uniform_int_distribution<size_t>(0, m - 1)(rng);
  for (size_t c = 0; c < k; c++) {
    std::copy_n(x + rows[pick] * d, d, centroids + c * d);
    if (c + 1 == k) break;
    kern.l2sqr_ny(y.data() + pick * p, y.data(), m, p, dist.data());
    double total = 0;
    for (size_t i = 0; i < m; i++) {
      nearest[i] = std::min(nearest[i], dist[i]);
      total += nearest[i];
    }
    if (!(total > 0)) {  // every point coincides with a centroid: any point will do
      pick = std::uniform_int_distribution<size_t>(0, m - 1)(rng);
      continue;
    }
    const double target = std::uniform_real_distribution<double>(0, total)(rng);
    double acc = 0;
    pick = m - 1;
    for (size_t i = 0; i < m; i++) {
      acc += nearest[i];
      if (acc >= target && nearest[i] > 0) {
        pick = i;
        break;
      }
    }
  }
}

// Centroid c = mean of its points. Thread t owns a range of centroids and
// scans all labels, so the sums do not depend on the number of threads.
void update_centroids(size_t n, size_t d, const float* x, size_t k, const idx_t* labels, float* centroids,
                      std::vector<size_t>& counts) {
  counts.assign(k, 0);
  for (size_t i = 0; i < n; i++) counts[labels[i]]++;
  ParallelErrors errors;
#pragma omp parallel
  errors.run([&] {
    const size_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const size_t c0 = k * t / nt, c1 = k * (t + 1) / nt;
    std::vector<double> sums((c1 - c0) * d, 0.0);
    for (size_t i = 0; i < n; i++) {
      const size_t c = labels[i];
      if (c < c0 || c >= c1) continue;
      double* s = sums.data() + (c - c0) * d;
      const float* xi = x + i * d;
      for (size_t j = 0; j < d; j++) s[j] += xi[j];
    }
    for (size_t c = c0; c < c1; c++) {
      if (counts[c] == 0) continue;
      const double inv = 1.0 / double(counts[c]);
      for (size_t j = 0; j < d; j++) centroids[c * d + j] = float(sums[(c - c0) * d + j] * inv);
    }
  });
  errors.rethrow();
}

// An empty cluster takes half of a cluster chosen with probability
// proportional to its size beyond one point: both centroids move apart by a
// small relative perturbation. Returns how many clusters were re-seeded.
size_t split_empty_clusters(size_t d, size_t k, float* centroids, std::vector<size_t>& counts,
                            std::mt19937_64& rng) {
  constexpr float kEps = 1.0f / 1024;
  size_t splits = 0;
  for (size_t ci = 0; ci < k; ci++) {
    if (counts[ci] != 0) continue;
    // Some cluster has two or more points: there are k clusters, one is empty, and n >= k.
    double total = 0;
    for (size_t c = 0; c < k; c++) total += counts[c] > 1 ? double(counts[c] - 1) : 0.0;
    double r = std::uniform_real_distribution<double>(0, total)(rng);
    size_t cj = 0;
    for (size_t c = 0; c < k; c++) {
      if (counts[c] <= 1) continue;
      cj = c;
      r -= double(counts[c] - 1);
      if (r < 0) break;
    }
    std::copy_n(centroids + cj * d, d, centroids + ci * d);
    for (size_t j = 0; j < d; j++) {
      const float up = j % 2 == 0 ? 1 + kEps : 1 - kEps, down = j % 2 == 0 ? 1 - kEps : 1 + kEps;
      centroids[ci * d + j] *= up;
      centroids[cj * d + j] *= down;
    }
    counts[ci] = counts[cj] / 2;
    counts[cj] -= counts[ci];
    splits++;
  }
  return splits;
}

}  // namespace

KMeansAssign exact_assign(size_t d, MetricType metric) {
  return [d, metric](size_t n, const float* x, size_t k, const float* centroids, idx_t* labels, float* distances) {
    exact_search(x, n, VectorSet{centroids, k, d}, 1, metric, distances, labels);
  };
}

KMeansResult kmeans(size_t n, size_t d, const float* x, size_t k, const KMeansParams& params,
                    const KMeansAssign& assign, bool maximize) {
  SEXTANT_CHECK(d > 0, "k-means: d must be > 0, got ", d);
  SEXTANT_CHECK(k > 0, "k-means: the number of centroids k must be > 0, got ", k);
  SEXTANT_CHECK(n >= k, "k-means: needs at least k=", k, " training points, got ", n);
  SEXTANT_CHECK(params.niter >= 0, "k-means: niter must be >= 0, got ", params.niter);
  SEXTANT_CHECK(params.nredo >= 1, "k-means: nredo must be >= 1, got ", params.nredo);
  SEXTANT_CHECK(params.max_points_per_centroid > 0, "k-means: max_points_per_centroid must be > 0, got ",
                params.max_points_per_centroid);
  std::mt19937_64 rng(params.seed);

  // Train on a sample when there are many more points than needed.
  std::vector<float> sample;
  const size_t cap = size_t(params.max_points_per_centroid) * k;
  if (n > cap) {
    std::vector<size_t> rows = sample_without_replacement(n, cap, rng);
    sample.resize(cap * d);
    for (size_t i = 0; i < cap; i++) std::copy_n(x + rows[i] * d, d, sample.data() + i * d);
    x = sample.data();
    n = cap;
    if (params.verbose) std::fprintf(stderr, "k-means: sampled %zu training points\n", n);
  } else if (params.verbose && n < size_t(params.min_points_per_centroid) * k) {
    std::fprintf(stderr, "k-means: warning: %zu points for %zu centroids is fewer than %d per centroid\n", n, k,
                 params.min_points_per_centroid);
  }

  const auto start = std::chrono::steady_clock::now();
  IterationBar bar(params.verbose, params.nredo * params.niter);
  KMeansResult best;
  std::vector<idx_t> labels(n);
  std::vector<float> distances(n);
  std::vector<size_t> counts;
  for (int redo = 0; redo < params.nredo; redo++) {
    KMeansResult run;
    run.points_used = n;
    run.centroids.resize(k * d);
    if (params.init == KMeansInit::random) {
      init_random(n, d, x, k, rng, run.centroids.data());
    } else {
      init_plus_plus(n, d, x, k, rng, run.centroids.data());
    }
    if (params.spherical) normalize_L2(run.centroids.data(), k, d);
    for (int it = 0; it < params.niter; it++) {
      auto t0 = std::chrono::steady_clock::now();
      assign(n, x, k, run.centroids.data(), labels.data(), distances.data());
      for (size_t i = 0; i < n; i++) {
        SEXTANT_CHECK(labels[i] >= 0 && static_cast<size_t>(labels[i]) < k, "k-means: the assignment step gave label ",
                      labels[i], " to point ", i, ", expected one in [0, ", k, ")");
      }
      double obj = 0;
      for (size_t i = 0; i < n; i++) obj += distances[i];
      run.objective.push_back(float(obj));
      update_centroids(n, d, x, k, labels.data(), run.centroids.data(), counts);
      run.empty_splits += split_empty_clusters(d, k, run.centroids.data(), counts, rng);
      if (params.spherical) normalize_L2(run.centroids.data(), k, d);
      bar.update(redo * params.niter + it + 1, obj,
                 std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    const bool better = best.centroids.empty() || run.objective.empty() ||
                        (maximize ? run.objective.back() > best.objective.back()
                                  : run.objective.back() < best.objective.back());
    if (better) best = std::move(run);
  }
  bar.close();
  if (params.verbose) {
    std::fprintf(stderr, "k-means: %zu centroids from %zu points, %d x %d iterations, objective %.6g, %.2f s\n", k,
                 n, params.nredo, params.niter, best.objective.empty() ? 0.0 : double(best.objective.back()),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace sextant
