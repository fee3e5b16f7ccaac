#include "sextant/IndexPQFastScan.h"

#include <vector>

#include "sextant/base/Error.h"
#include "sextant/impl/FastScan.h"

namespace sextant {

namespace {

// Exact look-ups (float table) for scores; quantized look-ups for the k-NN scan.
class FastScanScorer final : public CodeScorer {
 public:
  FastScanScorer(const ProductQuantizer& pq, MetricType metric, const uint8_t* blocks)
      : CodeScorer(metric), pq_(pq), blocks_(blocks), table_(pq.M() * 16), keys_(table_.size()) {}

  void set_query(const float* x) override {
    pq_.compute_table(x, metric_, table_.data());
    const float sign = metric_ == MetricType::L2 ? 1.0f : -1.0f;  // keys: smaller is better
    for (size_t i = 0; i < table_.size(); i++) keys_[i] = sign * table_[i];
    lut_.build(keys_.data(), pq_.M());
  }

  void score(size_t j0, size_t n, float* out) override {
    std::vector<uint8_t> code(pq_.code_size());
    for (size_t j = 0; j < n; j++) {
      fastscan::get_code(blocks_, pq_.M(), j0 + j, code.data());
      pq_.score(table_.data(), code.data(), 1, out + j);
    }
  }

  void scan(size_t j0, size_t j1, TopKHeap& heap, const IDSelector* sel) override {
    fastscan::scan_blocks(kernels(), blocks_, j0, j1, pq_.M(), lut_, nullptr, heap, sel);
  }

 private:
  const ProductQuantizer& pq_;
  const uint8_t* blocks_;
  std::vector<float> table_, keys_;
  fastscan::QuantizedLUT lut_;
};

}  // namespace

IndexPQFastScan::IndexPQFastScan(int d, size_t M, MetricType metric)
    : Index(d, metric, false), pq_(static_cast<size_t>(d), M, 4), codes_(fastscan::BlockLayout{M, 0}) {
  SEXTANT_CHECK(M <= fastscan::kMaxM, "fast-scan supports up to M=", fastscan::kMaxM,
                " sub-quantizers (16-bit sums), got ", M);
}

void IndexPQFastScan::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids");
  std::vector<uint8_t> codes(static_cast<size_t>(n) * pq_.code_size());
  pq_.encode(n, x, codes.data());
  add_sa_codes(n, codes.data());
}

void IndexPQFastScan::add_sa_codes(idx_t n, const uint8_t* codes) {
  SEXTANT_CHECK(n >= 0 && (n == 0 || codes != nullptr), "add_sa_codes: codes must not be null");
  codes_.append(size_t(n), codes);
  ntotal_ += n;
}

CodeScorerFactory IndexPQFastScan::scorers() const {
  return [this] { return std::make_unique<FastScanScorer>(pq_, metric_, codes_.data()); };
}

void IndexPQFastScan::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                  const SearchParams& params) const {
  search_codes(n, x, d_, ntotal_, k, metric_, params.sel.get(), scorers(), distances, labels);
}

void IndexPQFastScan::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                        RangeSearchResult& result) const {
  result = range_search_codes(n, x, d_, ntotal_, radius, metric_, params.sel.get(), scorers());
}

void IndexPQFastScan::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  std::vector<uint8_t> code(pq_.code_size());
  codes_.get(size_t(key), code.data());
  pq_.decode(1, code.data(), recons);
}

size_t IndexPQFastScan::remove_ids_impl(const IDSelector& sel) {
  const size_t removed = codes_.remove_if([&](size_t i) { return sel.is_member(idx_t(i)); });
  ntotal_ -= idx_t(removed);
  return removed;
}

void IndexPQFastScan::merge_from_impl(Index& other_index, idx_t add_id) {
  check_append_id(add_id);
  auto& other = dynamic_cast<IndexPQFastScan&>(other_index);
  SEXTANT_CHECK(pq_.same_codebooks(other.pq_),
                "cannot merge: the product quantizers differ (train one index, then copy it for each part)");
  // Codes sit in blocks of 32 interleaved codes: repack them after ours.
  std::vector<uint8_t> codes(static_cast<size_t>(other.ntotal_) * pq_.code_size());
  for (idx_t i = 0; i < other.ntotal_; i++) {
    other.codes_.get(size_t(i), codes.data() + i * pq_.code_size());
  }
  add_sa_codes(other.ntotal_, codes.data());
  other.reset();
}

void IndexPQFastScan::reset_impl() {
  codes_.clear();
  ntotal_ = 0;
}

}  // namespace sextant
