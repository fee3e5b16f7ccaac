// HNSW graph: k-nearest-neighbour search (const; no locks: construction and
// search never run at the same time on one index).
#include <algorithm>
#include <limits>

#include "sextant/impl/HNSW.h"
#include "sextant/utils/TopK.h"

namespace sextant {

namespace {
inline void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
}  // namespace

HNSW::Entry HNSW::descend(GraphDistance& dist, SearchBuffers& buf) const {
  Entry e{entry_, dist.distance(entry_)};
  if (max_level_ > 0) {
    // One visited table for all upper levels: no distance is computed twice.
    buf.visited.start(n_);
    buf.visited.visit(e.node);
    for (int l = max_level_; l > 0; l--) greedy_descend(dist, l, e.node, e.dist, false, buf.visited);
  }
  return e;
}

size_t HNSW::search(GraphDistance& dist, SearchBuffers& buf, size_t k, size_t ef, const IDSelector* sel, float* D,
                    idx_t* I, const Entry* entry) const {
  if (n_ == 0 || k == 0) return 0;
  const Entry e = entry ? *entry : descend(dist, buf);
  const node_t ep = e.node;
  const float ep_d = e.dist;
  // Level 0 starts afresh: nodes the descent passed over may still belong to the ef best.
  buf.visited.start(n_);
  buf.visited.visit(ep);
  ef = std::max(ef, k);
  if (sel == nullptr) {
    search_level0(dist, buf, ep, ep_d, ef);
    // The whole pool when it is to be re-ranked, else its k best.
    const size_t keep = dist.approximate_traversal() ? buf.pool.size() : std::min(k, buf.pool.size());
    buf.results.clear();
    for (size_t j = 0; j < keep; j++) buf.results.push_back({buf.pool.dist(j), buf.pool.id(j)});
  } else {
    search_level0_filtered(dist, buf, ep, ep_d, ef, *sel, k);  // members sorted, padded with id -1
    buf.results.clear();
    for (size_t j = 0; j < k && buf.member_ids[j] >= 0; j++) {
      buf.results.push_back({buf.member_dist[j], node_t(buf.member_ids[j])});
    }
  }
  const size_t found = std::min(k, buf.results.size());
  if (dist.approximate_traversal()) exact_top(dist, buf, found);
  for (size_t j = 0; j < found; j++) {
    D[j] = buf.results[j].first;
    I[j] = buf.results[j].second;
  }
  return found;
}

void HNSW::exact_top(GraphDistance& dist, SearchBuffers& buf, size_t k) const {
  // The traversal's distances carry the storage's approximation, so its k best
  // need not be the k best. The candidates come best first by those distances:
  // from the first whose exact distance is certainly above the k-th's, none
  // can be among the k best, and only those before it are re-ranked (reading
  // a row exactly costs cache misses on its low halves).
  std::vector<std::pair<float, node_t>>& r = buf.results;
  if (k == 0) return;
  const double kth_high = dist.exact_range(r[k - 1].first).high;
  size_t kept = k;
  while (kept < r.size() && !(dist.exact_range(r[kept].first).low > kth_high)) kept++;
  r.resize(kept);
  buf.batch.resize(std::max(buf.batch.size(), r.size()));
  buf.batch_dist.resize(std::max(buf.batch_dist.size(), r.size()));
  for (size_t j = 0; j < r.size(); j++) buf.batch[j] = r[j].second;
  dist.distances(buf.batch.data(), r.size(), std::numeric_limits<float>::infinity(), buf.batch_dist.data());
  for (size_t j = 0; j < r.size(); j++) r[j].first = buf.batch_dist[j];
  std::partial_sort(r.begin(), r.begin() + k, r.end());
}

void HNSW::search_level0(GraphDistance& dist, SearchBuffers& buf, node_t ep, float ep_d, size_t ef) const {
  const size_t maxd = max_degree(0);
  buf.pool.reset(ef);
  buf.batch.resize(maxd);
  buf.batch_dist.resize(maxd);
  CandidatePool& pool = buf.pool;
  VisitedTable& visited = buf.visited;
  node_t* batch = buf.batch.data();
  float* batch_dist = buf.batch_dist.data();
  pool.insert(ep_d, ep);
  while (pool.has_unexpanded()) {
    const node_t v = pool.pop_unexpanded();
    // The next node to expand is probably the next in the pool: fetch its links early.
    if (pool.has_unexpanded()) prefetch(&level0_[pool.peek_unexpanded() * stride0_]);
    const node_t* l = &level0_[v * stride0_];
    const size_t m = visited.visit_all(l + 1, l[0], batch);
    if (m == 0) continue;
    dist.traversal_distances(batch, m, pool.bound(), batch_dist);
    for (size_t j = 0; j < m; j++) {
      // A node that enters the pool will probably be expanded: fetch its links now.
      if (pool.insert(batch_dist[j], batch[j])) prefetch(&level0_[batch[j] * stride0_]);
    }
  }
}

void HNSW::search_level0_filtered(GraphDistance& dist, SearchBuffers& buf, node_t ep, float ep_d, size_t ef,
                                  const IDSelector& sel, size_t k) const {
  // The pool steers the traversal over all nodes, members or not, so a
  // selective filter cannot cut the graph into unreachable pieces; a separate
  // heap keeps the k best members among every node whose distance was computed.
  const size_t maxd = max_degree(0);
  buf.pool.reset(ef);
  buf.batch.resize(maxd);
  buf.batch_dist.resize(maxd);
  buf.member_dist.resize(k);
  buf.member_ids.resize(k);
  TopKHeap members(buf.member_dist.data(), buf.member_ids.data(), k);
  CandidatePool& pool = buf.pool;
  VisitedTable& visited = buf.visited;
  node_t* batch = buf.batch.data();
  float* batch_dist = buf.batch_dist.data();
  pool.insert(ep_d, ep);
  if (sel.is_member(ep)) members.push(ep_d, ep);
  while (pool.has_unexpanded()) {
    const node_t v = pool.pop_unexpanded();
    if (pool.has_unexpanded()) prefetch(&level0_[pool.peek_unexpanded() * stride0_]);
    const node_t* l = &level0_[v * stride0_];
    const size_t m = visited.visit_all(l + 1, l[0], batch);
    if (m == 0) continue;
    // A distance may stop early only when it can enter neither the pool nor the members.
    dist.traversal_distances(batch, m, std::max(pool.bound(), members.admission_bound()), batch_dist);
    for (size_t j = 0; j < m; j++) {
      if (pool.insert(batch_dist[j], batch[j])) prefetch(&level0_[batch[j] * stride0_]);
      if (batch_dist[j] < members.admission_bound() && sel.is_member(batch[j])) members.push(batch_dist[j], batch[j]);
    }
  }
  members.finish();  // sorted best first, padded with (+inf, -1)
}

}  // namespace sextant
