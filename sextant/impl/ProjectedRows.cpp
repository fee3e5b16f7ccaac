#include "sextant/impl/ProjectedRows.h"

#include <algorithm>
#include <cmath>

#include "sextant/base/threads.h"
#include "sextant/utils/TopK.h"
#include "sextant/utils/blas.h"
#include "sextant/utils/kernels.h"
#include "sextant/utils/principal_axes.h"
#include "sextant/utils/select.h"

namespace sextant {

namespace {
constexpr size_t kMaxTrainRows = 8192;  // the axes of a larger set come from an even sample
constexpr size_t kQueryBlock = 64;      // queries projected and bounded by one GEMM each
constexpr size_t kGemmMinRows = 8;      // fewer rows or queries: the SIMD kernels, as a GEMM would mostly pack matrices
constexpr size_t kSelfTestK = 8;        // neighbours each sample row asks for in the self-test
constexpr double kMaxReadFraction = 0.05;  // rows it may read for the projections to be kept
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
  const PrincipalAxes principal = principal_axes(sample.data(), sample.size() / d, d);
  axes_.assign(principal.axes.begin(), principal.axes.begin() + kDim * d);
  bias_.resize(kDim);  // -P mean
  for (size_t r = 0; r < kDim; r++) {
    double s = 0;
    for (size_t j = 0; j < d; j++) s += double(axes_[r * d + j]) * principal.mean[j];
    bias_[r] = float(-s);
  }
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
  // Rows spread evenly in many directions (a flat spectrum, as sentence
  // embeddings have) rule each other out too rarely to beat a GEMM: sample
  // rows searched among the others must read at most kMaxReadFraction of them
  // (Fashion-MNIST k-means centroids: 1.6%; MiniLM embeddings' centroids: 18-28%).
  const size_t samples = std::min(n, kQueryBlock), k = std::min(n, kSelfTestK + 1);  // + 1: the row itself
  std::vector<float> queries(samples * d), distances(samples * k);
  std::vector<idx_t> labels(samples * k);
  for (size_t i = 0; i < samples; i++) std::copy_n(x + (i * n / samples) * d, d, queries.data() + i * d);
  Scratch scratch;
  const size_t read = search_block(queries.data(), samples, x, k, scratch, distances.data(), labels.data());
  selective_ = double(read) <= kMaxReadFraction * double(samples) * double(n);
}

void ProjectedRows::project(const float* x, size_t n, float* out) const {
  if (n >= kGemmMinRows) {
    gemm_abt(n, kDim, d_, 1.0f, x, d_, axes_.data(), d_, 0.0f, out, kDim);
  } else {
    for (size_t i = 0; i < n; i++) kernels().inner_product_ny(x + i * d_, axes_.data(), kDim, d_, out + i * kDim);
  }
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
  const size_t nblocks = (nq + kQueryBlock - 1) / kQueryBlock;
  ParallelErrors errors;
#pragma omp parallel if (nblocks > 1)
  {
    Scratch scratch;
#pragma omp for schedule(dynamic)
    for (size_t b = 0; b < nblocks; b++) errors.run([&] {
      const size_t q0 = b * kQueryBlock, m = std::min(nq - q0, kQueryBlock);
      search_block(xq + q0 * d_, m, rows, k, scratch, distances + q0 * k, labels + q0 * k);
    });
  }
  errors.rethrow();
}

size_t ProjectedRows::search_block(const float* xq, size_t m, const float* rows, size_t k, Scratch& scratch,
                                   float* distances, idx_t* labels) const {
  const Kernels& kernels = sextant::kernels();
  const size_t n = size();
  scratch.projected.resize(m * kDim);
  scratch.products.resize(m * n);
  project(xq, m, scratch.projected.data());
  if (m >= kGemmMinRows) {
    gemm_abt(m, n, kDim, 1.0f, scratch.projected.data(), kDim, projections_.data(), kDim, 0.0f,
             scratch.products.data(), n);
  } else {
    for (size_t i = 0; i < m; i++) {
      kernels.inner_product_ny(scratch.projected.data() + i * kDim, projections_.data(), n, kDim,
                               scratch.products.data() + i * n);
    }
  }
  size_t read = 0;
  for (size_t i = 0; i < m; i++) {
    const float* p = scratch.projected.data() + i * kDim;
    const float offset = (shrink_ - kRoundoff) * kernels.inner_product(p, p, kDim);
    read += search_one(xq + i * d_, offset, scratch.products.data() + i * n, rows, k, scratch, distances + i * k,
                       labels + i * k);
  }
  return read;
}

size_t ProjectedRows::search_one(const float* x, float x_offset, const float* products, const float* rows, size_t k,
                                 Scratch& scratch, float* distances, idx_t* labels) const {
  // Row j's lower bound is x_offset + key j, key j = offsets_[j] - 2 shrink_ products[j].
  const Kernels& kernels = sextant::kernels();
  const size_t n = size();
  const float scale = -2.0f * shrink_;
  TopKHeap best(distances, labels, k);
  size_t read = 0;
  auto offer = [&](const uint32_t* ids, size_t count, float bound) {  // exact distances of rows ids[0, count)
    if (count == 0) return;
    read += count;
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
  return read;
}

}  // namespace sextant
