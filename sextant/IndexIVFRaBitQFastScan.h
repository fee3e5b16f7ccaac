#pragma once

#include "sextant/IndexIVFRaBitQ.h"

namespace sextant {

/// IndexIVFRaBitQ whose lists keep the codes in the fast-scan block layout
/// (Faiss's IndexIVFRaBitQFastScan, factory "IVF<nlist>,RaBitQfs[<nb_bits>]"):
/// the sign bits of 32 vectors are scored with byte shuffles 4 dimensions at a
/// time (impl/RaBitQFastScan.h), then each vector's factors, kept beside its
/// block, finish its estimate (with more bits, the multi-bit one where the
/// 1-bit bound leaves a chance). Codes, encoding and error bounds are
/// IndexIVFRaBitQ's; 1-bit estimates differ from its qb = 0 ones by the 8-bit
/// table. qb (8 by default, as Faiss) rounds the query's residual before the
/// table is built; 0 builds it from floats.
class IndexIVFRaBitQFastScan : public IndexIVFRaBitQ {
 public:
  IndexIVFRaBitQFastScan(std::shared_ptr<Index> quantizer, int d, size_t nlist, MetricType metric = MetricType::L2,
                         int nb_bits = 1);
  std::string type_name() const override { return "IndexIVFRaBitQFastScan"; }

 protected:
  std::unique_ptr<InvertedListScanner> make_scanner() const override;
};

}  // namespace sextant
