#pragma once

// Adding a search knob: add its row to SEXTANT_SEARCH_KNOBS below (enumerator,
// an unused bit, value type, name). The SearchParams field, knobs(), without(),
// knob_names() and Python's keyword, attribute and repr all follow from that
// row. Then read the knob where it applies and add its bit to that index's
// search_knobs(); a wrapper that uses it up hands its inner index
// params.without(bit). A value type other than std::optional<int64_t>,
// std::optional<float> or the selector also needs its Python conversion
// (set_knob in python/src/numpy_args.cpp, bind_knob and knob_repr in
// python/src/bind_search_params.cpp).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sextant/IDSelector.h"

namespace sextant {

/// Every per-call search knob, once: X(enumerator, bit, value type, name). The
/// name is the SearchParams member and the knob's name in messages and Python.
#define SEXTANT_SEARCH_KNOBS(X)                                                  \
  /* Only ids the selector accepts can be returned. */                           \
  X(kKnobSel, 0, std::shared_ptr<const IDSelector>, sel)                         \
  /* IVF: number of inverted lists probed per query. */                          \
  X(kKnobNprobe, 1, std::optional<int64_t>, nprobe)                              \
  /* IVF: stop scanning a query's lists after this many codes (0 = no limit). */ \
  X(kKnobMaxCodes, 2, std::optional<int64_t>, max_codes)                         \
  /* HNSW: size of the dynamic candidate list at search time. */                 \
  X(kKnobEfSearch, 3, std::optional<int64_t>, efSearch)                          \
  /* Refine: re-rank k * k_factor candidates of the base index. */               \
  X(kKnobKFactor, 4, std::optional<float>, k_factor)                             \
  /* Refine over RaBitQ: skip candidates eps0 error deviations from entering. */ \
  X(kKnobRaBitQEps0, 5, std::optional<float>, rabitq_eps0)

/// One bit per SearchParams field, so an index can say which knobs it reads.
enum Knob : uint32_t {
#define SEXTANT_KNOB_BIT(knob, bit, type, name) knob = 1u << bit,
  SEXTANT_SEARCH_KNOBS(SEXTANT_KNOB_BIT)
#undef SEXTANT_KNOB_BIT
};
using KnobSet = uint32_t;

/// Every knob in the table.
inline constexpr KnobSet kAllKnobs = 0
#define SEXTANT_KNOB_ALL(knob, bit, type, name) | knob
    SEXTANT_SEARCH_KNOBS(SEXTANT_KNOB_ALL)
#undef SEXTANT_KNOB_ALL
    ;

/// The knobs of one search call, passed by value. Every field is optional: an
/// unset field means "use the index's default". Each index reads the knobs it
/// understands; a set knob that nothing in the index understands is an error,
/// so a typo'd or misplaced setting never goes silently unused.
struct SearchParams {
#define SEXTANT_KNOB_MEMBER(knob, bit, type, name) type name;
  SEXTANT_SEARCH_KNOBS(SEXTANT_KNOB_MEMBER)
#undef SEXTANT_KNOB_MEMBER

  /// The knobs that are set in this value.
  KnobSet knobs() const;

  /// The knobs for an inner index: this value with `consumed` unset. Every
  /// index that searches another hands it params.without(the knobs it uses up
  /// itself), never a list of knobs to keep: a knob the outer index does not
  /// consume reaches the inner one, whose own check rejects it if nothing there
  /// reads it, so no knob is ever dropped silently.
  SearchParams without(KnobSet consumed) const;
};

/// Calls f(name, knob, member) for every knob in table order, where member is
/// the pointer to its SearchParams field.
template <class F>
void for_each_knob(F&& f) {
#define SEXTANT_KNOB_VISIT(knob, bit, type, name) f(#name, knob, &SearchParams::name);
  SEXTANT_SEARCH_KNOBS(SEXTANT_KNOB_VISIT)
#undef SEXTANT_KNOB_VISIT
}

/// Comma-separated field names of the knobs in `knobs`, for messages.
std::string knob_names(KnobSet knobs);

}  // namespace sextant
