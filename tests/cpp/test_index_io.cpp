// Index files: round trips of every index type (bytes, file, memory map),
// read-only mapped indexes, and hostile files (truncated, bit-flipped,
// crafted with a valid checksum).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "reference.h"
#include "sextant/IndexFlat.h"
#include "sextant/IndexIDMap.h"
#include "sextant/IndexIVFPQ.h"
#include "sextant/base/Storage.h"
#include "sextant/index_factory.h"
#include "sextant/index_io.h"
#include "sextant/io/checksum.h"
#include "sextant/io/sextant_format.h"

namespace sextant {
namespace {

constexpr int kD = 8;

const char* kDescriptions[] = {"Flat",        "SQ8",           "SQ4",        "SQfp16",          "PQ4",
                               "PQ2x4",       "IVF8,Flat",     "IVF8,SQ8",   "IVF8,SQ6",        "IVF8,PQ4",
                               "IVF8,PQ2x6",  "IDMap,Flat",    "IDMap2,SQ8", "IDMap2,IVF8,Flat", "PQ4,RFlat",
                               "IVF8,PQ4,Refine(SQ8)", "PQ4x4fs", "IVF8,PQ4x4fs", "IVF8,PQ4x4fsr",
                               "PCA4,Flat", "PCAWR4,IVF8,SQ8", "OPQ2_4,PQ2", "RR8,Flat", "L2norm,IVF8,Flat",
                               "Shards3,Flat", "Shards2,IVF8,PQ4", "Replicas2,SQ8", "IDMap,Shards2,Flat",
                               "RaBitQ", "IVF8,RaBitQ", "IVF8,RaBitQfs", "RaBitQfs", "RaBitQ,RFlat",
                               "RaBitQ4", "IVF8,RaBitQ3", "RaBitQfs2", "IVF8,RaBitQfs3"};

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("sextant_io_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::unique_ptr<Index> build(const std::string& description, MetricType metric, size_t n = 500) {
  auto index = index_factory(kD, description, metric);
  const auto x = test::random_vectors(600, kD, 7);
  index->train(600, x.data());
  if (description.rfind("IDMap", 0) == 0) {
    std::vector<idx_t> ids(n);
    for (size_t i = 0; i < n; i++) ids[i] = idx_t(1000 + 3 * i);
    index->add_with_ids(n, x.data(), ids.data());
  } else {
    index->add(n, x.data());
  }
  return index;
}

struct Results {
  std::vector<float> distances;
  std::vector<idx_t> labels;
};

Results search(const Index& index) {
  const auto q = test::random_vectors(20, kD, 11);
  Results r{std::vector<float>(20 * 5), std::vector<idx_t>(20 * 5)};
  index.search(20, q.data(), 5, r.distances.data(), r.labels.data());
  return r;
}

void expect_same(const Index& a, const Index& b) {
  EXPECT_EQ(a.type_name(), b.type_name());
  EXPECT_EQ(describe(a), describe(b));
  EXPECT_EQ(a.ntotal(), b.ntotal());
  EXPECT_EQ(a.is_trained(), b.is_trained());
  const Results ra = search(a), rb = search(b);
  EXPECT_EQ(ra.labels, rb.labels);
  EXPECT_EQ(ra.distances, rb.distances);
}

TEST(IndexIO, StorageHandsOverItsArrayOrACopy) {
  // An index that must own its array takes a read one without a second copy
  // when the reader made it, and copies it out of a borrowed mapping.
  LargeVector<float> values = {1.f, 2.f, 3.f};
  const float* at = values.data();
  Storage<float> owned(std::move(values));
  LargeVector<float> taken = std::move(owned).take();
  EXPECT_EQ(taken.data(), at);
  auto keepalive = std::make_shared<LargeVector<float>>(LargeVector<float>{4.f, 5.f});
  Storage<float> borrowed = Storage<float>::borrowed(keepalive->data(), 2, keepalive);
  LargeVector<float> copy = std::move(borrowed).take();
  EXPECT_NE(copy.data(), keepalive->data());
  EXPECT_EQ(copy, *keepalive);
}

TEST(IndexIO, Xxh64KnownValues) {
  EXPECT_EQ(Xxh64::of("", 0), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(Xxh64::of("abc", 3), 0x44BC2CF5AD770999ULL);
  // Pieces give the same hash as one buffer.
  std::string s(1000, 'x');
  for (size_t i = 0; i < s.size(); i++) s[i] = char(i * 7);
  Xxh64 h;
  for (size_t i = 0; i < s.size(); i += 13) h.update(s.data() + i, std::min<size_t>(13, s.size() - i));
  EXPECT_EQ(h.digest(), Xxh64::of(s.data(), s.size()));
}

TEST(IndexIO, EveryIndexRoundTripsThroughBytesFilesAndMaps) {
  const std::string path = temp_path("roundtrip.sxt");
  for (const char* description : kDescriptions) {
    for (MetricType metric : {MetricType::L2, MetricType::INNER_PRODUCT}) {
      SCOPED_TRACE(std::string(description) + " " + metric_name(metric));
      auto index = build(description, metric);
      expect_same(*index, *deserialize_index(serialize_index(*index)));
      write_index(*index, path);
      expect_same(*index, *read_index(path));
      expect_same(*index, *read_index(path, IOFlags{.mmap = true}));
    }
  }
  std::filesystem::remove(path);
}

TEST(IndexIO, UntrainedAndEmptyIndexesRoundTrip) {
  for (const char* description : kDescriptions) {
    auto index = index_factory(kD, description);
    auto again = deserialize_index(serialize_index(*index));
    EXPECT_EQ(again->is_trained(), index->is_trained()) << description;
    EXPECT_EQ(describe(*again), description);
  }
}

TEST(IndexIO, IvfKeepsItsDefaultsDirectMapAndNextId) {
  auto index = build("IVF8,PQ4", MetricType::L2);
  auto& ivf = static_cast<IndexIVFPQ&>(*index);
  ivf.set_nprobe(3);
  ivf.set_max_codes(77);
  ivf.make_direct_map(DirectMapType::array);
  auto again = deserialize_index(serialize_index(*index));
  auto& loaded = static_cast<IndexIVFPQ&>(*again);
  EXPECT_EQ(loaded.nprobe(), 3);
  EXPECT_EQ(loaded.max_codes(), 77);
  EXPECT_EQ(loaded.direct_map_type(), DirectMapType::array);
  EXPECT_EQ(loaded.uses_precomputed_table(), ivf.uses_precomputed_table());
  EXPECT_EQ(loaded.precomputed_table(), ivf.precomputed_table());
  std::vector<float> a(kD), b(kD);
  index->reconstruct(42, a.data());
  again->reconstruct(42, b.data());
  EXPECT_EQ(a, b);
  // add() numbers on from where the saved index stopped.
  const auto x = test::random_vectors(1, kD, 99);
  again->add(1, x.data());
  again->reconstruct(500, b.data());
}

TEST(IndexIO, MappedIndexesAreReadOnlyAndOutliveTheirFile) {
  const std::string path = temp_path("mapped.sxt");
  const auto x = test::random_vectors(1, kD, 3);
  for (const char* description : {"Flat", "SQ8", "PQ4", "IVF8,Flat", "IVF8,SQ8", "IDMap,Flat"}) {
    SCOPED_TRACE(description);
    auto index = build(description, MetricType::L2);
    write_index(*index, path);
    auto mapped = read_index(path, IOFlags{.mmap = true});
    std::filesystem::remove(path);  // the mapping keeps the data
    expect_same(*index, *mapped);
    try {
      if (std::string(description).rfind("IDMap", 0) == 0) {
        const idx_t id = 1;
        mapped->add_with_ids(1, x.data(), &id);
      } else {
        mapped->add(1, x.data());
      }
      ADD_FAILURE() << "add succeeded on a memory-mapped index";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("read-only"), std::string::npos) << e.what();
    }
    EXPECT_THROW(mapped->reset(), Error);
    // A copy read without mmap is modifiable.
    write_index(*mapped, path);
    auto copy = read_index(path);
    if (std::string(description).rfind("IDMap", 0) != 0) copy->add(1, x.data());
  }
  std::filesystem::remove(path);
}

TEST(IndexIO, TruncatedFilesAreRefusedAtEveryLength) {
  const auto bytes = serialize_index(*build("IDMap2,IVF8,SQ8", MetricType::L2, 20));
  for (size_t n = 0; n < bytes.size(); n++) {
    EXPECT_THROW(deserialize_index(bytes.data(), n), Error) << "length " << n;
  }
}

TEST(IndexIO, FlippedBitsAreRefused) {
  const auto bytes = serialize_index(*build("IVF8,PQ4,Refine(SQ8)", MetricType::L2, 50));
  std::mt19937 rng(5);
  for (int trial = 0; trial < 300; trial++) {
    auto copy = bytes;
    const size_t bit = rng() % (copy.size() * 8);
    copy[bit / 8] ^= uint8_t(1u << (bit % 8));
    EXPECT_THROW(deserialize_index(copy), Error) << "bit " << bit;
  }
}

// Rewrites the checksum after a change, as a crafted file would.
void reseal(std::vector<uint8_t>& bytes) {
  const uint64_t h = Xxh64::of(bytes.data(), bytes.size() - kSextantTrailerSize);
  std::memcpy(bytes.data() + bytes.size() - kSextantTrailerSize, &h, 8);
}

void expect_refused(std::vector<uint8_t> bytes, size_t offset, const void* value, size_t size, const char* fragment) {
  std::memcpy(bytes.data() + offset, value, size);
  reseal(bytes);
  try {
    deserialize_index(bytes);
    ADD_FAILURE() << "accepted a crafted file (" << fragment << ")";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(IndexIO, CraftedFieldsAreRefusedWithoutAllocating) {
  // Root object layout: tag@64, version@68, d@72, metric@76, trained@77, ntotal@78, then the body.
  const auto flat = serialize_index(*build("Flat", MetricType::L2, 10));
  const int64_t huge = int64_t(1) << 60;
  const int32_t zero_d = 0, huge_d = 1 << 30;
  const uint8_t bad_metric = 7;
  expect_refused(flat, 72, &zero_d, 4, "d must be in");
  expect_refused(flat, 72, &huge_d, 4, "d must be in");
  expect_refused(flat, 76, &bad_metric, 1, "metric");
  expect_refused(flat, 78, &huge, 8, "ntotal=");
  expect_refused(flat, 86, &huge, 8, "claims");  // the count of the vectors array
  expect_refused(flat, 64, "ZZZZ", 4, "unknown index type tag 'ZZZZ'");

  const auto ivf = serialize_index(*build("IVF8,Flat", MetricType::L2, 10));
  expect_refused(ivf, 86, &huge, 8, "nlist");  // nlist, the first field of the IVF body

  // Shards: u8 successive ids@86, i64 next id@87, u64 shard count@95, then each shard's i64 id offset
  // (the first @103) and object. Offsets must start at 0 and fit; a shard count must fit the file.
  const auto shards = serialize_index(*build("Shards2,Flat", MetricType::L2, 10));
  const uint8_t two = 2;
  const int64_t minus_one = -1, one = 1, past_ids = (int64_t(1) << 62) + 1;
  expect_refused(shards, 86, &two, 1, "successive_ids must be 0 or 1");
  expect_refused(shards, 87, &minus_one, 8, "next id -1 is out of range");
  expect_refused(shards, 95, &huge, 8, "number of shards");
  expect_refused(shards, 103, &one, 8, "the first shard's id offset is not 0");
  expect_refused(shards, 103, &past_ids, 8, "out of range");
  const auto replicas = serialize_index(*build("Replicas2,Flat", MetricType::L2, 10));
  expect_refused(replicas, 86, &huge, 8, "number of replicas");
}

TEST(IndexIO, NestingIsLimited) {
  std::shared_ptr<Index> index = std::make_shared<IndexFlat>(kD);
  for (int i = 0; i < kMaxNesting; i++) index = std::make_shared<IndexIDMap>(index);
  try {
    deserialize_index(serialize_index(*index));
    ADD_FAILURE() << "accepted indexes nested too deep";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nested more than"), std::string::npos) << e.what();
  }
}

TEST(IndexIO, NotAnIndexFile) {
  const std::string text = "hello, world: not an index";
  EXPECT_THROW(deserialize_index(reinterpret_cast<const uint8_t*>(text.data()), text.size()), Error);
  EXPECT_THROW(deserialize_index(nullptr, 0), Error);
}

TEST(IndexIO, FileErrorsNameThePath) {
  const std::string missing = temp_path("does_not_exist.sxt");
  try {
    read_index(missing);
    ADD_FAILURE();
  } catch (const FileError& e) {
    EXPECT_EQ(e.path(), missing);
    EXPECT_EQ(e.error_number(), ENOENT);
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos);
  }
  IndexFlat index(kD);
  EXPECT_THROW(write_index(index, "/nonexistent-directory/x.sxt"), FileError);
  EXPECT_THROW(read_index("/"), FileError);  // a directory
}

TEST(IndexIO, WriteReplacesAtomicallyAndLeavesNoTemporaryFile) {
  const std::string dir = temp_path("atomic_dir");
  std::filesystem::create_directory(dir);
  const std::string path = dir + "/index.sxt";
  write_index(*build("Flat", MetricType::L2, 10), path);
  write_index(*build("SQ8", MetricType::L2, 20), path);
  EXPECT_EQ(read_index(path)->type_name(), "IndexScalarQuantizer");
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) files++;
  EXPECT_EQ(files, 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sextant
