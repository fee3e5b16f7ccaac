#include "sextant/IndexPQ.h"

#include <vector>

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
    : IndexFlatCodes(d, metric), pq_(static_cast<size_t>(d), M, nbits) {}

CodeScorerFactory IndexPQ::scorers() const {
  return [this] { return std::make_unique<PQCodeScorer>(pq_, metric_, codes()); };
}

}  // namespace sextant
