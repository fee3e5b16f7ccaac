#include "sextant/IndexPQ.h"

#include <vector>

#include "sextant/base/Error.h"

namespace sextant {

namespace {

class PQCodeScorer final : public CodeScorer {
 public:
  PQCodeScorer(const ProductQuantizer& pq, MetricType metric, const uint8_t* codes)
      : CodeScorer(metric), pq_(pq), codes_(codes), table_(pq.M() * pq.ksub()) {}
  void set_query(const float* x) override { pq_.compute_table(x, metric_, table_.data()); }
  void score(size_t j0, size_t n, float* out) override {
    pq_.score(table_.data(), codes_ + j0 * pq_.code_size(), n, out);
  }

 private:
  const ProductQuantizer& pq_;
  const uint8_t* codes_;
  std::vector<float> table_;
};

}  // namespace

IndexPQ::IndexPQ(int d, size_t M, size_t nbits, MetricType metric)
    : Index(d, metric, false), pq_(static_cast<size_t>(d), M, nbits), codes_(pq_.code_size()) {}

void IndexPQ::train_impl(idx_t n, const float* x) { pq_.train(n, x); }

void IndexPQ::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids");
  pq_.encode(n, x, codes_.append(n, type_name()));
  ntotal_ += n;
}

CodeScorerFactory IndexPQ::scorers() const {
  return [this] { return std::make_unique<PQCodeScorer>(pq_, metric_, codes_.data()); };
}

void IndexPQ::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                          const SearchParams& params) const {
  search_codes(n, x, d_, ntotal_, k, metric_, params.sel.get(), scorers(), distances, labels);
}

void IndexPQ::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                RangeSearchResult& result) const {
  result = range_search_codes(n, x, d_, ntotal_, radius, metric_, params.sel.get(), scorers());
}

void IndexPQ::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  pq_.decode(1, codes_.at(key), recons);
}

size_t IndexPQ::remove_ids_impl(const IDSelector& sel) {
  const size_t removed = codes_.remove(sel, type_name());
  ntotal_ = codes_.size();
  return removed;
}

void IndexPQ::set_codes(Storage<uint8_t> codes) {
  codes_.assign(std::move(codes));
  ntotal_ = static_cast<idx_t>(codes_.size());
}

void IndexPQ::merge_from_impl(Index& other_index, idx_t add_id) {
  check_append_id(add_id);
  auto& other = dynamic_cast<IndexPQ&>(other_index);
  SEXTANT_CHECK(pq_.same_codebooks(other.pq_), "cannot merge: the product quantizers differ (train one index, then copy it for each part)");
  codes_.move_from(other.codes_, type_name(), other.type_name());
  ntotal_ = static_cast<idx_t>(codes_.size());
  other.ntotal_ = 0;
}

void IndexPQ::reset_impl() {
  codes_.clear(type_name());
  ntotal_ = 0;
}

}  // namespace sextant
