#include "sextant/IndexIVFRaBitQFastScan.h"

#include <algorithm>
#include <vector>

#include "sextant/impl/BlockInvertedLists.h"
#include "sextant/impl/RaBitQFastScan.h"

namespace sextant {

namespace {

constexpr size_t kFactorFloats = sizeof(RaBitQuantizer::Factors) / sizeof(float);

class RaBitQFastScanListScanner final : public InvertedListScanner {
 public:
  explicit RaBitQFastScanListScanner(const IndexIVFRaBitQFastScan& index)
      : InvertedListScanner(index.metric()),
        index_(index),
        lists_(static_cast<const BlockInvertedLists&>(index.invlists())),
        scorer_(index.rabitq(), index.qb()),
        centroid_(index.d()),
        code_(index.code_size()) {}

  void set_query(const float* x) override { x_ = x; }
  void set_list(size_t list, float) override {
    list_ = list;
    index_.centroid(list, centroid_.data());
    scorer_.set_query(x_, centroid_.data());
  }
  void score(const uint8_t* codes, size_t n, float* out) const override { scorer_.score(codes, n, out); }

  void scan(const uint8_t* blocks, const idx_t* ids, size_t n, size_t, TopKHeap& heap,
            const IDSelector* sel) const override {
    const Kernels& k = kernels();
    const size_t np = fastscan::npairs(scorer_.M()), stride = lists_.block_stride();
    const uint8_t* luts = scorer_.lut().bytes();
    uint16_t sums[fastscan::kBlock];
    float keys[fastscan::kBlock];
    for (size_t j0 = 0; j0 < n; j0 += fastscan::kBlock) {
      const uint8_t* block = blocks + j0 / fastscan::kBlock * stride;
      k.fastscan_sums(block, np, luts, sums);
      const float* factors = lists_.aux(block);
      scorer_.block_keys(sums, factors, factors + fastscan::kBlock, keys);
      const size_t count = std::min(fastscan::kBlock, n - j0);
      float bound = heap.admission_bound();
      for (size_t v = 0; v < count; v++) {
        if (!(keys[v] < bound)) continue;
        const idx_t id = ids[j0 + v];
        if (sel != nullptr && !sel->is_member(id)) continue;
        heap.push(keys[v], id);
        bound = heap.admission_bound();
      }
    }
  }
  // Range search scores the plain codes with the float table.
  void scan_range(const uint8_t*, const idx_t* ids, size_t n, size_t, float radius, const IDSelector* sel,
                  std::vector<std::pair<float, idx_t>>& hits) const override {
    const bool l2 = metric_ == MetricType::L2;
    for (size_t j = 0; j < n; j++) {
      lists_.get_code(list_, j, code_.data());
      float dist;
      score(code_.data(), 1, &dist);
      if ((l2 ? dist < radius : dist > radius) && (sel == nullptr || sel->is_member(ids[j]))) {
        hits.emplace_back(dist, ids[j]);
      }
    }
  }

 private:
  const IndexIVFRaBitQFastScan& index_;
  const BlockInvertedLists& lists_;
  RaBitQFastScanScorer scorer_;
  std::vector<float> centroid_;
  mutable std::vector<uint8_t> code_;
  const float* x_ = nullptr;
  size_t list_ = 0;
};

}  // namespace

IndexIVFRaBitQFastScan::IndexIVFRaBitQFastScan(std::shared_ptr<Index> quantizer, int d, size_t nlist,
                                               MetricType metric)
    : IndexIVFRaBitQ(std::move(quantizer), d, nlist, metric) {
  set_qb(8);
  replace_invlists(std::make_unique<BlockInvertedLists>(nlist, (size_t(d) + 3) / 4, kFactorFloats));
}

std::unique_ptr<InvertedListScanner> IndexIVFRaBitQFastScan::make_scanner() const {
  return std::make_unique<RaBitQFastScanListScanner>(*this);
}

}  // namespace sextant
