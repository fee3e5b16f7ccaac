#include "sextant/IndexIVFRaBitQFastScan.h"

#include <vector>

#include "sextant/impl/BlockInvertedLists.h"
#include "sextant/impl/RaBitQFastScan.h"

namespace sextant {

namespace {

class RaBitQFastScanListScanner final : public InvertedListScanner {
 public:
  explicit RaBitQFastScanListScanner(const IndexIVFRaBitQFastScan& index)
      : InvertedListScanner(index.metric()),
        index_(index),
        scorer_(index.rabitq(), index.qb()),
        layout_(RaBitQFastScanScorer::layout(index.rabitq())),
        centroid_(index.d()),
        code_(index.code_size()) {}

  void set_query(const float* x) override { x_ = x; }
  void set_list(size_t list, float) override {
    index_.centroid(list, centroid_.data());
    scorer_.set_query(x_, centroid_.data());
  }
  void score(const uint8_t* codes, size_t n, float* out) const override { scorer_.score(codes, n, out); }

  void scan(const uint8_t* blocks, const idx_t* ids, size_t n, size_t, TopKHeap& heap,
            const IDSelector* sel) const override {
    scorer_.scan(blocks, 0, n, ids, heap, sel);
  }
  // Range search scores the plain codes with floats.
  void scan_range(const uint8_t* blocks, const idx_t* ids, size_t n, size_t, float radius, const IDSelector* sel,
                  std::vector<std::pair<float, idx_t>>& hits) const override {
    const bool l2 = metric_ == MetricType::L2;
    for (size_t j = 0; j < n; j++) {
      layout_.get(blocks, j, code_.data());
      float dist;
      score(code_.data(), 1, &dist);
      if ((l2 ? dist < radius : dist > radius) && (sel == nullptr || sel->is_member(ids[j]))) {
        hits.emplace_back(dist, ids[j]);
      }
    }
  }

 private:
  const IndexIVFRaBitQFastScan& index_;
  RaBitQFastScanScorer scorer_;
  fastscan::BlockLayout layout_;
  std::vector<float> centroid_;
  mutable std::vector<uint8_t> code_;
  const float* x_ = nullptr;
};

}  // namespace

IndexIVFRaBitQFastScan::IndexIVFRaBitQFastScan(std::shared_ptr<Index> quantizer, int d, size_t nlist,
                                               MetricType metric, int nb_bits)
    : IndexIVFRaBitQ(std::move(quantizer), d, nlist, metric, nb_bits) {
  set_qb(8);
  replace_invlists(std::make_unique<BlockInvertedLists>(nlist, RaBitQFastScanScorer::layout(rabitq())));
}

std::unique_ptr<InvertedListScanner> IndexIVFRaBitQFastScan::make_scanner() const {
  return std::make_unique<RaBitQFastScanListScanner>(*this);
}

}  // namespace sextant
