#include "sextant/IndexIVFRaBitQ.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/utils/kernels.h"

namespace sextant {

namespace {

// Validates d (clear error) before the base class sizes the lists.
size_t checked_code_size(int d, MetricType metric, int nb_bits) {
  SEXTANT_CHECK(d > 0, "d (the vector dimension) must be > 0, got ", d);
  return RaBitQuantizer(size_t(d), metric, nb_bits).code_size();
}

// Codes are taken against the list's centroid: each list re-centres the query.
class RaBitQScanner final : public InvertedListScanner {
 public:
  explicit RaBitQScanner(const IndexIVFRaBitQ& index)
      : InvertedListScanner(index.metric()), index_(index), scorer_(index.rabitq(), index.qb()), centroid_(index.d()) {}

  void set_query(const float* x) override { x_ = x; }
  void set_list(size_t list, float) override {
    index_.centroid(list, centroid_.data());
    scorer_.set_query(x_, centroid_.data());
  }
  void score(const uint8_t* codes, size_t n, float* out) const override { scorer_.score(codes, n, out); }
  void scan(const uint8_t* codes, const idx_t* ids, size_t n, size_t, TopKHeap& heap,
            const IDSelector* sel) const override {
    scorer_.scan(codes, n, ids, 0, heap, sel);
  }

 private:
  const IndexIVFRaBitQ& index_;
  RaBitQuantizer::Scorer scorer_;
  std::vector<float> centroid_;
  const float* x_ = nullptr;
};

}  // namespace

IndexIVFRaBitQ::IndexIVFRaBitQ(std::shared_ptr<Index> quantizer, int d, size_t nlist, MetricType metric,
                               int nb_bits)
    : IndexIVF(std::move(quantizer), d, nlist, checked_code_size(d, metric, nb_bits), metric, true),
      rabitq_(size_t(d), metric, nb_bits) {}

void IndexIVFRaBitQ::set_qb(int qb) { qb_ = RaBitQuantizer::checked_query_bits(qb, "IndexIVFRaBitQ"); }

void IndexIVFRaBitQ::encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const {
  std::vector<float> c(d_);
  for (idx_t i = 0; i < n; i++) {
    centroid(lists[i], c.data());
    rabitq_.encode(1, x + i * d_, c.data(), codes + i * code_size());
  }
}

void IndexIVFRaBitQ::decode(size_t list, const uint8_t* code, float* x) const {
  std::vector<float> c(d_);
  centroid(list, c.data());
  rabitq_.decode(1, code, c.data(), x);
}

void IndexIVFRaBitQ::error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const {
  SEXTANT_CHECK(is_trained(), "IndexIVFRaBitQ: error_bounds needs a trained index");
  SEXTANT_CHECK(direct_map_type() != DirectMapType::none,
                "IndexIVFRaBitQ: error bounds (rabitq_eps0) find each candidate's code by its id: call "
                "make_direct_map() first");
  std::vector<uint8_t> code(code_size());
  std::vector<float> c(d_);
  // The candidates of a search come from the few lists it probed: each
  // list's distance to the query is computed once.
  std::vector<std::pair<size_t, float>> query_to_list;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] < 0) {  // no result: nothing is known
      out[i] = std::numeric_limits<float>::infinity();
      continue;
    }
    const auto [list, offset] = locate(ids[i]);
    auto seen = std::find_if(query_to_list.begin(), query_to_list.end(), [&](auto& e) { return e.first == list; });
    if (seen == query_to_list.end()) {
      centroid(list, c.data());
      seen = query_to_list.insert(seen, {list, kernels().l2sqr(x, c.data(), d_)});
    }
    lists_->get_code(list, offset, code.data());
    out[i] = rabitq_.error_bound(code.data(), seen->second);
  }
}

std::unique_ptr<InvertedListScanner> IndexIVFRaBitQ::make_scanner() const {
  return std::make_unique<RaBitQScanner>(*this);
}

}  // namespace sextant
