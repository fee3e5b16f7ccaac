#pragma once

#include <memory>
#include <string>

#include "sextant/Index.h"

namespace sextant {

/// Builds an index from a Faiss-style description: comma-separated parts,
/// optional "IDMap," / "IDMap2," prefix, then the index, then an optional
/// re-ranking suffix. For example:
///   "Flat", "IVF1024,Flat", "IVF4096,SQ8", "IVF1024,PQ16x8", "PQ32",
///   "SQfp16", "IDMap2,Flat", "IVF1024,PQ32,RFlat", "PQ16,Refine(SQ8)",
///   "HNSW32" (= "HNSW32,Flat"), "IVF65536_HNSW32,Flat" (HNSW coarse quantizer).
/// A description that cannot be parsed raises an Error naming the offending
/// part, its position and what was expected there.
std::unique_ptr<Index> index_factory(int d, const std::string& description, MetricType metric = MetricType::L2);

/// The description index_factory builds `index` from: for every index the
/// factory can make, index_factory(d, describe(index)) has the same structure
/// and parameters.
std::string describe(const Index& index);

}  // namespace sextant
