#include "sextant/utils/kernels.h"

namespace sextant {

const Kernels* kernels_for(SimdLevel level) {
  if (!simd_level_available(level)) return nullptr;
  switch (level) {
    case SimdLevel::scalar: return &simd_scalar::table();
#if defined(SEXTANT_HAVE_AVX2)
    case SimdLevel::avx2: return &simd_avx2::table();
#endif
#if defined(SEXTANT_HAVE_AVX512)
    case SimdLevel::avx512: return &simd_avx512::table();
#endif
    default: return nullptr;
  }
}

const Kernels& kernels() {
  static const Kernels* const active = kernels_for(simd_level());
  return *active;
}

}  // namespace sextant
