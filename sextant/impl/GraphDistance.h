#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace sextant {

/// Position of a node in a graph index (0 .. ntotal-1). 32 bits: graphs hold
/// fewer than 2^31 nodes (the top bit is a flag in the search buffers), and
/// half-size links keep the adjacency lists small enough to stay in cache.
using node_t = uint32_t;

/// How a graph reads the vectors it links: distances from one query to stored
/// nodes, computed by the storage that holds them (float vectors, scalar-
/// quantised codes, PQ codes...). The graph never sees the vectors
/// themselves, so a new storage plugs in by implementing this interface.
///
/// Distances are "smaller is closer" whatever the metric: an inner-product
/// storage returns the negated inner product. One object serves one thread;
/// GraphStorage makes as many as there are threads.
class GraphDistance {
 public:
  virtual ~GraphDistance() = default;

  /// Sets the query to a vector of the index dimension (search).
  virtual void set_query(const float* x) = 0;
  /// Sets the query to stored node i (construction and repair).
  virtual void set_query_node(node_t i) = 0;

  /// Distance from the query to node i.
  virtual float distance(node_t i) = 0;
  /// out[j] = distance from the query to ids[j] for j < n. A storage may stop
  /// computing a distance as soon as it knows the result is >= bound: out[j] is
  /// then some value >= bound (the caller rejects it either way). Batching lets
  /// the storage prefetch the next vectors while it computes the current one.
  virtual void distances(const node_t* ids, size_t n, float bound, float* out) = 0;
  /// distances() for steering a traversal, which a storage may approximate
  /// (FlatGraphStorage reads half of each float); a search then re-ranks the
  /// candidates it returns with distances().
  virtual void traversal_distances(const node_t* ids, size_t n, float bound, float* out) {
    distances(ids, n, bound, out);
  }
  /// Whether traversal_distances() may differ from distances().
  virtual bool approximate_traversal() const { return false; }
  /// Where distances() lies for a node whose traversal_distances() is t:
  /// within [low, high], both non-decreasing in t (rounding included). A
  /// search re-ranks only the candidates that can still reach its k best.
  struct Range {
    double low, high;
  };
  virtual Range exact_range(float t) const { return {t, t}; }
  /// Distance between two stored nodes (the neighbour-selection heuristic,
  /// which compares it with traversal distances: it may be one too).
  virtual float between(node_t a, node_t b) = 0;
};

/// A storage that a graph can traverse.
class GraphStorage {
 public:
  virtual ~GraphStorage() = default;
  /// A new distance computer over the current contents; one per thread.
  virtual std::unique_ptr<GraphDistance> distance_computer() const = 0;
  /// Whether set_query is cheap next to the reads of a search. A large batch
  /// is then searched in two passes (IndexHNSW), which set each query twice.
  virtual bool cheap_query_setup() const { return true; }
};

}  // namespace sextant
