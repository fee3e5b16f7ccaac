// IndexIVF: training, adding, removal, merging, reconstruction and
// standalone codes. Search lives in IndexIVF_search.cpp.
#include "sextant/IndexIVF.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "sextant/Clustering.h"
#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/utils/distances.h"

namespace sextant {

namespace {

constexpr idx_t kAddChunk = 65536;  // vectors encoded at a time by add(): bounds the scratch memory

const Index& checked_quantizer(const std::shared_ptr<Index>& quantizer, int d, MetricType metric) {
  SEXTANT_CHECK(quantizer != nullptr, "an IVF index needs a coarse quantizer, got null");
  SEXTANT_CHECK(quantizer->d() == d, "the coarse quantizer has dimension ", quantizer->d(), ", expected d=", d);
  // Faiss lets an L2 quantizer assign the lists of an inner-product index; here the lists
  // are assigned and scanned with one metric, so the message shows the spelling to use.
  SEXTANT_CHECK(quantizer->metric() == metric, "the coarse quantizer's metric (", metric_name(quantizer->metric()),
                ") must be the index's (", metric_name(metric), "): build the quantizer with the index's metric, e.g. ",
                metric == MetricType::L2 ? "IndexIVFFlat(IndexFlatL2(d), d, nlist, METRIC_L2)"
                                         : "IndexIVFFlat(IndexFlatIP(d), d, nlist, METRIC_INNER_PRODUCT)");
  return *quantizer;
}

constexpr size_t kChainMaxLists = 4096;  // the chain looks at all pairs of centroids

// The centroids renumbered along a greedy nearest-neighbour chain (start at
// centroid 0, step to the nearest not yet taken), so that lists with near
// numbers are near in space: a batch grouped by nearest list (search_grouped)
// then moves from a region to a neighbouring one, and re-ranking keeps finding
// rows in cache across groups (k-means numbers its centroids at random).
std::vector<float> chain_order(size_t k, size_t d, const float* c, MetricType metric) {
  std::vector<float> out(c, c + k * d);
  if (k > kChainMaxLists || k < 3) return out;
  std::vector<float> dist(k * k);
  pairwise_distances(c, k, c, k, d, metric, dist.data());
  const float sign = metric == MetricType::L2 ? 1.0f : -1.0f;  // inner product: larger is nearer
  std::vector<uint8_t> taken(k, 0);
  size_t cur = 0;
  taken[0] = 1;
  for (size_t i = 1; i < k; i++) {
    size_t best = k;
    float best_d = 0;
    for (size_t j = 0; j < k; j++) {
      const float dj = sign * dist[cur * k + j];
      if (!taken[j] && (best == k || dj < best_d)) {
        best = j;
        best_d = dj;
      }
    }
    taken[best] = 1;
    std::copy_n(c + best * d, d, out.data() + i * d);
    cur = best;
  }
  return out;
}

}  // namespace

IndexIVF::IndexIVF(std::shared_ptr<Index> quantizer, int d, size_t nlist, size_t code_size, MetricType metric,
                   bool by_residual)
    : Index(d, metric, false), quantizer_(std::move(quantizer)), by_residual_(by_residual) {
  checked_quantizer(quantizer_, d, metric);
  SEXTANT_CHECK(nlist > 0, "nlist (the number of inverted lists) must be > 0, got ", nlist);
  lists_ = std::make_unique<ArrayInvertedLists>(nlist, code_size);
  clustering_params_.niter = 10;
}

void IndexIVF::set_nprobe(int64_t nprobe) {
  SEXTANT_CHECK(nprobe >= 1, "nprobe must be >= 1, got ", nprobe);
  nprobe_ = nprobe;
}

void IndexIVF::set_max_codes(int64_t max_codes) {
  SEXTANT_CHECK(max_codes >= 0, "max_codes must be >= 0 (0: no limit), got ", max_codes);
  max_codes_ = max_codes;
}

void IndexIVF::replace_invlists(std::unique_ptr<InvertedLists> lists) {
  SEXTANT_CHECK(lists != nullptr, "inverted lists must not be null");
  SEXTANT_CHECK(lists->nlist() == nlist() && lists->code_size() == code_size(), "the new lists have nlist=",
                lists->nlist(), ", code_size=", lists->code_size(), "; expected ", nlist(), " and ", code_size());
  for (size_t l = 0; l < lists->nlist(); l++) {
    const size_t size = lists->list_size(l);
    const idx_t* ids = lists->ids(l);
    for (size_t i = 0; i < size; i++)
      SEXTANT_CHECK(ids[i] >= 0, type_name(), ": list ", l, " holds id ", ids[i], " (ids are >= 0; -1 means no result)");
    if (size == 0) continue;
    if (lists->plain_layout()) {
      check_codes(lists->codes(l), size);
      continue;
    }
    std::vector<uint8_t> code(code_size());
    for (size_t i = 0; i < size; i++) {
      lists->get_code(l, i, code.data());
      check_codes(code.data(), 1);
    }
  }
  lists_ = std::move(lists);
  ntotal_ = static_cast<idx_t>(lists_->total_size());
  if (direct_map_.type() != DirectMapType::none) direct_map_.set_type(direct_map_.type(), *lists_);
}

void IndexIVF::restore_state(idx_t next_id, bool is_trained) {
  SEXTANT_CHECK(next_id >= 0, "next_id must be >= 0, got ", next_id);
  if (is_trained) {
    SEXTANT_CHECK(quantizer_->is_trained() && quantizer_->ntotal() == idx_t(nlist()), type_name(),
                  " is marked trained, but its coarse quantizer holds ", quantizer_->ntotal(),
                  " centroids for nlist=", nlist());
    SEXTANT_CHECK(encoder_is_trained(), type_name(), " is marked trained, but its encoder is not");
  }
  SEXTANT_CHECK(is_trained == this->is_trained(), type_name(), " is marked ", is_trained ? "trained" : "untrained",
                ", but its quantizer and encoder say otherwise");
  next_id_ = next_id;
}

void IndexIVF::make_direct_map(DirectMapType type) { direct_map_.set_type(type, *lists_); }

void IndexIVF::centroid(size_t list, float* out) const {
  reconstruct_nested(*quantizer_, static_cast<idx_t>(list), out);  // per list scanned: no lock of its own
}

void IndexIVF::assign_lists(idx_t n, const float* x, idx_t* lists) const {
  SEXTANT_CHECK(quantizer_->is_trained() && quantizer_->ntotal() == idx_t(nlist()), type_name(),
                " is not trained: call train() first");
  std::vector<float> distances(kAddChunk);
  for (idx_t i0 = 0; i0 < n; i0 += kAddChunk) {
    const idx_t m = std::min(kAddChunk, n - i0);
    quantizer_->search(m, x + i0 * d_, 1, distances.data(), lists + i0);
  }
}

void IndexIVF::train_encoder(idx_t, const float*, const float*) {}

void IndexIVF::train_impl(idx_t n, const float* x) {
  SEXTANT_CHECK(ntotal_ == 0, type_name(), " must be trained before vectors are added (it holds ", ntotal_,
                "): reset() it first");
  const size_t nl = nlist();
  if (!(quantizer_->is_trained() && quantizer_->ntotal() == idx_t(nl))) {
    SEXTANT_CHECK(n >= idx_t(nl), "training ", type_name(), " with nlist=", nl,
                  " needs at least nlist training vectors, got ", n);
    Clustering clustering(d_, static_cast<int>(nl), clustering_params_, metric_);
    clustering.train(n, x);
    const std::vector<float> centroids = chain_order(nl, d_, clustering.centroids().data(), metric_);
    quantizer_->reset();
    quantizer_->train(nl, centroids.data());
    quantizer_->add(nl, centroids.data());
  }
  if (by_residual_) {
    std::vector<idx_t> lists(n);
    assign_lists(n, x, lists.data());
    train_encoder(n, residuals(n, x, lists.data()).data(), x);
  } else {
    train_encoder(n, x, x);
  }
}

std::vector<float> IndexIVF::residuals(idx_t n, const float* x, const idx_t* lists) const {
  std::vector<float> out(static_cast<size_t>(n) * d_), c(d_);
  for (idx_t i = 0; i < n; i++) {
    centroid(lists[i], c.data());
    for (int j = 0; j < d_; j++) out[i * d_ + j] = x[i * d_ + j] - c[j];
  }
  return out;
}

bool IndexIVF::is_trained() const {
  return quantizer_->is_trained() && quantizer_->ntotal() == idx_t(nlist()) && encoder_is_trained();
}

void IndexIVF::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(!lists_->is_read_only(), type_name(),
                " has read-only inverted lists (memory-mapped, say): cannot add; "
                "read the file without mmap to modify the index");
  const size_t cs = code_size();
  std::vector<idx_t> lists(std::min(n, kAddChunk)), chunk_ids(lists.size()), order(lists.size());
  std::vector<uint8_t> codes(lists.size() * cs), run_codes(lists.size() * cs);
  std::vector<idx_t> run_ids(lists.size());
  for (idx_t i0 = 0; i0 < n; i0 += kAddChunk) {
    const idx_t m = std::min(kAddChunk, n - i0);
    const float* xc = x + i0 * d_;
    assign_lists(m, xc, lists.data());
    encode(m, xc, lists.data(), codes.data());
    for (idx_t i = 0; i < m; i++) chunk_ids[i] = ids ? ids[i0 + i] : next_id_ + i0 + i;
    // Append list by list, keeping the input order within a list.
    std::iota(order.begin(), order.begin() + m, idx_t{0});
    std::stable_sort(order.begin(), order.begin() + m, [&](idx_t a, idx_t b) { return lists[a] < lists[b]; });
    for (idx_t r0 = 0; r0 < m;) {
      const idx_t list = lists[order[r0]];
      SEXTANT_CHECK(list >= 0 && size_t(list) < nlist(), "the coarse quantizer returned list ", list,
                    " outside [0, ", nlist(), ")");
      idx_t r1 = r0;
      for (; r1 < m && lists[order[r1]] == list; r1++) {
        run_ids[r1 - r0] = chunk_ids[order[r1]];
        std::memcpy(run_codes.data() + (r1 - r0) * cs, codes.data() + order[r1] * cs, cs);
      }
      const size_t first = lists_->add_entries(list, r1 - r0, run_ids.data(), run_codes.data());
      direct_map_.add(list, first, r1 - r0, run_ids.data());
      r0 = r1;
    }
  }
  ntotal_ += n;
  if (!ids) next_id_ += n;
}

void IndexIVF::reconstruct_impl(idx_t key, float* recons) const {
  const auto [list, offset] = direct_map_.locate(key);
  std::vector<uint8_t> code(code_size());
  lists_->get_code(list, offset, code.data());
  decode(list, code.data(), recons);
}

size_t IndexIVF::coarse_code_size() const {
  size_t bytes = 0;
  for (size_t rest = nlist() - 1; rest > 0; rest >>= 8) bytes++;
  return bytes;
}

size_t IndexIVF::sa_code_size_impl() const { return coarse_code_size() + code_size(); }

void IndexIVF::sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const {
  const size_t ccs = coarse_code_size(), cs = code_size();
  std::vector<idx_t> lists(n);
  std::vector<uint8_t> inner(static_cast<size_t>(n) * cs);
  assign_lists(n, x, lists.data());
  encode(n, x, lists.data(), inner.data());
  for (idx_t i = 0; i < n; i++) {
    uint8_t* out = codes + i * (ccs + cs);
    for (size_t b = 0; b < ccs; b++) out[b] = uint8_t(uint64_t(lists[i]) >> (8 * b));  // little-endian list number
    std::memcpy(out + ccs, inner.data() + i * cs, cs);
  }
}

void IndexIVF::sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const {
  const size_t ccs = coarse_code_size(), cs = code_size();
  for (idx_t i = 0; i < n; i++) {
    const uint8_t* in = codes + i * (ccs + cs);
    uint64_t list = 0;
    for (size_t b = 0; b < ccs; b++) list |= uint64_t(in[b]) << (8 * b);
    SEXTANT_CHECK(list < nlist(), "code ", i, " names list ", list, ", but nlist is ", nlist());
    decode(list, in + ccs, x + i * d_);
  }
}

size_t IndexIVF::remove_ids_impl(const IDSelector& sel) {
  SEXTANT_CHECK(!lists_->is_read_only(), type_name(),
                " has read-only inverted lists (memory-mapped, say): cannot remove; "
                "read the file without mmap to modify the index");
  const size_t nl = nlist();
  // Each list closes up in place, keeping its order; direct-map updates are
  // gathered per list and applied after the parallel part.
  std::vector<std::vector<idx_t>> removed(nl);
  std::vector<std::vector<std::pair<idx_t, size_t>>> moved(nl);
  const bool mapped = direct_map_.type() != DirectMapType::none;
  ParallelErrors errors;
#pragma omp parallel for schedule(dynamic, 16)
  for (long l = 0; l < static_cast<long>(nl); l++) errors.run([&] {
    const size_t size = lists_->list_size(l);
    const idx_t* ids = lists_->ids(l);
    size_t members = 0;
    for (size_t i = 0; i < size; i++) members += sel.is_member(ids[i]);
    if (members == 0) return;
    // All a list needs is allocated before it changes: a failure leaves it whole.
    std::vector<uint8_t> code(code_size());
    removed[l].reserve(members);
    if (mapped) moved[l].reserve(size - members);
    size_t kept = 0;
    for (size_t i = 0; i < size; i++) {
      const idx_t id = ids[i];
      if (sel.is_member(id)) {
        removed[l].push_back(id);
        continue;
      }
      if (kept != i) {
        lists_->get_code(l, i, code.data());
        lists_->update_entry(l, kept, id, code.data());
        if (mapped) moved[l].emplace_back(id, kept);
      }
      kept++;
    }
    lists_->shrink(l, kept);
  });
  // The lists that changed are accounted for even when another failed.
  size_t count = 0;
  for (size_t l = 0; l < nl; l++) {
    count += removed[l].size();
    for (idx_t id : removed[l]) direct_map_.remove(id);
    for (auto [id, offset] : moved[l]) direct_map_.move(id, l, offset);
  }
  ntotal_ -= static_cast<idx_t>(count);
  errors.rethrow();
  return count;
}

void IndexIVF::reset_impl() {
  SEXTANT_CHECK(!lists_->is_read_only(), type_name(),
                " has read-only inverted lists (memory-mapped, say): cannot reset; "
                "read the file without mmap to modify the index");
  lists_->reset();
  direct_map_.set_type(direct_map_.type(), *lists_);
  ntotal_ = 0;
  next_id_ = 0;
}

void IndexIVF::check_compatible(const IndexIVF& other) const {
  SEXTANT_CHECK(other.nlist() == nlist() && other.code_size() == code_size() && other.by_residual_ == by_residual_,
                "cannot merge ", other.type_name(), " (d=", other.d_, ", nlist=", other.nlist(), ") into ",
                type_name(), " (d=", d_, ", nlist=", nlist(), "): they must have the same type and parameters");
  SEXTANT_CHECK(other.quantizer_->ntotal() == quantizer_->ntotal(), "cannot merge: the coarse quantizers differ");
  std::vector<float> a(d_), b(d_);
  for (size_t l = 0; l < nlist() && other.quantizer_ != quantizer_; l++) {
    centroid(l, a.data());
    other.centroid(l, b.data());
    SEXTANT_CHECK(a == b, "cannot merge: the coarse quantizers differ (centroid ", l, ")");
  }
  SEXTANT_CHECK(same_encoder(other), "cannot merge: the encoders differ (train one index, then copy it for each part)");
}

void IndexIVF::merge_from_impl(Index& other_index, idx_t add_id) {
  auto& other = dynamic_cast<IndexIVF&>(other_index);
  SEXTANT_CHECK(!lists_->is_read_only() && !other.lists_->is_read_only(), "cannot merge read-only inverted lists");
  check_compatible(other);
  for (size_t l = 0; l < nlist(); l++) {
    const idx_t* src = other.lists_->ids(l);
    for (size_t i = 0; i < other.lists_->list_size(l); i++) {
      SEXTANT_CHECK(src[i] <= std::numeric_limits<idx_t>::max() - add_id, "merge_from: id ", src[i], " + add_id ",
                    add_id, " overflows");
    }
  }
  std::vector<idx_t> ids;
  std::vector<uint8_t> codes;
  for (size_t l = 0; l < nlist(); l++) {
    const size_t size = other.lists_->list_size(l);
    if (size == 0) continue;
    const idx_t* src = other.lists_->ids(l);
    ids.assign(src, src + size);
    for (idx_t& id : ids) id += add_id;
    codes.resize(size * code_size());
    for (size_t i = 0; i < size; i++) other.lists_->get_code(l, i, codes.data() + i * code_size());
    const size_t first = lists_->add_entries(l, size, ids.data(), codes.data());
    direct_map_.add(l, first, size, ids.data());
  }
  ntotal_ += other.ntotal_;
  next_id_ = std::max(next_id_, other.next_id_ + add_id);
  other.reset();
}

}  // namespace sextant
