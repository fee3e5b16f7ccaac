#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "sextant/SearchParams.h"

namespace sextant {
namespace {

// Only the table's rows: a data member of SearchParams written beside the table changes its size.
struct TableRows {
#define SEXTANT_TEST_ROW(knob, bit, type, name) type name;
  SEXTANT_SEARCH_KNOBS(SEXTANT_TEST_ROW)
#undef SEXTANT_TEST_ROW
};
static_assert(sizeof(SearchParams) == sizeof(TableRows), "every SearchParams field must be a row of SEXTANT_SEARCH_KNOBS");

void set_knob(std::optional<int64_t>& knob) { knob = 7; }
void set_knob(std::optional<float>& knob) { knob = 2.5f; }
void set_knob(std::shared_ptr<const IDSelector>& knob) { knob = std::make_shared<IDSelectorRange>(0, 10); }

SearchParams all_set() {
  SearchParams p;
  for_each_knob([&](const char*, Knob, auto member) { set_knob(p.*member); });
  return p;
}

TEST(SearchParams, TableIsComplete) {
  std::set<std::string> names;
  KnobSet bits = 0;
  size_t rows = 0;
  for_each_knob([&](const char* name, Knob knob, auto member) {
    rows++;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    EXPECT_EQ(knob & (knob - 1), 0u) << name << " must be one bit";
    EXPECT_EQ(bits & knob, 0u) << name << " shares its bit";
    bits |= knob;
    // The row's member pointer is the field its bit stands for.
    SearchParams one;
    set_knob(one.*member);
    EXPECT_EQ(one.knobs(), KnobSet(knob)) << name;
    EXPECT_EQ(knob_names(knob), name);
  });
  EXPECT_GT(rows, 0u);
  EXPECT_EQ(bits, kAllKnobs);
  EXPECT_EQ(SearchParams().knobs(), 0u);
  EXPECT_EQ(all_set().knobs(), kAllKnobs);
  EXPECT_EQ(knob_names(kKnobKFactor | kKnobSel), "sel, k_factor");  // table order, as messages show it
}

TEST(SearchParams, WithoutUnsetsExactlyTheConsumedKnobs) {
  const SearchParams full = all_set();
  for_each_knob([&](const char* name, Knob knob, auto) {
    const SearchParams inner = full.without(knob | kKnobSel);
    EXPECT_EQ(inner.knobs(), kAllKnobs & ~(knob | kKnobSel)) << name;
    // The rest keeps its values.
    if (!(knob & kKnobNprobe)) EXPECT_EQ(inner.nprobe.value_or(0), 7);
    if (!(knob & kKnobKFactor)) EXPECT_EQ(inner.k_factor.value_or(0), 2.5f);
  });
  EXPECT_EQ(full.knobs(), kAllKnobs);  // a copy: the original is untouched
  EXPECT_EQ(full.without(0).knobs(), kAllKnobs);
  EXPECT_EQ(full.without(kAllKnobs).knobs(), 0u);
}

}  // namespace
}  // namespace sextant
