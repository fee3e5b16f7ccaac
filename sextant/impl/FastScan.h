#pragma once

#include <cstdint>
#include <vector>

#include "sextant/IDSelector.h"
#include "sextant/base/HugePageAllocator.h"
#include "sextant/utils/TopK.h"
#include "sextant/utils/kernels.h"

namespace sextant {

/// 4-bit PQ fast-scan (André et al.): codes of M sub-quantizers of 16
/// centroids, laid out so that one SIMD byte shuffle looks up 32 codes at once.
///
/// Codes live in blocks of 32 vectors. Sub-quantizers go in pairs (2p, 2p+1;
/// M odd gets a zero pad); each pair takes 32 bytes of a block: byte j < 16
/// holds sub-code 2p of vector j (low nibble) and of vector j + 16 (high
/// nibble), byte 16 + j the same for sub-code 2p + 1. Look-up tables go the
/// same way: 32 bytes per pair, the 16 entries of 2p then of 2p + 1.
namespace fastscan {

constexpr size_t kBlock = 32;
/// The most sub-quantizers: sums of M 8-bit entries stay 16-bit because the
/// table step widens beyond M = 256 (fastscan_step), which leaves every
/// entry at least 3 levels up to this M.
constexpr size_t kMaxM = 16384;

inline size_t npairs(size_t M) { return (M + 1) / 2; }
inline size_t block_bytes(size_t M) { return npairs(M) * 32; }
inline size_t nblocks(size_t n) { return (n + kBlock - 1) / kBlock; }

/// Writes the plain 4-bit code (sub-code m at bits 4m) of vector i into the blocks.
void set_code(uint8_t* blocks, size_t M, size_t i, const uint8_t* code);
/// Reads the plain code of vector i back from the blocks.
void get_code(const uint8_t* blocks, size_t M, size_t i, uint8_t* code);

/// Blocks of codes that carry side floats (RaBitQ's correction factors): the
/// block_bytes(M) bytes of sub-codes, then aux_floats arrays of 32 floats,
/// float f of vector v at aux(block)[f * 32 + v] (loaded as vectors by a
/// scorer), then tail_bytes bytes a vector, vector after vector (what only a
/// few vectors' scoring reads: multi-bit RaBitQ's magnitudes). Plain codes are
/// the (M + 1) / 2 bytes of sub-codes, the aux_floats floats, then the tail.
/// With neither, the layout of set_code and get_code.
struct BlockLayout {
  size_t M = 0, aux_floats = 0, tail_bytes = 0;

  size_t stride() const { return block_bytes(M) + kBlock * (sizeof(float) * aux_floats + tail_bytes); }
  size_t code_size() const { return (M + 1) / 2 + sizeof(float) * aux_floats + tail_bytes; }
  /// The side floats of a block (aligned when the blocks' buffer is).
  const float* aux(const uint8_t* block) const { return reinterpret_cast<const float*>(block + block_bytes(M)); }
  /// Where vector v's tail bytes start in its block.
  size_t tail_offset(size_t v) const { return block_bytes(M) + kBlock * sizeof(float) * aux_floats + v * tail_bytes; }
  const uint8_t* tail(const uint8_t* block, size_t v) const { return block + tail_offset(v); }
  /// Writes plain code `code` as vector i of the blocks.
  void set(uint8_t* blocks, size_t i, const uint8_t* code) const;
  /// Reads vector i of the blocks back as a plain code.
  void get(const uint8_t* blocks, size_t i, uint8_t* code) const;
};

/// The codes of a flat fast-scan index: plain codes come in and go out, the
/// blocks of `layout` stay (data(), for the scan kernels).
class BlockCodes {
 public:
  explicit BlockCodes(BlockLayout layout) : layout_(layout) {}
  const BlockLayout& layout() const { return layout_; }
  size_t size() const { return size_; }
  const uint8_t* data() const { return blocks_.data(); }
  /// Appends n plain codes of layout().code_size() bytes.
  void append(size_t n, const uint8_t* codes);
  /// Copies code i in the plain layout to out.
  void get(size_t i, uint8_t* out) const { layout_.get(blocks_.data(), i, out); }
  /// Drops the codes at the positions `drop` names, the others moved up in
  /// order; returns how many went.
  template <class Drop>
  size_t remove_if(Drop&& drop) {
    std::vector<uint8_t> code(layout_.code_size());
    size_t kept = 0;
    for (size_t i = 0; i < size_; i++) {
      if (drop(i)) continue;
      if (kept != i) {
        get(i, code.data());
        layout_.set(blocks_.data(), kept, code.data());
      }
      kept++;
    }
    const size_t removed = size_ - kept;
    resize(kept);
    return removed;
  }
  void clear() { resize(0); }

 private:
  void resize(size_t n);

  BlockLayout layout_;
  LargeVector<uint8_t> blocks_;  // nblocks(size) * stride bytes
  size_t size_ = 0;
};

/// A float look-up table (M x 16, smaller is better) quantized to 8 bits with
/// one step for all sub-quantizers, so that 16-bit sums of entries stay
/// comparable: key ~= sum * step + bias, within M * step / 2. The step is the
/// widest sub-quantizer's range over 255, widened beyond M = 256 so that no
/// sum exceeds 65535 (as Faiss scales its tables).
class QuantizedLUT {
 public:
  void build(const float* table, size_t M);
  /// Adds `offset` to every key (a term all codes of an inverted list share)
  /// without quantizing the table again; build() resets it to 0.
  void set_offset(float offset) { bias_ = table_bias_ + offset; }
  const uint8_t* bytes() const { return bytes_.data(); }
  /// The largest 16-bit sum whose key is below `bound` (0 when none is, 65535
  /// for an infinite bound): codes with larger sums cannot enter the heap.
  uint16_t threshold(float bound) const;
  float key(uint16_t sum) const { return float(sum) * step_ + bias_; }
  float step() const { return step_; }
  float bias() const { return bias_; }

 private:
  std::vector<uint8_t> bytes_;
  float step_ = 1, table_bias_ = 0, bias_ = 0;
};

/// Offers codes [begin, end) of the blocks to the heap with their quantized
/// keys; code j has id ids[j] (or j when ids is null).
void scan_blocks(const Kernels& kernels, const uint8_t* blocks, size_t begin, size_t end, size_t M,
                 const QuantizedLUT& lut, const idx_t* ids, TopKHeap& heap, const IDSelector* sel);

}  // namespace fastscan
}  // namespace sextant
