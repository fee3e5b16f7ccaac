#include "sextant/utils/validate.h"

#include <cstdint>
#include <cstring>

#include "sextant/utils/Error.h"

namespace sextant {

size_t find_non_finite(const float* x, size_t n) {
  constexpr uint32_t kExponent = 0x7f800000u;  // all ones: NaN or infinity
  constexpr size_t kBlock = 256;
  // Scan blocks branch-free (vectorisable), then locate within the failing block.
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    size_t i1 = i0 + kBlock < n ? i0 + kBlock : n;
    uint32_t bad = 0;
    for (size_t i = i0; i < i1; i++) {
      uint32_t bits;
      std::memcpy(&bits, x + i, sizeof(bits));
      bad |= static_cast<uint32_t>((bits & kExponent) == kExponent);
    }
    if (bad) {
      for (size_t i = i0; i < i1; i++) {
        uint32_t bits;
        std::memcpy(&bits, x + i, sizeof(bits));
        if ((bits & kExponent) == kExponent) return i;
      }
    }
  }
  return n;
}

void check_finite(const float* x, size_t n, size_t d, const char* what) {
  const size_t total = n * d;
  const size_t bad = find_non_finite(x, total);
  SEXTANT_CHECK(bad == total, what, " must be finite: row ", bad / d, ", column ", bad % d, " is ", x[bad]);
}

}  // namespace sextant
