#include "sextant/utils/threads.h"

#include <omp.h>

#include "sextant/utils/Error.h"

namespace sextant {

void set_num_threads(int n) {
  SEXTANT_CHECK(n >= 1, "number of threads must be >= 1, got ", n);
  omp_set_num_threads(n);
}

int get_num_threads() { return omp_get_max_threads(); }

}  // namespace sextant
