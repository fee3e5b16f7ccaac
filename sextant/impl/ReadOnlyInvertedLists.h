#pragma once

#include <memory>
#include <vector>

#include "sextant/impl/InvertedLists.h"

namespace sextant {

/// Inverted lists served from memory owned elsewhere — a memory-mapped index
/// file — kept alive by a shared handle. The lists lie one after the other:
/// list l holds entries [offsets[l], offsets[l + 1]) of one ids array and one
/// codes array. Scanning works as usual; add, remove and reset raise an error.
class ReadOnlyInvertedLists final : public InvertedLists {
 public:
  /// offsets has nlist + 1 entries, from 0 up to the number of entries;
  /// ids and codes hold offsets.back() entries each.
  ReadOnlyInvertedLists(size_t code_size, std::vector<size_t> offsets, const idx_t* ids, const uint8_t* codes,
                        std::shared_ptr<const void> keepalive);

  bool is_read_only() const override { return true; }
  size_t list_size(size_t list) const override { return offsets_[list + 1] - offsets_[list]; }
  const uint8_t* codes(size_t list) const override { return codes_ + offsets_[list] * code_size(); }
  const idx_t* ids(size_t list) const override { return ids_ + offsets_[list]; }

  size_t add_entries(size_t list, size_t n, const idx_t* ids, const uint8_t* codes) override;
  void shrink(size_t list, size_t size) override;
  void update_entry(size_t list, size_t offset, idx_t id, const uint8_t* code) override;
  void reset() override;

 private:
  [[noreturn]] void refuse(const char* operation) const;

  std::vector<size_t> offsets_;
  const idx_t* ids_;
  const uint8_t* codes_;
  std::shared_ptr<const void> keepalive_;
};

}  // namespace sextant
