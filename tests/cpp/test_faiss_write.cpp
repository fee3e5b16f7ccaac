// Faiss index files written by sextant and read back by sextant's Faiss
// reader: the same answers, bit for bit (faiss-cpu reading them is tested in
// tests/python/test_faiss_write.py). Types without a Faiss format are refused
// and leave the previous file in place.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "reference.h"
#include "same_answers.h"
#include "sextant/index_factory.h"
#include "sextant/index_io.h"

namespace sextant {
namespace {

constexpr int kD = 8;

const char* kWritable[] = {"Flat",      "SQ8",         "SQfp16",          "PQ4",           "PQ2x6",
                           "IVF8,Flat", "IVF8,SQ8",    "IVF8,PQ4",        "IVF8,PQ2x6",    "IDMap,Flat",
                           "IDMap2,SQ8", "IDMap,IVF8,Flat", "PQ4,RFlat", "IVF8,PQ4,Refine(SQ8)", "PCA4,Flat",
                           "PCAWR4,IVF8,SQ8", "OPQ2_4,PQ2", "RR8,Flat", "L2norm,IVF8,Flat", "HNSW8",
                           "HNSW8,SQ8",  "HNSW8,PQ4",   "IVF8_HNSW4,Flat", "RaBitQ", "IVF8,RaBitQ", "RaBitQ,RFlat",
                           "RaBitQ4",    "IVF8,RaBitQ3"};

std::unique_ptr<Index> build(const std::string& description, MetricType metric, size_t n) {
  auto index = index_factory(kD, description, metric);
  const auto x = test::random_vectors(n, kD, 7);
  index->train(idx_t(n), x.data());
  if (description.rfind("IDMap", 0) == 0) {
    std::vector<idx_t> ids(n);
    for (size_t i = 0; i < n; i++) ids[i] = idx_t(1000 + 3 * i);
    index->add_with_ids(idx_t(n), x.data(), ids.data());
  } else {
    index->add(idx_t(n), x.data());
  }
  return index;
}

// The same neighbours; the distances equal but for the last bits when the
// index sums its coordinates in an order of its own (HNSWFlat keeps the
// columns in an order chosen for its split storage, which a Faiss file does
// not hold: the order is chosen again on reading).
void expect_same_neighbours(const Index& a, const Index& b, const std::vector<float>& xq, size_t k) {
  const test::Results ra = test::search(a, xq, k), rb = test::search(b, xq, k);
  EXPECT_EQ(ra.labels, rb.labels);
  for (size_t i = 0; i < ra.distances.size(); i++) {
    EXPECT_NEAR(ra.distances[i], rb.distances[i], 1e-6f * std::max(1.0f, std::abs(ra.distances[i])));
  }
}

TEST(FaissWrite, EveryWritableTypeReadsBackWithTheSameAnswers) {
  const auto xq = test::random_vectors(20, kD, 11);
  for (const char* description : kWritable) {
    for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
      SCOPED_TRACE(std::string(description) + " " + metric_name(metric));
      auto index = build(description, metric, 600);
      const std::vector<uint8_t> bytes = serialize_index(*index, FileFormat::faiss);
      ASSERT_GE(bytes.size(), 4u);
      EXPECT_EQ(bytes[0], 'I');  // a Faiss type code, not sextant's magic
      auto again = deserialize_index(bytes);
      EXPECT_EQ(again->ntotal(), index->ntotal());
      EXPECT_EQ(again->metric(), index->metric());
      if (std::string(description) == "HNSW8") {
        expect_same_neighbours(*index, *again, xq, 5);
      } else {
        test::expect_same_search(*index, *again, xq, 5);
      }
    }
  }
}

TEST(FaissWrite, RenumberedGraphsAreWrittenById) {
  // 5,000 nodes: renumbered for locality inside sextant, numbered by id in the file.
  auto index = build("HNSW8", MetricType::L2, 5000);
  auto again = deserialize_index(serialize_index(*index, FileFormat::faiss));
  expect_same_neighbours(*index, *again, test::random_vectors(30, kD, 12), 10);
}

TEST(FaissWrite, UntrainedAndEmptyIndexesAreWritten) {
  for (const char* description : kWritable) {
    SCOPED_TRACE(description);
    auto index = index_factory(kD, description);
    auto again = deserialize_index(serialize_index(*index, FileFormat::faiss));
    EXPECT_EQ(again->ntotal(), 0);
    EXPECT_EQ(again->is_trained(), index->is_trained());
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(FaissWrite, FastScanIsRefusedAndTheOldFileStays) {
  const auto dir = std::filesystem::temp_directory_path() / ("sextant_faiss_write_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "index.faiss").string();
  write_index(*build("Flat", MetricType::L2, 50), path, FileFormat::faiss);
  const std::string before = read_file(path);
  for (const char* description : {"PQ4x4fs", "IVF8,PQ4x4fs", "IVF8,PQ4x4fsr,RFlat"}) {
    SCOPED_TRACE(description);
    auto index = build(description, MetricType::L2, 600);
    EXPECT_THROW(write_index(*index, path, FileFormat::faiss), Error);
    EXPECT_THROW(serialize_index(*index, FileFormat::faiss), Error);
  }
  EXPECT_EQ(read_file(path), before);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sextant
