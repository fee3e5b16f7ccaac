// Fixed-size buffers of a graph search: the visited set and the candidate pool.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "sextant/impl/GraphDistance.h"

namespace sextant {

/// Which nodes a search has seen. One byte per node holds the number of the
/// search that last saw it, so starting a new search costs one increment; the
/// table is cleared only when the counter wraps, once per 255 searches.
class VisitedTable {
 public:
  /// Starts a new search over nodes 0 .. n-1.
  void start(size_t n) {
    if (marks_.size() < n) {
      marks_.assign(n, 0);
      epoch_ = 0;
    }
    if (++epoch_ == 0) {
      std::fill(marks_.begin(), marks_.end(), uint8_t{0});
      epoch_ = 1;
    }
  }
  /// Marks node i; true when this search had not seen it yet.
  bool visit(node_t i) {
    if (marks_[i] == epoch_) return false;
    marks_[i] = epoch_;
    return true;
  }
  /// Marks the n nodes ids and writes those this search had not seen to out
  /// (in order); returns their count. Without branches: whether a neighbour
  /// was seen is a coin flip to the branch predictor.
  size_t visit_all(const node_t* ids, size_t n, node_t* out) {
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
      const node_t u = ids[j];
      out[m] = u;
      m += marks_[u] != epoch_;
      marks_[u] = epoch_;
    }
    return m;
  }
  bool seen(node_t i) const { return marks_[i] == epoch_; }
  const uint8_t* mark_address(node_t i) const { return &marks_[i]; }

 private:
  std::vector<uint8_t> marks_;
  uint8_t epoch_ = 0;
};

/// The dynamic candidate list of a graph search ("ef" entries): the best nodes
/// found so far, sorted by distance, each flagged once its links have been
/// followed. A flat sorted array replaces hnswlib's two priority queues: the
/// next node to expand is the first unflagged entry (a cursor), insertion is a
/// binary search and a short memmove, and everything stays in one or two
/// cache lines' worth of arrays. Equal distances keep arrival order, so a
/// search is deterministic.
class CandidatePool {
 public:
  void reset(size_t capacity) {
    capacity_ = capacity;
    if (dist_.size() < capacity + 1) {
      dist_.resize(capacity + 1);
      ids_.resize(capacity + 1);
    }
    size_ = 0;
    cursor_ = 0;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool full() const { return size_ == capacity_; }
  /// Candidates at or above this distance cannot enter.
  float bound() const { return full() ? dist_[size_ - 1] : std::numeric_limits<float>::infinity(); }

  /// Inserts (d, id) when d < bound(), and then returns true; the worst entry
  /// falls off a full pool. A NaN never enters (it would break the order).
  bool insert(float d, node_t id) {
    if (!(d < bound())) return false;
    // The first entry > d, counted rather than searched: a binary search
    // mispredicts about every other step, a count of a few dozen floats runs
    // in vector compares.
    size_t pos = 0;
    for (size_t i = 0; i < size_; i++) pos += !(d < dist_[i]);
    size_t tail = size_ - pos - (full() ? 1 : 0);
    std::memmove(&dist_[pos + 1], &dist_[pos], tail * sizeof(float));
    std::memmove(&ids_[pos + 1], &ids_[pos], tail * sizeof(node_t));
    dist_[pos] = d;
    ids_[pos] = id;
    if (!full()) size_++;
    if (pos < cursor_) cursor_ = pos;
    return true;
  }

  bool has_unexpanded() const { return cursor_ < size_; }
  /// The best entry not yet expanded; flags it and moves the cursor on.
  node_t pop_unexpanded() {
    node_t id = ids_[cursor_];
    ids_[cursor_] |= kExpanded;
    do cursor_++;
    while (cursor_ < size_ && (ids_[cursor_] & kExpanded));
    return id;
  }
  /// The entry the next pop_unexpanded() returns (has_unexpanded() must hold).
  node_t peek_unexpanded() const { return ids_[cursor_]; }

  float dist(size_t i) const { return dist_[i]; }
  node_t id(size_t i) const { return ids_[i] & ~kExpanded; }

 private:
  static constexpr node_t kExpanded = node_t{1} << 31;
  std::vector<float> dist_;
  std::vector<node_t> ids_;
  size_t capacity_ = 0, size_ = 0, cursor_ = 0;
};

/// Everything one thread needs to search a graph, kept between searches.
struct SearchBuffers {
  VisitedTable visited;
  CandidatePool pool;
  std::vector<node_t> batch;       // unvisited neighbours of the node being expanded
  std::vector<float> batch_dist;   // their distances
  std::vector<node_t> links_copy;  // construction: a node's links, read under its lock
  std::vector<float> member_dist;  // filtered search: the best members (a TopKHeap)
  std::vector<int64_t> member_ids;
  std::vector<std::pair<float, node_t>> results;  // a search's candidates, best first
};

/// A thread-safe free list of search buffers. Searches are const and run
/// concurrently: each takes buffers for its duration and gives them back, so a
/// one-query call does not pay for a fresh visited table (one byte per node).
/// The buffers hold no results between calls; the index's data is never written.
class SearchBuffersPool {
 public:
  struct GiveBack {
    SearchBuffersPool* pool;
    void operator()(SearchBuffers* b) const { pool->give_back(b); }
  };
  using Handle = std::unique_ptr<SearchBuffers, GiveBack>;

  Handle take() {
    std::unique_ptr<SearchBuffers> b;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        b = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!b) b = std::make_unique<SearchBuffers>();
    return Handle(b.release(), GiveBack{this});
  }
  /// Drops the cached buffers (their tables are sized for the old node count).
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.clear();
  }

 private:
  void give_back(SearchBuffers* b) {
    std::unique_ptr<SearchBuffers> owned(b);
    std::lock_guard<std::mutex> lock(mutex_);
    if (free_.size() < kMaxCached) free_.push_back(std::move(owned));
  }
  static constexpr size_t kMaxCached = 64;
  std::mutex mutex_;
  std::vector<std::unique_ptr<SearchBuffers>> free_;
};

}  // namespace sextant
