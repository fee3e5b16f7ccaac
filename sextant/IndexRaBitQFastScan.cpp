#include "sextant/IndexRaBitQFastScan.h"

#include <cmath>

#include "sextant/base/Error.h"
#include "sextant/impl/RaBitQFastScan.h"
#include "sextant/utils/kernels.h"

namespace sextant {

namespace {

class RaBitQFastScanCodeScorer final : public CodeScorer {
 public:
  explicit RaBitQFastScanCodeScorer(const IndexRaBitQFastScan& index)
      : CodeScorer(index.metric()), index_(index), scorer_(index.rabitq(), index.qb()), code_(index.sa_code_size()) {}

  void set_query(const float* x) override { scorer_.set_query(x, index_.center().data()); }
  // Range search: floats, from the plain codes.
  void score(size_t j0, size_t n, float* out) override {
    for (size_t j = 0; j < n; j++) {
      index_.get_code(idx_t(j0 + j), code_.data());
      scorer_.score(code_.data(), 1, out + j);
    }
  }
  void scan(size_t j0, size_t j1, TopKHeap& heap, const IDSelector* sel) override {
    scorer_.scan(index_.blocks(), j0, j1, nullptr, heap, sel);
  }

 private:
  const IndexRaBitQFastScan& index_;
  RaBitQFastScanScorer scorer_;
  std::vector<uint8_t> code_;
};

}  // namespace

IndexRaBitQFastScan::IndexRaBitQFastScan(int d, MetricType metric, int nb_bits)
    : Index(d, metric, false),  // the base checks d first
      rabitq_(size_t(d), metric, nb_bits),
      codes_(RaBitQFastScanScorer::layout(rabitq_)) {}

void IndexRaBitQFastScan::set_center(std::vector<float> center) {
  SEXTANT_CHECK(center.size() == size_t(d_), type_name(), ": the centroid has ", center.size(), " values, d=", d_);
  for (float v : center) SEXTANT_CHECK(std::isfinite(v), type_name(), ": the centroid has a NaN or infinite value");
  center_ = std::move(center);
}

void IndexRaBitQFastScan::set_qb(int qb) { qb_ = RaBitQuantizer::checked_query_bits(qb, "IndexRaBitQFastScan"); }

void IndexRaBitQFastScan::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids");
  std::vector<uint8_t> codes(size_t(n) * rabitq_.code_size());
  rabitq_.encode(size_t(n), x, center_.data(), codes.data());
  add_sa_codes(n, codes.data());
}

void IndexRaBitQFastScan::add_sa_codes(idx_t n, const uint8_t* codes) {
  SEXTANT_CHECK(n >= 0 && (n == 0 || codes != nullptr), "add_sa_codes: codes must not be null");
  rabitq_.check_codes(size_t(n), codes);
  codes_.append(size_t(n), codes);
  ntotal_ += n;
}

CodeScorerFactory IndexRaBitQFastScan::scorers() const {
  return [this] { return std::make_unique<RaBitQFastScanCodeScorer>(*this); };
}

void IndexRaBitQFastScan::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                      const SearchParams& params) const {
  search_codes(n, x, d_, ntotal_, k, metric_, params.sel.get(), scorers(), distances, labels);
}

void IndexRaBitQFastScan::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                            RangeSearchResult& result) const {
  result = range_search_codes(n, x, d_, ntotal_, radius, metric_, params.sel.get(), scorers());
}

void IndexRaBitQFastScan::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  std::vector<uint8_t> code(rabitq_.code_size());
  get_code(key, code.data());
  rabitq_.decode(1, code.data(), center_.data(), recons);
}

void IndexRaBitQFastScan::error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const {
  SEXTANT_CHECK(is_trained(), type_name(), ": error_bounds needs a trained index");
  std::vector<uint8_t> code(rabitq_.code_size());
  rabitq_.error_bounds(kernels().l2sqr(x, center_.data(), size_t(d_)), ids, n, out, [&](idx_t id) {
    SEXTANT_CHECK(id < ntotal_, type_name(), ": id ", id, " is not in [0, ", ntotal_, ")");
    get_code(id, code.data());
    return code.data();
  });
}

size_t IndexRaBitQFastScan::remove_ids_impl(const IDSelector& sel) {
  const size_t removed = codes_.remove_if([&](size_t i) { return sel.is_member(idx_t(i)); });
  ntotal_ -= idx_t(removed);
  return removed;
}

void IndexRaBitQFastScan::merge_from_impl(Index& other_index, idx_t add_id) {
  check_append_id(add_id);
  auto& other = dynamic_cast<IndexRaBitQFastScan&>(other_index);
  SEXTANT_CHECK(center_ == other.center_ && rabitq_.nb_bits() == other.rabitq_.nb_bits(),
                "cannot merge: the RaBitQ centroids or bits differ (train one index, then copy it for each part)");
  std::vector<uint8_t> codes(size_t(other.ntotal_) * rabitq_.code_size());
  for (idx_t i = 0; i < other.ntotal_; i++) other.get_code(i, codes.data() + i * rabitq_.code_size());
  add_sa_codes(other.ntotal_, codes.data());
  other.reset();
}

void IndexRaBitQFastScan::reset_impl() {
  codes_.clear();
  ntotal_ = 0;
}

}  // namespace sextant
