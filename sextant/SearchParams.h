#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sextant/IDSelector.h"

namespace sextant {

/// One bit per SearchParams field, so an index can say which knobs it reads.
enum Knob : uint32_t {
  kKnobSel = 1u << 0,
  kKnobNprobe = 1u << 1,
  kKnobMaxCodes = 1u << 2,
  kKnobEfSearch = 1u << 3,
  kKnobKFactor = 1u << 4,
};
using KnobSet = uint32_t;

/// The knobs of one search call, passed by value. Every field is optional: an
/// unset field means "use the index's default". Each index reads the knobs it
/// understands; a set knob that nothing in the index understands is an error,
/// so a typo'd or misplaced setting never goes silently unused.
struct SearchParams {
  /// Only ids the selector accepts can be returned.
  std::shared_ptr<const IDSelector> sel;
  /// IVF: number of inverted lists probed per query.
  std::optional<int64_t> nprobe;
  /// IVF: stop scanning a query's lists after this many codes (0 = no limit).
  std::optional<int64_t> max_codes;
  /// HNSW: size of the dynamic candidate list at search time.
  std::optional<int64_t> efSearch;
  /// Refine: re-rank k * k_factor candidates of the base index.
  std::optional<float> k_factor;

  /// The knobs that are set in this value.
  KnobSet knobs() const {
    return (sel ? kKnobSel : 0u) | (nprobe ? kKnobNprobe : 0u) | (max_codes ? kKnobMaxCodes : 0u) |
           (efSearch ? kKnobEfSearch : 0u) | (k_factor ? kKnobKFactor : 0u);
  }
};

/// Comma-separated field names of the knobs in `knobs`, for messages.
std::string knob_names(KnobSet knobs);

}  // namespace sextant
