#include "gpu/GpuIndexIVF.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "gpu/GpuKmeans.h"
#include "gpu/kernels/FlatSearch.h"
#include "gpu/kernels/IvfScan.h"
#include "gpu/kernels/Select.h"
#include "gpu/kernels/VectorOps.h"
#include "gpu/select/Planning.h"
#include "sextant/base/Error.h"

namespace sextant::gpu {

namespace {

// Device scratch for the candidates and per-query tables of one block of queries.
constexpr int64_t kScanScratchBytes = int64_t{512} << 20;
// Vectors assigned and encoded per add() step.
constexpr int64_t kAddChunk = 1 << 18;

}  // namespace

GpuIndexIVF::GpuIndexIVF(std::shared_ptr<GpuResources> res, int d, size_t nlist, MetricType metric, bool by_residual,
                         std::vector<size_t> column_bytes)
    : GpuIndex(std::move(res), d, metric, false),
      quantizer_(std::make_unique<GpuIndexFlat>(res_, d, metric)),
      lists_(nlist, std::move(column_bytes)),
      by_residual_(by_residual) {
  SEXTANT_CHECK(nlist > 0, "nlist (the number of inverted lists) must be > 0, got ", nlist);
  clustering_params_.niter = 10;
}

void GpuIndexIVF::set_nprobe(int64_t nprobe) {
  SEXTANT_CHECK(nprobe >= 1 && nprobe <= kMaxNprobe, "nprobe must be in [1, ", kMaxNprobe, "], got ", nprobe);
  nprobe_ = nprobe;
}

void GpuIndexIVF::set_max_codes(int64_t max_codes) {
  SEXTANT_CHECK(max_codes >= 0, "max_codes must be >= 0 (0: no limit), got ", max_codes);
  max_codes_ = max_codes;
}

bool GpuIndexIVF::is_trained() const { return quantizer_->ntotal() == idx_t(nlist()) && encoder_is_trained(); }

void GpuIndexIVF::train_encoder(idx_t, const float*, const idx_t*) {}

int64_t GpuIndexIVF::scan_k(idx_t k, const SearchParams&) const { return k; }

int64_t GpuIndexIVF::scratch_per_query(int64_t) const { return 0; }

void GpuIndexIVF::train_impl(idx_t n, const float* x) {
  SEXTANT_CHECK(ntotal_ == 0, type_name(), " must be trained before vectors are added (it holds ", ntotal_,
                "): reset() it first");
  const size_t nl = nlist();
  if (quantizer_->ntotal() != idx_t(nl)) {
    SEXTANT_CHECK(n >= idx_t(nl), "training ", type_name(), " with nlist=", nl,
                  " needs at least nlist training vectors, got ", n);
    KMeansResult km = gpu_kmeans(res_, n, d_, x, nl, clustering_params_, metric_);
    quantizer_->reset();
    quantizer_->add(nl, km.centroids.data());
  }
  std::vector<idx_t> lists(n);
  assign_lists(n, x, lists.data());
  train_encoder(n, x, lists.data());
}

void GpuIndexIVF::assign_lists(idx_t n, const float* x, idx_t* lists) const {
  SEXTANT_CHECK(quantizer_->ntotal() == idx_t(nlist()), type_name(), " is not trained: call train() first");
  std::vector<float> distances(std::min<idx_t>(n, kAddChunk));
  for (idx_t i0 = 0; i0 < n; i0 += kAddChunk) {
    const idx_t m = std::min<idx_t>(kAddChunk, n - i0);
    quantizer_->search(m, x + i0 * d_, 1, distances.data(), lists + i0);
  }
}

// Two passes: the coarse assignment of every vector first, so the lists grow
// once for the whole batch (one move of the stored entries at most), then the
// encoding, chunk by chunk, straight into the final positions.
void GpuIndexIVF::add_device_impl(idx_t n, const float* x, const idx_t* ids) {
  GpuResources& res = *res_;
  const FlatDatabase centroids = quantizer_->database();
  const FlatSearchOptions options = quantizer_->search_options();
  std::vector<int64_t> lists(n);
  {
    ScratchBuffer<float> dist(res.scratch(), std::min<idx_t>(n, kAddChunk));
    ScratchBuffer<int64_t> lists_dev(res.scratch(), std::min<idx_t>(n, kAddChunk));
    for (idx_t i0 = 0; i0 < n; i0 += kAddChunk) {
      const idx_t m = std::min<idx_t>(kAddChunk, n - i0);
      flat_search(res, x + i0 * d_, m, centroids, 1, options, dist.data(), lists_dev.data());
      copy_to_host(res, lists.data() + i0, lists_dev.data(), m * sizeof(int64_t));
    }
  }
  const std::vector<int64_t> pos = lists_.append(res, n, lists.data());
  std::vector<int64_t> chunk_ids(std::min<idx_t>(n, kAddChunk));
  ScratchBuffer<int64_t> lists_dev(res.scratch(), chunk_ids.size());
  ScratchBuffer<int64_t> pos_dev(res.scratch(), chunk_ids.size());
  ScratchBuffer<int64_t> ids_dev(res.scratch(), chunk_ids.size());
  for (idx_t i0 = 0; i0 < n; i0 += kAddChunk) {
    const idx_t m = std::min<idx_t>(kAddChunk, n - i0);
    for (idx_t i = 0; i < m; i++) chunk_ids[i] = ids ? ids[i0 + i] : next_id_ + i0 + i;
    copy_to_device(res, lists_dev.data(), lists.data() + i0, m * sizeof(int64_t));
    copy_to_device(res, pos_dev.data(), pos.data() + i0, m * sizeof(int64_t));
    copy_to_device(res, ids_dev.data(), chunk_ids.data(), m * sizeof(int64_t));
    encode_device(m, x + i0 * d_, lists_dev.data(), pos_dev.data());
    scatter_ids(res, ids_dev.data(), pos_dev.data(), m, lists_.ids());
    res.synchronize();  // chunk_ids is rewritten by the next chunk
  }
  ntotal_ += n;
  if (!ids) next_id_ += n;
}

void GpuIndexIVF::search_device_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                     const SearchParams& params) const {
  GpuResources& res = *res_;
  const int64_t nprobe_knob = params.nprobe.value_or(nprobe_);
  SEXTANT_CHECK(nprobe_knob >= 1 && nprobe_knob <= kMaxNprobe, "nprobe must be in [1, ", kMaxNprobe, "], got ",
                nprobe_knob);
  const int64_t nprobe = std::min<int64_t>(nprobe_knob, nlist());
  const int64_t max_codes = params.max_codes.value_or(max_codes_);
  SEXTANT_CHECK(max_codes >= 0, "max_codes must be >= 0 (0: no limit), got ", max_codes);
  const int64_t kscan = scan_k(k, params);
  const int slots = queue_slots(kscan);
  SEXTANT_CHECK(slots > 0, type_name(), " selects at most ", kMaxRegisterK, " candidates per query, asked for ", kscan);
  const int64_t kcap = 32 * int64_t(slots);
  IvfScanPlan plan = plan_ivf_scan(n, nprobe, slots, res.sm_count(), kScanScratchBytes);
  const int64_t per_query = nprobe * (max_codes > 0 ? 20 : 12) + scratch_per_query(nprobe) + kcap * 8;
  plan.q_chunk = std::max<int64_t>(1, std::min(plan.q_chunk, kScanScratchBytes / per_query));

  if (lists_.total_size() == 0) {  // nothing stored (the lists' index arrays may not exist): all padding
    EntryDecoding how;
    how.pad_distance = worst_distance(metric_);
    decode_entries(res, nullptr, n, 0, k, how, distances, labels);
    return;
  }
  const FlatDatabase centroids = quantizer_->database();
  const FlatSearchOptions options = quantizer_->search_options();
  for (idx_t q0 = 0; q0 < n; q0 += plan.q_chunk) {
    const idx_t m = std::min<idx_t>(plan.q_chunk, n - q0);
    const float* xq = x + q0 * d_;
    ScratchBuffer<float> coarse(res.scratch(), m * nprobe);
    ScratchBuffer<int64_t> probes(res.scratch(), m * nprobe);
    ScratchBuffer<uint64_t> candidates(res.scratch(), m * plan.slices * kcap);
    ScratchBuffer<uint64_t> merged(res.scratch(), plan.slices > 1 ? m * kcap : 0);
    ScratchBuffer<int64_t> limits(res.scratch(), max_codes > 0 ? m * nprobe : 0);
    flat_search(res, xq, m, centroids, nprobe, options, coarse.data(), probes.data());
    if (max_codes > 0) {
      ivf_probe_limits(res, probes.data(), lists_.sizes_device(), m, nprobe, max_codes, limits.data());
    }
    scan(ScanBlock{m, xq, nprobe, coarse.data(), probes.data(), plan.slices, slots, candidates.data(),
                   max_codes > 0 ? limits.data() : nullptr});
    const uint64_t* best = candidates.data();
    if (plan.slices > 1) {
      select_entries(res, candidates.data(), m, plan.slices * kcap, slots, merged.data());
      best = merged.data();
    }
    finish(m, xq, k, best, slots, kscan, distances + q0 * k, labels + q0 * k, params);
  }
}

void GpuIndexIVF::finish(idx_t nq, const float*, idx_t k, const uint64_t* best, int slots, int64_t,
                         float* distances, idx_t* labels, const SearchParams&) const {
  EntryDecoding how;
  how.negate = is_similarity(metric_);
  how.id_map = lists_.ids();
  how.pad_distance = worst_distance(metric_);
  decode_entries(*res_, best, nq, 32 * int64_t(slots), k, how, distances, labels);
}

void GpuIndexIVF::reset_impl() {
  auto lock = res_->lock();
  res_->synchronize();
  lists_.reset();
  ntotal_ = 0;
  next_id_ = 0;
}

void GpuIndexIVF::copy_lists_to(InvertedLists& lists) const {
  auto lock = res_->lock();
  lists_.download_all(*res_, lists);
}

void GpuIndexIVF::set_centroids(const float* centroids) {
  quantizer_->reset();
  quantizer_->add(nlist(), centroids);
}

void GpuIndexIVF::upload_lists(const InvertedLists& lists, idx_t next_id) {
  auto lock = res_->lock();
  lists_.upload(*res_, lists);
  ntotal_ = lists_.total_size();
  next_id_ = next_id;
}

std::vector<float> GpuIndexIVF::centroids() const { return quantizer_->host_vectors(); }

const float* GpuIndexIVF::centroids_device() const { return quantizer_->database().xb32; }

}  // namespace sextant::gpu
