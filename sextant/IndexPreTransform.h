#pragma once

#include <memory>
#include <vector>

#include "sextant/Index.h"
#include "sextant/VectorTransform.h"

namespace sextant {

/// An index behind a chain of vector transforms (PCA, OPQ, rotations,
/// normalisation): vectors and queries go through the chain, in order, before
/// reaching the index; reconstruction comes back through the reverse chain.
class IndexPreTransform : public Index {
 public:
  IndexPreTransform(std::shared_ptr<VectorTransform> transform, std::shared_ptr<Index> index);
  IndexPreTransform(std::vector<std::shared_ptr<VectorTransform>> chain, std::shared_ptr<Index> index);
  std::string type_name() const override { return "IndexPreTransform"; }
  KnobSet search_knobs() const override { return index_->search_knobs(); }
  bool removal_closes_up_ids() const override { return index_->removal_closes_up_ids(); }
  /// The inner index's bounds, where every transform keeps distances: they then bound the
  /// error on the distances between the untransformed vectors too.
  bool has_error_bounds() const override;
  void error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const override;
  std::pair<const Index*, const float*> bounded_target(idx_t n, const float* x,
                                                       std::vector<float>& buffer) const override;
  bool is_trained() const override;

  const std::vector<std::shared_ptr<VectorTransform>>& chain() const { return chain_; }
  const std::shared_ptr<Index>& index() const { return index_; }
  /// Puts a transform in front of the chain (its output must fit the chain's input).
  void prepend_transform(std::shared_ptr<VectorTransform> transform);

  /// Runs n vectors through the whole chain (out: n x index().d()).
  void apply_chain(idx_t n, const float* x, float* out) const;

 protected:
  void train_impl(idx_t n, const float* x) override;
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  /// The transformed queries, grouped by the index inside.
  void search_grouped_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                           const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t sa_code_size_impl() const override { return index_->sa_code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override;
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override;
  size_t remove_ids_impl(const IDSelector& sel) override { return sync(index_->remove_ids(sel)); }
  void reset_impl() override;
  /// Same chain (trained alike): the indexes inside merge.
  void merge_from_impl(Index& other, idx_t add_id) override;

 private:
  /// Back through the chain: n vectors of index().d() to d().
  void reverse_chain(idx_t n, const float* xt, float* out) const;
  /// Transforms the queries a chunk at a time and searches the index inside,
  /// grouped when order is not null.
  void search_transformed(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                          const SearchParams& params) const;
  size_t sync(size_t result) {
    ntotal_ = index_->ntotal();
    return result;
  }

  std::vector<std::shared_ptr<VectorTransform>> chain_;
  std::shared_ptr<Index> index_;
};

}  // namespace sextant
