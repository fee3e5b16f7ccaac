#pragma once

#include <vector>

#include "sextant/Index.h"
#include "sextant/impl/FastScan.h"
#include "sextant/impl/RaBitQuantizer.h"
#include "sextant/impl/code_search.h"

namespace sextant {

/// Exhaustive search over RaBitQ codes in the fast-scan block layout (Faiss's
/// IndexRaBitQFastScan, factory "RaBitQfs[<nb_bits>]"): IndexRaBitQ's codes and
/// centroid, scored 32 at a time as IndexIVFRaBitQFastScan scores a list
/// (impl/RaBitQFastScan.h). qb (8 by default, as Faiss) rounds the query's
/// residual before its table is built; 0 builds it from floats.
class IndexRaBitQFastScan : public Index {
 public:
  IndexRaBitQFastScan(int d, MetricType metric = MetricType::L2, int nb_bits = 1);
  std::string type_name() const override { return "IndexRaBitQFastScan"; }
  bool removal_closes_up_ids() const override { return true; }
  bool is_trained() const override { return !center_.empty(); }

  const RaBitQuantizer& rabitq() const { return rabitq_; }
  /// The centroid the codes are taken against (empty until trained).
  const std::vector<float>& center() const { return center_; }
  /// Restores a trained centroid (loaders): d values, finite.
  void set_center(std::vector<float> center);
  int qb() const { return qb_; }
  void set_qb(int qb);
  /// The codes in blocks (RaBitQFastScanScorer::layout).
  const uint8_t* blocks() const { return codes_.data(); }
  /// Copies code i in the plain layout (as sa_encode makes it) to out.
  void get_code(idx_t i, uint8_t* out) const { codes_.get(size_t(i), out); }
  /// Appends n plain codes without encoding again; their factors must be finite.
  void add_sa_codes(idx_t n, const uint8_t* codes);

  /// As IndexRaBitQ::error_bounds.
  bool has_error_bounds() const override { return true; }
  void error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const override;

 protected:
  void train_impl(idx_t n, const float* x) override { set_center(rabitq_.train(size_t(n), x)); }
  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t sa_code_size_impl() const override { return rabitq_.code_size(); }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override {
    rabitq_.encode(size_t(n), x, center_.data(), codes);
  }
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override {
    rabitq_.decode(size_t(n), codes, center_.data(), x);
  }
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;
  void merge_from_impl(Index& other, idx_t add_id) override;

 private:
  CodeScorerFactory scorers() const;

  RaBitQuantizer rabitq_;
  std::vector<float> center_;
  int qb_ = 8;
  fastscan::BlockCodes codes_;
};

}  // namespace sextant
