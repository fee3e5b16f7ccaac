#include "sextant/IndexFlat.h"

#include <cmath>
#include <cstring>

#include "sextant/base/Error.h"
#include "sextant/utils/distances.h"
#include "sextant/utils/knn.h"
#include "sextant/utils/validate.h"

namespace sextant {

namespace {
// Projections are kept for sets of these sizes: from here they read fewer
// bytes than a scan (256 x 784, Fashion-MNIST's IVF256 centroids: 8.1 -> 5.6 us
// a query, and the centroids no longer crowd the caches), and up to here they
// add at most 4 MB.
constexpr size_t kProjectMinRows = 256;
constexpr size_t kProjectMaxRows = 16384;
// A search uses them for k up to ntotal / this: beyond, too many rows qualify.
constexpr size_t kProjectRowsPerResult = 32;
}  // namespace

IndexFlat::IndexFlat(int d, MetricType metric) : Index(d, metric, true) {}

void IndexFlat::update_projections(size_t first_new) {
  const size_t n = static_cast<size_t>(ntotal_);
  if (!projections_.empty()) {
    if (n > kProjectMaxRows) {
      projections_ = ProjectedRows();
    } else {
      projections_.append(xb_.data() + first_new * d_, n - first_new);
    }
    return;
  }
  // Decided once, when the rows first reach kProjectMinRows (a coarse
  // quantizer gets all its centroids at once): deriving axes on every add
  // would cost more than it saves.
  if (projections_decided_ || metric_ != MetricType::L2 || !ProjectedRows::worthwhile(d_) || n < kProjectMinRows ||
      n > kProjectMaxRows) {
    return;
  }
  projections_decided_ = true;
  ProjectedRows candidate(xb_.data(), n, d_);
  if (candidate.selective()) projections_ = std::move(candidate);
}

void IndexFlat::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids");
  LargeVector<float>& xb = xb_.owned(type_name());
  const size_t old = xb.size(), first_new = static_cast<size_t>(ntotal_);
  xb.insert(xb.end(), x, x + static_cast<size_t>(n) * d_);
  if (metric_ == MetricType::L2) {
    LargeVector<float>& norms = norms_.owned(type_name());
    norms.resize(ntotal_ + n);
    fvec_norms_L2sqr(xb.data() + old, n, d_, norms.data() + ntotal_);
  }
  ntotal_ += n;
  update_projections(first_new);
}

void IndexFlat::merge_from_impl(Index& other_index, idx_t add_id) {
  check_append_id(add_id);
  auto& other = dynamic_cast<IndexFlat&>(other_index);
  other.xb_.owned(other.type_name());  // other must end empty: refuse a read-only one before changing anything
  const size_t first_new = static_cast<size_t>(ntotal_), n = static_cast<size_t>(other.ntotal_);
  LargeVector<float>& xb = xb_.owned(type_name());
  xb.insert(xb.end(), other.xb_.data(), other.xb_.data() + n * d_);
  if (metric_ == MetricType::L2) {
    LargeVector<float>& norms = norms_.owned(type_name());
    norms.insert(norms.end(), other.norms_.data(), other.norms_.data() + n);
  }
  ntotal_ += other.ntotal_;
  update_projections(first_new);
  other.reset();
}

void IndexFlat::set_vectors(idx_t n, Storage<float> vectors, Storage<float> norms) {
  SEXTANT_CHECK(n >= 0 && vectors.size() == static_cast<size_t>(n) * d_, type_name(), ": ", n,
                " vectors of dimension ", d_, " need ", static_cast<size_t>(n) * d_, " floats, got ",
                vectors.size());
  // Stored vectors (a file, say) obey what add() demands of new ones.
  check_bounded(vectors.data(), n, d_, "stored vectors");
  SEXTANT_CHECK(norms.empty() || norms.size() == (metric_ == MetricType::L2 ? static_cast<size_t>(n) : 0),
                type_name(), ": expected ", metric_ == MetricType::L2 ? n : 0, " norms, got ", norms.size());
  if (metric_ == MetricType::L2 && n > 0) {
    LargeVector<float> computed(n);
    fvec_norms_L2sqr(vectors.data(), n, d_, computed.data());
    if (norms.empty()) {
      norms = Storage<float>(std::move(computed));
    } else {
      // Search trusts the norms as it trusts the vectors: they must agree (up to rounding).
      const float* stored = norms.data();
      for (idx_t i = 0; i < n; i++) {
        SEXTANT_CHECK(std::fabs(stored[i] - computed[i]) <= 1e-3f * computed[i] + 1e-30f, type_name(),
                      ": the stored squared norm of vector ", i, " is ", stored[i], ", its vector's is ", computed[i]);
      }
    }
  }
  xb_ = std::move(vectors);
  norms_ = std::move(norms);
  ntotal_ = n;
  projections_ = ProjectedRows();
  projections_decided_ = false;
  update_projections(0);
}

void IndexFlat::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                            const SearchParams& params) const {
  if (!projections_.empty() && params.sel == nullptr && size_t(k) * kProjectRowsPerResult <= size_t(ntotal_)) {
    projections_.search(x, n, xb_.data(), k, distances, labels);
    recompute_distances(x, n, VectorSet{xb_.data(), static_cast<size_t>(ntotal_), static_cast<size_t>(d_)}, k, metric_,
                        distances, labels);
    return;
  }
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
  if (!projections_.empty()) {
    if (size_t(kept) < kProjectMinRows) {
      projections_ = ProjectedRows();
    } else {
      projections_.assign(xb.data(), kept);
    }
  }
  return removed;
}

void IndexFlat::reset_impl() {
  xb_.owned(type_name()).clear();
  norms_.owned(type_name()).clear();
  ntotal_ = 0;
  projections_ = ProjectedRows();
  projections_decided_ = false;
}

}  // namespace sextant
