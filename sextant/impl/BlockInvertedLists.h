#pragma once

#include <vector>

#include "sextant/impl/FastScan.h"
#include "sextant/impl/InvertedLists.h"

namespace sextant {

/// Inverted lists of 4-bit PQ codes kept in the fast-scan block layout
/// (impl/FastScan.h), the store of the fast-scan IVF indexes. codes(list)
/// returns the list's blocks of 32 vectors, which the fast-scan kernels read
/// directly; entries come in and go out (add_entries, update_entry, get_code)
/// as plain codes, with the side floats of fastscan::BlockLayout when they
/// carry some (RaBitQ's factors). shrink drops a list's last entries (removal
/// first moves the survivors with update_entry, as for every InvertedLists).
class BlockInvertedLists final : public InvertedLists {
 public:
  /// nlist empty lists of codes in `layout`.
  BlockInvertedLists(size_t nlist, fastscan::BlockLayout layout);
  const fastscan::BlockLayout& layout() const { return layout_; }

  size_t list_size(size_t list) const override { return ids_[list].size(); }
  const uint8_t* codes(size_t list) const override { return blocks_[list].data(); }
  bool plain_layout() const override { return false; }
  const idx_t* ids(size_t list) const override { return ids_[list].data(); }
  void get_code(size_t list, size_t offset, uint8_t* out) const override;
  size_t add_entries(size_t list, size_t n, const idx_t* ids, const uint8_t* codes) override;
  void shrink(size_t list, size_t size) override;
  void update_entry(size_t list, size_t offset, idx_t id, const uint8_t* code) override;
  void reset() override;

 private:
  fastscan::BlockLayout layout_;
  std::vector<LargeVector<uint8_t>> blocks_;  // per list: nblocks(size) * stride bytes
  std::vector<std::vector<idx_t>> ids_;       // per list: one id per entry, in entry order
};

}  // namespace sextant
