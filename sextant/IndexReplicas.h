#pragma once

#include <memory>
#include <vector>

#include "sextant/Index.h"

namespace sextant {

/// The same collection held by several indexes (replicas) that share the
/// queries of a search: each replica answers a contiguous block of them on a
/// thread of its own (the replica's own search then runs on that one thread).
/// In-process replicas pay off for indexes that wait on a device (GPU
/// indexes) or with at least as many replicas as threads; across machines,
/// sextant.distributed serves replicas of each shard.
///
/// The replicas hold the same vectors under the same ids: add(),
/// add_with_ids(), remove_ids() and reset() go to every one, and a replica
/// joins with as many vectors as the others. Owned jointly with the caller.
class IndexReplicas : public Index {
 public:
  explicit IndexReplicas(int d, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexReplicas"; }
  /// Trained when every replica is.
  bool is_trained() const override;
  /// The knobs every replica reads.
  KnobSet search_knobs() const override;
  bool removal_closes_up_ids() const override;

  /// Appends a replica: same d and metric, and as many vectors as the others.
  void add_replica(std::shared_ptr<Index> replica);
  size_t nreplicas() const { return replicas_.size(); }
  const std::shared_ptr<Index>& replica(size_t r) const;

 protected:
  /// Trains every untrained replica on the same vectors.
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
  /// Every replica still holds ntotal() vectors after `what` changed them.
  void check_in_step(const char* what);

  std::vector<std::shared_ptr<Index>> replicas_;
};

}  // namespace sextant
