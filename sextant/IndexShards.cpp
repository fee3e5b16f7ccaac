#include "sextant/IndexShards.h"

#include <algorithm>
#include <limits>

#include "sextant/base/Error.h"
#include "sextant/base/parallel.h"
#include "sextant/base/threads.h"
#include "sextant/utils/merge_results.h"

namespace sextant {

namespace {

// Per-shard results of one chunk of queries are held at once: nshards * chunk * k
// entries at most (12 bytes each), so a large batch does not need k results per
// query per shard all at the same time.
constexpr size_t kMaxBufferedResults = size_t{1} << 22;

// Block b of n rows split into `parts` contiguous blocks: [first, last).
std::pair<idx_t, idx_t> block(idx_t n, size_t parts, size_t b) {
  return {static_cast<idx_t>(n * b / parts), static_cast<idx_t>(n * (b + 1) / parts)};
}

}  // namespace

IndexShards::IndexShards(int d, MetricType metric, bool successive_ids)
    : Index(d, metric, true), successive_ids_(successive_ids) {}

bool IndexShards::is_trained() const {
  return std::all_of(shards_.begin(), shards_.end(), [](auto& s) { return s->is_trained(); });
}

KnobSet IndexShards::search_knobs() const {
  KnobSet knobs = shards_.empty() ? kKnobSel : ~KnobSet{0};
  for (const auto& s : shards_) knobs &= s->search_knobs();
  return knobs;
}

bool IndexShards::removal_closes_up_ids() const {
  return successive_ids_ && !shards_.empty() &&
         std::all_of(shards_.begin(), shards_.end(), [](auto& s) { return s->removal_closes_up_ids(); });
}

const std::shared_ptr<Index>& IndexShards::shard(size_t s) const {
  SEXTANT_CHECK(s < shards_.size(), "shard ", s, " does not exist (", shards_.size(), " shards)");
  return shards_[s];
}

idx_t IndexShards::id_offset(size_t s) const {
  shard(s);
  return successive_ids_ ? offsets_[s] : 0;
}

void IndexShards::set_id_offsets(std::vector<idx_t> offsets) {
  SEXTANT_CHECK(successive_ids_, "id offsets belong to IndexShards with successive_ids");
  SEXTANT_CHECK(offsets.size() == shards_.size(), "expected ", shards_.size(), " id offsets, got ", offsets.size());
  for (size_t s = 0; s < offsets.size(); s++) {
    SEXTANT_CHECK(s == 0 ? offsets[s] == 0 : offsets[s] >= offsets[s - 1], "id offsets must start at 0 and never "
                  "decrease; offset ", s, " is ", offsets[s]);
  }
  offsets_ = std::move(offsets);
}

void IndexShards::set_next_id(idx_t next_id) {
  SEXTANT_CHECK(next_id >= 0, "next_id must be >= 0, got ", next_id);
  next_id_ = next_id;
}

void IndexShards::add_shard(std::shared_ptr<Index> shard) {
  SEXTANT_CHECK(shard != nullptr, "add_shard: the shard must not be null");
  SEXTANT_CHECK(shard->d() == d_ && shard->metric() == metric_, "add_shard: the shard has d=", shard->d(), ", ",
                metric_name(shard->metric()), "; this index has d=", d_, ", ", metric_name(metric_));
  SEXTANT_CHECK(shard.get() != this, "add_shard: an index cannot be its own shard");
  for (const auto& s : shards_) SEXTANT_CHECK(s != shard, "add_shard: this index already holds that shard");
  const idx_t end = shards_.empty() ? 0 : offsets_.back() + shards_.back()->ntotal();
  shards_.push_back(std::move(shard));
  offsets_.push_back(end);
  sync_ntotal();
}

void IndexShards::sync_ntotal() {
  ntotal_ = 0;
  for (const auto& s : shards_) ntotal_ += s->ntotal();
}

template <class Fn>
void IndexShards::for_each_shard(bool parallel, Fn&& fn) const {
  for_each_part(shards_.size(), parallel, fn);
}

void IndexShards::train_impl(idx_t n, const float* x) {
  SEXTANT_CHECK(!shards_.empty(), "IndexShards has no shards to train: add_shard() first");
  for (const auto& s : shards_) {
    if (!s->is_trained()) s->train(n, x);
  }
}

void IndexShards::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(!shards_.empty(), "IndexShards has no shards to add to: add_shard() first");
  if (successive_ids_) {
    SEXTANT_CHECK(ids == nullptr, "IndexShards with successive_ids numbers the vectors itself: use add(), or build "
                  "it with successive_ids=false over shards that keep ids (IVF, IDMap) to choose them");
    SEXTANT_CHECK(ntotal_ == 0, "IndexShards with successive_ids fills its shards in one add() (it holds ", ntotal_,
                  " vectors); build it with successive_ids=false over shards that keep ids (IVF, IDMap) to add "
                  "in several batches");
  }
  std::vector<idx_t> numbered;
  if (!successive_ids_ && ids == nullptr) {
    SEXTANT_CHECK(next_id_ <= std::numeric_limits<idx_t>::max() - n, "IndexShards: ids past 2^63");
    numbered.resize(n);
    for (idx_t i = 0; i < n; i++) numbered[i] = next_id_ + i;
    ids = numbered.data();
  }
  const size_t nshards = shards_.size();
  for (size_t s = 0; s < nshards; s++) {
    const auto [i0, i1] = block(n, nshards, s);
    if (i1 == i0) continue;
    if (ids != nullptr) {
      shards_[s]->add_with_ids(i1 - i0, x + i0 * d_, ids + i0);
    } else {
      shards_[s]->add(i1 - i0, x + i0 * d_);
    }
  }
  if (successive_ids_) {
    for (size_t s = 0; s < nshards; s++) offsets_[s] = block(n, nshards, s).first;
  } else if (!numbered.empty()) {
    next_id_ += n;
  }
  sync_ntotal();
}

SearchParams IndexShards::shard_params(const SearchParams& params, size_t s) const {
  SearchParams inner = params;
  if (params.sel && successive_ids_ && offsets_[s] != 0) {
    inner.sel = std::make_shared<IDSelectorShifted>(params.sel, offsets_[s]);
  }
  return inner;
}

void IndexShards::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                              const SearchParams& params) const {
  const size_t nshards = shards_.size(), kk = static_cast<size_t>(k);
  if (nshards == 0) {  // an empty index
    merge_knn_results(0, n, kk, nullptr, nullptr, metric_, distances, labels);
    return;
  }
  const size_t chunk = std::max<size_t>(1, kMaxBufferedResults / (nshards * kk));
  // Few queries leave the threads of a shard's own search idle: search the shards side by side.
  const bool parallel = n < get_num_threads();
  std::vector<float> D;
  std::vector<idx_t> I;
  for (idx_t q0 = 0; q0 < n; q0 += static_cast<idx_t>(chunk)) {
    const size_t m = std::min<size_t>(chunk, n - q0);
    D.resize(nshards * m * kk);
    I.resize(nshards * m * kk);
    for_each_shard(parallel, [&](size_t s) {
      float* Ds = D.data() + s * m * kk;
      idx_t* Is = I.data() + s * m * kk;
      search_nested(*shards_[s], m, x + q0 * d_, k, Ds, Is, nullptr, shard_params(params, s));
      const idx_t offset = successive_ids_ ? offsets_[s] : 0;
      if (offset != 0) {
        for (size_t j = 0; j < m * kk; j++) Is[j] += Is[j] >= 0 ? offset : 0;
      }
    });
    merge_knn_results(nshards, m, kk, D.data(), I.data(), metric_, distances + q0 * k, labels + q0 * k);
  }
}

void IndexShards::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                    RangeSearchResult& result) const {
  std::vector<RangeSearchResult> parts(shards_.size());
  for_each_shard(n < get_num_threads(), [&](size_t s) {
    parts[s] = shards_[s]->range_search(n, x, radius, shard_params(params, s));
    const idx_t offset = successive_ids_ ? offsets_[s] : 0;
    for (idx_t& label : parts[s].labels) label += offset;
  });
  result = merge_range_results(parts, metric_);
}

void IndexShards::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(!shards_.empty(), "id ", key, " is not in the index (it has no shards)");
  if (successive_ids_) {
    SEXTANT_CHECK(key >= 0, "id ", key, " is not in the index");
    const size_t s = std::upper_bound(offsets_.begin(), offsets_.end(), key) - offsets_.begin() - 1;
    shards_[s]->reconstruct(key - offsets_[s], recons);
    return;
  }
  // Shards that keep ids do not say which holds an id: ask each in turn.
  std::string errors;
  for (size_t s = 0; s < shards_.size(); s++) {
    try {
      shards_[s]->reconstruct(key, recons);
      return;
    } catch (const Error& e) {
      errors += "; shard " + std::to_string(s) + ": " + e.what();
    }
  }
  SEXTANT_FAIL("id ", key, " is in no shard", errors);
}

size_t IndexShards::remove_ids_impl(const IDSelector& sel) {
  std::shared_ptr<const IDSelector> global(&sel, [](const IDSelector*) {});
  size_t removed = 0;
  for (size_t s = 0; s < shards_.size(); s++) {
    const idx_t offset = successive_ids_ ? offsets_[s] : 0;
    removed += offset == 0 ? shards_[s]->remove_ids(sel) : shards_[s]->remove_ids(IDSelectorShifted(global, offset));
  }
  if (removal_closes_up_ids()) {
    for (size_t s = 1; s < shards_.size(); s++) offsets_[s] = offsets_[s - 1] + shards_[s - 1]->ntotal();
  }
  sync_ntotal();
  return removed;
}

void IndexShards::reset_impl() {
  for (const auto& s : shards_) s->reset();
  std::fill(offsets_.begin(), offsets_.end(), idx_t{0});
  next_id_ = 0;
  ntotal_ = 0;
}

}  // namespace sextant
