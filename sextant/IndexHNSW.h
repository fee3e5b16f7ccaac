#pragma once

#include <cstdint>
#include <vector>

#include "sextant/Index.h"
#include "sextant/impl/FlatGraphStorage.h"
#include "sextant/impl/HNSW.h"

namespace sextant {

/// Graph index (HNSW, see impl/HNSW.h) over a vector storage chosen by the
/// subclass: IndexHNSWFlat keeps float vectors; quantised storages (SQ, PQ)
/// plug in through the same GraphStorage interface.
///
/// Ids. Vectors are numbered 0 .. ntotal-1 in insertion order, like IndexFlat,
/// and removal closes the gaps (the survivors keep their order), so
/// IndexIDMap / IndexIDMap2 wrap this index to give caller-chosen ids, with
/// removal. add_with_ids() is refused, as by IndexFlat.
///
/// Configuration (index state, set between calls): efConstruction (default 40)
/// for vectors added from now on, efSearch (default 16) as the default of
/// searches, and the seed of the level generator. M is fixed at construction.
///
/// Search knobs (per call): `sel` and `efSearch`. The pool holds max(efSearch, k)
/// candidates. A search reads the index only: per-call buffers (the visited
/// table, the pool) come from a thread-safe free list, so any number of
/// threads may search at once. Batches run in parallel over queries (OpenMP).
///
/// Filtered search (`sel`), chosen per call from the selectivity s (the share
/// of vectors the selector accepts, estimated from up to 1024 evenly spaced
/// ids in the selector's bounds()):
///  - graph: the search traverses members and non-members alike (a selective
///    filter would otherwise cut the graph into pieces it cannot cross) but
///    only collects members, with the candidate pool widened to efSearch / s
///    so that it holds about efSearch members when it stops. Should it find
///    fewer than k members, that query falls back to brute force.
///  - brute force over the members (collected once per call): chosen when it
///    costs fewer distance computations than the widened graph search, i.e.
///    when s * ntotal <= M * efSearch / s. Exact; this is what keeps recall at
///    1.0 for very selective filters (1% and below) at a cost of s * ntotal
///    distances per query.
///
/// Range search: a k-NN search for r = max(efSearch, 16) results with a pool of
/// 2r, r doubling until at most half of the r results lie inside the radius
/// (brute force once the pool would pass ntotal / 4).
///
/// Removal (remove_ids) reconnects the in-neighbours of the removed vectors
/// (HNSW::remove) and then compacts: the graph and the storage shrink, nothing
/// is left as a tombstone, searches never skip dead nodes. Each call costs a
/// pass over all links, so remove in batches.
///
/// Locality: once an add() leaves the index with at least 4096 vectors and
/// twice as many as at the last renumbering, the graph nodes are renumbered
/// breadth-first (HNSW::locality_order) and the storage rows move with them,
/// so the rows a search reads together sit close in memory (+13-30% QPS with
/// 128-float rows, little with 784). Ids do not change: two maps translate.
///
/// Update: update(n, keys, x) replaces the vectors at positions keys in place;
/// the graph is repaired around them and they are inserted again on their old
/// levels. It is a separate method because add_with_ids() means "add" in the
/// Index contract (ntotal grows by n); an existing position is never re-added.
///
/// Reachability (L2): after update, remove_ids and an add of at least
/// ntotal / 1024 vectors, every node that pruning left without an in-link on
/// level 0 gets one (HNSW::adopt_orphans), so no vector becomes unfindable.
class IndexHNSW : public Index {
 public:
  std::string type_name() const override = 0;
  KnobSet search_knobs() const override { return kKnobSel | kKnobEfSearch; }
  bool removal_closes_up_ids() const override { return true; }

  int M() const { return hnsw_.M(); }
  int efConstruction() const { return hnsw_.efConstruction; }
  void set_efConstruction(int ef);
  int64_t efSearch() const { return efSearch_; }
  /// 1 to 2^31 - 1 (the index files store it in 32 bits, as Faiss does).
  void set_efSearch(int64_t ef);
  /// Reseeds the generator that draws the levels of the vectors added next.
  void set_seed(uint64_t seed) { hnsw_.set_seed(seed); }

  /// The graph. Its nodes are numbered for locality, not by id: node_of(id).
  const HNSW& hnsw() const { return hnsw_; }
  /// The graph's shape; entry_point is reported as an id.
  HNSWStats hnsw_stats() const;
  /// Bytes held by the graph, the storage and the id maps.
  size_t memory_bytes() const {
    return hnsw_.memory_bytes() + storage_bytes() + (label_of_node_.capacity() + node_of_label_.capacity()) * sizeof(node_t);
  }
  /// The graph node (storage row) that holds the vector with id `key`, and back.
  node_t node_of(idx_t key) const { return node_of_label_.empty() ? node_t(key) : node_of_label_[key]; }
  idx_t label_of(node_t node) const { return label_of_node_.empty() ? idx_t(node) : idx_t(label_of_node_[node]); }

  /// The id of each graph node (empty: node i holds id i) and the size at
  /// the last renumbering, for index files.
  const std::vector<node_t>& label_of_node() const { return label_of_node_; }
  idx_t renumbered_at() const { return renumbered_at_; }

  /// Replaces the vectors at positions keys[0..n) (distinct, in [0, ntotal))
  /// by the rows of x (n x d) and re-links them in the graph.
  void update(idx_t n, const idx_t* keys, const float* x);

 protected:
  IndexHNSW(int d, int M, MetricType metric);

  // The storage of the vectors, implemented by each subclass.
  virtual const GraphStorage& storage() const = 0;
  virtual void storage_append(idx_t n, const float* x) = 0;
  virtual void storage_replace(idx_t key, const float* x) = 0;
  virtual void storage_compact(const std::vector<node_t>& kept) = 0;
  virtual void storage_clear() = 0;
  virtual size_t storage_bytes() const = 0;
  /// Row old_of_new[j] becomes row j (the graph was renumbered).
  virtual void storage_permute(const std::vector<node_t>& old_of_new) = 0;
  /// HNSW::adopt_orphans for L2 (after add, update and remove).
  void adopt_orphans();

  /// Restores the graph and its numbering over the rows the storage holds
  /// already (index files, conversions); checks the graph and the map. A graph
  /// from elsewhere (no map, never renumbered) of 4096 nodes or more is
  /// renumbered for locality, as add() would have done.
  void restore_graph(const HNSW::Layout& layout, std::vector<node_t> label_of_node, idx_t renumbered_at);

  void add_impl(idx_t n, const float* x, const idx_t* ids) override;
  void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                   const SearchParams& params) const override;
  void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                         RangeSearchResult& result) const override;
  size_t remove_ids_impl(const IDSelector& sel) override;
  void reset_impl() override;

 private:
  class FilterPlan;
  /// k-NN of the query set in dist, graph distances, up to k results; returns
  /// how many. entry: where level 0 starts (null: descend the upper levels).
  size_t search_one(GraphDistance& dist, SearchBuffers& buf, const FilterPlan& plan, size_t k, size_t ef,
                    float* D, idx_t* I, const HNSW::Entry* entry) const;
  size_t brute_force(GraphDistance& dist, const std::vector<node_t>& members, size_t k, float* D, idx_t* I) const;
  /// Every candidate (the members, or all vectors) with graph distance < bound, sorted.
  void scan_within(GraphDistance& dist, const FilterPlan& plan, float bound,
                   std::vector<std::pair<float, idx_t>>& out) const;
  std::vector<node_t> collect_members(const IDSelector& sel) const;

  void renumber_for_locality();

  HNSW hnsw_;
  int64_t efSearch_ = 16;
  mutable SearchBuffersPool buffers_;
  // Graph nodes are renumbered for locality; ids stay insertion order. Both
  // maps are empty (identity) until the first renumbering.
  std::vector<node_t> label_of_node_, node_of_label_;
  idx_t renumbered_at_ = 0;  // ntotal at the last renumbering
};

/// HNSW over float vectors kept exactly (like hnswlib, and Faiss's
/// IndexHNSWFlat): exact distances in the results, no training. Traversals
/// read the high half of each float and the results are re-ranked; vectors
/// of integers below 256 or of bfloat16 values need no low halves and are
/// kept in half the memory (FlatGraphStorage).
class IndexHNSWFlat : public IndexHNSW {
 public:
  explicit IndexHNSWFlat(int d, int M = 32, MetricType metric = MetricType::L2);
  std::string type_name() const override { return "IndexHNSWFlat"; }

  const FlatGraphStorage& flat_storage() const { return storage_; }
  /// Restores an index from its parts (index files, conversions), all checked:
  /// the storage's column order (empty: identity) and n rows as stored, the
  /// graph over them, and its numbering (see IndexHNSW::restore_graph). The
  /// rows (the bytes of `floats` floats, d a row, any alignment: a file's
  /// mapping) are split into the storage's own arrays.
  void restore(std::vector<uint32_t> column_order, bool order_fixed, const uint8_t* rows, size_t floats,
               const HNSW::Layout& layout, std::vector<node_t> label_of_node, idx_t renumbered_at);

 protected:
  const GraphStorage& storage() const override { return storage_; }
  void storage_append(idx_t n, const float* x) override { storage_.append(n, x); }
  void storage_replace(idx_t key, const float* x) override { storage_.replace(key, x); }
  void storage_compact(const std::vector<node_t>& kept) override { storage_.compact(kept); }
  void storage_clear() override { storage_.clear(); }
  size_t storage_bytes() const override { return storage_.memory_bytes(); }
  void storage_permute(const std::vector<node_t>& old_of_new) override { storage_.permute(old_of_new); }

  void reconstruct_impl(idx_t key, float* recons) const override;
  size_t sa_code_size_impl() const override { return sizeof(float) * d_; }
  void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const override;
  void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const override;

 private:
  FlatGraphStorage storage_;
};

}  // namespace sextant
