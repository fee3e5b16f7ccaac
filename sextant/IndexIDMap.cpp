#include "sextant/IndexIDMap.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "sextant/base/Error.h"

namespace sextant {

namespace {

// Accepts position i of the wrapped index when the caller's selector accepts its id.
class PositionSelector final : public IDSelector {
 public:
  PositionSelector(const std::vector<idx_t>& id_map, std::shared_ptr<const IDSelector> by_id)
      : id_map_(id_map), by_id_(std::move(by_id)) {}
  bool is_member(idx_t i) const override {
    return i >= 0 && static_cast<size_t>(i) < id_map_.size() && by_id_->is_member(id_map_[i]);
  }

 private:
  const std::vector<idx_t>& id_map_;
  std::shared_ptr<const IDSelector> by_id_;
};

// The id of position p of the wrapped index. Its labels may come from a
// memory-mapped file that changed after it was checked: never trusted blindly.
idx_t id_at(const std::vector<idx_t>& id_map, idx_t p) {
  SEXTANT_CHECK(p >= 0 && static_cast<size_t>(p) < id_map.size(), "IndexIDMap: the wrapped index returned position ",
                p, ", outside [0, ", id_map.size(), ") (a memory-mapped index file modified in place?)");
  return id_map[p];
}

const Index& empty_index(const std::shared_ptr<Index>& index) {
  SEXTANT_CHECK(index != nullptr, "IndexIDMap needs an index to wrap, got null");
  SEXTANT_CHECK(index->ntotal() == 0, "IndexIDMap needs an empty index to wrap, got one with ntotal=",
                index->ntotal());
  return *index;
}

const Index& filled_index(const std::shared_ptr<Index>& index, const std::vector<idx_t>& id_map) {
  SEXTANT_CHECK(index != nullptr, "IndexIDMap needs an index to wrap, got null");
  SEXTANT_CHECK(index->ntotal() == static_cast<idx_t>(id_map.size()), "IndexIDMap: the wrapped index holds ",
                index->ntotal(), " vectors, but the id map has ", id_map.size(), " ids");
  for (size_t i = 0; i < id_map.size(); i++)
    SEXTANT_CHECK(id_map[i] >= 0, "IndexIDMap: id ", id_map[i], " at position ", i, " is negative (-1 means no result)");
  return *index;
}

}  // namespace

IndexIDMap::IndexIDMap(std::shared_ptr<Index> index)
    : Index(empty_index(index).d(), empty_index(index).metric(), empty_index(index).is_trained()),
      index_(std::move(index)) {}

IndexIDMap::IndexIDMap(std::shared_ptr<Index> index, std::vector<idx_t> id_map)
    : Index(filled_index(index, id_map).d(), filled_index(index, id_map).metric(),
            filled_index(index, id_map).is_trained()),
      index_(std::move(index)),
      id_map_(std::move(id_map)) {
  ntotal_ = static_cast<idx_t>(id_map_.size());
}

void IndexIDMap::train_impl(idx_t n, const float* x) { index_->train(n, x); }

void IndexIDMap::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids != nullptr, type_name(), " needs the ids of the vectors: use add_with_ids()");
  id_map_.reserve(id_map_.size() + n);  // nothing can fail once the wrapped index holds the vectors
  index_->add(n, x);
  id_map_.insert(id_map_.end(), ids, ids + n);
  ntotal_ = static_cast<idx_t>(id_map_.size());
}

SearchParams IndexIDMap::positional(const SearchParams& params) const {
  SearchParams inner = params;
  if (params.sel) inner.sel = std::make_shared<PositionSelector>(id_map_, params.sel);
  return inner;
}

void IndexIDMap::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                             const SearchParams& params) const {
  search_nested(*index_, n, x, k, distances, labels, nullptr, positional(params));
  for (size_t i = 0; i < static_cast<size_t>(n) * k; i++) {
    if (labels[i] >= 0) labels[i] = id_at(id_map_, labels[i]);
  }
}

void IndexIDMap::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                   RangeSearchResult& result) const {
  result = index_->range_search(n, x, radius, positional(params));
  for (idx_t& label : result.labels) label = id_at(id_map_, label);
}

size_t IndexIDMap::remove_ids_impl(const IDSelector& sel) {
  // Positions close up in the wrapped index, so the map closes up the same way.
  SEXTANT_CHECK(index_->removal_closes_up_ids(), type_name(), " cannot remove from ", index_->type_name(),
                ": it keeps ids rather than positions (give it the ids directly with add_with_ids)");
  std::shared_ptr<const IDSelector> by_id(&sel, [](const IDSelector*) {});
  const size_t removed = index_->remove_ids(PositionSelector(id_map_, by_id));
  auto end = std::remove_if(id_map_.begin(), id_map_.end(), [&](idx_t id) { return sel.is_member(id); });
  id_map_.erase(end, id_map_.end());
  ntotal_ = static_cast<idx_t>(id_map_.size());
  return removed;
}

void IndexIDMap::reset_impl() {
  index_->reset();
  id_map_.clear();
  ntotal_ = 0;
}

void IndexIDMap::merge_from_impl(Index& other_index, idx_t add_id) {
  auto& other = dynamic_cast<IndexIDMap&>(other_index);
  for (idx_t id : other.id_map_) {
    SEXTANT_CHECK(id <= std::numeric_limits<idx_t>::max() - add_id, "merge_from: id ", id, " + add_id ", add_id,
                  " overflows");
  }
  index_->merge_from(*other.index_, index_->ntotal());  // after its own positions
  for (idx_t id : other.id_map_) id_map_.push_back(id + add_id);
  other.id_map_.clear();
  ntotal_ = static_cast<idx_t>(id_map_.size());
  other.ntotal_ = 0;
}

IndexIDMap2::IndexIDMap2(std::shared_ptr<Index> index, std::vector<idx_t> id_map)
    : IndexIDMap(std::move(index), std::move(id_map)) {
  for (size_t i = 0; i < id_map_.size(); i++) {
    SEXTANT_CHECK(position_of_.emplace(id_map_[i], static_cast<idx_t>(i)).second, type_name(),
                  " needs unique ids: id ", id_map_[i], " is present twice");
  }
}

void IndexIDMap2::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids != nullptr, type_name(), " needs the ids of the vectors: use add_with_ids()");
  std::unordered_set<idx_t> batch;
  for (idx_t i = 0; i < n; i++) {
    SEXTANT_CHECK(!position_of_.count(ids[i]) && batch.insert(ids[i]).second, type_name(),
                  " needs unique ids: id ", ids[i], " is already present");
  }
  const idx_t first = ntotal_;
  IndexIDMap::add_impl(n, x, ids);
  for (idx_t i = 0; i < n; i++) position_of_[ids[i]] = first + i;
}

void IndexIDMap2::reconstruct_impl(idx_t key, float* recons) const {
  auto it = position_of_.find(key);
  SEXTANT_CHECK(it != position_of_.end(), "id ", key, " is not in the index");
  index_->reconstruct(it->second, recons);
}

size_t IndexIDMap2::remove_ids_impl(const IDSelector& sel) {
  size_t removed = IndexIDMap::remove_ids_impl(sel);
  position_of_.clear();
  for (size_t i = 0; i < id_map_.size(); i++) position_of_[id_map_[i]] = static_cast<idx_t>(i);
  return removed;
}

void IndexIDMap2::merge_from_impl(Index& other_index, idx_t add_id) {
  auto& other = dynamic_cast<IndexIDMap2&>(other_index);
  for (idx_t id : other.id_map_) {
    SEXTANT_CHECK(id > std::numeric_limits<idx_t>::max() - add_id || !position_of_.count(id + add_id), type_name(),
                  " needs unique ids: id ", id + add_id, " is in both indexes");
  }
  const idx_t first = ntotal_;
  IndexIDMap::merge_from_impl(other, add_id);
  for (idx_t i = first; i < ntotal_; i++) position_of_[id_map_[i]] = i;
  other.position_of_.clear();
}

void IndexIDMap2::reset_impl() {
  IndexIDMap::reset_impl();
  position_of_.clear();
}

}  // namespace sextant
