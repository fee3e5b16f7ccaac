#pragma once

#include "sextant/IndexIVF.h"
#include "sextant/impl/RaBitQuantizer.h"

namespace sextant {

/// IVF index whose lists hold RaBitQ codes of nb_bits a dimension taken
/// against the list's centroid (as Faiss's IndexIVFRaBitQ: always by
/// residual; "IVF<nlist>,RaBitQ<nb_bits>"). Lists are scanned with the RaBitQ
/// estimator, query by query.
class IndexIVFRaBitQ : public IndexIVF {
 public:
  IndexIVFRaBitQ(std::shared_ptr<Index> quantizer, int d, size_t nlist, MetricType metric = MetricType::L2,
                 int nb_bits = 1);
  std::string type_name() const override { return "IndexIVFRaBitQ"; }
  const RaBitQuantizer& rabitq() const { return rabitq_; }
  /// Bits a query is quantised to (0: scored in floats); Faiss's default 4.
  int qb() const { return qb_; }
  void set_qb(int qb);

  /// The estimator's error bound for stored vectors ids given query x, as
  /// IndexRaBitQ's, each against its list's centroid. Finds each code by id:
  /// needs the direct map (make_direct_map()).
  bool has_error_bounds() const override { return true; }
  void error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const override;

 protected:
  void encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const override;
  void decode(size_t list, const uint8_t* code, float* x) const override;
  void check_codes(const uint8_t* codes, size_t n) const override { rabitq_.check_codes(n, codes); }
  std::unique_ptr<InvertedListScanner> make_scanner() const override;
  /// Decoded codes keep inner products, not distances: the GEMM path would
  /// not compute the estimator.
  bool supports_list_major_search() const override { return false; }
  bool same_encoder(const IndexIVF& other) const override {
    return rabitq_.nb_bits() == dynamic_cast<const IndexIVFRaBitQ&>(other).rabitq_.nb_bits();
  }

 private:
  RaBitQuantizer rabitq_;
  int qb_ = 4;
};

}  // namespace sextant
