#include "sextant/IndexIVFPQFastScan.h"

#include <vector>

#include "sextant/base/Error.h"
#include "sextant/impl/BlockInvertedLists.h"
#include "sextant/impl/FastScan.h"

namespace sextant {

namespace {

class FastScanListScanner final : public InvertedListScanner {
 public:
  explicit FastScanListScanner(const IndexIVFPQ& index)
      : InvertedListScanner(index.metric()),
        pq_(index.pq()),
        tables_(index),
        keys_(pq_.M() * 16),
        code_(pq_.code_size()) {}

  void set_query(const float* x) override {
    tables_.set_query(x);
    if (!tables_.table_per_list()) quantize(0);  // one table for every list
  }
  void set_list(size_t list, float coarse) override {
    tables_.set_list(list, coarse);
    if (tables_.table_per_list()) {
      quantize(tables_.list_term());
    } else {
      lut_.set_offset(key_sign() * tables_.list_term());
    }
  }
  void score(const uint8_t* codes, size_t n, float* out) const override {
    pq_.score(tables_.table(), codes, n, out);
    for (size_t j = 0; j < n; j++) out[j] += tables_.list_term();
  }
  void scan(const uint8_t* blocks, const idx_t* ids, size_t n, size_t, TopKHeap& heap,
            const IDSelector* sel) const override {
    fastscan::scan_blocks(kernels(), blocks, 0, n, pq_.M(), lut_, ids, heap, sel);
  }
  // Exact (float table) distances for range search: decode the block layout.
  void scan_range(const uint8_t* blocks, const idx_t* ids, size_t n, size_t, float radius, const IDSelector* sel,
                  std::vector<std::pair<float, idx_t>>& hits) const override {
    const bool l2 = metric_ == MetricType::L2;
    for (size_t j = 0; j < n; j++) {
      fastscan::get_code(blocks, pq_.M(), j, code_.data());
      float dist;
      score(code_.data(), 1, &dist);
      if ((l2 ? dist < radius : dist > radius) && (sel == nullptr || sel->is_member(ids[j]))) {
        hits.emplace_back(dist, ids[j]);
      }
    }
  }

 private:
  // Keys are smaller-is-better: the table (plus the list term) for L2, its negation for IP.
  float key_sign() const { return metric_ == MetricType::L2 ? 1.0f : -1.0f; }
  void quantize(float list_term) {
    const float term = list_term / float(pq_.M());  // spread over the sub-quantizers
    for (size_t i = 0; i < keys_.size(); i++) keys_[i] = key_sign() * (tables_.table()[i] + term);
    lut_.build(keys_.data(), pq_.M());
  }

  const ProductQuantizer& pq_;
  PQListTables tables_;
  std::vector<float> keys_;
  mutable std::vector<uint8_t> code_;
  fastscan::QuantizedLUT lut_;
};

}  // namespace

IndexIVFPQFastScan::IndexIVFPQFastScan(std::shared_ptr<Index> quantizer, int d, size_t nlist, size_t M,
                                       MetricType metric, bool by_residual)
    : IndexIVFPQ(std::move(quantizer), d, nlist, M, 4, metric, by_residual) {
  SEXTANT_CHECK(M <= fastscan::kMaxM, "fast-scan supports up to M=", fastscan::kMaxM,
                " sub-quantizers (16-bit sums), got ", M);
  replace_invlists(std::make_unique<BlockInvertedLists>(nlist, fastscan::BlockLayout{M}));
}

std::unique_ptr<InvertedListScanner> IndexIVFPQFastScan::make_scanner() const {
  return std::make_unique<FastScanListScanner>(*this);
}

}  // namespace sextant
