#pragma once

#include <vector>

#include "sextant/impl/InvertedLists.h"

namespace sextant {

/// Inverted lists of 4-bit PQ codes kept in the fast-scan block layout
/// (impl/FastScan.h), the store of the fast-scan IVF indexes. codes(list)
/// returns the list's blocks of 32 vectors, which the fast-scan kernels read
/// directly; entries come in and go out (add_entries, update_entry, get_code)
/// as plain codes: (M + 1) / 2 bytes of sub-codes, then aux_floats floats of
/// side data (RaBitQ's correction factors), the code size the InvertedLists
/// contract reports. In a block the side data follow the sub-codes float by
/// float, the 32 entries' values of one together (aux(block)), so that a
/// scorer loads them as vectors. shrink drops a list's last entries (removal
/// first moves the survivors with update_entry, as for every InvertedLists).
class BlockInvertedLists final : public InvertedLists {
 public:
  /// nlist empty lists of codes with M 4-bit sub-codes and aux_floats floats each.
  BlockInvertedLists(size_t nlist, size_t M, size_t aux_floats = 0);
  /// Sub-quantizers per code.
  size_t M() const { return M_; }
  size_t aux_floats() const { return aux_floats_; }
  /// Bytes from one block to the next.
  size_t block_stride() const { return stride_; }
  /// The side data of a block: float f of entry v at aux(block)[f * 32 + v].
  const float* aux(const uint8_t* block) const;

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
  uint8_t* block_of(size_t list, size_t offset) { return blocks_[list].data() + offset / 32 * stride_; }
  void set_entry(size_t list, size_t offset, const uint8_t* code);

  size_t M_, aux_floats_, stride_;
  std::vector<LargeVector<uint8_t>> blocks_;  // per list: nblocks(size) * stride bytes
  std::vector<std::vector<idx_t>> ids_;       // per list: one id per entry, in entry order
};

}  // namespace sextant
