#pragma once

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "sextant/IDSelector.h"
#include "sextant/MetricType.h"
#include "sextant/RangeSearchResult.h"
#include "sextant/SearchParams.h"
#include "sextant/base/threads.h"

namespace sextant {

/// The contract every index obeys.
///
/// Vectors travel in batches of `n` rows of `d()` floats, row-major and
/// contiguous. The public methods check their arguments (sizes, null pointers,
/// NaN or infinity in vectors, k >= 1, a trained index, knobs the index
/// understands) and then call the protected `*_impl` methods that each index
/// implements; an index that cannot do an operation throws an Error saying so.
///
/// Search is const and never changes the index, so any number of threads may
/// search one index at once. Missing results are labelled -1 with the worst
/// distance (+inf for L2, -inf for inner product).
///
/// Threads: the methods that read the index (search, range_search,
/// reconstruct, sa_encode/decode...) hold its lock shared, those that change it
/// (train, add, add_with_ids, remove_ids, reset) hold it exclusively, so an add
/// or a removal while other threads search waits for them instead of racing.
/// The lock covers the indexes nested in this one as long as they are used
/// through it.
class Index {
 public:
  virtual ~Index() = default;
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  int d() const { return d_; }
  idx_t ntotal() const { return ntotal_; }
  virtual bool is_trained() const { return is_trained_; }
  MetricType metric() const { return metric_; }
  /// Name of the concrete class, e.g. "IndexFlat".
  virtual std::string type_name() const = 0;

  /// Learns what the index needs (centroids, codebooks...) from n vectors.
  void train(idx_t n, const float* x);
  /// Adds n vectors with ids ntotal() .. ntotal() + n - 1.
  void add(idx_t n, const float* x);
  /// Adds n vectors with caller-chosen ids.
  void add_with_ids(idx_t n, const float* x, const idx_t* ids);

  /// The k nearest neighbours of each of the n queries: distances and labels
  /// are n * k arrays, each row sorted from best to worst.
  void search(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
              const SearchParams& params = {}) const;
  /// search() with the batch in an order of the index's choosing: row i of
  /// distances and labels holds the results of query order[i] (order: n
  /// entries, a permutation of 0 .. n-1). An inverted file groups the queries
  /// by their nearest list, so that consecutive rows read the same lists; a
  /// caller that goes on to work per query (re-ranking) in row order then
  /// reads the same vectors for consecutive queries too. Other indexes keep
  /// the batch's order.
  void search_grouped(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, idx_t* order,
                      const SearchParams& params = {}) const;
  /// All neighbours closer than `radius` (L2: distance < radius; inner product:
  /// similarity > radius).
  RangeSearchResult range_search(idx_t n, const float* x, float radius, const SearchParams& params = {}) const;
  /// Like search, and also writes the stored (possibly approximate) vector of
  /// each result into `recons` (n * k * d floats; NaN for missing results).
  void search_and_reconstruct(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels, float* recons,
                              const SearchParams& params = {}) const;

  /// Writes the stored (possibly approximate) vector with id `key`.
  void reconstruct(idx_t key, float* recons) const;
  /// Reconstructs ids i0 .. i0 + n - 1 into n * d floats.
  void reconstruct_n(idx_t i0, idx_t n, float* recons) const;

  /// Size in bytes of one standalone code (sa_encode / sa_decode).
  size_t sa_code_size() const;
  void sa_encode(idx_t n, const float* x, uint8_t* codes) const;
  void sa_decode(idx_t n, const uint8_t* codes, float* x) const;

  /// Removes the vectors whose ids the selector accepts; returns how many.
  size_t remove_ids(const IDSelector& sel);
  /// What remove_ids does to the ids of the vectors that stay: true when they
  /// close up (flat indexes, whose ids are positions), false when they keep
  /// their ids (IVF, graphs, id maps).
  virtual bool removal_closes_up_ids() const { return false; }
  /// Removes every vector; training is kept.
  void reset();

  /// Moves every vector of `other` into this index; `other` ends empty. Both
  /// must be of the same type, with the same parameters and training (shards
  /// of one trained index, say). Ids follow Faiss: an index that keeps ids
  /// (IVF, IDMap) keeps the other's, plus add_id; one that numbers its vectors
  /// itself appends them after its own, ids ntotal().. (add_id 0, as Faiss
  /// asks, or ntotal(), the same ids said). So parts of a collection merged
  /// in order, each with add_id = the number of vectors before it, give every
  /// vector the id it has in the whole collection, whatever the index type.
  void merge_from(Index& other, idx_t add_id = 0);

  /// The SearchParams knobs this index, and the indexes inside it, read. An
  /// index that searches another hands it params.without(the knobs it uses up
  /// itself); wrappers that use up none (IndexIDMap, IndexPreTransform,
  /// IndexShards, IndexReplicas) pass all on, the selector translated if need be.
  virtual KnobSet search_knobs() const { return kKnobSel; }

  /// Whether search() returns estimates with a known bound on their error
  /// (RaBitQ, or a distance-preserving transform in front of it), which
  /// error_bounds() gives: a re-ranking wrapper (IndexRefine, knob
  /// rabitq_eps0) can then skip the candidates the bound rules out.
  virtual bool has_error_bounds() const { return false; }
  /// out[i]: the bound of the error of the estimated distance between x and
  /// vector ids[i] (infinity for id -1). Only where has_error_bounds().
  virtual void error_bounds(const float* x, const idx_t* ids, size_t n, float* out) const;
  /// Where has_error_bounds(): the index whose search and error_bounds() a
  /// re-ranking wrapper should use for n queries x, and the queries as that
  /// index sees them (in `buffer` when they differ from x). Itself and x,
  /// unless a transform that keeps distances hands on its inner index and
  /// the transformed queries: the bounds then need no second transform.
  virtual std::pair<const Index*, const float*> bounded_target(idx_t /*n*/, const float* x,
                                                               std::vector<float>& /*buffer*/) const {
    return {this, x};
  }

 protected:
  Index(int d, MetricType metric, bool is_trained);

  virtual void train_impl(idx_t n, const float* x);
  /// ids is null for add(): ids continue from ntotal().
  virtual void add_impl(idx_t n, const float* x, const idx_t* ids) = 0;
  virtual void search_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                           const SearchParams& params) const = 0;
  /// The default keeps the batch's order.
  virtual void search_grouped_impl(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                                   idx_t* order, const SearchParams& params) const;
  virtual void range_search_impl(idx_t n, const float* x, float radius, const SearchParams& params,
                                 RangeSearchResult& result) const = 0;
  virtual void reconstruct_impl(idx_t key, float* recons) const;
  virtual size_t sa_code_size_impl() const;
  virtual void sa_encode_impl(idx_t n, const float* x, uint8_t* codes) const;
  virtual void sa_decode_impl(idx_t n, const uint8_t* codes, float* x) const;
  virtual size_t remove_ids_impl(const IDSelector& sel);
  virtual void reset_impl() = 0;
  /// `other` has this index's type, d and metric; the default cannot merge.
  virtual void merge_from_impl(Index& other, idx_t add_id);

  /// For merge_from_impl of an index whose ids are positions: the merged
  /// vectors get ids ntotal().., which add_id may say (ntotal()) or leave (0).
  void check_append_id(idx_t add_id) const;
  /// The number of results a search for k needs to compute: k, at most ntotal().
  idx_t results_needed(idx_t k) const;
  /// Throws unless x holds n * d() finite floats, each row within the norm
  /// bound (kMaxSquaredNorm, sextant/utils/validate.h).
  void check_vectors(idx_t n, const float* x, const char* what) const;
  /// Throws unless the arguments of a search are valid for this index; the
  /// queries are scanned for non-finite values unless queries_checked.
  void check_search(idx_t n, const float* x, idx_t k, const float* distances, const idx_t* labels,
                    const SearchParams& params, bool queries_checked = false) const;
  /// For the methods of subclasses that change the index (HNSW update, IVF
  /// merge_from): they hold the lock as the methods above do.
  using ReadLock = std::shared_lock<RWLock>;
  using WriteLock = std::unique_lock<RWLock>;
  RWLock& lock() const { return mutex_; }
  /// reconstruct() of an index nested in this one, whose lock this one's covers
  /// (called per candidate or per list: no lock of its own).
  static void reconstruct_nested(const Index& inner, idx_t key, float* recons);
  /// search() (order null) or search_grouped() of an index nested in this one
  /// (a re-ranking base, a coarse quantizer) with queries that this index has
  /// checked already: all is checked again but the queries' values, so that a
  /// large batch is not scanned for NaN once per level.
  void search_nested(const Index& inner, idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                     idx_t* order, const SearchParams& params) const;

  int d_;
  MetricType metric_;
  idx_t ntotal_ = 0;
  bool is_trained_;

 private:
  void search_unlocked(idx_t n, const float* x, idx_t k, float* distances, idx_t* labels,
                       const SearchParams& params) const;
  mutable RWLock mutex_;
};

}  // namespace sextant
