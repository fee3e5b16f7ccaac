#include "sextant/IndexFlat.h"

#include <cstring>

#include "sextant/utils/Error.h"
#include "sextant/utils/distances.h"
#include "sextant/utils/knn.h"

namespace sextant {

IndexFlat::IndexFlat(int d, MetricType metric) : Index(d, metric, true) {}

void IndexFlat::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids");
  LargeVector<float>& xb = xb_.owned(type_name());
  const size_t old = xb.size();
  xb.insert(xb.end(), x, x + static_cast<size_t>(n) * d_);
  if (metric_ == MetricType::L2) {
    LargeVector<float>& norms = norms_.owned(type_name());
    norms.resize(ntotal_ + n);
    fvec_norms_L2sqr(xb.data() + old, n, d_, norms.data() + ntotal_);
  }
  ntotal_ += n;
}

void IndexFlat::set_vectors(idx_t n, Storage<float> vectors, Storage<float> norms) {
  SEXTANT_CHECK(n >= 0 && vectors.size() == static_cast<size_t>(n) * d_, type_name(), ": ", n,
                " vectors of dimension ", d_, " need ", static_cast<size_t>(n) * d_, " floats, got ",
                vectors.size());
  if (metric_ == MetricType::L2 && norms.empty() && n > 0) {
    LargeVector<float> computed(n);
    fvec_norms_L2sqr(vectors.data(), n, d_, computed.data());
    norms = Storage<float>(std::move(computed));
  }
  SEXTANT_CHECK(norms.size() == (metric_ == MetricType::L2 ? static_cast<size_t>(n) : 0), type_name(),
                ": expected ", metric_ == MetricType::L2 ? n : 0, " norms, got ", norms.size());
  xb_ = std::move(vectors);
  norms_ = std::move(norms);
  ntotal_ = n;
}

void IndexFlat::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                            const SearchParams& params) const {
  exact_search(x, n, VectorSet{xb_.data(), static_cast<size_t>(ntotal_), static_cast<size_t>(d_), norms_.data()}, k,
      metric_, distances, labels, params.sel.get());
}

void IndexFlat::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                  RangeSearchResult& result) const {
  result = exact_range_search(x, n, VectorSet{xb_.data(), static_cast<size_t>(ntotal_), static_cast<size_t>(d_),
                                     norms_.data()},
                     radius, metric_, params.sel.get());
}

void IndexFlat::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  std::memcpy(recons, xb_.data() + static_cast<size_t>(key) * d_, sizeof(float) * d_);
}

size_t IndexFlat::sa_code_size_impl() const { return sizeof(float) * d_; }

void IndexFlat::sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const {
  std::memcpy(codes, x, sizeof(float) * d_ * n);
}

void IndexFlat::sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const {
  std::memcpy(x, codes, sizeof(float) * d_ * n);
}

size_t IndexFlat::remove_ids_impl(const IDSelector& sel) {
  LargeVector<float>& xb = xb_.owned(type_name());
  LargeVector<float>& norms = norms_.owned(type_name());
  const size_t d = d_;
  idx_t kept = 0;
  for (idx_t i = 0; i < ntotal_; i++) {
    if (sel.is_member(i)) continue;
    if (kept != i) {
      std::memmove(xb.data() + kept * d, xb.data() + i * d, sizeof(float) * d);
      if (!norms.empty()) norms[kept] = norms[i];
    }
    kept++;
  }
  const size_t removed = ntotal_ - kept;
  ntotal_ = kept;
  xb.resize(kept * d);
  if (!norms.empty()) norms.resize(kept);
  return removed;
}

void IndexFlat::reset_impl() {
  xb_.owned(type_name()).clear();
  norms_.owned(type_name()).clear();
  ntotal_ = 0;
}

}  // namespace sextant
