// Kernels built with this level's instruction set (see CMakeLists.txt for the flags):
// the AVX-512 kernels with Ice Lake's bit instructions, which the RaBitQ popcounts use.
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "sextant/utils/kernels.h"

namespace sextant::simd_avx512icl {
namespace {
#include "sextant/utils/simd_avx512.h"
#include "sextant/utils/kernels_simd.h"
#include "sextant/utils/fastscan_simd.h"
#include "sextant/utils/rabitq_popcount.h"
#include "sextant/utils/rabitq_extended.h"
}  // namespace

constexpr SimdLevel kLevel = SimdLevel::avx512icl;
#include "sextant/utils/kernels_table.h"

}  // namespace sextant::simd_avx512icl
