#pragma once

namespace sextant {

/// Instruction-set levels with their own kernels, from most portable to widest.
enum class SimdLevel { scalar = 0, avx2 = 1, avx512 = 2 };

const char* to_string(SimdLevel level);

/// True when this build has kernels for `level` and this CPU (and OS) can run them.
bool simd_level_available(SimdLevel level);

/// The level the library uses: the widest available one, unless the
/// environment variable SEXTANT_SIMD (scalar | avx2 | avx512) asks for another.
/// Asking for a level this machine cannot run is an error. Decided once per process.
SimdLevel simd_level();

}  // namespace sextant
