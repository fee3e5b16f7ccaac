#include "sextant/utils/kernels.h"

#include <algorithm>

namespace sextant {

float fastscan_step(float range, float total, size_t M) {
  if (!(range > 0)) return 1.0f;
  const float step = range / 255.0f;
  // Up to 256 sub-quantizers, 256 x 255 fits 16 bits as it is. Beyond, the
  // margin of M levels (not M / 2) absorbs float rounding of (t - lo) / step.
  return M <= 256 ? step : std::max(step, total / float(65535 - M));
}

const Kernels* kernels_for(SimdLevel level) {
  if (!simd_level_available(level)) return nullptr;
  switch (level) {
    case SimdLevel::scalar: return &simd_scalar::table();
#if defined(SEXTANT_HAVE_AVX2)
    case SimdLevel::avx2: return &simd_avx2::table();
#endif
#if defined(SEXTANT_HAVE_AVX512)
    case SimdLevel::avx512: return &simd_avx512::table();
    case SimdLevel::avx512icl: return &simd_avx512icl::table();
#endif
    default: return nullptr;
  }
}

const Kernels& kernels() {
  static const Kernels* const active = kernels_for(simd_level());
  return *active;
}

}  // namespace sextant
