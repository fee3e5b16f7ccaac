#pragma once

#include "sextant/io/sextant_format.h"

namespace sextant {

// Body writer and reader of IndexHNSWFlat (sextant_codecs_hnsw.cpp).
void write_hnsw_flat(const Index& index, SextantWriter& out);
std::unique_ptr<Index> read_hnsw_flat(const IndexHeader& header, SextantReader& in);

}  // namespace sextant
