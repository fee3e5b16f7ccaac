#pragma once

#include "sextant/IndexIVFPQ.h"

namespace sextant {

/// IndexIVFPQ with 4-bit codes scanned by fast-scan (impl/FastScan.h): each
/// (query, list) look-up table is quantized to 8 bits and the list's codes,
/// kept in blocks of 32 (BlockInvertedLists), are looked up 32 at a time.
/// Distances are those of IndexIVFPQ up to the table quantization; re-rank
/// with IndexRefine ("IVF1024,PQ16x4fs,RFlat") for exact ones. Without
/// residuals (factory "...x4fs"), one table serves all the lists of a query.
class IndexIVFPQFastScan : public IndexIVFPQ {
 public:
  IndexIVFPQFastScan(std::shared_ptr<Index> quantizer, int d, size_t nlist, size_t M,
                     MetricType metric = MetricType::L2, bool by_residual = true);
  std::string type_name() const override { return "IndexIVFPQFastScan"; }

 protected:
  std::unique_ptr<InvertedListScanner> make_scanner() const override;
};

}  // namespace sextant
