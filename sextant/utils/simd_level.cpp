#include "sextant/utils/simd_level.h"

#include <cstdlib>
#include <string>

#if defined(SEXTANT_HAVE_AVX2)
#include <cpuid.h>
#endif

#include "sextant/base/Error.h"

namespace sextant {

namespace {

#if defined(SEXTANT_HAVE_AVX2)
// F16C from CPUID leaf 1 (ECX bit 29): clang's __builtin_cpu_supports does not know "f16c".
bool cpu_has_f16c() {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 29)) != 0;
}
#endif

}  // namespace

const char* to_string(SimdLevel level) {
  switch (level) {
    case SimdLevel::scalar: return "scalar";
    case SimdLevel::avx2: return "avx2";
    case SimdLevel::avx512: return "avx512";
    case SimdLevel::avx512icl: return "avx512icl";
  }
  return "unknown";
}

bool simd_level_available(SimdLevel level) {
  switch (level) {
    case SimdLevel::scalar:
      return true;
#if defined(SEXTANT_HAVE_AVX2)
    case SimdLevel::avx2:
      // libgcc's checks include the OS saving the wide registers (XGETBV).
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("popcnt") &&
             cpu_has_f16c();
#endif
#if defined(SEXTANT_HAVE_AVX512)
    case SimdLevel::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             simd_level_available(SimdLevel::avx2);
    case SimdLevel::avx512icl:
      return __builtin_cpu_supports("avx512bitalg") && __builtin_cpu_supports("avx512vpopcntdq") &&
             simd_level_available(SimdLevel::avx512);
#endif
    default:
      return false;
  }
}

namespace {
SimdLevel choose_level() {
  const char* forced = std::getenv("SEXTANT_SIMD");
  if (forced != nullptr && *forced != '\0') {
    std::string name(forced);
    for (SimdLevel level : kSimdLevels) {
      if (name != to_string(level)) continue;
      SEXTANT_CHECK(simd_level_available(level), "SEXTANT_SIMD=", name,
                    " asks for a level this build or CPU cannot run");
      return level;
    }
    SEXTANT_FAIL("SEXTANT_SIMD must be scalar, avx2, avx512 or avx512icl, got '", name, "'");
  }
  SimdLevel widest = SimdLevel::scalar;
  for (SimdLevel level : kSimdLevels) {
    if (simd_level_available(level)) widest = level;
  }
  return widest;
}
}  // namespace

SimdLevel simd_level() {
  static const SimdLevel level = choose_level();
  return level;
}

}  // namespace sextant
