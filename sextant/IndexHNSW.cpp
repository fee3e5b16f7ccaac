#include "sextant/IndexHNSW.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <numeric>
#include <unordered_set>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"
#include "sextant/utils/TopK.h"

namespace sextant {

namespace {
constexpr idx_t kMaxNodes = (idx_t{1} << 31) - 1;
constexpr size_t kSelectivitySamples = 1024;
constexpr idx_t kRenumberFrom = 4096;
constexpr size_t kBruteChunk = 256;
constexpr idx_t kGroupMinQueries = 256;  // smaller batches rarely share regions of the graph

/// A selector over ids seen as one over graph nodes (after renumbering).
class NodeSelector final : public IDSelector {
 public:
  NodeSelector(const std::vector<node_t>& label_of_node, const IDSelector& by_label)
      : label_of_node_(label_of_node), by_label_(by_label) {}
  bool is_member(idx_t node) const override { return by_label_.is_member(label_of_node_[node]); }

 private:
  const std::vector<node_t>& label_of_node_;
  const IDSelector& by_label_;
};

}  // namespace

/// How one call handles its selector (see the class comment). Shared by the
/// threads of the call; the member list is collected once, on first use.
class IndexHNSW::FilterPlan {
 public:
  FilterPlan(const IndexHNSW& index, const IDSelector* sel, size_t ef);

  /// The selector over graph nodes (null: no filter).
  const IDSelector* sel() const { return node_sel_ ? node_sel_.get() : sel_; }
  bool brute() const { return brute_; }
  /// Graph: the pool starts at ef / selectivity candidates.
  double widen() const { return widen_; }
  /// Estimated number of members: the cost of brute force, in distances.
  double members_estimate() const { return members_estimate_; }
  const std::vector<node_t>& members() const {
    std::call_once(members_once_, [this] { members_ = index_.collect_members(*sel_); });
    return members_;
  }

 private:
  const IndexHNSW& index_;
  const IDSelector* sel_;  // over ids
  std::unique_ptr<NodeSelector> node_sel_;
  bool brute_ = false;
  double widen_ = 1.0;
  double members_estimate_ = 0;
  mutable std::once_flag members_once_;
  mutable std::vector<node_t> members_;
};

IndexHNSW::FilterPlan::FilterPlan(const IndexHNSW& index, const IDSelector* sel, size_t ef)
    : index_(index), sel_(sel) {
  const idx_t ntotal = index.ntotal_;
  if (sel == nullptr || ntotal == 0) return;
  if (!index.label_of_node_.empty()) node_sel_ = std::make_unique<NodeSelector>(index.label_of_node_, *sel);
  const IDRange r = sel->bounds();
  const idx_t lo = std::max<idx_t>(r.lo, 0), hi = std::min(r.hi, ntotal);
  size_t hits = 0, samples = 0;
  if (hi > lo) {
    const idx_t span = hi - lo;
    samples = std::min<size_t>(span, kSelectivitySamples);
    for (size_t i = 0; i < samples; i++) hits += sel->is_member(lo + idx_t(i) * span / idx_t(samples));
  }
  members_estimate_ = hits == 0 ? 0.0 : double(hits) * double(hi - lo) / double(samples);
  // Graph: about ef / selectivity expansions of ~M new neighbours each;
  // brute force: one distance per member.
  widen_ = hits == 0 ? 0.0 : double(ntotal) / members_estimate_;
  const double pool = std::min(double(ntotal), std::ceil(double(ef) * widen_));
  brute_ = hits == 0 || members_estimate_ <= pool * index.hnsw_.M();
}

IndexHNSW::IndexHNSW(int d, int M, MetricType metric) : Index(d, metric, true), hnsw_(M) {}

void IndexHNSW::set_efConstruction(int ef) {
  SEXTANT_CHECK(ef > 0, "efConstruction must be > 0, got ", ef);
  hnsw_.efConstruction = ef;
}

HNSWStats IndexHNSW::hnsw_stats() const {
  HNSWStats s = hnsw_.stats();
  if (s.entry_point >= 0) s.entry_point = label_of(node_t(s.entry_point));
  return s;
}

void IndexHNSW::set_efSearch(int64_t ef) {
  SEXTANT_CHECK(ef > 0, "efSearch must be > 0, got ", ef);
  SEXTANT_CHECK(ef <= INT32_MAX, "efSearch must be <= 2147483647 (index files store 32 bits), got ", ef);
  efSearch_ = ef;
}

void IndexHNSW::add_impl(idx_t n, const float* x, const idx_t* ids) {
  SEXTANT_CHECK(ids == nullptr, type_name(),
                " numbers vectors in insertion order: use add(), or wrap it in IndexIDMap to choose ids"
                " (update() replaces the vector at a position)");
  SEXTANT_CHECK(n <= kMaxNodes - ntotal_, type_name(), " holds at most ", kMaxNodes, " vectors, has ", ntotal_,
                " and got ", n, " more");
  storage_append(n, x);
  try {
    hnsw_.add(n, storage());  // on failure the graph drops the new nodes...
  } catch (...) {
    std::vector<node_t> kept(ntotal_);  // ...and the storage their rows
    std::iota(kept.begin(), kept.end(), node_t{0});
    storage_compact(kept);
    throw;
  }
  // The orphan check reads every list: a trickle of small adds skips it.
  if (size_t(n) * 1024 >= hnsw_.ntotal()) adopt_orphans();
  ntotal_ += n;
  if (!label_of_node_.empty()) {
    for (idx_t i = ntotal_ - n; i < ntotal_; i++) {
      label_of_node_.push_back(node_t(i));
      node_of_label_.push_back(node_t(i));
    }
  }
  if (ntotal_ >= kRenumberFrom && ntotal_ >= 2 * renumbered_at_) renumber_for_locality();
}

void IndexHNSW::renumber_for_locality() {
  const std::vector<node_t> old_of_new = hnsw_.locality_order();
  hnsw_.renumber(old_of_new);
  storage_permute(old_of_new);
  std::vector<node_t> label_of_node(ntotal_);
  for (idx_t j = 0; j < ntotal_; j++) label_of_node[j] = node_t(label_of(old_of_new[j]));
  label_of_node_ = std::move(label_of_node);
  node_of_label_.assign(ntotal_, 0);
  for (idx_t j = 0; j < ntotal_; j++) node_of_label_[label_of_node_[j]] = node_t(j);
  renumbered_at_ = ntotal_;
}

void IndexHNSW::restore_graph(const HNSW::Layout& layout, std::vector<node_t> label_of_node, idx_t renumbered_at) {
  const idx_t n = idx_t(layout.levels.size());
  std::vector<node_t> node_of_label;
  if (!label_of_node.empty()) {
    SEXTANT_CHECK(idx_t(label_of_node.size()) == n, type_name(), ": ", label_of_node.size(), " node ids for ", n,
                  " nodes");
    node_of_label.assign(n, HNSW::kNoNode);
    for (idx_t j = 0; j < n; j++) {
      const node_t id = label_of_node[j];
      SEXTANT_CHECK(id < node_t(n) && node_of_label[id] == HNSW::kNoNode, type_name(),
                    ": the node ids are not a permutation of 0..", n - 1);
      node_of_label[id] = node_t(j);
    }
  }
  SEXTANT_CHECK(renumbered_at >= 0 && renumbered_at <= n, type_name(), ": renumbered at ", renumbered_at,
                " with ", n, " nodes");
  hnsw_.set_layout(layout);
  buffers_.clear();
  label_of_node_ = std::move(label_of_node);
  node_of_label_ = std::move(node_of_label);
  renumbered_at_ = renumbered_at;
  ntotal_ = n;
  if (label_of_node_.empty() && renumbered_at_ == 0 && ntotal_ >= kRenumberFrom) renumber_for_locality();
}

void IndexHNSW::update(idx_t n, const idx_t* keys, const float* x) {
  const WriteLock hold(lock());
  SEXTANT_CHECK(n >= 0, "n (the number of updated vectors) must be >= 0, got ", n);
  if (n == 0) return;
  SEXTANT_CHECK(keys != nullptr, "keys must not be null");
  check_vectors(n, x, "new vectors");
  std::unordered_set<idx_t> seen;
  std::vector<node_t> nodes(n);
  for (idx_t i = 0; i < n; i++) {
    SEXTANT_CHECK(keys[i] >= 0 && keys[i] < ntotal_, "keys[", i, "] = ", keys[i], " is out of range [0, ", ntotal_,
                  ")");
    SEXTANT_CHECK(seen.insert(keys[i]).second, "keys must be distinct: ", keys[i], " appears twice");
    nodes[i] = node_of(keys[i]);
  }
  for (idx_t i = 0; i < n; i++) storage_replace(nodes[i], x + size_t(i) * d_);
  hnsw_.relink(nodes, storage());
  adopt_orphans();
}

void IndexHNSW::adopt_orphans() {
  if (metric_ == MetricType::L2) hnsw_.adopt_orphans(storage());
}

size_t IndexHNSW::remove_ids_impl(const IDSelector& sel) {
  std::vector<uint8_t> removed(ntotal_, 0);  // per node
  size_t count = 0;
  for (idx_t i = 0; i < ntotal_; i++) {
    if (sel.is_member(i)) {
      removed[node_of(i)] = 1;
      count++;
    }
  }
  if (count == 0) return 0;
  const std::vector<node_t> kept = hnsw_.remove(removed, storage());
  storage_compact(kept);
  adopt_orphans();
  if (!label_of_node_.empty()) {
    // Ids close up like positions do: a survivor's new id is its rank among the surviving ids.
    std::vector<node_t> new_label(ntotal_, 0);
    node_t next = 0;
    for (idx_t i = 0; i < ntotal_; i++) {
      if (!removed[node_of(i)]) new_label[i] = next++;
    }
    std::vector<node_t> label_of_node(kept.size());
    for (size_t j = 0; j < kept.size(); j++) label_of_node[j] = new_label[label_of_node_[kept[j]]];
    label_of_node_ = std::move(label_of_node);
    node_of_label_.assign(kept.size(), 0);
    for (size_t j = 0; j < kept.size(); j++) node_of_label_[label_of_node_[j]] = node_t(j);
  }
  ntotal_ = idx_t(kept.size());
  renumbered_at_ = std::min(renumbered_at_, ntotal_);
  return count;
}

void IndexHNSW::reset_impl() {
  hnsw_.reset();
  storage_clear();
  buffers_.clear();
  label_of_node_.clear();
  node_of_label_.clear();
  renumbered_at_ = 0;
  ntotal_ = 0;
}

std::vector<node_t> IndexHNSW::collect_members(const IDSelector& sel) const {
  const IDRange r = sel.bounds();
  std::vector<node_t> members;
  for (idx_t i = std::max<idx_t>(r.lo, 0); i < std::min(r.hi, ntotal_); i++) {
    if (sel.is_member(i)) members.push_back(node_of(i));
  }
  return members;
}

size_t IndexHNSW::brute_force(GraphDistance& dist, const std::vector<node_t>& members, size_t k, float* D,
                              idx_t* I) const {
  TopKHeap heap(D, I, k);
  float d[kBruteChunk];
  for (size_t at = 0; at < members.size(); at += kBruteChunk) {
    const size_t m = std::min(kBruteChunk, members.size() - at);
    dist.distances(&members[at], m, heap.admission_bound(), d);
    for (size_t j = 0; j < m; j++) heap.push(d[j], members[at + j]);
  }
  return heap.finish();
}

size_t IndexHNSW::search_one(GraphDistance& dist, SearchBuffers& buf, const FilterPlan& plan, size_t k, size_t ef,
                             float* D, idx_t* I, const HNSW::Entry* entry) const {
  ef = std::max(ef, k);
  if (plan.brute()) return brute_force(dist, plan.members(), k, D, I);
  if (plan.sel() == nullptr) return hnsw_.search(dist, buf, k, ef, nullptr, D, I, entry);
  size_t pool = size_t(std::min(double(ntotal_), std::ceil(double(ef) * plan.widen())));
  for (;;) {
    const size_t found = hnsw_.search(dist, buf, k, pool, plan.sel(), D, I, entry);
    // The search explored the nodes up to the pool's worst distance: members
    // beyond it may hide closer ones. A filter correlated with the query (no
    // members near it) lands here; so does a graph search that ran out of nodes.
    const CandidatePool& p = buf.pool;
    const bool exhausted = !p.full();
    if (found == k && (exhausted || D[k - 1] <= p.dist(p.size() - 1))) return found;
    if (exhausted || pool >= size_t(ntotal_) || double(2 * pool) * hnsw_.M() > plan.members_estimate()) {
      return brute_force(dist, plan.members(), k, D, I);
    }
    pool *= 2;
  }
}

void IndexHNSW::search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                            const SearchParams& params) const {
  const int64_t ef_param = params.efSearch.value_or(efSearch_);
  SEXTANT_CHECK(ef_param > 0, "efSearch must be > 0, got ", ef_param);
  // A pool larger than the index never fills: capping it keeps a huge efSearch (say, from a file) harmless.
  const int64_t ef = std::min<int64_t>(ef_param, std::max<idx_t>(ntotal_, 1));
  const FilterPlan plan(*this, params.sel.get(), std::max(size_t(ef), size_t(k)));
  const bool negate = is_similarity(metric_);  // graph distances of inner product are negated
  const float worst = worst_distance(metric_);
  auto one_query = [&](GraphDistance& dist, SearchBuffers& buf, idx_t q, const HNSW::Entry* entry) {
    float* Dq = distances + q * k;
    idx_t* Iq = labels + q * k;
    dist.set_query(x + size_t(q) * d_);
    const size_t found = search_one(dist, buf, plan, size_t(k), size_t(ef), Dq, Iq, entry);
    if (!label_of_node_.empty()) {
      for (size_t j = 0; j < found; j++) Iq[j] = label_of_node_[Iq[j]];
    }
    if (negate) {
      for (size_t j = 0; j < found; j++) Dq[j] = -Dq[j];
    }
    for (size_t j = found; j < size_t(k); j++) {
      Dq[j] = worst;
      Iq[j] = -1;
    }
  };
  if (n == 1) {  // no parallel region: it costs more than a fast query's search
    std::unique_ptr<GraphDistance> dist = storage().distance_computer();
    one_query(*dist, *buffers_.take(), 0, nullptr);
    return;
  }
  // A large batch goes in two passes: every query descends the upper levels,
  // then level 0 is searched in the order of the nodes where the queries
  // enter it. Nodes are numbered breadth-first, so consecutive searches walk
  // the same region of the graph and find its rows in cache.
  const bool grouped = n >= kGroupMinQueries && ntotal_ > 0 && !plan.brute() && storage().cheap_query_setup();
  std::vector<HNSW::Entry> entries(grouped ? n : 0);
  std::vector<idx_t> order(grouped ? n : 0);
  ParallelErrors errors;
#pragma omp parallel
  {
    std::unique_ptr<GraphDistance> dist;
    SearchBuffersPool::Handle buf{nullptr, {nullptr}};
    errors.run([&] {
      dist = storage().distance_computer();
      buf = buffers_.take();
    });
    if (grouped) {
#pragma omp for schedule(static)
      for (idx_t q = 0; q < n; q++) errors.run([&] {
        dist->set_query(x + size_t(q) * d_);
        entries[q] = hnsw_.descend(*dist, *buf);
      });
#pragma omp single
      errors.run([&] {
        std::iota(order.begin(), order.end(), idx_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](idx_t a, idx_t b) { return entries[a].node < entries[b].node; });
      });  // implicit barrier: every thread sees the order
    }
#pragma omp for schedule(dynamic, 2)
    for (idx_t i = 0; i < n; i++) errors.run([&] {
      const idx_t q = grouped ? order[i] : i;
      one_query(*dist, *buf, q, grouped ? &entries[q] : nullptr);
    });
  }
  errors.rethrow();
}

void IndexHNSW::scan_within(GraphDistance& dist, const FilterPlan& plan, float bound,
                            std::vector<std::pair<float, idx_t>>& out) const {
  node_t ids[kBruteChunk];
  float d[kBruteChunk];
  const std::vector<node_t>* members = plan.sel() ? &plan.members() : nullptr;
  const size_t n = members ? members->size() : size_t(ntotal_);
  for (size_t at = 0; at < n; at += kBruteChunk) {
    const size_t m = std::min(kBruteChunk, n - at);
    for (size_t j = 0; j < m; j++) ids[j] = members ? (*members)[at + j] : node_t(at + j);
    dist.distances(ids, m, bound, d);
    for (size_t j = 0; j < m; j++) {
      if (d[j] < bound) out.emplace_back(d[j], ids[j]);
    }
  }
  std::sort(out.begin(), out.end());
}

void IndexHNSW::range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                  RangeSearchResult& result) const {
  const int64_t ef_param = params.efSearch.value_or(efSearch_);
  SEXTANT_CHECK(ef_param > 0, "efSearch must be > 0, got ", ef_param);
  const size_t ef0 = std::max<size_t>(ef_param, 16);
  const FilterPlan plan(*this, params.sel.get(), 2 * ef0);
  const bool negate = is_similarity(metric_);
  const float bound = negate ? -radius : radius;  // hits have graph distance < bound
  std::vector<std::vector<std::pair<float, idx_t>>> hits(n);
  ParallelErrors errors;
#pragma omp parallel if (n > 1)
  {
    std::unique_ptr<GraphDistance> dist;
    SearchBuffersPool::Handle buf{nullptr, {nullptr}};
    errors.run([&] {
      dist = storage().distance_computer();
      buf = buffers_.take();
    });
    std::vector<float> D;
    std::vector<idx_t> I;
#pragma omp for schedule(dynamic, 2)
    for (idx_t q = 0; q < n; q++) errors.run([&] {
      dist->set_query(x + size_t(q) * d_);
      auto& out = hits[q];
      size_t ef = ef0;
      for (;;) {
        if (plan.brute() || 2 * ef > size_t(ntotal_) / 4) {
          scan_within(*dist, plan, bound, out);
          break;
        }
        // ef results with a pool of 2 ef; trusted once the hits fill at most half
        // of them (the far end of a result list is where a graph search misses most).
        D.resize(ef);
        I.resize(ef);
        const size_t found = search_one(*dist, *buf, plan, ef, 2 * ef, D.data(), I.data(), nullptr);
        const size_t inside = std::lower_bound(D.begin(), D.begin() + found, bound) - D.begin();
        if (found == ef && 2 * inside > ef) {
          ef *= 2;
          continue;
        }
        for (size_t j = 0; j < inside; j++) out.emplace_back(D[j], I[j]);
        break;
      }
    });
  }
  errors.rethrow();
  for (auto& h : hits) {
    for (auto& [d, node] : h) {  // graph distances and nodes become the caller's distances and labels
      if (negate) d = -d;
      node = label_of(node_t(node));
    }
  }
  result = RangeSearchResult::from_hits(hits);
}

IndexHNSWFlat::IndexHNSWFlat(int d, int M, MetricType metric) : IndexHNSW(d, M, metric), storage_(d, metric) {}

void IndexHNSWFlat::restore(std::vector<uint32_t> column_order, bool order_fixed, const uint8_t* rows, size_t floats,
                            const HNSW::Layout& layout, std::vector<node_t> label_of_node, idx_t renumbered_at) {
  storage_.restore(std::move(column_order), order_fixed, rows, floats, layout.levels.size());
  restore_graph(layout, std::move(label_of_node), renumbered_at);
}

void IndexHNSWFlat::reconstruct_impl(idx_t key, float* recons) const {
  SEXTANT_CHECK(key >= 0 && key < ntotal_, "id ", key, " is out of range [0, ", ntotal_, ")");
  storage_.reconstruct(node_of(key), recons);
}

void IndexHNSWFlat::sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const {
  std::memcpy(codes, x, sizeof(float) * d_ * n);
}

void IndexHNSWFlat::sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const {
  std::memcpy(x, codes, sizeof(float) * d_ * n);
}

}  // namespace sextant
