#include "sextant/Index.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/utils/validate.h"

namespace sextant {

Index::Index(int d, MetricType metric, bool is_trained) : d_(d), metric_(metric), is_trained_(is_trained) {
  SEXTANT_CHECK(d > 0, "d (the vector dimension) must be > 0, got ", d);
  check_metric(metric);
}

void Index::check_vectors(idx_t n, const float* x, const char* what) const {
  SEXTANT_CHECK(n >= 0, "n (the number of ", what, ") must be >= 0, got ", n);
  if (n == 0) return;
  SEXTANT_CHECK(x != nullptr, what, " must not be null");
  check_bounded(x, n, d_, what);
}

void Index::train(idx_t n, const float* x) {
  const WriteLock lock(mutex_);
  check_vectors(n, x, "training vectors");
  train_impl(n, x);
}

void Index::train_impl(idx_t, const float*) {}

void Index::add(idx_t n, const float* x) {
  const WriteLock lock(mutex_);
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before add()");
  check_vectors(n, x, "added vectors");
  if (n > 0) add_impl(n, x, nullptr);
}

void Index::add_with_ids(idx_t n, const float* x, const idx_t* ids) {
  const WriteLock lock(mutex_);
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before add_with_ids()");
  check_vectors(n, x, "added vectors");
  SEXTANT_CHECK(n == 0 || ids != nullptr, "ids must not be null");
  for (idx_t i = 0; i < n; i++)
    SEXTANT_CHECK(ids[i] >= 0, "ids must be >= 0 (-1 means no result in search results): ids[", i, "] = ", ids[i]);
  if (n > 0) add_impl(n, x, ids);
}

namespace {
void check_params(const Index& index, const SearchParams& params) {
  KnobSet unknown = params.knobs() & ~index.search_knobs();
  SEXTANT_CHECK(unknown == 0, index.type_name(), " does not use SearchParams field(s): ", knob_names(unknown));
}

// Rows of `found` results spread out, in place, to rows of k, the rest padded
// as missing. Last row first: a row only moves to a higher address.
void pad_rows(idx_t n, idx_t found, idx_t k, MetricType metric, float* distances, idx_t* labels) {
  if (found == k) return;
  for (idx_t i = n - 1; i >= 0; i--) {
    std::copy_backward(distances + i * found, distances + (i + 1) * found, distances + i * k + found);
    std::copy_backward(labels + i * found, labels + (i + 1) * found, labels + i * k + found);
    std::fill(distances + i * k + found, distances + (i + 1) * k, worst_distance(metric));
    std::fill(labels + i * k + found, labels + (i + 1) * k, idx_t{-1});
  }
}
}  // namespace

idx_t Index::results_needed(idx_t k) const {
  // No index returns more than it holds: the scratch of a search is sized by
  // what the answer can need, not by a huge k.
  return std::min(k, std::max<idx_t>(ntotal_, 1));
}

void Index::search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const {
  const ReadLock lock(mutex_);
  search_unlocked(n, x, k, distances, labels, params);
}

void Index::search_unlocked(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                            const SearchParams& params) const {
  check_search(n, x, k, distances, labels, params);
  if (n == 0) return;
  const idx_t found = results_needed(k);
  search_impl(n, x, found, distances, labels, params);
  pad_rows(n, found, k, metric_, distances, labels);
}

void Index::search_grouped(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                           const SearchParams& params) const {
  const ReadLock lock(mutex_);
  check_search(n, x, k, distances, labels, params);
  SEXTANT_CHECK(n == 0 || order != nullptr, "order must not be null");
  if (n == 0) return;
  const idx_t found = results_needed(k);
  search_grouped_impl(n, x, found, distances, labels, order, params);
  pad_rows(n, found, k, metric_, distances, labels);
}

void Index::search_grouped_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                                const SearchParams& params) const {
  std::iota(order, order + n, idx_t{0});
  search_impl(n, x, k, distances, labels, params);
}

void Index::check_search(idx_t n, const float* x, idx_t k, const float* distances, const idx_t* labels,
                         const SearchParams& params, bool queries_checked) const {
  SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before search()");
  if (!queries_checked) check_vectors(n, x, "queries");
  SEXTANT_CHECK(n == 0 || (distances != nullptr && labels != nullptr), "distances and labels must not be null");
  check_params(*this, params);
}

void Index::search_nested(const Index& inner, idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                          idx_t* order, const SearchParams& params) const {
  SEXTANT_CHECK(inner.d_ == d_, inner.type_name(), " has dimension ", inner.d_, ", expected d=", d_);
  inner.check_search(n, x, k, distances, labels, params, true);
  if (n == 0) return;
  const idx_t found = inner.results_needed(k);
  if (order != nullptr) {
    inner.search_grouped_impl(n, x, found, distances, labels, order, params);
  } else {
    inner.search_impl(n, x, found, distances, labels, params);
  }
  pad_rows(n, found, k, inner.metric_, distances, labels);
}

RangeSearchResult Index::range_search(idx_t n, const float* x, float radius, const SearchParams& params) const {
  const ReadLock lock(mutex_);
  SEXTANT_CHECK(!std::isnan(radius), "radius must not be NaN");
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before range_search()");
  check_vectors(n, x, "queries");
  check_params(*this, params);
  RangeSearchResult result;
  if (n > 0) {
    range_search_impl(n, x, radius, params, result);
  } else {
    result.lims.assign(1, 0);
  }
  return result;
}

void Index::search_and_reconstruct(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                   float* recons, const SearchParams& params) const {
  const ReadLock lock(mutex_);
  SEXTANT_CHECK(n == 0 || recons != nullptr, "recons must not be null");
  search_unlocked(n, x, k, distances, labels, params);
  const size_t d = d_;
  for (size_t i = 0; i < static_cast<size_t>(n) * static_cast<size_t>(k); i++) {
    float* out = recons + i * d;
    if (labels[i] < 0) {
      std::fill(out, out + d, std::numeric_limits<float>::quiet_NaN());
    } else {
      reconstruct_impl(labels[i], out);
    }
  }
}

void Index::reconstruct(idx_t key, float* recons) const {
  const ReadLock lock(mutex_);
  SEXTANT_CHECK(recons != nullptr, "recons must not be null");
  reconstruct_impl(key, recons);
}

void Index::reconstruct_n(idx_t i0, idx_t n, float* recons) const {
  const ReadLock lock(mutex_);
  SEXTANT_CHECK(n >= 0, "n must be >= 0, got ", n);
  SEXTANT_CHECK(n == 0 || recons != nullptr, "recons must not be null");
  for (idx_t i = 0; i < n; i++) reconstruct_impl(i0 + i, recons + static_cast<size_t>(i) * d_);
}

void Index::error_bounds(const float*, const idx_t*, size_t, float*) const {
  SEXTANT_FAIL(type_name(), " has no error bounds on its estimates");
}

void Index::reconstruct_impl(idx_t, float*) const {
  SEXTANT_FAIL(type_name(), " cannot reconstruct vectors");
}

size_t Index::sa_code_size() const { return sa_code_size_impl(); }

void Index::sa_encode(idx_t n, const float* x, uint8_t* codes) const {
  const ReadLock lock(mutex_);
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before sa_encode()");
  check_vectors(n, x, "vectors to encode");
  SEXTANT_CHECK(n == 0 || codes != nullptr, "codes must not be null");
  if (n > 0) sa_encode_impl(n, x, codes);
}

void Index::sa_decode(idx_t n, const uint8_t* codes, float* x) const {
  const ReadLock lock(mutex_);
  SEXTANT_CHECK(is_trained(), type_name(), " is not trained: call train() before sa_decode()");
  SEXTANT_CHECK(n >= 0, "n must be >= 0, got ", n);
  SEXTANT_CHECK(n == 0 || (codes != nullptr && x != nullptr), "codes and x must not be null");
  if (n > 0) sa_decode_impl(n, codes, x);
}

size_t Index::sa_code_size_impl() const {
  SEXTANT_FAIL(type_name(), " has no standalone codes (sa_encode/sa_decode)");
}

void Index::sa_encode_impl(idx_t, const float*, uint8_t*) const { sa_code_size_impl(); }

void Index::sa_decode_impl(idx_t, const uint8_t*, float*) const { sa_code_size_impl(); }

size_t Index::remove_ids(const IDSelector& sel) {
  const WriteLock lock(mutex_);
  return remove_ids_impl(sel);
}

size_t Index::remove_ids_impl(const IDSelector&) {
  SEXTANT_FAIL(type_name(), " cannot remove vectors");
}

void Index::reset() {
  const WriteLock lock(mutex_);
  reset_impl();
}

void Index::reconstruct_nested(const Index& inner, idx_t key, float* recons) { inner.reconstruct_impl(key, recons); }

void Index::merge_from(Index& other, idx_t add_id) {
  SEXTANT_CHECK(&other != this, "cannot merge an index into itself");
  SEXTANT_CHECK(other.type_name() == type_name() && other.d_ == d_ && other.metric_ == metric_, "cannot merge ",
                other.type_name(), " (d=", other.d_, ", ", metric_name(other.metric_), ") into ", type_name(), " (d=",
                d_, ", ", metric_name(metric_), "): they must have the same type, dimension and metric");
  SEXTANT_CHECK(add_id >= 0, "add_id must be >= 0, got ", add_id);
  // Both indexes change (the other may be emptied); locked in address order so
  // that two opposite merges cannot deadlock.
  Index* first = std::min(this, &other, std::less<Index*>());
  Index* second = first == this ? &other : this;
  const WriteLock hold_first(first->mutex_), hold_second(second->mutex_);
  merge_from_impl(other, add_id);
}

void Index::merge_from_impl(Index&, idx_t) {
  SEXTANT_FAIL(type_name(), " cannot merge indexes (add the other index's vectors instead)");
}

void Index::check_append_id(idx_t add_id) const {
  SEXTANT_CHECK(add_id == 0 || add_id == ntotal_, type_name(), " numbers its vectors itself: the merged vectors get ids ",
                ntotal_, ".. after its own, so add_id must be 0 or ", ntotal_, ", got ", add_id,
                " (wrap it in IndexIDMap to choose ids)");
}

}  // namespace sextant
