#pragma once

namespace sextant {

/// Instruction-set levels with their own kernels, from most portable to widest.
/// avx512icl adds Ice Lake's bit instructions (BITALG, VPOPCNTDQ; Ice Lake and
/// later Xeons, Zen 4): bytes' bit counts in one instruction, which RaBitQ's
/// scoring spends most of its time on.
enum class SimdLevel { scalar = 0, avx2 = 1, avx512 = 2, avx512icl = 3 };

/// Every level, from most portable to widest.
inline constexpr SimdLevel kSimdLevels[] = {SimdLevel::scalar, SimdLevel::avx2, SimdLevel::avx512,
                                            SimdLevel::avx512icl};

const char* to_string(SimdLevel level);

/// True when this build has kernels for `level` and this CPU (and OS) can run them.
bool simd_level_available(SimdLevel level);

/// The level the library uses: the widest available one, unless the
/// environment variable SEXTANT_SIMD (scalar | avx2 | avx512 | avx512icl) asks for another.
/// Asking for a level this machine cannot run is an error. Decided once per process.
SimdLevel simd_level();

}  // namespace sextant
