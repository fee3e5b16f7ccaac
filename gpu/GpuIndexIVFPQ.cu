#include "gpu/GpuIndexIVFPQ.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "gpu/GpuKmeans.h"
#include "gpu/kernels/PqKernels.h"
#include "gpu/kernels/Select.h"
#include "gpu/kernels/VectorOps.h"
#include "gpu/select/Planning.h"
#include "sextant/IndexFlat.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

namespace {

std::vector<size_t> pq_columns(int d, size_t M, size_t nbits, bool raw) {
  SEXTANT_CHECK(d > 0, "d (the vector dimension) must be > 0, got ", d);
  SEXTANT_CHECK(nbits >= 1 && nbits <= 8, "GpuIndexIVFPQ supports 1 to 8 bits per sub-quantizer, got nbits=", nbits);
  const size_t code_size = ProductQuantizer(size_t(d), M, nbits).code_size();  // checks d % M
  std::vector<size_t> columns{code_size};
  if (raw) columns.push_back(size_t(d) * sizeof(float));
  return columns;
}

}  // namespace

GpuIndexIVFPQ::GpuIndexIVFPQ(std::shared_ptr<GpuResources> res, int d, size_t nlist, size_t M, size_t nbits,
                             MetricType metric, bool by_residual, GpuIndexIVFPQConfig config)
    : GpuIndexIVF(std::move(res), d, nlist, metric, by_residual, pq_columns(d, M, nbits, config.keep_raw_vectors)),
      pq_(size_t(d), M, nbits),
      config_(config) {
  SEXTANT_CHECK(!config.use_fp16_tables || metric == MetricType::L2,
                "GpuIndexIVFPQ: fp16 look-up tables are for L2 only (inner-product entries have both signs and "
                "cancel in the sum); use use_fp16_tables=false");
  PqTableShape shape;
  shape.M = int64_t(M);
  shape.ksub = int64_t(pq_.ksub());
  shape.d = d;
  shape.l2 = metric == MetricType::L2;
  shape.by_residual = by_residual;
  shape.precomputed_available = nlist * M * pq_.ksub() * sizeof(float) <= kPrecomputedBudget;
  shape.want_fp16 = config.use_fp16_tables;
  int64_t scan_static_bytes = 0;
  {
    auto lock = res_->lock();  // the kernels' attributes are the device's
    scan_static_bytes = ivfpq_scan_static_bytes();
  }
  tables_ = plan_pq_tables(shape, scan_static_bytes, int64_t(res_->max_shared_per_block()));
  SEXTANT_CHECK(tables_.fits, "GpuIndexIVFPQ: look-up tables of M=", M, " x ", pq_.ksub(),
                " entries do not fit in shared memory (", res_->max_shared_per_block(), " bytes per block) in any ",
                "layout", shape.l2 ? " (fp16 included)" : " (inner product needs fp32)");
}

GpuIndexIVFPQ::GpuIndexIVFPQ(std::shared_ptr<GpuResources> res, const IndexIVFPQ& index, GpuIndexIVFPQConfig config)
    : GpuIndexIVFPQ(std::move(res), index.d(), index.nlist(), index.pq().M(), index.pq().nbits(), index.metric(),
                    index.by_residual(), config) {
  copy_from(index);
}

KnobSet GpuIndexIVFPQ::search_knobs() const {
  return GpuIndexIVF::search_knobs() | (config_.keep_raw_vectors ? kKnobKFactor : 0u);
}

void GpuIndexIVFPQ::set_k_factor(float k_factor) {
  SEXTANT_CHECK(k_factor >= 1, "k_factor must be >= 1, got ", k_factor);
  k_factor_ = k_factor;
}

PqDevice GpuIndexIVFPQ::pq_device() const {
  return PqDevice{d_,
                  int(pq_.M()),
                  int(pq_.ksub()),
                  int(pq_.dsub()),
                  int(pq_.nbits()),
                  int(pq_.code_size()),
                  pq_centroids_.data(),
                  pq_norms_.data()};
}

void GpuIndexIVFPQ::upload_codebooks() {
  auto lock = res_->lock();
  GpuResources& res = *res_;
  const std::vector<float>& c = pq_.centroids();
  pq_centroids_.reallocate(c.size());
  pq_norms_.reallocate(pq_.M() * pq_.ksub());
  copy_to_device(res, pq_centroids_.data(), c.data(), c.size() * sizeof(float));
  pq_centroid_norms(res, pq_device(), pq_norms_.data());
  precomputed_.release();
  if (tables_.mode == PqTableMode::precomputed) {
    precomputed_.reallocate(nlist() * pq_.M() * pq_.ksub());
    pq_precompute_lists(res, pq_device(), centroids_device(), int64_t(nlist()), precomputed_.data());
  }
  max_centroid_norm_ = 0;
  for (size_t e = 0; e < pq_.M() * pq_.ksub(); e++) {
    double s = 0;
    for (size_t j = 0; j < pq_.dsub(); j++) s += double(c[e * pq_.dsub() + j]) * c[e * pq_.dsub() + j];
    max_centroid_norm_ = std::max(max_centroid_norm_, float(std::sqrt(s)));
  }
  res.synchronize();
}

// As ProductQuantizer::train (the same sample, the same seed per subspace),
// with each subspace's k-means assignment step on the GPU: M small k-means
// problems of dsub dimensions, slow on a CPU (GEMMs of depth dsub).
void GpuIndexIVFPQ::train_product_quantizer(idx_t n, const float* x) {
  const size_t ksub = pq_.ksub(), dsub = pq_.dsub(), M = pq_.M();
  SEXTANT_CHECK(size_t(n) >= ksub, "training a product quantizer with nbits=", pq_.nbits(), " needs at least ",
                ksub, " vectors, got ", n);
  const KMeansParams& base = pq_.train_params();
  const size_t cap = size_t(std::max(1, base.max_points_per_centroid)) * ksub;
  std::vector<size_t> rows(n);
  std::iota(rows.begin(), rows.end(), size_t{0});
  if (size_t(n) > cap) {
    std::mt19937_64 rng(base.seed);
    for (size_t i = 0; i < cap; i++) std::swap(rows[i], rows[i + rng() % (n - i)]);
    rows.resize(cap);
    std::sort(rows.begin(), rows.end());
  }
  std::vector<float> centroids(M * ksub * dsub), sub(rows.size() * dsub);
  for (size_t m = 0; m < M; m++) {
    for (size_t i = 0; i < rows.size(); i++)
      std::copy_n(x + rows[i] * d_ + m * dsub, dsub, sub.data() + i * dsub);
    KMeansParams params = base;
    params.seed = base.seed + 7919 * uint64_t(m);
    KMeansResult r = gpu_kmeans(res_, rows.size(), dsub, sub.data(), ksub, params, MetricType::L2);
    std::copy(r.centroids.begin(), r.centroids.end(), centroids.begin() + m * ksub * dsub);
  }
  pq_.set_centroids(std::move(centroids));
}

void GpuIndexIVFPQ::train_encoder(idx_t n, const float* x, const idx_t* lists) {
  if (!by_residual_) {
    train_product_quantizer(n, x);
  } else {
    const std::vector<float> c = centroids();
    std::vector<float> residuals(size_t(n) * d_);
    for (idx_t i = 0; i < n; i++)
      for (int j = 0; j < d_; j++) residuals[i * d_ + j] = x[i * d_ + j] - c[lists[i] * d_ + j];
    train_product_quantizer(n, residuals.data());
  }
  upload_codebooks();
}

void GpuIndexIVFPQ::encode_device(idx_t n, const float* x, const int64_t* lists, const int64_t* pos) {
  pq_encode(*res_, pq_device(), x, n, lists, pos, by_residual_ ? centroids_device() : nullptr, lists_.column(0));
  if (config_.keep_raw_vectors)
    scatter_rows(*res_, reinterpret_cast<const uint8_t*>(x), pos, n, int64_t(d_) * 4, lists_.column(1));
}

int64_t GpuIndexIVFPQ::scan_k(idx_t k, const SearchParams& params) const {
  if (!config_.keep_raw_vectors) return k;
  const float factor = params.k_factor.value_or(k_factor_);
  SEXTANT_CHECK(factor >= 1, "k_factor must be >= 1, got ", factor);
  return std::max<int64_t>(k, int64_t(std::ceil(double(k) * factor)));
}

int64_t GpuIndexIVFPQ::scratch_per_query(int64_t) const {
  return tables_.mode == PqTableMode::per_list ? 0 : int64_t(pq_.M() * pq_.ksub() * sizeof(float));
}

void GpuIndexIVFPQ::scan(const ScanBlock& b) const {
  GpuResources& res = *res_;
  const PqTableMode mode = tables_.mode;
  const int64_t MK = int64_t(pq_.M() * pq_.ksub());
  ScratchBuffer<float> tables(res.scratch(), mode == PqTableMode::per_list ? 0 : b.nq * MK);
  if (mode != PqTableMode::per_list) {
    // precomputed: <x_m, C>; per_query: |x_m - C|^2 (L2 without residuals) or <x_m, C> (IP).
    const bool l2 = mode == PqTableMode::per_query && metric_ == MetricType::L2;
    pq_query_tables(res, pq_device(), b.x, b.nq, l2, tables.data());
  }
  IvfScanInput in{b.nq,     b.x,         d_,          b.nprobe,    b.coarse,
                  b.probes, lists_.offsets_device(), lists_.sizes_device(), lists_.column(0),
                  is_similarity(metric_), b.slices, b.slots, b.out, b.limits};
  PqScanInput pq{int(pq_.M()),
                 int(pq_.ksub()),
                 int(pq_.nbits()),
                 int(pq_.dsub()),
                 int(pq_.code_size()),
                 mode,
                 tables_.fp16,
                 /*add_coarse=*/by_residual_ && mode != PqTableMode::per_list,
                 max_centroid_norm_,
                 mode == PqTableMode::per_list ? nullptr : tables.data(),
                 precomputed_.data(),
                 pq_centroids_.data(),
                 centroids_device()};
  ivfpq_scan(res, in, pq);
}

void GpuIndexIVFPQ::finish(idx_t nq, const float* x, idx_t k, const uint64_t* best, int slots, int64_t kscan,
                           float* distances, idx_t* labels, const SearchParams& params) const {
  if (!config_.keep_raw_vectors) return GpuIndexIVF::finish(nq, x, k, best, slots, kscan, distances, labels, params);
  // Re-rank: exact distances of the kscan best PQ candidates, then the best k of those.
  GpuResources& res = *res_;
  const int out_slots = queue_slots(k);
  ScratchBuffer<uint64_t> refined(res.scratch(), nq * kscan);
  ScratchBuffer<uint64_t> top(res.scratch(), nq * 32 * int64_t(out_slots));
  refine_entries(res, x, nq, d_, best, 32 * int64_t(slots), kscan,
                 reinterpret_cast<const float*>(lists_.column(1)), is_similarity(metric_), refined.data());
  select_entries(res, refined.data(), nq, kscan, out_slots, top.data());
  GpuIndexIVF::finish(nq, x, k, top.data(), out_slots, k, distances, labels, params);
}

void GpuIndexIVFPQ::copy_from(const IndexIVFPQ& index) {
  SEXTANT_CHECK(!config_.keep_raw_vectors,
                "copy_from: a CPU IndexIVFPQ holds no raw vectors; use keep_raw_vectors=false");
  SEXTANT_CHECK(index.d() == d_ && index.nlist() == nlist() && index.metric() == metric_ &&
                    index.pq().M() == pq_.M() && index.pq().nbits() == pq_.nbits() &&
                    index.by_residual() == by_residual_,
                "copy_from: the IndexIVFPQ must have d=", d_, ", nlist=", nlist(), ", M=", pq_.M(),
                ", nbits=", pq_.nbits(), ", metric ", metric_name(metric_), ", by_residual=", by_residual_);
  SEXTANT_CHECK(index.is_trained(), "copy_from: the IndexIVFPQ is not trained");
  std::vector<float> centroids(nlist() * size_t(d_));
  index.quantizer()->reconstruct_n(0, nlist(), centroids.data());
  reset();
  set_centroids(centroids.data());
  pq_.set_centroids(index.pq().centroids());
  upload_codebooks();
  upload_lists(index.invlists(), index.next_id());
  set_nprobe(std::min<int64_t>(index.nprobe(), kMaxNprobe));
}

std::unique_ptr<IndexIVFPQ> GpuIndexIVFPQ::to_cpu() const {
  auto quantizer = std::make_shared<IndexFlat>(d_, metric_);
  const std::vector<float> c = centroids();
  if (!c.empty()) quantizer->add(nlist(), c.data());  // empty: the GPU index is not trained
  auto cpu = std::make_unique<IndexIVFPQ>(quantizer, d_, nlist(), pq_.M(), pq_.nbits(), metric_, by_residual_);
  if (pq_.is_trained()) {
    cpu->pq().set_centroids(pq_.centroids());
    cpu->set_use_precomputed_table(true);
  }
  auto lists = std::make_unique<ArrayInvertedLists>(nlist(), pq_.code_size());
  copy_lists_to(*lists);
  cpu->replace_invlists(std::move(lists));
  cpu->restore_state(next_id(), is_trained());
  cpu->set_nprobe(nprobe());
  return cpu;
}

}  // namespace sextant::gpu
