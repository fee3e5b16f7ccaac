#include "sextant/IndexRefine.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "sextant/IndexFlat.h"
#include "sextant/base/Error.h"
#include "sextant/base/parallel.h"
#include "sextant/base/threads.h"
#include "sextant/impl/RaBitQuantizer.h"
#include "sextant/utils/TopK.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/select.h"

namespace sextant {

namespace {

constexpr size_t kRefineGroup = 8;  // rows per gather call: the bound tightens between groups

// A base label is a row of the refine index. It may come from a memory-mapped
// file that changed after it was checked: never trusted blindly.
void check_row(idx_t row, idx_t rows) {
  SEXTANT_CHECK(row < rows, "IndexRefine: the base index returned label ", row, ", outside [0, ", rows,
                ") (a memory-mapped index file modified in place?)");
}

const Index& checked_base(const std::shared_ptr<Index>& base) {
  SEXTANT_CHECK(base != nullptr, "IndexRefine needs a base index, got null");
  return *base;
}

}  // namespace

IndexRefine::IndexRefine(std::shared_ptr<Index> base, std::shared_ptr<Index> refine)
    : Index(checked_base(base).d(), checked_base(base).metric(), false),
      base_(std::move(base)),
      refine_(std::move(refine)) {
  SEXTANT_CHECK(refine_ != nullptr, "IndexRefine needs a refine index, got null");
  SEXTANT_CHECK(refine_->ntotal() == base_->ntotal(), "IndexRefine needs base and refine indexes holding the same "
                "vectors (both empty, usually); they hold ", base_->ntotal(), " and ", refine_->ntotal());
  SEXTANT_CHECK(refine_->d() == d_ && refine_->metric() == metric_, "the refine index (d=", refine_->d(), ", ",
                metric_name(refine_->metric()), ") must match the base index (d=", d_, ", ", metric_name(metric_),
                ")");
  ntotal_ = base_->ntotal();
}

void IndexRefine::set_k_factor(float k_factor) {
  SEXTANT_CHECK(k_factor >= 1 && std::isfinite(k_factor), "k_factor must be >= 1 and finite, got ", k_factor);
  k_factor_ = k_factor;
}

void IndexRefine::train_impl(idx_t n, const float* x) {
  base_->train(n, x);
  refine_->train(n, x);
}

void IndexRefine::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(), " numbers vectors in insertion order: wrap it in IndexIDMap to choose ids");
  base_->add(n, x);
  refine_->add(n, x);
  SEXTANT_CHECK(base_->ntotal() == refine_->ntotal(), "the base and refine indexes disagree on ntotal (",
                base_->ntotal(), " vs ", refine_->ntotal(), ")");
  ntotal_ = base_->ntotal();
}

void IndexRefine::refined_distances(const float* x, const idx_t* ids, size_t n, float* out, float* buf) const {
  const Kernels& k = kernels();
  const auto* flat = dynamic_cast<const IndexFlat*>(refine_.get());
  // Candidates are scattered rows, each a miss: fetch the first lines of the
  // rows kAhead on while this one is computed, so that their misses overlap.
  constexpr size_t kAhead = 8;
  auto prefetch = [&](size_t i) {
    if (flat == nullptr || i >= n || ids[i] < 0 || ids[i] >= flat->ntotal()) return;
    const char* row = reinterpret_cast<const char*>(flat->vectors() + size_t(ids[i]) * d_);
    for (size_t b = 0; b < sizeof(float) * d_ && b < 1024; b += 64) __builtin_prefetch(row + b);
  };
  for (size_t i = 0; i < kAhead; i++) prefetch(i);
  for (size_t i = 0; i < n; i++) {
    prefetch(i + kAhead);
    if (ids[i] < 0) continue;
    check_row(ids[i], refine_->ntotal());
    const float* y = buf;
    if (flat != nullptr) {
      y = flat->vectors() + size_t(ids[i]) * d_;  // no copy for the common case
    } else {
      reconstruct_nested(*refine_, ids[i], buf);
    }
    out[i] = metric_ == MetricType::L2 ? k.l2sqr(x, y, d_) : k.inner_product(x, y, d_);
  }
}

KnobSet IndexRefine::search_knobs() const {
  return base_->search_knobs() | kKnobSel | kKnobKFactor |
         (base_->has_error_bounds() ? KnobSet(kKnobRaBitQEps0) : KnobSet(0));
}

void IndexRefine::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                              const SearchParams& params) const {
  const float k_factor = params.k_factor.value_or(k_factor_);
  SEXTANT_CHECK(k_factor >= 1, "k_factor must be >= 1, got ", k_factor);
  // The base cannot return more than it holds: clamping first keeps a huge k_factor from overflowing.
  const double wanted = std::min(std::ceil(double(k) * k_factor), double(std::max<idx_t>(k, base_->ntotal())));
  const idx_t kb = std::max<idx_t>(k, static_cast<idx_t>(wanted));
  // Uninitialised: the base writes every slot (zeroing 12 bytes a candidate would be a serial pass).
  const size_t slots = static_cast<size_t>(n) * kb;
  std::unique_ptr<float[]> base_d(new float[slots]);
  std::unique_ptr<idx_t[]> base_l(new idx_t[slots]);
  // A base with error bounds (RaBitQ: rabitq_eps0 standard deviations of the
  // estimate, the paper's 1.9 say): a candidate whose best key within the
  // bound cannot enter the heap is not re-ranked. Off by default, as in Faiss:
  // the bound holds for randomly rotated data ("RR<d>,RaBitQ,RFlat"). The
  // index behind the rotation is then searched on the rotated queries and
  // gives the bounds from them: the queries are rotated once.
  const bool bounded = params.rabitq_eps0.has_value();
  const float eps0 = params.rabitq_eps0.value_or(0);
  SEXTANT_CHECK(!params.rabitq_eps0 || (eps0 > 0 && std::isfinite(eps0)), "rabitq_eps0 must be > 0, got ", eps0);
  const float bound_scale = eps0 / RaBitQuantizer::kEpsilon0;
  std::vector<float> bounded_queries;
  const auto [searched, queries] =
      bounded ? base_->bounded_target(n, x, bounded_queries) : std::pair<const Index*, const float*>{base_.get(), x};
  // Re-ranking follows the base's grouping of the batch: consecutive queries
  // then share candidates, and their rows are still in cache (on
  // Fashion-MNIST under IVF1024, 15-40% more queries a second at k_factor 16).
  std::vector<idx_t> order(n);
  search_nested(*searched, n, queries, kb, base_d.get(), base_l.get(), order.data(),
                params.without(kKnobKFactor | kKnobRaBitQEps0));
  const float scale = metric_ == MetricType::L2 ? 1.0f : -1.0f;
  const auto* flat = dynamic_cast<const IndexFlat*>(refine_.get());
  const bool gather = flat != nullptr && ntotal_ <= idx_t{UINT32_MAX};
  ParallelErrors errors;
  parallel_region(n > 1 ? omp_get_max_threads() : 1, [&] {
    std::vector<float> buf, exact, lowest;
    std::vector<uint32_t> rows;
    errors.run([&] {
      buf.resize(d_);
      exact.resize(kb);
      rows.resize(kb);
      if (bounded) lowest.resize(kb);
    });
#pragma omp for schedule(dynamic, 16)
    for (idx_t row = 0; row < n; row++) errors.run([&] {
      const idx_t q = order[row];
      const idx_t* candidates = base_l.get() + row * kb;
      TopKHeap heap(distances + q * k, labels + q * k, k);
      if (bounded) {
        searched->error_bounds(queries + q * searched->d(), candidates, kb, lowest.data());
        for (idx_t j = 0; j < kb; j++) lowest[j] = scale * base_d[row * kb + j] - bound_scale * lowest[j];
        if (metric_ == MetricType::L2) {
          for (idx_t j = 0; j < kb; j++) lowest[j] = std::max(0.0f, lowest[j]);
        }
      }
      // Candidates come best first: once the heap holds k, most of the rest cannot enter.
      auto skip = [&](idx_t j) { return candidates[j] < 0 || (bounded && lowest[j] >= heap.admission_bound()); };
      if (gather) {
        // The gather kernels read a few rows in lockstep (several cache misses
        // in flight); the L2 one stops each row that cannot enter at the bound
        // after a block of it instead of reading all of it from memory.
        for (idx_t j = 0; j < kb;) {
          size_t g = 0;
          for (; j < kb && g < kRefineGroup; j++) {
            if (skip(j)) continue;
            check_row(candidates[j], ntotal_);
            rows[g++] = uint32_t(candidates[j]);
          }
          if (g == 0) continue;
          if (metric_ == MetricType::L2) {
            kernels().l2sqr_gather(x + q * d_, flat->vectors(), d_, rows.data(), g, heap.admission_bound(),
                                   exact.data());
          } else {
            kernels().inner_product_gather(x + q * d_, flat->vectors(), d_, rows.data(), g, exact.data());
          }
          for (size_t i = 0; i < g; i++) heap.push(scale * exact[i], rows[i]);
        }
      } else if (bounded) {
        for (idx_t j = 0; j < kb; j++) {
          if (skip(j)) continue;
          refined_distances(x + q * d_, candidates + j, 1, exact.data(), buf.data());
          heap.push(scale * exact[0], candidates[j]);
        }
      } else {
        refined_distances(x + q * d_, candidates, kb, exact.data(), buf.data());
        for (idx_t j = 0; j < kb; j++) {
          if (candidates[j] >= 0) heap.push(scale * exact[j], candidates[j]);
        }
      }
      heap.finish();
    });
  });
  errors.rethrow();
  keys_to_distances(metric_, n, k, nullptr, distances);
}

// The base proposes the candidates within the radius by its own estimate;
// they are kept when their refined distance is within the radius too.
void IndexRefine::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                    RangeSearchResult& result) const {
  RangeSearchResult base = base_->range_search(n, x, radius, params.without(kKnobKFactor | kKnobRaBitQEps0));
  const bool l2 = metric_ == MetricType::L2;
  std::vector<float> buf(d_), exact;
  result.lims.assign(n + 1, 0);
  for (idx_t q = 0; q < n; q++) {
    std::vector<std::pair<float, idx_t>> hits;
    const size_t count = base.lims[q + 1] - base.lims[q];
    exact.resize(count);
    refined_distances(x + q * d_, base.labels.data() + base.lims[q], count, exact.data(), buf.data());
    for (size_t i = 0; i < count; i++) {
      const float dist = exact[i];
      if (l2 ? dist < radius : dist > radius) hits.emplace_back(dist, base.labels[base.lims[q] + i]);
    }
    std::sort(hits.begin(), hits.end(), [l2](const auto& a, const auto& b) {
      return (l2 ? a.first < b.first : a.first > b.first) || (a.first == b.first && a.second < b.second);
    });
    for (auto& [dist, id] : hits) {
      result.distances.push_back(dist);
      result.labels.push_back(id);
    }
    result.lims[q + 1] = result.distances.size();
  }
}

size_t IndexRefine::remove_ids_impl(const IDSelector& sel) {
  SEXTANT_CHECK(base_->removal_closes_up_ids() == refine_->removal_closes_up_ids(), type_name(),
                " cannot remove vectors: ", base_->type_name(), " and ", refine_->type_name(),
                " would number the remaining vectors differently");
  const size_t removed = base_->remove_ids(sel);
  refine_->remove_ids(sel);
  SEXTANT_CHECK(base_->ntotal() == refine_->ntotal(), "the base and refine indexes disagree after remove_ids (",
                base_->ntotal(), " vs ", refine_->ntotal(), ")");
  ntotal_ = base_->ntotal();
  return removed;
}

void IndexRefine::merge_from_impl(Index& other_index, idx_t add_id) {
  check_append_id(add_id);
  auto& other = dynamic_cast<IndexRefine&>(other_index);
  SEXTANT_CHECK(other.refine_->type_name() == refine_->type_name(), "cannot merge: the refine indexes differ (",
                other.refine_->type_name(), " and ", refine_->type_name(), ")");
  // The base's checks (quantizers, encoders) run before either index changes.
  base_->merge_from(*other.base_, base_->ntotal());  // ids are positions: the other's come after ours
  refine_->merge_from(*other.refine_, refine_->ntotal());
  ntotal_ = base_->ntotal();
  other.ntotal_ = 0;
}

void IndexRefine::reset_impl() {
  base_->reset();
  refine_->reset();
  ntotal_ = 0;
}

IndexRefineFlat::IndexRefineFlat(std::shared_ptr<Index> base)
    : IndexRefine(base, std::make_shared<IndexFlat>(checked_base(base).d(), checked_base(base).metric())) {}

IndexRefineFlat::IndexRefineFlat(std::shared_ptr<Index> base, std::shared_ptr<IndexFlat> refine)
    : IndexRefine(std::move(base), std::move(refine)) {}

}  // namespace sextant
