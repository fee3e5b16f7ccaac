#pragma once

#include <pthread.h>

#include <atomic>
#include <exception>
#include <mutex>

namespace sextant {

/// Threads used by the library's parallel regions (OpenMP). The library never
/// changes this itself: the caller decides, here or with OMP_NUM_THREADS.
void set_num_threads(int n);
int get_num_threads();

/// A reader/writer lock (std::shared_lock / std::unique_lock work with it)
/// that lets a waiting writer in before new readers: threads searching in a
/// tight loop never starve an add, as they would with std::shared_mutex
/// (glibc lets readers overtake). Not recursive.
class RWLock {
 public:
  RWLock();
  ~RWLock();
  RWLock(const RWLock&) = delete;
  RWLock& operator=(const RWLock&) = delete;
  void lock();
  void unlock();
  void lock_shared();
  void unlock_shared();

 private:
  pthread_rwlock_t lock_;
};

/// Carries exceptions out of an OpenMP parallel region, which they may not
/// cross (the runtime would call std::terminate: a bad_alloc or a check in a
/// worker thread would kill the process). Work inside the region runs through
/// run(), which keeps the first exception and turns the work that follows, on
/// every thread, into no-ops; rethrow() raises it once the region is over.
/// Every thread still reaches each worksharing construct, as OpenMP requires.
///
///   ParallelErrors errors;
///   #pragma omp parallel
///   {
///     std::vector<float> scratch;
///     errors.run([&] { scratch.resize(n); });
///   #pragma omp for
///     for (long i = 0; i < count; i++) errors.run([&] { work(i, scratch); });
///   }
///   errors.rethrow();
class ParallelErrors {
 public:
  template <class Work>
  void run(Work&& work) noexcept {
    if (failed_.load(std::memory_order_relaxed)) return;
    try {
      work();
    } catch (...) {
      keep(std::current_exception());
    }
  }
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  /// Raises the kept exception, if any (call after the parallel region).
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  void keep(std::exception_ptr e) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!first_) first_ = std::move(e);
    failed_.store(true, std::memory_order_relaxed);
  }
  std::mutex mutex_;
  std::exception_ptr first_;
  std::atomic<bool> failed_{false};
};

}  // namespace sextant
