#pragma once

#include "sextant/Index.h"
#include "sextant/base/Storage.h"
#include "sextant/impl/ProjectedRows.h"

namespace sextant {

/// Exact search over vectors stored as they are. Ids are the insertion order
/// 0 .. ntotal-1 (remove_ids closes the gaps); wrap the index in IndexIDMap to
/// choose ids. Large query batches run as BLAS GEMM tiles with fused
/// k-selection, small ones on the SIMD kernels (see knn()). An L2 index of
/// long rows (d >= 256) and moderate size, such as the coarse quantizer of an
/// IVF index, also keeps low-dimensional projections of its rows when they
/// rule most rows out, so that a search for few neighbours reads only the
/// rows that can be among them (impl/ProjectedRows.h); the answer is the same.
class IndexFlat : public Index {
 public:
  explicit IndexFlat(int d, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexFlat"; }
  bool removal_closes_up_ids() const override { return true; }

  /// The stored vectors, ntotal() x d() row-major.
  const float* vectors() const { return xb_.data(); }
  /// Squared L2 norms of the stored vectors (L2 only; empty for inner product).
  const Storage<float>& norms() const { return norms_; }

  /// Replaces the contents with n vectors (n x d floats) and, for L2, their
  /// squared norms (computed when `norms` is empty). Loaders use it to serve
  /// a memory-mapped file: borrowed storage makes the index read-only.
  void set_vectors(idx_t n, Storage<float> vectors, Storage<float> norms = {});

 protected:
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t sa_code_size_impl() const override;
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override;
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override;
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;
  void merge_from_impl(Index& other, idx_t add_id) override;

 private:
  /// Derives, extends or drops the projections after rows [first_new, ntotal) arrived.
  void update_projections(size_t first_new);

  Storage<float> xb_;
  Storage<float> norms_;  // squared L2 norms of the rows (L2 only): saves a pass over xb_ per search
  ProjectedRows projections_;  // empty unless worthwhile
  bool projections_decided_ = false;
};

/// IndexFlat with the L2 metric.
class IndexFlatL2 : public IndexFlat {
 public:
  explicit IndexFlatL2(int d) : IndexFlat(d, MetricType::L2) {}
  std::string type_name() const override { return "IndexFlatL2"; }
};

/// IndexFlat with the inner-product metric.
class IndexFlatIP : public IndexFlat {
 public:
  explicit IndexFlatIP(int d) : IndexFlat(d, MetricType::INNER_PRODUCT) {}
  std::string type_name() const override { return "IndexFlatIP"; }
};

}  // namespace sextant
