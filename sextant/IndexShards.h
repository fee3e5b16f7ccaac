#pragma once

#include <memory>
#include <vector>

#include "sextant/Index.h"

namespace sextant {

/// A collection split over several indexes (shards) that is searched as one:
/// every shard is searched and their results merged exactly, so the answer is
/// the one a single index holding all the vectors would give (ties go to the
/// smaller id). The shards may be of any type, trained alike or not (IVF
/// shards may share one coarse quantizer); they have this index's dimension
/// and metric. Shards are owned jointly: the caller may keep using them.
///
/// Ids, as Faiss's IndexShards:
/// - successive_ids (the default): each shard numbers its own vectors from 0,
///   and shard s's ids are shifted past those of the shards before it. add()
///   fills empty shards in one pass, shard s taking the s-th contiguous block;
///   add_with_ids() is refused. A shard added filled (add_shard) brings its
///   ntotal ids. Removal from shards that close up their ids closes up the
///   global ids too.
/// - otherwise the shards keep the ids they are given (IVF, IDMap shards):
///   add_with_ids() passes the caller's ids on, add() numbers vectors from the
///   last id add() gave, both splitting the batch into contiguous blocks.
class IndexShards : public Index {
 public:
  explicit IndexShards(int d, MetricType metric = MetricType::L2, bool successive_ids = true);
  std::string type_name() const override { return "IndexShards"; }
  /// Trained when every shard is.
  bool is_trained() const override;
  /// The knobs every shard reads.
  KnobSet search_knobs() const override;
  bool removal_closes_up_ids() const override;

  /// Appends a shard (same d and metric; any ntotal, see the class comment).
  void add_shard(std::shared_ptr<Index> shard);
  size_t nshards() const { return shards_.size(); }
  const std::shared_ptr<Index>& shard(size_t s) const;
  bool successive_ids() const { return successive_ids_; }
  /// What shard s adds to its own ids (0 unless successive_ids).
  idx_t id_offset(size_t s) const;
  /// Restoring a saved index (successive_ids): the id offset of every shard,
  /// from 0 and non-decreasing.
  void set_id_offsets(std::vector<idx_t> offsets);
  /// The id add() gives next without successive_ids; restoring a saved index sets it.
  idx_t next_id() const { return next_id_; }
  void set_next_id(idx_t next_id);

 protected:
  /// Trains every untrained shard on the same vectors.
  void train_impl(idx_t n, const float* x) override;
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;

 private:
  /// params with the selector turned into one over shard s's own ids.
  SearchParams shard_params(const SearchParams& params, size_t s) const;
  /// Runs fn(s) for every shard: in parallel, one thread per shard, when
  /// `parallel`, else one shard after the other (each then uses every thread).
  template <class Fn>
  void for_each_shard(bool parallel, Fn&& fn) const;
  void sync_ntotal();

  std::vector<std::shared_ptr<Index>> shards_;
  std::vector<idx_t> offsets_;  // successive_ids: the first id of each shard
  bool successive_ids_;
  idx_t next_id_ = 0;
};

}  // namespace sextant
