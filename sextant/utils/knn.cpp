#include "sextant/utils/knn.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/base/parallel.h"
#include "sextant/base/threads.h"
#include "sextant/utils/TopK.h"
#include "sextant/utils/blas.h"
#include "sextant/utils/distances.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/select.h"
#include "sextant/utils/validate.h"

namespace sextant {

namespace {

constexpr size_t kBlasMinQueries = 20;      // fewer queries: SIMD kernels beat GEMM setup
constexpr size_t kQueryBlock = 512;         // rows of a GEMM distance tile
constexpr size_t kDbBlock = 2048;           // columns of a GEMM distance tile
constexpr size_t kSimdBlockBytes = 256 << 10;  // SIMD path: database bytes per block (stays in L2)
constexpr size_t kCollectChunk = 256;       // candidates filtered per refresh of the heap bound
constexpr size_t kMinSliceRows = 4096;      // smallest database slice worth a thread
// The nearest neighbour (k = 1, L2) in a small low-dimensional set (k-means and
// PQ assignment) goes through Kernels::l2_nearest: its transposed rows stay in
// cache, where GEMM tiles would spend more on packing than on arithmetic.
constexpr size_t kNearestMaxDim = 32;
constexpr size_t kNearestMaxRows = 4096;
constexpr size_t kNearestMinQueries = 64;   // fewer: transposing costs more than it saves
constexpr size_t kNearestChunk = 256;       // queries per parallel work item

// Scores of one query against consecutive database rows: the selection key of
// row j is scale * v[j] + bias[j] (bias may be null); smaller keys are better.
// Keys become distances by adding the query's offset (and negating for IP).
struct ScoreRun {
  const float* v;
  const float* bias;
  float scale;
  size_t n;
  idx_t id0;
};

// How scores are produced for one metric and one path (GEMM tiles or SIMD).
struct Plan {
  const Kernels& kernels;
  const float* xq;
  size_t nq;
  VectorSet db;       // the database rows in the searched id range
  idx_t id_offset;    // id of db row 0
  bool l2;
  bool blas;
  size_t query_block;
  size_t db_block;
  std::vector<float> db_norms;     // owned copy when the caller had none (L2, BLAS)
  std::vector<float> query_norms;  // L2, BLAS: the per-query offset

  float offset(size_t q) const { return blas && l2 ? query_norms[q] : 0.0f; }

  float to_distance(float key, size_t q) const {
    return l2 ? std::max(key + offset(q), 0.0f) : -key;
  }

  size_t buffer_size() const { return blas ? query_block * db_block : db_block; }

  // The single-pair kernel's distance between query q and database row id.
  float exact_distance(size_t q, idx_t id) const {
    const float* y = db.x + (id - id_offset) * static_cast<idx_t>(db.d);
    return l2 ? kernels.l2sqr(xq + q * db.d, y, db.d) : kernels.inner_product(xq + q * db.d, y, db.d);
  }

  // Scores queries [q0, q1) against db rows [j0, j1) and calls fn(q, run) for each query.
  template <class Fn>
  void score(size_t q0, size_t q1, size_t j0, size_t j1, float* buffer, Fn&& fn) const {
    const size_t d = db.d, n = j1 - j0;
    const float* rows = db.x + j0 * d;
    if (blas) {
      gemm_abt(q1 - q0, n, d, l2 ? -2.0f : 1.0f, xq + q0 * d, d, rows, d, 0.0f, buffer, n);
      for (size_t q = q0; q < q1; q++) {
        fn(q, ScoreRun{buffer + (q - q0) * n, l2 ? db.norms + j0 : nullptr, l2 ? 1.0f : -1.0f, n,
                       id_offset + static_cast<idx_t>(j0)});
      }
    } else {
      for (size_t q = q0; q < q1; q++) {
        (l2 ? kernels.l2sqr_ny : kernels.inner_product_ny)(xq + q * d, rows, n, d, buffer);
        fn(q, ScoreRun{buffer, nullptr, l2 ? 1.0f : -1.0f, n, id_offset + static_cast<idx_t>(j0)});
      }
    }
  }
};

Plan make_plan(const float* xq, size_t nq, const VectorSet& db, MetricType metric, const IDSelector* sel) {
  SEXTANT_CHECK(db.d > 0, "dimension d must be > 0");
  check_metric(metric);
  SEXTANT_CHECK(nq == 0 || xq != nullptr, "queries must not be null");
  SEXTANT_CHECK(db.n == 0 || db.x != nullptr, "database vectors must not be null");
  // Restrict the scan to the ids the selector can accept.
  size_t lo = 0, hi = db.n;
  if (sel != nullptr) {
    IDRange r = sel->bounds();
    lo = static_cast<size_t>(std::clamp<idx_t>(r.lo, 0, static_cast<idx_t>(db.n)));
    hi = static_cast<size_t>(std::clamp<idx_t>(r.hi, static_cast<idx_t>(lo), static_cast<idx_t>(db.n)));
  }
  const bool l2 = metric == MetricType::L2;
  const bool blas = nq >= kBlasMinQueries;
  const size_t d = db.d;
  Plan plan{kernels(),
            xq,
            nq,
            VectorSet{db.x + lo * d, hi - lo, d, db.norms ? db.norms + lo : nullptr},
            static_cast<idx_t>(lo),
            l2,
            blas,
            blas ? kQueryBlock : nq,
            blas ? kDbBlock : std::max<size_t>(16, kSimdBlockBytes / (d * sizeof(float))),
            {},
            {}};
  if (blas && l2) {
    if (plan.db.norms == nullptr) {
      plan.db_norms.resize(plan.db.n);
      fvec_norms_L2sqr(plan.db.x, plan.db.n, d, plan.db_norms.data());
      plan.db.norms = plan.db_norms.data();
    }
    plan.query_norms.resize(nq);
    fvec_norms_L2sqr(xq, nq, d, plan.query_norms.data());
  }
  return plan;
}

int num_threads() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

bool use_l2_nearest(size_t nq, const VectorSet& db, size_t k, MetricType metric, const IDSelector* sel) {
  return k == 1 && metric == MetricType::L2 && sel == nullptr && db.d <= kNearestMaxDim && db.n > 0 &&
         db.n <= kNearestMaxRows && nq >= kNearestMinQueries;
}

void search_l2_nearest(const float* xq, size_t nq, const VectorSet& db, float* distances, idx_t* labels) {
  // (The distances are those of the norms trick; exact_search recomputes them.)
  const size_t d = db.d, kpad = (db.n + kNearestPad - 1) / kNearestPad * kNearestPad;
  std::vector<float> ct(d * kpad, 0.0f), norms(kpad, std::numeric_limits<float>::infinity());
  for (size_t j = 0; j < db.n; j++) {
    for (size_t t = 0; t < d; t++) ct[t * kpad + j] = db.x[j * d + t];
  }
  if (db.norms != nullptr) {
    std::copy_n(db.norms, db.n, norms.begin());
  } else {
    fvec_norms_L2sqr(db.x, db.n, d, norms.data());
  }
  const Kernels& kern = kernels();
  const size_t chunks = (nq + kNearestChunk - 1) / kNearestChunk;
  const size_t workers = std::min(chunks, static_cast<size_t>(num_threads()));
#pragma omp parallel for schedule(static) num_threads(workers) if (workers > 1)
  for (long c = 0; c < static_cast<long>(chunks); c++) {
    const size_t q0 = c * kNearestChunk, q1 = std::min(nq, q0 + kNearestChunk);
    kern.l2_nearest(xq + q0 * d, q1 - q0, d, ct.data(), norms.data(), kpad, labels + q0, distances + q0);
    for (size_t q = q0; q < q1; q++) {
      const float* x = xq + q * d;
      distances[q] = std::max(distances[q] + kern.inner_product(x, x, d), 0.0f);
    }
  }
}

}  // namespace

void exact_search(const float* xq, size_t nq, const VectorSet& db_in, size_t k, MetricType metric,
                  float* distances, idx_t* labels, const IDSelector* sel) {
  SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
  SEXTANT_CHECK(nq == 0 || (distances != nullptr && labels != nullptr), "distances and labels must not be null");
  if (nq == 0) return;
  if (use_l2_nearest(nq, db_in, k, metric, sel)) {
    search_l2_nearest(xq, nq, db_in, distances, labels);
    return recompute_distances(xq, nq, db_in, k, metric, distances, labels);
  }
  const Plan plan = make_plan(xq, nq, db_in, metric, sel);
  const size_t nb = plan.db.n;
  const size_t kk = std::min(k, nb);  // heap capacity: never more than there are vectors

  // Work items are (query block, database slice). Slices give every thread
  // work when there are fewer query blocks than threads; each slice then keeps
  // its own heaps, merged at the end.
  const size_t nthreads = static_cast<size_t>(num_threads());
  const size_t query_blocks = (nq + plan.query_block - 1) / plan.query_block;
  size_t slices = 1;
  if (query_blocks < nthreads && kk > 0) {
    slices = std::min((nthreads + query_blocks - 1) / query_blocks, std::max<size_t>(1, nb / kMinSliceRows));
  }
  const size_t slice_rows = (nb + slices - 1) / slices;
  std::vector<float> slice_keys(slices > 1 ? slices * nq * kk : 0);
  std::vector<idx_t> slice_ids(slice_keys.size());
  // Heap storage: the output rows themselves (stride k) or the slice buffers (stride kk).
  auto heap_for = [&](size_t s, size_t q) {
    if (slices == 1) return TopKHeap(distances + q * k, labels + q * k, kk);
    size_t at = (s * nq + q) * kk;
    return TopKHeap(slice_keys.data() + at, slice_ids.data() + at, kk);
  };

  const size_t items = query_blocks * slices;
  const size_t workers = std::min(items, nthreads);
  std::unique_ptr<float[]> buffers(new float[workers * plan.buffer_size()]);
  ParallelErrors errors;
  parallel_region(int(workers), [&] {
    float* buffer = buffers.get() + omp_get_thread_num() * plan.buffer_size();
    std::vector<TopKHeap> heaps;
    errors.run([&] { heaps.reserve(plan.query_block); });
#pragma omp for schedule(dynamic)
    for (long item = 0; item < static_cast<long>(items); item++) errors.run([&] {
      const size_t qb = item / slices, s = item % slices;
      const size_t q0 = qb * plan.query_block, q1 = std::min(nq, q0 + plan.query_block);
      const size_t a = s * slice_rows, b = std::min(nb, a + slice_rows);
      heaps.clear();
      for (size_t q = q0; q < q1; q++) heaps.push_back(heap_for(s, q));
      for (size_t j0 = a; j0 < b; j0 += plan.db_block) {
        plan.score(q0, q1, j0, std::min(b, j0 + plan.db_block), buffer, [&](size_t q, const ScoreRun& run) {
          push_candidates(plan.kernels, run.v, run.bias, run.scale, run.n, nullptr, run.id0, heaps[q - q0], sel);
        });
      }
      for (TopKHeap& heap : heaps) heap.finish();
    });
  });
  errors.rethrow();

  parallel_for_static(nq * k > 4096, long(nq), [&](long ql) { errors.run([&] {
    const size_t q = ql;
    float* row_d = distances + q * k;
    idx_t* row_l = labels + q * k;
    if (slices > 1) {
      TopKHeap merged(row_d, row_l, kk);
      for (size_t s = 0; s < slices; s++) {
        const size_t at = (s * nq + q) * kk;
        for (size_t i = 0; i < kk && slice_ids[at + i] >= 0; i++) merged.push(slice_keys[at + i], slice_ids[at + i]);
      }
      merged.finish();
    }
    for (size_t i = kk; i < k; i++) {
      row_d[i] = std::numeric_limits<float>::infinity();
      row_l[i] = -1;
    }
    const float offset = plan.offset(q);
    keys_to_distances(metric, 1, k, &offset, row_d);
  }); });
  errors.rethrow();
  if (plan.blas) recompute_distances(xq, nq, db_in, k, metric, distances, labels);
}

void recompute_distances(const float* xq, size_t nq, const VectorSet& db, size_t k, MetricType metric,
                         float* distances, idx_t* labels) {
  const Kernels& kern = kernels();
  const bool l2 = metric == MetricType::L2;
  const size_t d = db.d;
  ParallelErrors errors;
#pragma omp parallel if (nq * k * d > (size_t{1} << 18) && !omp_in_parallel())
  {
    std::vector<std::pair<float, idx_t>> row;  // (key, label): smaller keys first, NaN last
#pragma omp for schedule(static)
    for (long ql = 0; ql < static_cast<long>(nq); ql++) errors.run([&] {
      const size_t q = ql;
      const float* x = xq + q * d;
      row.clear();
      for (size_t i = 0; i < k && labels[q * k + i] >= 0; i++) {
        const idx_t id = labels[q * k + i];
        const float* y = db.x + static_cast<size_t>(id) * d;
        row.emplace_back(l2 ? kern.l2sqr(x, y, d) : -kern.inner_product(x, y, d), id);
      }
      // The row was ranked by nearly the same distances: an insertion sort moves the few that swap.
      auto before = [](const std::pair<float, idx_t>& a, const std::pair<float, idx_t>& b) {
        if (std::isnan(a.first) != std::isnan(b.first)) return std::isnan(b.first);
        return a.first < b.first || (!(b.first < a.first) && a.second < b.second);
      };
      for (size_t i = 1; i < row.size(); i++) {
        for (size_t j = i; j > 0 && before(row[j], row[j - 1]); j--) std::swap(row[j], row[j - 1]);
      }
      for (size_t i = 0; i < row.size(); i++) {
        distances[q * k + i] = l2 ? row[i].first : -row[i].first;
        labels[q * k + i] = row[i].second;
      }
    });
  }
  errors.rethrow();
}

RangeSearchResult exact_range_search(const float* xq, size_t nq, const VectorSet& db_in, float radius,
                                     MetricType metric, const IDSelector* sel) {
  SEXTANT_CHECK(!std::isnan(radius), "radius must not be NaN");
  RangeSearchResult result;
  result.lims.assign(nq + 1, 0);
  if (nq == 0) return result;
  const Plan plan = make_plan(xq, nq, db_in, metric, sel);
  const size_t nb = plan.db.n;
  const size_t query_blocks = (nq + plan.query_block - 1) / plan.query_block;
  // SIMD path (few queries): one item per query; GEMM path: one per query block.
  const size_t per_item = plan.blas ? plan.query_block : 1;
  const size_t items = plan.blas ? query_blocks : nq;
  const size_t workers = std::min(items, static_cast<size_t>(num_threads()));
  std::vector<std::vector<std::pair<float, idx_t>>> hits(nq);
  std::unique_ptr<float[]> buffers(new float[workers * plan.buffer_size()]);

  ParallelErrors errors;
#pragma omp parallel num_threads(workers) if (workers > 1)
  {
    float* buffer = buffers.get() + omp_get_thread_num() * plan.buffer_size();
    uint32_t idx[kCollectChunk];
    float keys[kCollectChunk];
#pragma omp for schedule(dynamic)
    for (long item = 0; item < static_cast<long>(items); item++) errors.run([&] {
      const size_t q0 = item * per_item, q1 = std::min(nq, q0 + per_item);
      for (size_t j0 = 0; j0 < nb; j0 += plan.db_block) {
        plan.score(q0, q1, j0, std::min(nb, j0 + plan.db_block), buffer, [&](size_t q, const ScoreRun& run) {
          // Keys below `bound` may qualify; the exact test is on the reported distance.
          const float off = plan.offset(q);
          const float bound = plan.l2 ? radius - off + 1e-5f * (std::fabs(radius) + off) + 1e-30f : -radius;
          for (size_t c0 = 0; c0 < run.n; c0 += kCollectChunk) {
            size_t n = std::min(kCollectChunk, run.n - c0);
            size_t count = plan.kernels.collect_below(run.v + c0, run.bias ? run.bias + c0 : nullptr, run.scale,
                                                       n, bound, idx, keys);
            for (size_t c = 0; c < count; c++) {
              idx_t id = run.id0 + static_cast<idx_t>(c0 + idx[c]);
              // GEMM keys only nominate: the distance is the SIMD kernels', as in exact_search.
              float dist = plan.blas ? plan.exact_distance(q, id) : plan.to_distance(keys[c], q);
              bool inside = plan.l2 ? dist < radius : dist > radius;
              if (inside && (sel == nullptr || sel->is_member(id))) hits[q].emplace_back(dist, id);
            }
          }
        });
      }
    });
  }
  errors.rethrow();

  for (size_t q = 0; q < nq; q++) result.lims[q + 1] = result.lims[q] + hits[q].size();
  result.distances.resize(result.lims[nq]);
  result.labels.resize(result.lims[nq]);
#pragma omp parallel for schedule(dynamic, 16) if (nq > 16)
  for (long ql = 0; ql < static_cast<long>(nq); ql++) {
    auto& h = hits[ql];
    if (plan.l2) {
      std::sort(h.begin(), h.end());
    } else {
      std::sort(h.begin(), h.end(), [](const auto& a, const auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
      });
    }
    for (size_t i = 0; i < h.size(); i++) {
      result.distances[result.lims[ql] + i] = h[i].first;
      result.labels[result.lims[ql] + i] = h[i].second;
    }
  }
  return result;
}

void knn(const float* xq, size_t nq, const VectorSet& db, size_t k, MetricType metric, float* distances,
         idx_t* labels, const IDSelector* sel) {
  SEXTANT_CHECK(db.d > 0, "dimension d must be > 0");
  SEXTANT_CHECK(nq == 0 || xq != nullptr, "queries must not be null");
  SEXTANT_CHECK(db.n == 0 || db.x != nullptr, "database vectors must not be null");
  check_bounded(xq, nq, db.d, "queries");
  check_bounded(db.x, db.n, db.d, "database vectors");
  exact_search(xq, nq, db, k, metric, distances, labels, sel);
}

}  // namespace sextant
