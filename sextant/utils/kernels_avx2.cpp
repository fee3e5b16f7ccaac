// Kernels built with this level's instruction set (see CMakeLists.txt for the flags).
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sextant/utils/kernels.h"

namespace sextant::simd_avx2 {
namespace {
#include "sextant/utils/simd_avx2.h"
#include "sextant/utils/kernels_simd.h"
#include "sextant/utils/fastscan_avx2.h"
}  // namespace

const Kernels& table() {
  static const Kernels kTable{
      SimdLevel::avx2,
      l2sqr,
      inner_product,
      l2sqr_ny,
      inner_product_ny,
      collect_below,
      min_key,
      {sq_score<kSQ8bit, true>, sq_score<kSQ6bit, true>, sq_score<kSQ4bit, true>, sq_score<kSQfp16, true>,
       sq_score<kSQbf16, true>},
      {sq_score<kSQ8bit, false>, sq_score<kSQ6bit, false>, sq_score<kSQ4bit, false>, sq_score<kSQfp16, false>,
       sq_score<kSQbf16, false>},
      fastscan_collect,
      fastscan_quantize,
      l2sqr_gather,
      inner_product_gather,
      l2sqr_split_gather,
      inner_product_split_gather,
      l2sqr_split_pair,
      inner_product_split_pair,
      l2_nearest,
      l2sqr_table,
      inner_product_table};
  return kTable;
}

}  // namespace sextant::simd_avx2
