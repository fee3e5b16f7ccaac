// k-selection state of one warp (k = 32 * Q), after Faiss's WarpSelect:
//
//  - the warp queue: the best 32 * Q entries seen so far, sorted ascending,
//    spread over Q registers per lane (slot-major, see BitonicNetworks.h);
//  - a thread queue per lane: T registers, unsorted, holding candidates that
//    beat the warp queue's worst entry (the threshold) when they were offered.
//
// Most candidates fail the threshold test and cost one comparison. When some
// lane's thread queue is full, the warp sorts all thread queues (32 * T
// entries, one bitonic sort) and merges them into the warp queue (one bitonic
// merge), and the threshold drops to the new worst entry.
//
// The threshold may also be lowered from outside (tighten): any other queue's
// worst entry over a subset of the same candidates bounds the final k-th best,
// so warps of a block, or blocks of a row, can share the tightest bound.
#pragma once

#include <cstdint>

#include "gpu/select/BitonicNetworks.h"
#include "gpu/select/OrderedKey.h"

namespace sextant::gpu {

/// Thread-queue length for a warp queue of 32 * Q entries: longer thread
/// queues mean fewer merges but more registers.
constexpr int thread_queue_length(int Q) { return Q <= 2 ? 2 : (Q <= 8 ? 4 : 8); }

template <class W, int Q, int T = thread_queue_length(Q)>
class WarpQueue {
 public:
  using Entry = typename W::Entry;
  using Pred = typename W::Pred;
  using Count = typename W::Count;
  static constexpr int kSlots = Q;
  static constexpr int kCapacity = 32 * Q;

  SEXTANT_HD WarpQueue() : count_(W::zero_count()) {
#pragma unroll
    for (int s = 0; s < Q; s++) queue_[s] = W::splat(kPadEntry);
#pragma unroll
    for (int j = 0; j < T; j++) thread_[j] = W::splat(kPadEntry);
  }

  /// Candidates must be strictly below this to enter (kPadEntry: anything real).
  SEXTANT_HD uint64_t threshold() const { return threshold_; }
  /// Lowers the threshold to an outside bound (see the file comment).
  SEXTANT_HD void tighten(uint64_t bound) { threshold_ = bound < threshold_ ? bound : threshold_; }

  /// Replaces the warp queue with a sorted slot-major array of 32 * Q entries
  /// (say, the best entries of earlier tiles); thread queues must be empty.
  SEXTANT_HD void load_sorted(const uint64_t* src) {
#pragma unroll
    for (int s = 0; s < Q; s++) queue_[s] = W::load(src, s);
    tighten(W::broadcast(queue_[Q - 1], 31));
  }

  /// Offers one candidate per lane; lanes with valid false offer nothing.
  /// All 32 lanes must call this together (warp-synchronous).
  SEXTANT_HD void add(const Entry& e, const Pred& valid) {
    const Pred pass = valid & (e < threshold_);
    if (!W::any(pass)) return;
    if (W::any(count_ == T)) flush();
#pragma unroll
    for (int j = 0; j < T; j++) thread_[j] = choose(pass & (count_ == j), e, thread_[j]);
    count_ += pass;
  }

  /// Merges the thread queues into the warp queue (no-op when all are empty).
  SEXTANT_HD void flush() {
    if (W::any(count_ != 0)) merge_thread_queues();
  }

  /// Merges another sorted slot-major array of 32 * Q entries (another warp's
  /// queue) into this queue. Thread queues should be flushed first.
  SEXTANT_HD void merge_sorted(const uint64_t* src) {
    // As merge_sorted_into with B = Q, reading the other queue slot by slot
    // (no second register array: big queues would not fit twice).
#pragma unroll
    for (int s = 0; s < Q; s++) queue_[s] = min_entry(queue_[s], W::shfl_xor(W::load(src, Q - 1 - s), 31));
    warp_bitonic_merge<W, Q>(queue_);
    tighten(W::broadcast(queue_[Q - 1], 31));
  }

  /// Writes the sorted warp queue, slot-major (entry r at dst[r]); call flush() first.
  SEXTANT_HD void store(uint64_t* dst) const {
#pragma unroll
    for (int s = 0; s < Q; s++) W::store(dst, s, queue_[s]);
  }

  /// The warp queue (sorted after flush()), for kernels that post-process in registers.
  SEXTANT_HD const Entry& slot(int s) const { return queue_[s]; }

 private:
  SEXTANT_HD void merge_thread_queues() {
    warp_bitonic_sort<W, T>(thread_);
    merge_sorted_into<W, Q, T>(queue_, thread_);
#pragma unroll
    for (int j = 0; j < T; j++) thread_[j] = W::splat(kPadEntry);
    count_ = W::zero_count();
    tighten(W::broadcast(queue_[Q - 1], 31));
  }

  Entry queue_[Q];
  Entry thread_[T];
  Count count_;
  uint64_t threshold_ = kPadEntry;
};

}  // namespace sextant::gpu
