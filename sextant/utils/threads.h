#pragma once

namespace sextant {

/// Threads used by the library's parallel regions (OpenMP). The library never
/// changes this itself: the caller decides, here or with OMP_NUM_THREADS.
void set_num_threads(int n);
int get_num_threads();

}  // namespace sextant
