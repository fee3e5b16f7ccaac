#pragma once

// Renumbering the rows of a graph's storage in place (HNSW's reordering of
// nodes for locality: impl/HNSW_order.cpp), for storages whose rows are too
// large to copy twice: flat vectors, PQ/SQ codes, neighbour lists.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sextant/impl/GraphDistance.h"

namespace sextant {

/// Reorders fixed-size rows in place so that new row j is old row
/// old_of_new[j]: each cycle of the permutation is followed once, carrying one
/// row, so renumbering a graph never holds a second copy of its rows.
/// `rows` holds old_of_new.size() rows of row_bytes bytes; old_of_new must be
/// a permutation of 0..size-1 (the caller builds it; it is not checked).
inline void permute_rows(void* rows, size_t row_bytes, const std::vector<node_t>& old_of_new) {
  uint8_t* base = static_cast<uint8_t*>(rows);
  auto row = [&](size_t i) { return base + i * row_bytes; };
  std::vector<uint8_t> done(old_of_new.size(), 0), carried(row_bytes);
  for (size_t start = 0; start < old_of_new.size(); start++) {
    if (done[start] || old_of_new[start] == start) continue;
    std::memcpy(carried.data(), row(start), row_bytes);
    size_t j = start;
    for (;;) {
      done[j] = 1;
      const size_t from = old_of_new[j];
      if (from == start) {
        std::memcpy(row(j), carried.data(), row_bytes);
        break;
      }
      std::memcpy(row(j), row(from), row_bytes);
      j = from;
    }
  }
}

}  // namespace sextant
