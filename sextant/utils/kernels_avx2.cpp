// Kernels built with this level's instruction set (see CMakeLists.txt for the flags).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "sextant/utils/kernels.h"

namespace sextant::simd_avx2 {
namespace {
#include "sextant/utils/simd_avx2.h"
#include "sextant/utils/kernels_simd.h"
}  // namespace

const Kernels& table() {
  static const Kernels kTable{SimdLevel::avx2, l2sqr, inner_product, l2sqr_ny, inner_product_ny, collect_below,
                              l2sqr_gather, inner_product_gather};
  return kTable;
}

}  // namespace sextant::simd_avx2
