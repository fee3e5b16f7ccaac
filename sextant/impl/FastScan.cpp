#include "sextant/impl/FastScan.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace sextant::fastscan {

namespace {
// Byte of a block holding sub-code m of vector v (0 <= v < 32), and its nibble shift.
size_t byte_of(size_t m, size_t v) { return (m / 2) * 32 + (m % 2) * 16 + v % 16; }
unsigned shift_of(size_t v) { return v < 16 ? 0 : 4; }

// The rank-th smallest of n sums (1 <= rank <= n), rounded up to the end of
// its bin of a 256-bin histogram over [min, max]: a cut that keeps every sum
// the heap could keep and few others, in two passes without sorting.
uint16_t cut_at_rank(const uint16_t* sums, size_t n, size_t rank) {
  uint16_t lo = 65535, hi = 0;
  for (size_t i = 0; i < n; i++) {
    lo = std::min(lo, sums[i]);
    hi = std::max(hi, sums[i]);
  }
  unsigned shift = 0;
  while (((hi - lo) >> shift) >= 256) shift++;
  uint32_t count[256] = {};
  for (size_t i = 0; i < n; i++) count[(sums[i] - lo) >> shift]++;
  size_t bin = 0, seen = count[0];
  while (seen < rank) seen += count[++bin];
  return uint16_t(std::min<uint32_t>(hi, lo + ((uint32_t(bin) + 1) << shift) - 1));
}
}  // namespace

void set_code(uint8_t* blocks, size_t M, size_t i, const uint8_t* code) {
  uint8_t* block = blocks + (i / kBlock) * block_bytes(M);
  const size_t v = i % kBlock;
  for (size_t m = 0; m < M; m++) {
    const uint8_t c = (code[m / 2] >> ((m % 2) * 4)) & 15;
    uint8_t& byte = block[byte_of(m, v)];
    byte = uint8_t((byte & ~(15u << shift_of(v))) | (c << shift_of(v)));
  }
}

// A pair of sub-codes at a time: one byte of the plain code from two of the
// block (multi-bit RaBitQ reads a candidate's signs back this way).
void get_code(const uint8_t* blocks, size_t M, size_t i, uint8_t* code) {
  const uint8_t* block = blocks + (i / kBlock) * block_bytes(M);
  const size_t v = i % kBlock;
  const unsigned shift = shift_of(v);
  for (size_t p = 0; p < M / 2; p++) {
    const uint8_t* pair = block + byte_of(2 * p, v);
    code[p] = uint8_t(((pair[0] >> shift) & 15) | (((pair[16] >> shift) & 15) << 4));
  }
  if (M % 2) code[M / 2] = uint8_t((block[byte_of(M - 1, v)] >> shift) & 15);
}

void BlockLayout::set(uint8_t* blocks, size_t i, const uint8_t* code) const {
  uint8_t* block = blocks + i / kBlock * stride();
  const size_t v = i % kBlock;
  set_code(block, M, v, code);
  uint8_t* floats = block + block_bytes(M);
  for (size_t f = 0; f < aux_floats; f++) {
    std::memcpy(floats + (f * kBlock + v) * sizeof(float), code + (M + 1) / 2 + f * sizeof(float), sizeof(float));
  }
  std::memcpy(block + tail_offset(v), code + (M + 1) / 2 + sizeof(float) * aux_floats, tail_bytes);
}

void BlockLayout::get(const uint8_t* blocks, size_t i, uint8_t* code) const {
  const uint8_t* block = blocks + i / kBlock * stride();
  const size_t v = i % kBlock;
  get_code(block, M, v, code);
  const uint8_t* floats = block + block_bytes(M);
  for (size_t f = 0; f < aux_floats; f++) {
    std::memcpy(code + (M + 1) / 2 + f * sizeof(float), floats + (f * kBlock + v) * sizeof(float), sizeof(float));
  }
  std::memcpy(code + (M + 1) / 2 + sizeof(float) * aux_floats, tail(block, v), tail_bytes);
}

void BlockCodes::append(size_t n, const uint8_t* codes) {
  const size_t first = size_;
  resize(first + n);
  for (size_t i = 0; i < n; i++) layout_.set(blocks_.data(), first + i, codes + i * layout_.code_size());
}

void BlockCodes::resize(size_t n) {
  blocks_.resize(nblocks(n) * layout_.stride());
  size_ = n;
}

void QuantizedLUT::build(const float* table, size_t M) {
  // The kernel writes every entry; only the pad of an odd M stays, zero since allocation.
  if (bytes_.size() != block_bytes(M)) bytes_.assign(block_bytes(M), 0);
  kernels().fastscan_quantize(table, M, bytes_.data(), &step_, &table_bias_);
  bias_ = table_bias_;
}

uint16_t QuantizedLUT::threshold(float bound) const {
  if (!(bound < std::numeric_limits<float>::infinity())) return 65535;
  // A first guess by inverting key(), then settled on key() itself, which
  // never decreases with the sum: the result is the largest sum whose key is
  // below bound (0 when none is), so float rounding of the inverse, large
  // biases included, can neither drop a code the heap would keep nor let
  // through many it would not.
  const float q = (bound - bias_) / step_;
  uint32_t t = !(q > 0) ? 0 : q >= 65535.0f ? 65535 : uint32_t(q);
  while (t < 65535 && key(uint16_t(t + 1)) < bound) t++;
  while (t > 0 && !(key(uint16_t(t)) < bound)) t--;
  return uint16_t(t);
}

void scan_blocks(const Kernels& kernels, const uint8_t* blocks, size_t begin, size_t end, size_t M,
                 const QuantizedLUT& lut, const idx_t* ids, TopKHeap& heap, const IDSelector* sel) {
  constexpr size_t kChunkBlocks = 8;  // blocks filtered per refresh of the heap's bound
  uint32_t idx[kChunkBlocks * kBlock];
  uint16_t sums[kChunkBlocks * kBlock];
  const size_t np = npairs(M), last = nblocks(end);
  for (size_t b0 = begin / kBlock; b0 < last; b0 += kChunkBlocks) {
    const size_t nb = std::min(kChunkBlocks, last - b0);
    const size_t count = kernels.fastscan_collect(blocks + b0 * np * 32, nb, np, lut.bytes(),
                                                  lut.threshold(heap.admission_bound()), idx, sums);
    size_t kept = 0;  // the hits in [begin, end): not the padding of the last block
    for (size_t c = 0; c < count; c++) {
      const size_t j = b0 * kBlock + idx[c];
      if (j < begin || j >= end) continue;
      idx[kept] = idx[c];
      sums[kept++] = sums[c];
    }
    // A chunk under a loose bound (the heap still filling, or just filled) lets
    // through many more codes than the heap keeps. Only those whose key is no
    // worse than the chunk's own capacity-th best can enter: a cut there, found
    // by a histogram of the sums (4-8% faster searches than std::nth_element),
    // spares sifting the rest through the heap.
    const uint16_t cutoff = sel == nullptr && heap.capacity() > 0 && kept > 2 * heap.capacity()
                                ? cut_at_rank(sums, kept, heap.capacity())
                                : 65535;
    const float cutoff_key = lut.key(cutoff);
    for (size_t c = 0; c < kept; c++) {
      const float key = lut.key(sums[c]);
      if (key > cutoff_key) continue;  // keys never decrease with sums
      const size_t j = b0 * kBlock + idx[c];
      const idx_t id = ids ? ids[j] : idx_t(j);
      if (sel == nullptr || sel->is_member(id)) heap.push(key, id);
    }
  }
}

}  // namespace sextant::fastscan
