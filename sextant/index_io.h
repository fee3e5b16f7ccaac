#pragma once

// Index files. sextant writes its own format (sextant/io/sextant_format.h,
// docs/index_files.md): versioned, checksummed, with large arrays aligned so
// that a memory-mapped read serves them in place. read_index also reads the
// index files Faiss writes (sextant/io/faiss_format.h lists the types).
//
// Errors: a file that is not a valid index — truncated, corrupt, crafted,
// an unsupported type — raises sextant::Error saying what is wrong and where
// (Python: ValueError). A failure of the operating system on the path —
// missing file, no permission, disk full — raises sextant::FileError, a
// subclass naming the path and the reason (Python: OSError, e.g.
// FileNotFoundError or PermissionError, with .filename set).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sextant/Index.h"
#include "sextant/base/File.h"

namespace sextant {

struct IOFlags {
  /// Map the file instead of reading it: the stored vectors, flat codes and
  /// inverted lists are served from the page cache, shared between processes
  /// and loaded lazily by the OS. The index is then read-only (add, remove
  /// and reset raise an error) and keeps the mapping alive as long as it lives.
  bool mmap = false;
};

/// The formats write_index writes; read_index recognises both.
enum class FileFormat {
  sextant,  ///< sextant's own: every index type, checksummed, laid out for mmap
  faiss,    ///< Faiss's (faiss.read_index reads it): the types read_index reads from Faiss, fast-scan excepted
};

/// Writes `index` to `path` atomically: a temporary file in the same
/// directory is written, flushed (fsync) and renamed over `path`, so a crash,
/// a full disk or an index the format cannot hold leaves any previous file
/// intact.
void write_index(const Index& index, const std::string& path, FileFormat format = FileFormat::sextant);

/// Reads a sextant or Faiss index file.
std::unique_ptr<Index> read_index(const std::string& path, IOFlags flags = {});

/// The bytes write_index would write.
std::vector<uint8_t> serialize_index(const Index& index, FileFormat format = FileFormat::sextant);

/// Reads an index from bytes in memory (sextant or Faiss format); the
/// result owns copies of everything (it does not refer to `data`).
std::unique_ptr<Index> deserialize_index(const uint8_t* data, size_t size);
inline std::unique_ptr<Index> deserialize_index(const std::vector<uint8_t>& bytes) {
  return deserialize_index(bytes.data(), bytes.size());
}

}  // namespace sextant
