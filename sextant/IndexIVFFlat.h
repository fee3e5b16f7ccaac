#pragma once

#include "sextant/IndexIVF.h"

namespace sextant {

/// IVF index storing the vectors as they are: exact distances within the probed lists.
class IndexIVFFlat : public IndexIVF {
 public:
  IndexIVFFlat(std::shared_ptr<Index> quantizer, int d, size_t nlist, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexIVFFlat"; }

 protected:
  void encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const override;
  void decode(size_t list, const uint8_t* code, float* x) const override;
  void check_codes(const uint8_t* codes, size_t n) const override;
  std::unique_ptr<InvertedListScanner> make_scanner() const override;
  const float* decode_block(size_t list, const uint8_t* codes, size_t n, float* out) const override;
};

}  // namespace sextant
