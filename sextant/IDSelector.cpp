#include "sextant/IDSelector.h"

#include <algorithm>
#include <limits>

#include "sextant/base/Error.h"

namespace sextant {

namespace {
constexpr idx_t kMaxId = std::numeric_limits<idx_t>::max();

std::shared_ptr<const IDSelector> checked(std::shared_ptr<const IDSelector> sel, const char* name) {
  SEXTANT_CHECK(sel != nullptr, name, " must be a selector, got null");
  return sel;
}
}  // namespace

IDRange IDSelector::bounds() const { return {std::numeric_limits<idx_t>::min(), kMaxId}; }

IDSelectorRange::IDSelectorRange(idx_t lo, idx_t hi) : lo_(lo), hi_(hi) {
  SEXTANT_CHECK(lo <= hi, "IDSelectorRange needs lo <= hi, got lo=", lo, " hi=", hi);
}

IDSelectorBatch::IDSelectorBatch(size_t n, const idx_t* ids) {
  SEXTANT_CHECK(n == 0 || ids != nullptr, "IDSelectorBatch: ids must not be null when n=", n);
  ids_.assign(ids, ids + n);
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
  // About 8 filter bits per member, at least one word, a power of two.
  size_t words = 1;
  while (words * 64 < ids_.size() * 8) words *= 2;
  filter_.assign(words, 0);
  const uint64_t mask = words * 64 - 1;
  for (idx_t id : ids_) {
    uint64_t bit = static_cast<uint64_t>(id) & mask;
    filter_[bit >> 6] |= uint64_t{1} << (bit & 63);
  }
}

bool IDSelectorBatch::is_member(idx_t id) const {
  uint64_t bit = static_cast<uint64_t>(id) & (filter_.size() * 64 - 1);
  if (!((filter_[bit >> 6] >> (bit & 63)) & 1)) return false;
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

IDRange IDSelectorBatch::bounds() const {
  if (ids_.empty()) return {0, 0};
  return {ids_.front(), ids_.back() == kMaxId ? kMaxId : ids_.back() + 1};
}

IDSelectorBitmap::IDSelectorBitmap(size_t nbytes, const uint8_t* bitmap) {
  SEXTANT_CHECK(nbytes == 0 || bitmap != nullptr, "IDSelectorBitmap: bitmap must not be null when nbytes=", nbytes);
  bits_.assign(bitmap, bitmap + nbytes);
}

IDSelectorNot::IDSelectorNot(std::shared_ptr<const IDSelector> inner) : inner_(checked(std::move(inner), "inner")) {}

IDSelectorAnd::IDSelectorAnd(std::shared_ptr<const IDSelector> a, std::shared_ptr<const IDSelector> b)
    : a_(checked(std::move(a), "a")), b_(checked(std::move(b), "b")) {}

IDRange IDSelectorAnd::bounds() const {
  IDRange ra = a_->bounds(), rb = b_->bounds();
  IDRange r{std::max(ra.lo, rb.lo), std::min(ra.hi, rb.hi)};
  if (r.hi < r.lo) r.hi = r.lo;
  return r;
}

IDSelectorOr::IDSelectorOr(std::shared_ptr<const IDSelector> a, std::shared_ptr<const IDSelector> b)
    : a_(checked(std::move(a), "a")), b_(checked(std::move(b), "b")) {}

IDRange IDSelectorOr::bounds() const {
  IDRange ra = a_->bounds(), rb = b_->bounds();
  return {std::min(ra.lo, rb.lo), std::max(ra.hi, rb.hi)};
}

IDSelectorShifted::IDSelectorShifted(std::shared_ptr<const IDSelector> inner, idx_t offset)
    : inner_(checked(std::move(inner), "inner")), offset_(offset) {
  SEXTANT_CHECK(offset >= 0, "IDSelectorShifted: offset must be >= 0, got ", offset);
}

IDRange IDSelectorShifted::bounds() const {
  const IDRange r = inner_->bounds();
  const idx_t min = std::numeric_limits<idx_t>::min();
  // Shifted down by offset, saturating at the smallest id.
  auto shift = [&](idx_t v) { return v < min + offset_ ? min : v - offset_; };
  return {shift(r.lo), shift(r.hi)};
}

}  // namespace sextant
