#include "sextant/IndexReplicas.h"

#include <algorithm>

#include "sextant/base/Error.h"
#include "sextant/base/parallel.h"
#include "sextant/utils/merge_results.h"

namespace sextant {

namespace {

// Block b of n queries split into `parts` contiguous blocks: [first, last).
std::pair<idx_t, idx_t> block(idx_t n, size_t parts, size_t b) {
  return {static_cast<idx_t>(n * b / parts), static_cast<idx_t>(n * (b + 1) / parts)};
}

}  // namespace

IndexReplicas::IndexReplicas(int d, MetricType metric) : Index(d, metric, true) {}

bool IndexReplicas::is_trained() const {
  return std::all_of(replicas_.begin(), replicas_.end(), [](auto& r) { return r->is_trained(); });
}

KnobSet IndexReplicas::search_knobs() const {
  KnobSet knobs = replicas_.empty() ? kKnobSel : ~KnobSet{0};
  for (const auto& r : replicas_) knobs &= r->search_knobs();
  return knobs;
}

bool IndexReplicas::removal_closes_up_ids() const {
  return !replicas_.empty() && replicas_.front()->removal_closes_up_ids();
}

const std::shared_ptr<Index>& IndexReplicas::replica(size_t r) const {
  SEXTANT_CHECK(r < replicas_.size(), "replica ", r, " does not exist (", replicas_.size(), " replicas)");
  return replicas_[r];
}

void IndexReplicas::add_replica(std::shared_ptr<Index> replica) {
  SEXTANT_CHECK(replica != nullptr, "add_replica: the replica must not be null");
  SEXTANT_CHECK(replica->d() == d_ && replica->metric() == metric_, "add_replica: the replica has d=", replica->d(),
                ", ", metric_name(replica->metric()), "; this index has d=", d_, ", ", metric_name(metric_));
  SEXTANT_CHECK(replica.get() != this, "add_replica: an index cannot be its own replica");
  for (const auto& r : replicas_) SEXTANT_CHECK(r != replica, "add_replica: this index already holds that replica");
  SEXTANT_CHECK(replicas_.empty() || replica->ntotal() == ntotal_, "add_replica: the replica holds ",
                replica->ntotal(), " vectors, the others ", ntotal_, ": replicas hold the same vectors");
  replicas_.push_back(std::move(replica));
  ntotal_ = replicas_.front()->ntotal();
}

void IndexReplicas::check_in_step(const char* what) {
  for (size_t r = 0; r < replicas_.size(); r++) {
    SEXTANT_CHECK(replicas_[r]->ntotal() == replicas_.front()->ntotal(), "IndexReplicas: after ", what, " replica ",
                  r, " holds ", replicas_[r]->ntotal(), " vectors and replica 0 ", replicas_.front()->ntotal(),
                  ": the replicas were not alike");
  }
  ntotal_ = replicas_.empty() ? 0 : replicas_.front()->ntotal();
}

void IndexReplicas::train_impl(idx_t n, const float* x) {
  SEXTANT_CHECK(!replicas_.empty(), "IndexReplicas has no replicas to train: add_replica() first");
  for (const auto& r : replicas_) {
    if (!r->is_trained()) r->train(n, x);
  }
}

void IndexReplicas::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(!replicas_.empty(), "IndexReplicas has no replicas to add to: add_replica() first");
  for (const auto& r : replicas_) {
    if (ids != nullptr) {
      r->add_with_ids(n, x, ids);
    } else {
      r->add(n, x);
    }
  }
  check_in_step("add");
}

void IndexReplicas::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                const SearchParams& params) const {
  if (replicas_.empty()) {  // an empty index
    merge_knn_results(0, n, k, nullptr, nullptr, metric_, distances, labels);
    return;
  }
  const size_t parts = std::min<size_t>(replicas_.size(), n);
  for_each_part(parts, true, [&](size_t r) {
    const auto [q0, q1] = block(n, parts, r);
    search_nested(*replicas_[r], q1 - q0, x + q0 * d_, k, distances + q0 * k, labels + q0 * k, nullptr, params);
  });
}

void IndexReplicas::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                      RangeSearchResult& result) const {
  const size_t parts = std::min<size_t>(replicas_.size(), n);
  std::vector<RangeSearchResult> blocks(parts);
  for_each_part(parts, true, [&](size_t r) {
    const auto [q0, q1] = block(n, parts, r);
    blocks[r] = replicas_[r]->range_search(q1 - q0, x + q0 * d_, radius, params);
  });
  result.lims.assign(1, 0);
  for (const RangeSearchResult& b : blocks) {
    for (size_t q = 0; q < b.nq(); q++) result.lims.push_back(result.labels.size() + b.lims[q + 1]);
    result.distances.insert(result.distances.end(), b.distances.begin(), b.distances.end());
    result.labels.insert(result.labels.end(), b.labels.begin(), b.labels.end());
  }
  result.lims.resize(n + 1, result.labels.size());
}

void IndexReplicas::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(!replicas_.empty(), "id ", key, " is not in the index (it has no replicas)");
  replicas_.front()->reconstruct(key, recons);
}

size_t IndexReplicas::remove_ids_impl(const IDSelector& sel) {
  size_t removed = 0;
  for (const auto& r : replicas_) removed = r->remove_ids(sel);
  check_in_step("remove_ids");
  return removed;
}

void IndexReplicas::reset_impl() {
  for (const auto& r : replicas_) r->reset();
  ntotal_ = 0;
}

}  // namespace sextant
