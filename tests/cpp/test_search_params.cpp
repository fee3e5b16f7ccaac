#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexHNSW.h"
#include "sextant/IndexIVFFlat.h"
#include "sextant/IndexRefine.h"
#include "sextant/SearchParams.h"
#include "sextant/base/Error.h"

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

std::string error_of(const Index& index, const float* x, const SearchParams& params) {
  float dist[3];
  idx_t labels[3];
  try {
    index.search(1, x, 3, dist, labels, params);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Each nested index gets the knobs its wrapper does not use up: a coarse
// quantizer and a re-ranking base read theirs, and a knob nobody reads is refused.
TEST(SearchParams, NestedIndexesGetTheKnobsTheirWrapperLeaves) {
  const int d = 8, nlist = 4;
  const size_t nb = 200;
  const auto xb = test::random_vectors(nb, d, 5);
  const float* q = xb.data();

  IndexIVFFlat hnsw_ivf(std::make_shared<IndexHNSWFlat>(d, 8), d, nlist);
  hnsw_ivf.train(nb, xb.data());
  hnsw_ivf.add(nb, xb.data());
  SearchParams p;
  p.efSearch = 0;  // reaches the HNSW quantizer, which checks it
  EXPECT_NE(error_of(hnsw_ivf, q, p).find("efSearch must be > 0"), std::string::npos);
  p.efSearch = 16;
  p.nprobe = nlist;
  EXPECT_EQ(error_of(hnsw_ivf, q, p), "");

  auto refine_quantizer = std::make_shared<IndexRefineFlat>(std::make_shared<IndexFlat>(d));
  IndexIVFFlat refine_ivf(refine_quantizer, d, nlist);
  refine_ivf.train(nb, xb.data());
  refine_ivf.add(nb, xb.data());
  p = SearchParams();
  p.k_factor = 0.5f;  // reaches the quantizer, which checks it
  EXPECT_NE(error_of(refine_ivf, q, p).find("k_factor must be >= 1"), std::string::npos);

  auto ivf = std::make_shared<IndexIVFFlat>(std::make_shared<IndexFlat>(d), d, nlist);
  IndexRefineFlat refined(ivf);
  refined.train(nb, xb.data());
  refined.add(nb, xb.data());
  p = SearchParams();
  p.k_factor = 2;  // used up by the refine step: the IVF base would refuse it
  p.nprobe = nlist;
  p.sel = std::make_shared<IDSelectorRange>(50, 100);
  float dist[3];
  idx_t labels[3];
  refined.search(1, q, 3, dist, labels, p);
  for (idx_t label : labels) EXPECT_TRUE(label >= 50 && label < 100) << label;
  p.efSearch = 16;  // read by nothing inside
  EXPECT_NE(error_of(refined, q, p).find("does not use SearchParams field(s): efSearch"), std::string::npos);
}

}  // namespace
}  // namespace sextant
