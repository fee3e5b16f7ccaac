#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "sextant/Index.h"

namespace sextant {

/// Gives caller-chosen ids to the vectors of an index that numbers them
/// itself (like IndexFlat): the wrapped index stores vectors at positions
/// 0..ntotal-1 and this index maps each position to its id.
class IndexIDMap : public Index {
 public:
  /// `index` must be empty; it may be untrained (train() trains it).
  explicit IndexIDMap(std::shared_ptr<Index> index);
  /// Wraps an index that already holds vectors: id_map[i] is the id of its
  /// vector at position i (id_map.size() == index->ntotal()). For loaders.
  IndexIDMap(std::shared_ptr<Index> index, std::vector<idx_t> id_map);
  std::string type_name() const override { return "IndexIDMap"; }
  KnobSet search_knobs() const override { return index_->search_knobs(); }
  bool is_trained() const override { return index_->is_trained(); }

  const std::shared_ptr<Index>& index() const { return index_; }
  /// id_map()[i] is the id of the vector at position i of index().
  const std::vector<idx_t>& id_map() const { return id_map_; }

 protected:
  void train_impl(idx_t n, const float* x) override;
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  size_t sa_code_size_impl() const override { return index_->sa_code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override { index_->sa_encode(n, x, codes); }
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override { index_->sa_decode(n, codes, x); }
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;
  /// The wrapped indexes merge; the other's ids come along, plus add_id.
  void merge_from_impl(Index& other, idx_t add_id) override;

  /// The same params with the selector (over ids) turned into one over positions.
  SearchParams positional(const SearchParams& params) const;

  std::shared_ptr<Index> index_;
  std::vector<idx_t> id_map_;
};

/// IndexIDMap that can also reconstruct vectors by id; ids must be unique.
class IndexIDMap2 : public IndexIDMap {
 public:
  explicit IndexIDMap2(std::shared_ptr<Index> index) : IndexIDMap(std::move(index)) {}
  /// Wraps a filled index (see IndexIDMap); the ids must be unique.
  IndexIDMap2(std::shared_ptr<Index> index, std::vector<idx_t> id_map);
  std::string type_name() const override { return "IndexIDMap2"; }

 protected:
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;
  void merge_from_impl(Index& other, idx_t add_id) override;

 private:
  std::unordered_map<idx_t, idx_t> position_of_;  // id -> position in index()
};

}  // namespace sextant
