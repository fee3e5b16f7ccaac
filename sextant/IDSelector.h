#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sextant/MetricType.h"

namespace sextant {

/// Half-open range of ids [lo, hi).
struct IDRange {
  idx_t lo;
  idx_t hi;
};

/// Decides which ids a search or a removal applies to. Names follow Faiss.
/// Selectors are immutable once built, so one may be shared between threads.
class IDSelector {
 public:
  virtual ~IDSelector() = default;
  virtual bool is_member(idx_t id) const = 0;
  /// A range that holds every member (possibly more): lets an index skip
  /// whole stretches of ids it knows cannot match.
  virtual IDRange bounds() const;
};

/// Ids in [lo, hi).
class IDSelectorRange final : public IDSelector {
 public:
  IDSelectorRange(idx_t lo, idx_t hi);
  bool is_member(idx_t id) const override { return id >= lo_ && id < hi_; }
  IDRange bounds() const override { return {lo_, hi_}; }
  idx_t lo() const { return lo_; }
  idx_t hi() const { return hi_; }

 private:
  idx_t lo_, hi_;
};

/// An explicit set of ids. Membership: a bit-filter rejects most non-members
/// in one load, the rest are settled by binary search in the sorted ids.
class IDSelectorBatch final : public IDSelector {
 public:
  IDSelectorBatch(size_t n, const idx_t* ids);
  bool is_member(idx_t id) const override;
  IDRange bounds() const override;
  size_t size() const { return ids_.size(); }
  /// The members, sorted.
  const std::vector<idx_t>& ids() const { return ids_; }

 private:
  std::vector<idx_t> ids_;       // sorted, unique
  std::vector<uint64_t> filter_; // bit (id mod filter bits) set for each member
};

/// Ids whose bit is set in a packed bitmap: bit i is bit (i % 8) of byte i / 8
/// (numpy's packbits with bitorder="little"). Ids at or past 8 * nbytes are not members.
class IDSelectorBitmap final : public IDSelector {
 public:
  IDSelectorBitmap(size_t nbytes, const uint8_t* bitmap);
  bool is_member(idx_t id) const override {
    return id >= 0 && static_cast<size_t>(id >> 3) < bits_.size() && ((bits_[id >> 3] >> (id & 7)) & 1);
  }
  IDRange bounds() const override { return {0, static_cast<idx_t>(bits_.size() * 8)}; }
  const std::vector<uint8_t>& bitmap() const { return bits_; }

 private:
  std::vector<uint8_t> bits_;
};

/// Ids not in `inner`.
class IDSelectorNot final : public IDSelector {
 public:
  explicit IDSelectorNot(std::shared_ptr<const IDSelector> inner);
  bool is_member(idx_t id) const override { return !inner_->is_member(id); }
  const std::shared_ptr<const IDSelector>& inner() const { return inner_; }

 private:
  std::shared_ptr<const IDSelector> inner_;
};

/// Ids in both `a` and `b`.
class IDSelectorAnd final : public IDSelector {
 public:
  IDSelectorAnd(std::shared_ptr<const IDSelector> a, std::shared_ptr<const IDSelector> b);
  bool is_member(idx_t id) const override { return a_->is_member(id) && b_->is_member(id); }
  IDRange bounds() const override;
  const std::shared_ptr<const IDSelector>& a() const { return a_; }
  const std::shared_ptr<const IDSelector>& b() const { return b_; }

 private:
  std::shared_ptr<const IDSelector> a_, b_;
};

/// Ids in `a` or `b`.
class IDSelectorOr final : public IDSelector {
 public:
  IDSelectorOr(std::shared_ptr<const IDSelector> a, std::shared_ptr<const IDSelector> b);
  bool is_member(idx_t id) const override { return a_->is_member(id) || b_->is_member(id); }
  IDRange bounds() const override;
  const std::shared_ptr<const IDSelector>& a() const { return a_; }
  const std::shared_ptr<const IDSelector>& b() const { return b_; }

 private:
  std::shared_ptr<const IDSelector> a_, b_;
};

/// Ids i for which `inner` accepts i + offset: a selector over the ids of a
/// whole collection, seen from a part of it whose ids start at `offset` (a
/// shard with successive ids).
class IDSelectorShifted final : public IDSelector {
 public:
  IDSelectorShifted(std::shared_ptr<const IDSelector> inner, idx_t offset);
  bool is_member(idx_t id) const override { return id <= kMaxShiftable - offset_ && inner_->is_member(id + offset_); }
  IDRange bounds() const override;
  const std::shared_ptr<const IDSelector>& inner() const { return inner_; }
  idx_t offset() const { return offset_; }

 private:
  static constexpr idx_t kMaxShiftable = idx_t{0x7fffffffffffffff};
  std::shared_ptr<const IDSelector> inner_;
  idx_t offset_;
};

}  // namespace sextant
