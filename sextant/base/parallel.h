#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>

#include <omp.h>

namespace sextant {

/// Runs fn(i) for every i in [0, n): on up to n OpenMP threads when
/// `parallel` (inside, the library's own parallel regions then run on one
/// thread each), else in order on the calling thread. An exception thrown by
/// fn never leaves the parallel region: the first one is rethrown once every
/// call has returned.
template <class Fn>
void for_each_part(size_t n, bool parallel, Fn&& fn) {
  if (!parallel || n < 2) {
    for (size_t i = 0; i < n; i++) fn(i);
    return;
  }
  std::exception_ptr error;
  const int threads = static_cast<int>(std::min<size_t>(n, static_cast<size_t>(omp_get_max_threads())));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (long i = 0; i < static_cast<long>(n); i++) {
    try {
      fn(static_cast<size_t>(i));
    } catch (...) {
#pragma omp critical(sextant_for_each_part)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

/// Runs region() as an OpenMP parallel region of `threads` threads when
/// threads > 1, else directly on the calling thread, where a worksharing loop
/// inside runs as a team of one. Entering a region costs about 0.4 us even
/// when an if clause turns it down: a one-query search would pay it at every
/// level it passes through. Inside another parallel region a region of one
/// thread is still entered, so that a worksharing loop in region() binds to it
/// and not to the enclosing team.
template <class Region>
void parallel_region(int threads, Region&& region) {
  if (threads > 1 || omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
    region();
  } else {
    region();
  }
}

/// fn(i) for every i in [0, n): split statically over the threads when
/// `parallel`, else in order on the calling thread (see parallel_region).
template <class Fn>
void parallel_for_static(bool parallel, long n, Fn&& fn) {
  if (parallel) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) fn(i);
  } else {
    for (long i = 0; i < n; i++) fn(i);
  }
}

}  // namespace sextant
