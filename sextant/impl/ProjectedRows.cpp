#include "sextant/impl/ProjectedRows.h"

#include <algorithm>
#include <cmath>

#include "sextant/VectorTransform.h"
#include "sextant/utils/TopK.h"
#include "sextant/utils/blas.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/select.h"

namespace sextant {

namespace {
constexpr size_t kMaxTrainRows = 8192;  // the axes of a larger set come from an even sample
constexpr size_t kQueryBlock = 64;      // queries projected and bounded by one GEMM each
constexpr size_t kGemmMinQueries = 8;   // fewer: the SIMD kernels, as a GEMM would mostly pack matrices
// Relative rounding allowance of a projected distance computed through
// norms and a 64-term dot product (errors ~1e-6 of the norms).
constexpr float kRoundoff = 1e-5f;
}  // namespace

struct ProjectedRows::Scratch {
  std::vector<float> projected;  // a block of queries, kQueryBlock x kDim
  std::vector<float> products;   // their products with every row, kQueryBlock x size()
  std::vector<float> seed_keys;
  std::vector<idx_t> seed_ids;
  std::vector<uint32_t> ids;  // rows whose exact distance is wanted
  std::vector<float> keys, exact;
};

ProjectedRows::ProjectedRows(const float* x, size_t n, size_t d) : d_(d) {
  const size_t step = std::max<size_t>(1, n / kMaxTrainRows);
  std::vector<float> sample;
  for (size_t i = 0; i < n; i += step) sample.insert(sample.end(), x + i * d, x + (i + 1) * d);
  PCAMatrix pca(static_cast<int>(d), static_cast<int>(kDim));
  pca.train(static_cast<idx_t>(sample.size() / d), sample.data());
  axes_ = pca.A();
  bias_ = pca.b();
  // |P v|^2 <= (1 + e) |v|^2 with e the Frobenius norm of P P^T - I.
  std::vector<float> gram(kDim * kDim);
  gemm_abt(kDim, kDim, d, 1.0f, axes_.data(), d, axes_.data(), d, 0.0f, gram.data(), kDim);
  double e = 0;
  for (size_t i = 0; i < kDim; i++) {
    for (size_t j = 0; j < kDim; j++) {
      const double g = gram[i * kDim + j] - (i == j ? 1.0 : 0.0);
      e += g * g;
    }
  }
  // 1e-4 more for the rounding of the exact distances (~1e-6 relative).
  shrink_ = static_cast<float>((1.0 - 1e-4) / (1.0 + std::sqrt(e)));
  append(x, n);
}

void ProjectedRows::project(const float* x, size_t n, float* out) const {
  gemm_abt(n, kDim, d_, 1.0f, x, d_, axes_.data(), d_, 0.0f, out, kDim);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < kDim; j++) out[i * kDim + j] += bias_[j];
  }
}

void ProjectedRows::append(const float* x, size_t n) {
  if (n == 0) return;
  const size_t old = size();
  projections_.resize((old + n) * kDim);
  offsets_.resize(old + n);
  project(x, n, projections_.data() + old * kDim);
  const Kernels& kernels = sextant::kernels();
  for (size_t i = old; i < old + n; i++) {
    const float* p = projections_.data() + i * kDim;
    offsets_[i] = (shrink_ - kRoundoff) * kernels.inner_product(p, p, kDim);
  }
}

void ProjectedRows::assign(const float* x, size_t n) {
  projections_.clear();
  offsets_.clear();
  append(x, n);
}

void ProjectedRows::search(const float* xq, size_t nq, const float* rows, size_t k, float* distances,
                           idx_t* labels) const {
  const size_t n = size(), nblocks = (nq + kQueryBlock - 1) / kQueryBlock;
  const Kernels& kernels = sextant::kernels();
#pragma omp parallel if (nblocks > 1)
  {
    Scratch scratch;
    scratch.projected.resize(std::min(nq, kQueryBlock) * kDim);
    scratch.products.resize(std::min(nq, kQueryBlock) * n);
#pragma omp for schedule(dynamic)
    for (size_t b = 0; b < nblocks; b++) {
      const size_t q0 = b * kQueryBlock, m = std::min(nq - q0, kQueryBlock);
      const float* projected = scratch.projected.data();
      if (m >= kGemmMinQueries) {
        project(xq + q0 * d_, m, scratch.projected.data());
        gemm_abt(m, n, kDim, 1.0f, projected, kDim, projections_.data(), kDim, 0.0f, scratch.products.data(), n);
      } else {
        for (size_t i = 0; i < m; i++) {
          float* p = scratch.projected.data() + i * kDim;
          kernels.inner_product_ny(xq + (q0 + i) * d_, axes_.data(), kDim, d_, p);
          for (size_t j = 0; j < kDim; j++) p[j] += bias_[j];
          kernels.inner_product_ny(p, projections_.data(), n, kDim, scratch.products.data() + i * n);
        }
      }
      for (size_t i = 0; i < m; i++) {
        const float* p = projected + i * kDim;
        const float offset = (shrink_ - kRoundoff) * kernels.inner_product(p, p, kDim);
        const size_t q = q0 + i;
        search_one(xq + q * d_, offset, scratch.products.data() + i * n, rows, k, scratch, distances + q * k,
                   labels + q * k);
      }
    }
  }
}

void ProjectedRows::search_one(const float* x, float x_offset, const float* products, const float* rows, size_t k,
                               Scratch& scratch, float* distances, idx_t* labels) const {
  // Row j's lower bound is x_offset + key j, key j = offsets_[j] - 2 shrink_ products[j].
  const Kernels& kernels = sextant::kernels();
  const size_t n = size();
  const float scale = -2.0f * shrink_;
  TopKHeap best(distances, labels, k);
  auto offer = [&](const uint32_t* ids, size_t count, float bound) {  // exact distances of rows ids[0, count)
    if (count == 0) return;
    scratch.exact.resize(count);
    kernels.l2sqr_gather(x, rows, d_, ids, count, bound, scratch.exact.data());
    for (size_t c = 0; c < count; c++) {
      if (scratch.exact[c] < best.admission_bound()) best.push(scratch.exact[c], ids[c]);
    }
  };
  // Seeds: the k rows nearest in projection.
  scratch.seed_keys.resize(k);
  scratch.seed_ids.resize(k);
  TopKHeap seeds(scratch.seed_keys.data(), scratch.seed_ids.data(), k);
  push_candidates(kernels, products, offsets_.data(), scale, n, nullptr, 0, seeds, nullptr);
  const size_t nseeds = seeds.finish();
  scratch.ids.assign(scratch.seed_ids.begin(), scratch.seed_ids.begin() + nseeds);
  offer(scratch.ids.data(), nseeds, __builtin_inff());
  // Then every other row whose bound is below the k-th exact distance.
  const float last_key = scratch.seed_keys[nseeds - 1];
  const idx_t last_id = scratch.seed_ids[nseeds - 1];
  scratch.ids.resize(n);
  scratch.keys.resize(n);
  const size_t found = kernels.collect_below(products, offsets_.data(), scale, n, best.admission_bound() - x_offset,
                                             scratch.ids.data(), scratch.keys.data());
  // In small groups, each filtered by the bound that the groups before it left.
  constexpr size_t kGroup = 8;
  uint32_t* ids = scratch.ids.data();
  size_t c = 0;
  while (c < found) {
    const float threshold = best.admission_bound() - x_offset;
    size_t count = 0;
    for (; c < found && count < kGroup; c++) {
      const float key = scratch.keys[c];
      const idx_t id = ids[c];
      const bool seed = key < last_key || (key == last_key && id <= last_id);
      if (!seed && key < threshold) ids[count++] = static_cast<uint32_t>(id);
    }
    offer(ids, count, best.admission_bound());
  }
  best.finish();
}

}  // namespace sextant
