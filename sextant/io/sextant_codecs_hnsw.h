#pragma once

#include "sextant/io/sextant_format.h"

namespace sextant {

// Body writers and readers of the HNSW indexes (sextant_codecs_hnsw.cpp).
void write_hnsw_flat(const Index& index, SextantWriter& out);
std::unique_ptr<Index> read_hnsw_flat(const IndexHeader& header, SextantReader& in);
void write_hnsw_sq(const Index& index, SextantWriter& out);
std::unique_ptr<Index> read_hnsw_sq(const IndexHeader& header, SextantReader& in);
void write_hnsw_pq(const Index& index, SextantWriter& out);
std::unique_ptr<Index> read_hnsw_pq(const IndexHeader& header, SextantReader& in);

}  // namespace sextant
