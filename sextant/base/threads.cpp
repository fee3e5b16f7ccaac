#include "sextant/base/threads.h"

#include <omp.h>

#include "sextant/base/Error.h"

namespace sextant {

void set_num_threads(int n) {
  SEXTANT_CHECK(n >= 1, "number of threads must be >= 1, got ", n);
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

RWLock::RWLock() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&lock_, &attr);
  pthread_rwlockattr_destroy(&attr);
}

RWLock::~RWLock() { pthread_rwlock_destroy(&lock_); }

void RWLock::lock() { pthread_rwlock_wrlock(&lock_); }
void RWLock::unlock() { pthread_rwlock_unlock(&lock_); }
void RWLock::lock_shared() { pthread_rwlock_rdlock(&lock_); }
void RWLock::unlock_shared() { pthread_rwlock_unlock(&lock_); }

}  // namespace sextant
