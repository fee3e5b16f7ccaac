#include "sextant/SearchParams.h"

namespace sextant {

KnobSet SearchParams::knobs() const {
  KnobSet set = 0;
  for_each_knob([&](const char*, Knob knob, auto member) {
    if (this->*member) set |= knob;
  });
  return set;
}

SearchParams SearchParams::without(KnobSet consumed) const {
  SearchParams inner = *this;
  for_each_knob([&](const char*, Knob knob, auto member) {
    if (consumed & knob) (inner.*member).reset();
  });
  return inner;
}

std::string knob_names(KnobSet knobs) {
  std::string out;
  for_each_knob([&](const char* name, Knob knob, auto) {
    if (!(knobs & knob)) return;
    if (!out.empty()) out += ", ";
    out += name;
  });
  return out;
}

}  // namespace sextant
