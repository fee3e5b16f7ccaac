#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "sextant/IDSelector.h"
#include "sextant/base/Error.h"

namespace sextant {
namespace {

TEST(IDSelector, BatchMatchesASet) {
  std::mt19937_64 rng(3);
  for (size_t n : {0, 1, 10, 1000}) {
    std::vector<idx_t> ids;
    for (size_t i = 0; i < n; i++) ids.push_back(idx_t(rng() % 100000) - 50000);
    ids.push_back(std::numeric_limits<idx_t>::max());
    std::set<idx_t> want(ids.begin(), ids.end());
    IDSelectorBatch sel(ids.size(), ids.data());
    EXPECT_EQ(sel.size(), want.size());
    for (idx_t id = -60000; id < 60000; id += 3) EXPECT_EQ(sel.is_member(id), want.count(id) > 0) << id;
    for (idx_t id : ids) EXPECT_TRUE(sel.is_member(id));
    IDRange r = sel.bounds();
    EXPECT_EQ(r.lo, *want.begin());
    EXPECT_EQ(r.hi, std::numeric_limits<idx_t>::max());
  }
}

TEST(IDSelector, RangeBitmapAndCombinators) {
  auto range = std::make_shared<IDSelectorRange>(10, 20);
  EXPECT_TRUE(range->is_member(10));
  EXPECT_FALSE(range->is_member(20));
  EXPECT_THROW(IDSelectorRange(5, 4), Error);

  const uint8_t bits[] = {0b00000101, 0b10000000};  // ids 0, 2, 15
  auto bitmap = std::make_shared<IDSelectorBitmap>(2, bits);
  std::set<idx_t> members;
  for (idx_t id = -5; id < 40; id++) {
    if (bitmap->is_member(id)) members.insert(id);
  }
  EXPECT_EQ(members, (std::set<idx_t>{0, 2, 15}));

  IDSelectorNot notr(range);
  EXPECT_TRUE(notr.is_member(9));
  EXPECT_FALSE(notr.is_member(15));
  IDSelectorAnd both(range, bitmap);
  EXPECT_TRUE(both.is_member(15));
  EXPECT_FALSE(both.is_member(2));
  EXPECT_EQ(both.bounds().lo, 10);
  EXPECT_EQ(both.bounds().hi, 16);
  IDSelectorOr either(range, bitmap);
  EXPECT_TRUE(either.is_member(2));
  EXPECT_TRUE(either.is_member(19));
  EXPECT_FALSE(either.is_member(25));
  EXPECT_THROW(IDSelectorNot(nullptr), Error);
}

TEST(IDSelector, ShiftedSeesGlobalIdsFromAPart) {
  auto range = std::make_shared<IDSelectorRange>(100, 120);
  IDSelectorShifted part(range, 90);  // the part's id i is id i + 90 of the whole
  EXPECT_FALSE(part.is_member(9));
  EXPECT_TRUE(part.is_member(10));
  EXPECT_TRUE(part.is_member(29));
  EXPECT_FALSE(part.is_member(30));
  EXPECT_EQ(part.bounds().lo, 10);
  EXPECT_EQ(part.bounds().hi, 30);
  // No overflow at the ends of the id range.
  IDSelectorShifted far(std::make_shared<IDSelectorNot>(range), idx_t{1} << 62);
  EXPECT_FALSE(far.is_member(std::numeric_limits<idx_t>::max()));
  EXPECT_TRUE(far.is_member(0));
  EXPECT_EQ(far.bounds().lo, std::numeric_limits<idx_t>::min());
  EXPECT_THROW(IDSelectorShifted(range, -1), Error);
}

}  // namespace
}  // namespace sextant
