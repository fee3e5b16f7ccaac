#pragma once

#include <memory>

#include "sextant/Index.h"

namespace sextant {

class IndexFlat;

/// Re-ranking: the base index (fast, approximate) proposes k * k_factor
/// candidates, the refine index (exact, or more precise) computes their
/// distances again and keeps the best k. Both hold the same vectors under the
/// same ids: add() feeds both.
class IndexRefine : public Index {
 public:
  /// Both indexes must have the same dimension and metric, and hold the same
  /// vectors under the same ids: both empty (the usual case), or both filled
  /// alike (as read_index restores them).
  IndexRefine(std::shared_ptr<Index> base, std::shared_ptr<Index> refine);
  std::string type_name() const override { return "IndexRefine"; }
  /// Ids are positions in the refine index, whose removal decides how they move.
  bool removal_closes_up_ids() const override { return refine_->removal_closes_up_ids(); }
  bool is_trained() const override { return base_->is_trained() && refine_->is_trained(); }
  /// With a base that has error bounds (RaBitQ), rabitq_eps0 too: see search_impl.
  KnobSet search_knobs() const override;

  const std::shared_ptr<Index>& base() const { return base_; }
  const std::shared_ptr<Index>& refine() const { return refine_; }
  /// Default for SearchParams::k_factor (1: re-rank the base's own k).
  float k_factor() const { return k_factor_; }
  void set_k_factor(float k_factor);

 protected:
  void train_impl(idx_t n, const float* x) override;
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  void reconstruct_impl(idx_t key, float* recons) const override { refine_->reconstruct(key, recons); }
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;
  /// The base and refine indexes merge, the other's vectors after this one's.
  void merge_from_impl(Index& other, idx_t add_id) override;

 private:
  /// Exact (refine-index) distances of query x to the n stored vectors ids
  /// (entries with id -1 are skipped); buf is scratch of d floats.
  void refined_distances(const float* x, const idx_t* ids, size_t n, float* out, float* buf) const;

  std::shared_ptr<Index> base_, refine_;
  float k_factor_ = 1;
};

/// IndexRefine whose refine index is an IndexFlat: exact re-ranking.
class IndexRefineFlat : public IndexRefine {
 public:
  explicit IndexRefineFlat(std::shared_ptr<Index> base);
  /// With a given (possibly filled) refine index; see IndexRefine.
  IndexRefineFlat(std::shared_ptr<Index> base, std::shared_ptr<IndexFlat> refine);
  std::string type_name() const override { return "IndexRefineFlat"; }
};

}  // namespace sextant
