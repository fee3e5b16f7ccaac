#include "sextant/IndexScalarQuantizer.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "sextant/utils/Error.h"
#include "sextant/utils/select.h"

namespace sextant {

namespace {

constexpr size_t kScanChunk = 256;       // codes scored per kernel call
constexpr size_t kMinSliceCodes = 8192;  // smallest share of the codes worth a thread

float key_scale(MetricType metric) { return metric == MetricType::L2 ? 1.0f : -1.0f; }

}  // namespace

// ---------------------------------------------------------------- IndexScalarQuantizer

IndexScalarQuantizer::IndexScalarQuantizer(int d, QuantizerType type, MetricType metric)
    : Index(d, metric, false), sq_(static_cast<size_t>(d), type) {
  is_trained_ = !sq_.needs_training();
}

void IndexScalarQuantizer::train_impl(idx_t n, const float* x) {
  sq_.train(n, x);
  is_trained_ = true;
}

void IndexScalarQuantizer::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids");
  const size_t cs = sq_.code_size();
  codes_.resize((ntotal_ + n) * cs);
  sq_.encode(n, x, codes_.data() + ntotal_ * cs);
  ntotal_ += n;
}

void IndexScalarQuantizer::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                       const SearchParams& params) const {
  const Kernels& kern = kernels();
  const size_t cs = sq_.code_size(), nb = ntotal_;
  const IDSelector* sel = params.sel.get();
  const size_t nthreads = omp_in_parallel() ? 1 : omp_get_max_threads();
  // Few queries: the codes are split between threads, each with private heaps.
  const size_t slices =
      size_t(n) >= nthreads ? 1 : std::max<size_t>(1, std::min(nthreads, nb / kMinSliceCodes));
  std::vector<float> slice_keys(slices > 1 ? slices * n * k : 0);
  std::vector<idx_t> slice_ids(slice_keys.size());
  const size_t items = size_t(n) * slices;
#pragma omp parallel if (items > 1 && nthreads > 1)
  {
    ScalarQuantizer::Scorer scorer(sq_, metric_);
    std::vector<float> scores(kScanChunk);
#pragma omp for schedule(dynamic)
    for (long item = 0; item < static_cast<long>(items); item++) {
      const size_t q = item / slices, s = item % slices;
      const size_t j_begin = nb * s / slices, j_end = nb * (s + 1) / slices;
      const size_t at = (s * n + q) * k;
      TopKHeap heap = slices == 1 ? TopKHeap(distances + q * k, labels + q * k, k)
                                  : TopKHeap(slice_keys.data() + at, slice_ids.data() + at, k);
      scorer.set_query(x + q * d_);
      for (size_t j0 = j_begin; j0 < j_end; j0 += kScanChunk) {
        const size_t m = std::min(kScanChunk, j_end - j0);
        scorer.score(codes_.data() + j0 * cs, m, scores.data());
        push_candidates(kern, scores.data(), nullptr, key_scale(metric_), m, nullptr, idx_t(j0), heap, sel);
      }
      heap.finish();
    }
  }
  for (idx_t q = 0; q < n && slices > 1; q++) {
    TopKHeap merged(distances + q * k, labels + q * k, k);
    for (size_t s = 0; s < slices; s++) {
      const size_t at = (s * n + q) * k;
      for (idx_t i = 0; i < k && slice_ids[at + i] >= 0; i++) merged.push(slice_keys[at + i], slice_ids[at + i]);
    }
    merged.finish();
  }
  keys_to_distances(metric_, n, k, nullptr, distances);
}

void IndexScalarQuantizer::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                             RangeSearchResult& result) const {
  const Kernels& kern = kernels();
  const size_t cs = sq_.code_size(), nb = ntotal_;
  const bool l2 = metric_ == MetricType::L2;
  std::vector<std::vector<std::pair<float, idx_t>>> hits(n);
#pragma omp parallel if (n > 1)
  {
    ScalarQuantizer::Scorer scorer(sq_, metric_);
    std::vector<float> scores(kScanChunk), keys(kScanChunk);
    std::vector<uint32_t> idx(kScanChunk);
#pragma omp for schedule(dynamic)
    for (long q = 0; q < static_cast<long>(n); q++) {
      scorer.set_query(x + q * d_);
      for (size_t j0 = 0; j0 < nb; j0 += kScanChunk) {
        const size_t m = std::min(kScanChunk, nb - j0);
        scorer.score(codes_.data() + j0 * cs, m, scores.data());
        const size_t count =
            kern.collect_below(scores.data(), nullptr, key_scale(metric_), m, l2 ? radius : -radius, idx.data(),
                               keys.data());
        for (size_t c = 0; c < count; c++) {
          const idx_t id = idx_t(j0 + idx[c]);
          if (!params.sel || params.sel->is_member(id)) hits[q].emplace_back(scores[idx[c]], id);
        }
      }
      std::sort(hits[q].begin(), hits[q].end(), [l2](const auto& a, const auto& b) {
        return (l2 ? a.first < b.first : a.first > b.first) || (a.first == b.first && a.second < b.second);
      });
    }
  }
  result.lims.assign(n + 1, 0);
  for (idx_t q = 0; q < n; q++) result.lims[q + 1] = result.lims[q] + hits[q].size();
  for (auto& h : hits) {
    for (auto& [dist, id] : h) {
      result.distances.push_back(dist);
      result.labels.push_back(id);
    }
  }
}

void IndexScalarQuantizer::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  sq_.decode(1, codes_.data() + key * sq_.code_size(), recons);
}

void IndexScalarQuantizer::sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const { sq_.encode(n, x, codes); }

void IndexScalarQuantizer::sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const { sq_.decode(n, codes, x); }

size_t IndexScalarQuantizer::remove_ids_impl(const IDSelector& sel) {
  const size_t cs = sq_.code_size();
  idx_t kept = 0;
  for (idx_t i = 0; i < ntotal_; i++) {
    if (sel.is_member(i)) continue;
    if (kept != i) std::memmove(codes_.data() + kept * cs, codes_.data() + i * cs, cs);
    kept++;
  }
  const size_t removed = ntotal_ - kept;
  ntotal_ = kept;
  codes_.resize(kept * cs);
  return removed;
}

void IndexScalarQuantizer::reset_impl() {
  codes_.clear();
  ntotal_ = 0;
}

// ------------------------------------------------------------- IndexIVFScalarQuantizer

namespace {

// L2 with residuals: the query's residual to each list's centroid is prepared
// per list. Inner product: <x, c + r> = <x, c> + <x, r>; <x, c> is the coarse
// similarity, so the query is prepared once.
class SQScanner final : public InvertedListScanner {
 public:
  SQScanner(const IndexIVFScalarQuantizer& index, const ScalarQuantizer& sq)
      : index_(index), scorer_(sq, index.metric()), residual_(index.d()), centroid_(index.d()) {}

  void set_query(const float* x) override {
    x_ = x;
    if (!index_.by_residual() || index_.metric() == MetricType::INNER_PRODUCT) scorer_.set_query(x);
  }
  void set_list(size_t list, float coarse) override {
    list_term_ = 0;
    if (!index_.by_residual()) return;
    if (index_.metric() == MetricType::INNER_PRODUCT) {
      list_term_ = coarse;
      return;
    }
    index_.quantizer()->reconstruct(static_cast<idx_t>(list), centroid_.data());
    for (size_t j = 0; j < residual_.size(); j++) residual_[j] = x_[j] - centroid_[j];
    scorer_.set_query(residual_.data());
  }
  void score(const uint8_t* codes, size_t n, float* out) const override {
    scorer_.score(codes, n, out);
    if (list_term_ != 0) {
      for (size_t j = 0; j < n; j++) out[j] += list_term_;
    }
  }

 private:
  const IndexIVFScalarQuantizer& index_;
  ScalarQuantizer::Scorer scorer_;
  std::vector<float> residual_, centroid_;
  const float* x_ = nullptr;
  float list_term_ = 0;
};

}  // namespace

IndexIVFScalarQuantizer::IndexIVFScalarQuantizer(std::shared_ptr<Index> quantizer, int d, size_t nlist,
                                                 QuantizerType type, MetricType metric, bool by_residual)
    : IndexIVF(std::move(quantizer), d, nlist, ScalarQuantizer(d > 0 ? d : 1, type).code_size(), metric,
               by_residual),
      sq_(static_cast<size_t>(d), type) {
  is_trained_ = is_trained_ && !sq_.needs_training();
}

void IndexIVFScalarQuantizer::train_encoder(idx_t n, const float* x) { sq_.train(n, x); }

void IndexIVFScalarQuantizer::encode(idx_t n, const float* x, const idx_t* lists, uint8_t* codes) const {
  if (!by_residual()) return sq_.encode(n, x, codes);
  std::vector<float> residuals(static_cast<size_t>(n) * d_), c(d_);
  for (idx_t i = 0; i < n; i++) {
    centroid(lists[i], c.data());
    for (int j = 0; j < d_; j++) residuals[i * d_ + j] = x[i * d_ + j] - c[j];
  }
  sq_.encode(n, residuals.data(), codes);
}

void IndexIVFScalarQuantizer::decode(size_t list, const uint8_t* code, float* x) const {
  decode_block(list, code, 1, x);
}

const float* IndexIVFScalarQuantizer::decode_block(size_t list, const uint8_t* codes, size_t n, float* out) const {
  sq_.decode(n, codes, out);
  if (by_residual()) {
    std::vector<float> c(d_);
    centroid(list, c.data());
    for (size_t i = 0; i < n; i++) {
      for (int j = 0; j < d_; j++) out[i * d_ + j] += c[j];
    }
  }
  return out;
}

std::unique_ptr<InvertedListScanner> IndexIVFScalarQuantizer::make_scanner() const {
  return std::make_unique<SQScanner>(*this, sq_);
}

}  // namespace sextant
