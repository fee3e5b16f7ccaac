#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sextant/MetricType.h"
#include "sextant/base/HugePageAllocator.h"

namespace sextant {

/// The storage of an IVF index: nlist lists of (id, code) entries, codes of
/// code_size bytes. Scanning only reads through codes() and ids(), so a
/// read-only store (say, served from a memory-mapped file) implements the
/// readers and rejects the writers.
class InvertedLists {
 public:
  InvertedLists(size_t nlist, size_t code_size);
  virtual ~InvertedLists() = default;

  size_t nlist() const { return nlist_; }
  size_t code_size() const { return code_size_; }
  virtual bool is_read_only() const { return false; }

  virtual size_t list_size(size_t list) const = 0;
  /// The codes of a list: list_size(list) codes one after the other, unless
  /// the store documents another layout (BlockInvertedLists).
  virtual const uint8_t* codes(size_t list) const = 0;
  /// Whether codes() holds the plain layout.
  virtual bool plain_layout() const { return true; }
  /// Copies code `offset` of a list, in the plain layout, to out (code_size bytes).
  virtual void get_code(size_t list, size_t offset, uint8_t* out) const;
  virtual const idx_t* ids(size_t list) const = 0;

  /// Appends n entries to a list; returns the offset of the first.
  virtual size_t add_entries(size_t list, size_t n, const idx_t* ids, const uint8_t* codes) = 0;
  /// Keeps entries [0, size) of a list (size <= list_size).
  virtual void shrink(size_t list, size_t size) = 0;
  /// Overwrites entry `offset` of a list.
  virtual void update_entry(size_t list, size_t offset, idx_t id, const uint8_t* code) = 0;
  virtual void reset() = 0;

  /// Number of entries over all lists.
  size_t total_size() const;
  /// Smallest and largest list, and the imbalance factor: nlist * sum(size^2) / total^2 (1 = perfectly even).
  double imbalance_factor() const;

 protected:
  void check_list(size_t list) const;

 private:
  size_t nlist_, code_size_;
};

/// Lists kept in memory, each in its own growable arrays.
class ArrayInvertedLists final : public InvertedLists {
 public:
  ArrayInvertedLists(size_t nlist, size_t code_size);

  size_t list_size(size_t list) const override { return ids_[list].size(); }
  const uint8_t* codes(size_t list) const override { return codes_[list].data(); }
  const idx_t* ids(size_t list) const override { return ids_[list].data(); }
  size_t add_entries(size_t list, size_t n, const idx_t* ids, const uint8_t* codes) override;
  void shrink(size_t list, size_t size) override;
  void update_entry(size_t list, size_t offset, idx_t id, const uint8_t* code) override;
  void reset() override;

 private:
  std::vector<LargeVector<uint8_t>> codes_;
  std::vector<std::vector<idx_t>> ids_;
};

}  // namespace sextant
