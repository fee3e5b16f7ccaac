#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

#include "sextant/IDSelector.h"
#include "sextant/MetricType.h"
#include "sextant/base/HugePageAllocator.h"
#include "sextant/impl/GraphDistance.h"
#include "sextant/impl/SearchBuffers.h"

namespace sextant {

/// Shape of a graph, for inspection (hnsw_stats()).
struct HNSWStats {
  int max_level = -1;        ///< -1 when the graph is empty
  int64_t entry_point = -1;  ///< -1 when the graph is empty
  /// nodes_per_level[l]: nodes present on level l (those whose level is >= l).
  std::vector<int64_t> nodes_per_level;
  /// level0_degree_histogram[j]: nodes with j links on level 0 (j <= 2M).
  std::vector<int64_t> level0_degree_histogram;
  double mean_level0_degree = 0;
};

/// Hierarchical navigable small-world graph (Malkov & Yashunin), the core of
/// the IndexHNSW family. The graph stores links only; vectors stay in a
/// GraphStorage that computes distances (float vectors, SQ or PQ codes).
///
/// Layout: level 0, where every node lives and searches spend their time, is
/// one contiguous array of `1 + 2M` words per node (count, then links), so the
/// links of 60k nodes fit in 8 MB of cache. The few nodes above level 0 (a
/// fraction 1/M of them) keep their `1 + M` words per level in a separate pool.
///
/// Construction (add): each node draws its level from the seeded generator
/// (P(level >= l) = M^-l, as in the paper), descends greedily from the entry
/// point, then on each of its levels searches efConstruction candidates,
/// keeps M of them with the neighbour-selection heuristic (a candidate is kept
/// only if it is closer to the new node than to every neighbour already kept)
/// and adds itself to their lists, pruning a full list with the same
/// heuristic; it links level 0 first and its top level last. Nodes are
/// inserted in parallel (OpenMP); a one-byte spin lock per node guards its
/// lists, and a mutex guards the entry point. With one thread and the same
/// seed the graph is the same, bit for bit.
///
/// Search (const, thread-safe): greedy descent on the upper levels (one
/// visited table across them, so no distance is computed twice), then a
/// best-first search of level 0 with a fixed-size sorted candidate pool of ef
/// entries, a visited table reset by an epoch counter, and neighbours'
/// distances computed in one batch per expanded node so that the storage can
/// prefetch the next vectors and stop a distance early once it cannot enter.
///
/// Nodes can be renumbered for memory locality (locality_order, renumber);
/// the index that owns the graph keeps the map to its ids.
class HNSW {
 public:
  explicit HNSW(int M = 32, uint64_t seed = 12345);
  HNSW(const HNSW&) = delete;
  HNSW& operator=(const HNSW&) = delete;

  int M() const { return M_; }
  /// Links a node may have on `level`: 2M on level 0, M above.
  int max_degree(int level) const { return level == 0 ? 2 * M_ : M_; }
  size_t ntotal() const { return n_; }
  int max_level() const { return max_level_; }
  /// The node searches start from (kNoNode when empty).
  node_t entry_point() const { return entry_; }
  int level(node_t i) const { return levels_[i]; }
  /// Links of node i on `level` (a copy; level <= level(i)).
  std::vector<node_t> neighbors(node_t i, int level) const;
  HNSWStats stats() const;

  static constexpr node_t kNoNode = ~node_t{0};
  /// Largest M (links per node on the upper levels).
  static constexpr int kMaxUpperDegree = 512;
  /// Candidate-list size during construction.
  int efConstruction = 40;
  /// Reseeds the generator that draws the levels of the nodes added next.
  void set_seed(uint64_t seed) { rng_.seed(seed); }

  /// Links nodes ntotal() .. ntotal()+n-1, whose vectors `storage` already holds.
  void add(size_t n, const GraphStorage& storage);

  /// Where a search enters level 0: a node and its distance to the query.
  struct Entry {
    node_t node;
    float dist;
  };
  /// The greedy descent through the upper levels to the query set in `dist`
  /// (requires ntotal() > 0).
  Entry descend(GraphDistance& dist, SearchBuffers& buf) const;

  /// The k nearest nodes to the query set in `dist`, searching level 0 with a
  /// pool of ef >= k candidates from `entry` (null: descend first). With a
  /// selector, only members are returned; other nodes are still traversed
  /// (see IndexHNSW for the strategy). Writes up to k (distance, id) pairs to
  /// D, I best first; returns how many.
  size_t search(GraphDistance& dist, SearchBuffers& buf, size_t k, size_t ef, const IDSelector* sel, float* D,
                idx_t* I, const Entry* entry = nullptr) const;

  /// Removes the flagged nodes (removed[i] != 0, one flag per node). Their
  /// in-neighbours are reconnected first: each live node that linked to a
  /// removed one rebuilds its list with the heuristic from its live links and
  /// the live nodes up to two hops through removed ones, so the graph stays
  /// navigable after many removals. The survivors are then renumbered 0..kept-1
  /// in their old order; returns their old positions.
  std::vector<node_t> remove(const std::vector<uint8_t>& removed, const GraphStorage& storage);

  /// Pruning a full list can drop a node's last in-link on level 0, and then
  /// no search reaches it: gives every such node (but the entry point) a link
  /// from its nearest neighbour. Reads every list once; sequential, as orphans
  /// are rare. For a metric distance only: under inner product a node that
  /// others dominate is rightly never nearest, and linking it costs good links.
  void adopt_orphans(const GraphStorage& storage);

  /// Re-links nodes whose vectors changed (the storage holds the new ones):
  /// reconnects their in-neighbours as remove() does, clears their lists and
  /// inserts them again on the same levels. Node numbers do not change.
  void relink(const std::vector<node_t>& nodes, const GraphStorage& storage);

  /// A numbering that puts nodes searched together close in memory
  /// (breadth-first over level 0); order[new] = old.
  std::vector<node_t> locality_order() const;
  /// Renumbers the nodes: node old_of_new[j] becomes node j. The storage
  /// must be permuted the same way.
  void renumber(const std::vector<node_t>& old_of_new);

  /// The graph as plain arrays, for index files and conversions.
  struct Layout {
    std::vector<uint8_t> levels;  ///< top level of each node
    /// For each node, for each of its levels (0 first): the number of links,
    /// then the links.
    std::vector<node_t> lists;
    node_t entry_point = kNoNode;
  };
  Layout layout() const;
  /// The parts of layout() without copying them (index files stream the
  /// graph): the level of each node, the number of words in layout().lists,
  /// and each list in its order (it starts with its number of links).
  const std::vector<uint8_t>& levels() const { return levels_; }
  size_t list_words() const;
  void for_each_list(const std::function<void(const node_t* list)>& visit) const;
  /// Replaces the graph by `layout`, checked count by count and link by link
  /// (it may come from a hostile file): a list longer than its level allows,
  /// a link out of range or to a node absent from that level, or an entry
  /// point that is not on the top level is an Error.
  void set_layout(const Layout& layout);

  void reset();
  /// Bytes held by the graph structure (links, levels, locks).
  size_t memory_bytes() const;

 private:
  struct Candidate {
    float d;
    node_t id;
    bool operator<(const Candidate& o) const { return d < o.d || (d == o.d && id < o.id); }
  };

  node_t* links(node_t i, int level);
  const node_t* links(node_t i, int level) const;
  int draw_level();
  void grow(size_t n);  // n more nodes, levels drawn
  void append_nodes(const std::vector<uint8_t>& new_levels);  // one more node per level given
  void lock(node_t i) const;
  void unlock(node_t i) const;

  // Construction (HNSW.cpp).
  void insert(node_t v, GraphDistance& dist, SearchBuffers& buf);
  /// Greedy walk on one upper level from cur, moving to the best neighbour
  /// until none is better. Nodes already in `seen` are skipped: the walk's
  /// distance only decreases, so a node evaluated before cannot beat it now.
  void greedy_descend(GraphDistance& dist, int level, node_t& cur, float& cur_d, bool locked,
                      VisitedTable& seen) const;
  void search_layer_locked(GraphDistance& dist, SearchBuffers& buf, node_t ep, float ep_d, int level,
                           size_t ef) const;
  void select_neighbors(GraphDistance& dist, std::vector<Candidate>& cand, size_t m) const;
  void connect(node_t v, const std::vector<Candidate>& selected, int level, GraphDistance& dist);
  void insert_all(const std::vector<node_t>& nodes, const GraphStorage& storage);
  /// Candidate-pool size of an insertion: efConstruction, at most ntotal().
  size_t construction_pool() const;

  // Repair (HNSW_repair.cpp).
  void reroute_around(const std::vector<uint8_t>& gone, const GraphStorage& storage);
  void choose_entry_point(const std::vector<uint8_t>& excluded);
  void compact(const std::vector<uint8_t>& removed, std::vector<node_t>& kept);

  // Search (HNSW_search.cpp).
  // Both start from ep, already marked in a freshly started buf.visited.
  void search_level0(GraphDistance& dist, SearchBuffers& buf, node_t ep, float ep_d, size_t ef) const;
  /// Gives buf.results exact distances and puts their k best first, in order.
  void exact_top(GraphDistance& dist, SearchBuffers& buf, size_t k) const;
  void search_level0_filtered(GraphDistance& dist, SearchBuffers& buf, node_t ep, float ep_d, size_t ef,
                              const IDSelector& sel, size_t k) const;

  int M_;
  size_t stride0_;  // words per node on level 0: 1 + 2M
  size_t strideU_;  // words per node and upper level: 1 + M
  size_t n_ = 0;
  LargeVector<node_t> level0_;         // n_ * stride0_
  std::vector<uint8_t> levels_;        // level of each node
  std::vector<uint32_t> upper_start_;  // first word of each node's upper levels in upper_
  std::vector<node_t> upper_;          // level(i) * strideU_ words per node i
  // One spin lock per node (construction only); atomics cannot move, hence the array.
  std::unique_ptr<std::atomic<uint8_t>[]> locks_;
  size_t locks_size_ = 0;
  std::mutex entry_mutex_;  // guards entry_ and max_level_ during construction
  node_t entry_ = kNoNode;
  int max_level_ = -1;
  std::mt19937_64 rng_;
};

}  // namespace sextant
