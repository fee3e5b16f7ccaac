// libFuzzer target: reading index files from bytes (sextant and Faiss formats).
// A file must either load or raise sextant::Error; anything else — a crash,
// a sanitizer report, another exception (std::bad_alloc: an allocation the
// file could not justify) — is a finding. A file that loads must also
// search, range-search, reconstruct, encode and decode (or refuse with an
// Error), take more vectors and search them (a lie may show only then), and
// round-trip through serialize/deserialize.
//
// Built three ways (fuzz/CMakeLists.txt): fuzz_read_sextant and
// fuzz_read_faiss each take one format (the other returns at once) and mutate
// it with index_file_mutator.cpp; the ctest replay reads both.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/index_factory.h"
#include "sextant/index_io.h"
#include "sextant/io/sextant_format.h"

namespace {

// Adds two vectors (with fresh ids where the index needs them) and searches again.
void grow(sextant::Index& index, const std::vector<float>& queries) {
  using namespace sextant;
  try {
    if (index.ntotal() > 100000) return;
    const idx_t ids[2] = {index.ntotal() + 1000003, index.ntotal() + 1000004};
    try {
      index.add(2, queries.data());
    } catch (const Error&) {
      index.add_with_ids(2, queries.data(), ids);
    }
    std::vector<float> distances(2 * 3);
    std::vector<idx_t> labels(2 * 3);
    index.search(2, queries.data(), 3, distances.data(), labels.data());
  } catch (const Error&) {
  }
}

void exercise(const sextant::Index& index) {
  using namespace sextant;
  if (index.is_trained() && index.ntotal() <= 100000) {
    const idx_t k = 3;
    std::vector<float> query(index.d(), 0.5f), distances(2 * k);
    std::vector<idx_t> labels(2 * k);
    query[0] = -1;
    std::vector<float> queries(query);
    queries.insert(queries.end(), query.begin(), query.end());
    try {
      index.search(2, queries.data(), k, distances.data(), labels.data());
    } catch (const Error&) {
    }
    try {
      index.range_search(2, queries.data(), 1.0f);
    } catch (const Error&) {
    }
    try {
      std::vector<float> v(index.d());
      if (index.ntotal() > 0) index.reconstruct(0, v.data());
    } catch (const Error&) {
    }
    try {
      std::vector<uint8_t> codes(2 * index.sa_code_size());
      std::vector<float> decoded(queries.size());
      index.sa_encode(2, queries.data(), codes.data());
      index.sa_decode(2, codes.data(), decoded.data());
    } catch (const Error&) {
    }
    grow(*deserialize_index(serialize_index(index)), queries);
  }
  // What loads must write and load again, to the same structure.
  const std::vector<uint8_t> bytes = serialize_index(index);
  std::unique_ptr<Index> again = deserialize_index(bytes);
  if (again->ntotal() != index.ntotal() || again->d() != index.d() || again->type_name() != index.type_name())
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#if defined(SEXTANT_FUZZ_SEXTANT_FILES)
  if (!sextant::is_sextant_file(data, size)) return 0;
#elif defined(SEXTANT_FUZZ_FAISS_FILES)
  if (sextant::is_sextant_file(data, size)) return 0;
#endif
  std::unique_ptr<sextant::Index> index;
  try {
    index = sextant::deserialize_index(data, size);
  } catch (const sextant::Error&) {
    return 0;  // a clear error is the expected outcome for most inputs
  }
  exercise(*index);
  return 0;
}
