#include "sextant/IndexIVFPQ.h"

#include <vector>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/utils/kernels.h"

namespace sextant {

namespace {

// One table per (query, list), then M look-ups per code.
class PQScanner final : public InvertedListScanner {
 public:
  explicit PQScanner(const IndexIVFPQ& index) : InvertedListScanner(index.metric()), pq_(index.pq()), tables_(index) {}
  void set_query(const float* x) override { tables_.set_query(x); }
  void set_list(size_t list, float coarse) override { tables_.set_list(list, coarse); }
  void score(const uint8_t* codes, size_t n, float* out) const override {
    pq_.score(tables_.table(), codes, n, out);
    if (tables_.list_term() != 0) {
      for (size_t j = 0; j < n; j++) out[j] += tables_.list_term();
    }
  }

 private:
  const ProductQuantizer& pq_;
  PQListTables tables_;
};

// Validates the parameters (clear errors) before the base class is built.
size_t checked_code_size(int d, size_t M, size_t nbits) {
  SEXTANT_CHECK(d > 0, "d (the vector dimension) must be > 0, got ", d);
  return ProductQuantizer(static_cast<size_t>(d), M, nbits).code_size();
}

}  // namespace

IndexIVFPQ::IndexIVFPQ(std::shared_ptr<Index> quantizer, int d, size_t nlist, size_t M, size_t nbits,
                       MetricType metric, bool by_residual)
    : IndexIVF(std::move(quantizer), d, nlist, checked_code_size(d, M, nbits), metric, by_residual),
      pq_(static_cast<size_t>(d), M, nbits) {}

void IndexIVFPQ::train_encoder(idx_t n, const float* x, const float* vectors) {
  pq_.train(n, x, vectors);  // anisotropic codes weigh the error parallel to the vector, not the residual
  set_use_precomputed_table(true);
}

void IndexIVFPQ::set_use_precomputed_table(bool use) {
  precomputed_.clear();
  const size_t M = pq_.M(), ksub = pq_.ksub(), dsub = pq_.dsub();
  if (!use || !by_residual() || metric_ != MetricType::L2 || !pq_.is_trained()) return;
  if (nlist() * M * ksub * sizeof(float) > kPrecomputedBudget) return;
  // Per sub-centroid: |r|^2 (list independent), then + 2 <c_sub, r> per list.
  std::vector<float> norms(M * ksub);
  const Kernels& k = kernels();
  for (size_t i = 0; i < M * ksub; i++) {
    const float* r = pq_.centroids().data() + i * dsub;
    norms[i] = k.inner_product(r, r, dsub);
  }
  precomputed_.resize(nlist() * M * ksub);
  ParallelErrors errors;
#pragma omp parallel
  {
    std::vector<float> c;
    errors.run([&] { c.resize(d_); });
#pragma omp for schedule(static)
    for (long list = 0; list < static_cast<long>(nlist()); list++) errors.run([&] {
      centroid(list, c.data());
      float* out = precomputed_.data() + list * M * ksub;
      for (size_t m = 0; m < M; m++) {
        k.inner_product_ny(c.data() + m * dsub, pq_.centroids().data() + m * ksub * dsub, ksub, dsub,
                           out + m * ksub);
        for (size_t j = 0; j < ksub; j++) out[m * ksub + j] = norms[m * ksub + j] + 2 * out[m * ksub + j];
      }
    });
  }
  if (errors.failed()) precomputed_.clear();  // no half-built table
  errors.rethrow();
}

void IndexIVFPQ::encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const {
  if (!by_residual()) return pq_.encode(n, x, codes);
  pq_.encode(n, residuals(n, x, lists).data(), codes, x);
}

void IndexIVFPQ::decode(size_t list, const uint8_t* code, float* x) const {
  pq_.decode(1, code, x);
  if (!by_residual()) return;
  std::vector<float> c(d_);
  centroid(list, c.data());
  for (int j = 0; j < d_; j++) x[j] += c[j];
}

std::unique_ptr<InvertedListScanner> IndexIVFPQ::make_scanner() const { return std::make_unique<PQScanner>(*this); }

PQListTables::PQListTables(const IndexIVFPQ& index)
    : index_(index),
      pq_(index.pq()),
      l2_(index.metric() == MetricType::L2),
      query_table_(pq_.M() * pq_.ksub()),
      table_(query_table_.size()),
      residual_(index.d()),
      centroid_(index.d()) {}

void PQListTables::set_query(const float* x) {
  x_ = x;
  if (!index_.by_residual() || !l2_) {
    pq_.compute_table(x, index_.metric(), table_.data());  // the same for every list
  } else if (index_.uses_precomputed_table()) {
    pq_.compute_table(x, MetricType::INNER_PRODUCT, query_table_.data());
  }
}

void PQListTables::set_list(size_t list, float coarse) {
  list_term_ = 0;
  if (!index_.by_residual()) return;
  if (!l2_) {
    list_term_ = coarse;  // <x, c + r> = <x, c> + <x, r>
    return;
  }
  if (index_.uses_precomputed_table()) {
    list_term_ = coarse;  // |x - c|^2
    const float* pre = index_.precomputed_table().data() + list * table_.size();
    for (size_t i = 0; i < table_.size(); i++) table_[i] = pre[i] - 2 * query_table_[i];
    return;
  }
  index_.centroid(list, centroid_.data());
  for (size_t j = 0; j < residual_.size(); j++) residual_[j] = x_[j] - centroid_[j];
  pq_.compute_table(residual_.data(), MetricType::L2, table_.data());
}

}  // namespace sextant
