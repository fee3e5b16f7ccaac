// HNSW graph: layout, levels and construction. Search is in HNSW_search.cpp,
// removal and re-linking in HNSW_repair.cpp.
#include "sextant/impl/HNSW.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "sextant/base/Error.h"
#include "sextant/base/threads.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define SEXTANT_SPIN_PAUSE() _mm_pause()
#else
#define SEXTANT_SPIN_PAUSE() ((void)0)
#endif

namespace sextant {

namespace {
constexpr int kMaxLevel = 48;  // P(level >= 48) = M^-48: never reached in practice
}

HNSW::HNSW(int M, uint64_t seed) : M_(M), stride0_(1 + 2 * size_t(M)), strideU_(1 + size_t(M)), rng_(seed) {
  SEXTANT_CHECK(M >= 2 && M <= kMaxUpperDegree, "M (links per node) must be in [2, ", kMaxUpperDegree, "], got ", M);
}

node_t* HNSW::links(node_t i, int level) {
  return level == 0 ? &level0_[i * stride0_] : &upper_[upper_start_[i] + (level - 1) * strideU_];
}

const node_t* HNSW::links(node_t i, int level) const {
  return level == 0 ? &level0_[i * stride0_] : &upper_[upper_start_[i] + (level - 1) * strideU_];
}

std::vector<node_t> HNSW::neighbors(node_t i, int level) const {
  SEXTANT_CHECK(i < n_, "node ", i, " is out of range [0, ", n_, ")");
  SEXTANT_CHECK(level >= 0 && level <= levels_[i], "node ", i, " has levels 0..", int(levels_[i]), ", got level ",
                level);
  const node_t* l = links(i, level);
  return std::vector<node_t>(l + 1, l + 1 + l[0]);
}

int HNSW::draw_level() {
  // u uniform in (0, 1]; P(level >= l) = M^-l.
  const double u = double((rng_() >> 11) + 1) * 0x1.0p-53;
  const double level = -std::log(u) / std::log(double(M_));
  return std::min(int(level), kMaxLevel);
}

void HNSW::lock(node_t i) const {
  std::atomic<uint8_t>& flag = locks_[i];
  while (flag.exchange(1, std::memory_order_acquire)) {
    // Held: lists are short, so spin a little, then sleep until the holder wakes us.
    for (int spins = 0; flag.load(std::memory_order_relaxed); spins++) {
      if (spins < 64) {
        SEXTANT_SPIN_PAUSE();
      } else {
        flag.wait(1, std::memory_order_relaxed);
      }
    }
  }
}

void HNSW::unlock(node_t i) const {
  locks_[i].store(0, std::memory_order_release);
  locks_[i].notify_one();
}

void HNSW::grow(size_t n) {
  std::vector<uint8_t> levels(n);
  for (auto& level : levels) level = uint8_t(draw_level());
  append_nodes(levels);
}

void HNSW::append_nodes(const std::vector<uint8_t>& new_levels) {
  const size_t total = n_ + new_levels.size();
  SEXTANT_CHECK(total < (size_t{1} << 31), "HNSW holds fewer than 2^31 nodes, asked for ", total);
  level0_.resize(total * stride0_, 0);
  levels_.resize(total);
  upper_start_.resize(total);
  for (size_t i = n_; i < total; i++) {
    const int level = new_levels[i - n_];
    levels_[i] = uint8_t(level);
    upper_start_[i] = uint32_t(upper_.size());
    upper_.resize(upper_.size() + level * strideU_, 0);
  }
  if (locks_size_ < total) {
    // No thread holds a lock between calls, so fresh (unlocked) flags replace the old ones.
    locks_size_ = std::max(total, 2 * locks_size_);
    locks_ = std::make_unique<std::atomic<uint8_t>[]>(locks_size_);
  }
  n_ = total;
}

void HNSW::add(size_t n, const GraphStorage& storage) {
  if (n == 0) return;
  const size_t first = n_;
  std::vector<node_t> nodes(n);
  for (size_t i = 0; i < n; i++) nodes[i] = node_t(first + i);
  grow(n);
  try {
    insert_all(nodes, storage);
  } catch (...) {
    // The new nodes leave the graph again (removal reroutes any link to them).
    std::vector<uint8_t> added(n_, 0);
    std::fill(added.begin() + first, added.end(), 1);
    remove(added, storage);
    throw;
  }
}

size_t HNSW::construction_pool() const {
  // A pool larger than the graph never fills: a huge efConstruction costs no memory.
  return std::min<size_t>(std::max(efConstruction, 1), std::max<size_t>(n_, 1));
}

void HNSW::insert_all(const std::vector<node_t>& nodes, const GraphStorage& storage) {
  ParallelErrors errors;
#pragma omp parallel if (nodes.size() > 1)
  {
    std::unique_ptr<GraphDistance> dist;
    SearchBuffers buf;
    errors.run([&] {
      dist = storage.distance_computer();
      buf.pool.reset(construction_pool());
      buf.visited.start(n_);
    });
    // Every thread has its buffers before any node is linked.
#pragma omp barrier
    // Dynamic scheduling in small chunks: with one thread the order is the
    // input order, so the graph is reproducible.
#pragma omp for schedule(dynamic, 4)
    for (size_t i = 0; i < nodes.size(); i++) errors.run([&] { insert(nodes[i], *dist, buf); });
  }
  errors.rethrow();
}

void HNSW::insert(node_t v, GraphDistance& dist, SearchBuffers& buf) {
  const int level = levels_[v];
  // A node that becomes the new top holds the entry mutex for its whole
  // insertion, so that the graph never has an entry point without links.
  std::unique_lock<std::mutex> entry_lock(entry_mutex_);
  const int top = max_level_;
  node_t ep = entry_;
  if (ep == kNoNode) {
    entry_ = v;
    max_level_ = level;
    return;
  }
  if (level <= top) entry_lock.unlock();

  dist.set_query_node(v);
  float ep_d = dist.distance(ep);
  buf.visited.start(n_);
  buf.visited.visit(ep);
  for (int l = top; l > level; l--) greedy_descend(dist, l, ep, ep_d, true, buf.visited);

  // Choose the neighbours on every level first, then link from level 0 up:
  // v becomes visible on a level only once its lists below are in place, so
  // no concurrent insertion descends through v into an empty list (and links
  // itself to v alone), and nobody's back link into v is overwritten later.
  const int linked_top = std::min(level, top);
  std::vector<std::vector<Candidate>> chosen(linked_top + 1);
  for (int l = linked_top; l >= 0; l--) {
    search_layer_locked(dist, buf, ep, ep_d, l, construction_pool());
    const CandidatePool& pool = buf.pool;
    std::vector<Candidate>& cand = chosen[l];
    for (size_t j = 0; j < pool.size(); j++) {
      if (pool.id(j) != v) cand.push_back({pool.dist(j), pool.id(j)});
    }
    if (cand.empty()) continue;
    ep = cand[0].id;
    ep_d = cand[0].d;
    select_neighbors(dist, cand, size_t(M_));
  }
  for (int l = 0; l <= linked_top; l++) {
    if (!chosen[l].empty()) connect(v, chosen[l], l, dist);
  }
  if (level > top) {
    entry_ = v;
    max_level_ = level;
  }
}

void HNSW::greedy_descend(GraphDistance& dist, int level, node_t& cur, float& cur_d, bool locked,
                          VisitedTable& seen) const {
  node_t ids[kMaxUpperDegree];
  float d[kMaxUpperDegree];
  for (bool moved = true; moved;) {
    moved = false;
    if (locked) lock(cur);
    const node_t* l = links(cur, level);
    const size_t m = seen.visit_all(l + 1, l[0], ids);
    if (locked) unlock(cur);
    dist.traversal_distances(ids, m, cur_d, d);
    for (size_t j = 0; j < m; j++) {
      if (d[j] < cur_d) {
        cur_d = d[j];
        cur = ids[j];
        moved = true;
      }
    }
  }
}

void HNSW::search_layer_locked(GraphDistance& dist, SearchBuffers& buf, node_t ep, float ep_d, int level,
                               size_t ef) const {
  const size_t maxd = max_degree(level);
  buf.visited.start(n_);
  buf.pool.reset(ef);
  buf.batch.resize(maxd);
  buf.batch_dist.resize(maxd);
  buf.links_copy.resize(maxd + 1);
  buf.visited.visit(ep);
  buf.pool.insert(ep_d, ep);
  while (buf.pool.has_unexpanded()) {
    const node_t u = buf.pool.pop_unexpanded();
    lock(u);
    const node_t* l = links(u, level);
    std::copy(l, l + 1 + l[0], buf.links_copy.begin());
    unlock(u);
    const size_t m = buf.visited.visit_all(&buf.links_copy[1], buf.links_copy[0], buf.batch.data());
    dist.traversal_distances(buf.batch.data(), m, buf.pool.bound(), buf.batch_dist.data());
    for (size_t j = 0; j < m; j++) buf.pool.insert(buf.batch_dist[j], buf.batch[j]);
  }
}

void HNSW::select_neighbors(GraphDistance& dist, std::vector<Candidate>& cand, size_t m) const {
  // cand is sorted nearest first. Keep a candidate only when no kept
  // neighbour is closer to it than the new node is: links then point in
  // diverse directions instead of all into the nearest cluster.
  if (cand.size() <= m) return;
  size_t kept = 0;
  for (size_t j = 0; j < cand.size() && kept < m; j++) {
    bool diverse = true;
    for (size_t s = 0; s < kept && diverse; s++) diverse = dist.between(cand[j].id, cand[s].id) >= cand[j].d;
    if (diverse) cand[kept++] = cand[j];
  }
  cand.resize(kept);
}

void HNSW::connect(node_t v, const std::vector<Candidate>& selected, int level, GraphDistance& dist) {
  lock(v);
  node_t* own = links(v, level);
  own[0] = node_t(selected.size());
  for (size_t j = 0; j < selected.size(); j++) own[1 + j] = selected[j].id;
  unlock(v);

  const size_t maxd = max_degree(level);
  std::vector<Candidate> cand;
  for (const Candidate& s : selected) {
    const node_t u = s.id;
    lock(u);
    node_t* l = links(u, level);
    const size_t cnt = l[0];
    if (std::find(l + 1, l + 1 + cnt, v) == l + 1 + cnt) {
      if (cnt < maxd) {
        l[1 + cnt] = v;
        l[0] = node_t(cnt + 1);
      } else {
        // Full: choose again among the old links and v, from u's point of view.
        cand.clear();
        cand.push_back({s.d, v});  // distances are symmetric: d(u, v) = d(v, u)
        for (size_t j = 0; j < cnt; j++) cand.push_back({dist.between(u, l[1 + j]), l[1 + j]});
        std::sort(cand.begin(), cand.end());
        select_neighbors(dist, cand, maxd);
        l[0] = node_t(cand.size());
        for (size_t j = 0; j < cand.size(); j++) l[1 + j] = cand[j].id;
      }
    }
    unlock(u);
  }
}

HNSWStats HNSW::stats() const {
  HNSWStats s;
  s.max_level = max_level_;
  s.entry_point = entry_ == kNoNode ? -1 : int64_t(entry_);
  s.nodes_per_level.assign(max_level_ + 1, 0);
  s.level0_degree_histogram.assign(2 * M_ + 1, 0);
  int64_t links_total = 0;
  for (size_t i = 0; i < n_; i++) {
    for (int l = 0; l <= levels_[i] && l <= max_level_; l++) s.nodes_per_level[l]++;
    const node_t degree = level0_[i * stride0_];
    s.level0_degree_histogram[degree]++;
    links_total += degree;
  }
  s.mean_level0_degree = n_ ? double(links_total) / double(n_) : 0.0;
  return s;
}

HNSW::Layout HNSW::layout() const {
  Layout out;
  out.levels = levels_;
  out.entry_point = entry_;
  out.lists.reserve(list_words());
  for_each_list([&](const node_t* list) { out.lists.insert(out.lists.end(), list, list + 1 + list[0]); });
  return out;
}

size_t HNSW::list_words() const {
  size_t words = 0;
  for_each_list([&](const node_t* list) { words += 1 + list[0]; });
  return words;
}

void HNSW::for_each_list(const std::function<void(const node_t* list)>& visit) const {
  for (node_t i = 0; i < n_; i++) {
    for (int l = 0; l <= levels_[i]; l++) visit(links(i, l));
  }
}

void HNSW::set_layout(const Layout& layout) {
  const size_t n = layout.levels.size();
  SEXTANT_CHECK(n < (size_t{1} << 31), "HNSW holds fewer than 2^31 nodes, got ", n);
  int top = -1;
  for (size_t i = 0; i < n; i++) {
    SEXTANT_CHECK(layout.levels[i] <= kMaxLevel, "HNSW node ", i, " has level ", int(layout.levels[i]),
                  ", more than ", kMaxLevel);
    top = std::max(top, int(layout.levels[i]));
  }
  // Check every list before anything changes.
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    for (int l = 0; l <= layout.levels[i]; l++) {
      SEXTANT_CHECK(at < layout.lists.size(), "HNSW links end at node ", i, " level ", l);
      const size_t count = layout.lists[at++];
      SEXTANT_CHECK(count <= size_t(max_degree(l)) && count <= layout.lists.size() - at, "HNSW node ", i,
                    " has ", count, " links on level ", l, " (at most ", max_degree(l), ")");
      for (size_t j = 0; j < count; j++) {
        const node_t v = layout.lists[at + j];
        SEXTANT_CHECK(v < n && layout.levels[v] >= l, "HNSW node ", i, " links on level ", l, " to node ", v,
                      ", which is not on that level");
      }
      at += count;
    }
  }
  SEXTANT_CHECK(at == layout.lists.size(), "HNSW links: ", layout.lists.size() - at, " words left over");
  SEXTANT_CHECK(n == 0 ? layout.entry_point == kNoNode
                       : layout.entry_point < n && layout.levels[layout.entry_point] == top,
                "HNSW entry point ", layout.entry_point, " is not a node of the top level");
  reset();
  append_nodes(layout.levels);
  at = 0;
  for (node_t i = 0; i < n_; i++) {
    for (int l = 0; l <= levels_[i]; l++) {
      const size_t count = layout.lists[at];
      std::copy_n(&layout.lists[at], 1 + count, links(i, l));
      at += 1 + count;
    }
  }
  entry_ = layout.entry_point;
  max_level_ = top;
}

void HNSW::reset() {
  n_ = 0;
  level0_.clear();
  levels_.clear();
  upper_start_.clear();
  upper_.clear();
  entry_ = kNoNode;
  max_level_ = -1;
}

size_t HNSW::memory_bytes() const {
  return level0_.capacity() * sizeof(node_t) + levels_.capacity() + upper_start_.capacity() * sizeof(uint32_t) +
         upper_.capacity() * sizeof(node_t) + locks_size_;
}

}  // namespace sextant
