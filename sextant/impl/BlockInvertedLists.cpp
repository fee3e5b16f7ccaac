#include "sextant/impl/BlockInvertedLists.h"

#include <cstring>

#include "sextant/base/Error.h"
#include "sextant/impl/FastScan.h"

namespace sextant {

BlockInvertedLists::BlockInvertedLists(size_t nlist, size_t M, size_t aux_floats)
    : InvertedLists(nlist, (M + 1) / 2 + 4 * aux_floats),
      M_(M),
      aux_floats_(aux_floats),
      stride_(fastscan::block_bytes(M) + fastscan::kBlock * 4 * aux_floats),
      blocks_(nlist),
      ids_(nlist) {}

const float* BlockInvertedLists::aux(const uint8_t* block) const {
  // Blocks start at multiples of 32 bytes of an aligned buffer: the floats are aligned.
  return reinterpret_cast<const float*>(block + fastscan::block_bytes(M_));
}

void BlockInvertedLists::get_code(size_t list, size_t offset, uint8_t* out) const {
  check_list(list);
  SEXTANT_CHECK(offset < ids_[list].size(), "entry ", offset, " of list ", list, " does not exist");
  const uint8_t* block = blocks_[list].data() + offset / fastscan::kBlock * stride_;
  const size_t v = offset % fastscan::kBlock;
  fastscan::get_code(block, M_, v, out);
  for (size_t w = 0; w < aux_floats_; w++) std::memcpy(out + (M_ + 1) / 2 + 4 * w, aux(block) + w * 32 + v, 4);
}

void BlockInvertedLists::set_entry(size_t list, size_t offset, const uint8_t* code) {
  uint8_t* block = block_of(list, offset);
  const size_t v = offset % fastscan::kBlock;
  fastscan::set_code(block, M_, v, code);
  uint8_t* words = block + fastscan::block_bytes(M_);
  for (size_t w = 0; w < aux_floats_; w++) std::memcpy(words + (w * 32 + v) * 4, code + (M_ + 1) / 2 + 4 * w, 4);
}

size_t BlockInvertedLists::add_entries(size_t list, size_t n, const idx_t* ids, const uint8_t* codes) {
  check_list(list);
  const size_t first = ids_[list].size();
  ids_[list].insert(ids_[list].end(), ids, ids + n);
  blocks_[list].resize(fastscan::nblocks(first + n) * stride_);
  for (size_t i = 0; i < n; i++) set_entry(list, first + i, codes + i * code_size());
  return first;
}

void BlockInvertedLists::shrink(size_t list, size_t size) {
  check_list(list);
  SEXTANT_CHECK(size <= ids_[list].size(), "cannot grow list ", list, " by shrinking it");
  ids_[list].resize(size);
  blocks_[list].resize(fastscan::nblocks(size) * stride_);
}

void BlockInvertedLists::update_entry(size_t list, size_t offset, idx_t id, const uint8_t* code) {
  check_list(list);
  SEXTANT_CHECK(offset < ids_[list].size(), "entry ", offset, " of list ", list, " does not exist");
  ids_[list][offset] = id;
  set_entry(list, offset, code);
}

void BlockInvertedLists::reset() {
  for (auto& b : blocks_) LargeVector<uint8_t>().swap(b);
  for (auto& i : ids_) std::vector<idx_t>().swap(i);
}

}  // namespace sextant
