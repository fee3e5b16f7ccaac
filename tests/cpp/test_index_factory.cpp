#include <gtest/gtest.h>

#include <string>

#include "sextant/base/Error.h"
#include "sextant/index_factory.h"

namespace sextant {
namespace {

// Every canonical description comes back unchanged from describe().
TEST(IndexFactory, DescriptionsRoundTrip) {
  for (const char* s : {"Flat", "SQ8", "SQ6", "SQ4", "SQfp16", "SQbf16", "SQ8_uniform", "PQ8", "PQ8x4", "PQ4x12",
                        "IVF16,Flat", "IVF16,SQ8", "IVF16,SQfp16", "IVF16,PQ8", "IVF16,PQ4x6", "IDMap,Flat",
                        "IDMap2,IVF8,SQ4", "IVF16,PQ8,RFlat", "PQ8,Refine(SQ8)", "IDMap2,PQ4,Refine(IVF8,Flat)",
                        "IVF16,Flat,Refine(PQ16,RFlat)", "Shards4,IVF16,PQ8", "Replicas2,HNSW16",
                        "IDMap2,Shards2,Flat", "Shards2,IDMap,Flat", "Shards2,IVF8,PQ4,RFlat", "RaBitQ",
                        "IVF16,RaBitQ", "IVF16,RaBitQfs", "RaBitQfs", "RaBitQfs,RFlat", "RaBitQ,RFlat", "IVF16,RaBitQ,RFlat", "RR32,RaBitQ",
                        "RaBitQ4", "IVF16,RaBitQ9", "RR32,RaBitQ2,RFlat", "RaBitQfs4", "IVF16,RaBitQfs9"}) {
    for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
      auto index = index_factory(32, s, metric);
      EXPECT_EQ(describe(*index), s);
      EXPECT_EQ(index->d(), 32);
      EXPECT_EQ(index->metric(), metric);
    }
  }
}

TEST(IndexFactory, BadDescriptionsNameTheOffendingPart) {
  const std::pair<const char*, const char*> cases[] = {
      {"IVF0,Flat", "cannot parse 'IVF0' at position 0"},
      {"IVF64", "IVF<nlist>,<codec>"},
      {"IVF64,PQ7", "'PQ7' at position 6"},
      {"IVF64,XYZ", "expected Flat, SQ8"},
      {"Flat,Flat", "'Flat' at position 5"},
      {"PQ8x", "nbits a positive integer"},
      {"PQ8,Refine(Flat", "')' closing"},
      {"IVF10,,Flat", "position 6"},
      {"", "an index part"},
      {"IDMap", "an index after"},
      {"SQ9", "cannot parse 'SQ9'"},
      {"Shards0,Flat", "Shards<n> with n in [1, 4096]"},
      {"Shards", "Shards<n> with n in [1, 4096]"},
      {"Replicas99999,Flat", "Replicas<n> with n in [1, 4096]"},
      {"Shards2", "an index after 'Shards2,'"},
  };
  for (auto [description, fragment] : cases) {
    try {
      index_factory(32, description);
      ADD_FAILURE() << "no error for '" << description << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(index_factory(0, "Flat"), Error);
}

}  // namespace
}  // namespace sextant
