#pragma once

#include "sextant/IndexIVF.h"
#include "sextant/impl/ScalarQuantizer.h"

namespace sextant {

/// IVF index whose lists hold scalar-quantised codes, of the residuals to the
/// list centroid by default (as Faiss).
class IndexIVFScalarQuantizer : public IndexIVF {
 public:
  IndexIVFScalarQuantizer(std::shared_ptr<Index> quantizer, int d, size_t nlist, QuantizerType type,
                          MetricType metric = MetricType::L2, bool by_residual = true);
  std::string type_name() const override { return "IndexIVFScalarQuantizer"; }
  ScalarQuantizer& sq() { return sq_; }
  const ScalarQuantizer& sq() const { return sq_; }

 protected:
  bool encoder_is_trained() const override { return sq_.is_trained(); }
  void train_encoder(idx_t n, const float* x, const float* vectors) override;
  void encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const override;
  void decode(size_t list, const uint8_t* code, float* x) const override;
  void check_codes(const uint8_t* codes, size_t n) const override { sq_.check_codes(n, codes); }
  std::unique_ptr<InvertedListScanner> make_scanner() const override;
  const float* decode_block(size_t list, const uint8_t* codes, size_t n, float* out) const override;
  bool same_encoder(const IndexIVF& other) const override {
    return sq_.same_ranges(dynamic_cast<const IndexIVFScalarQuantizer&>(other).sq_);
  }

 private:
  ScalarQuantizer sq_;
};

}  // namespace sextant
