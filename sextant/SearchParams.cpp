#include "sextant/SearchParams.h"

namespace sextant {

std::string knob_names(KnobSet knobs) {
  static constexpr struct {
    Knob knob;
    const char* name;
  } kNames[] = {{kKnobSel, "sel"},
                {kKnobNprobe, "nprobe"},
                {kKnobMaxCodes, "max_codes"},
                {kKnobEfSearch, "efSearch"},
                {kKnobKFactor, "k_factor"}};
  std::string out;
  for (const auto& entry : kNames) {
    if (!(knobs & entry.knob)) continue;
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

}  // namespace sextant
