#pragma once

#include "sextant/io/sextant_format.h"

namespace sextant {

// Body writers and readers of IndexShards and IndexReplicas (sextant_codecs_shards.cpp).
void write_shards(const Index& index, SextantWriter& out);
std::unique_ptr<Index> read_shards(const IndexHeader& header, SextantReader& in);
void write_replicas(const Index& index, SextantWriter& out);
std::unique_ptr<Index> read_replicas(const IndexHeader& header, SextantReader& in);

}  // namespace sextant
