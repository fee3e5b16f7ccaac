#include "sextant/index_io.h"

#include <cstdio>
#include <string>

#include "sextant/io/atomic_file.h"
#include "sextant/io/faiss_format.h"
#include "sextant/io/sextant_format.h"

namespace sextant {

namespace {

std::string leading_bytes(const uint8_t* data, size_t size) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < std::min<size_t>(size, 8); i++) {
    std::snprintf(buf, sizeof(buf), "%02x", data[i]);
    if (i) s += ' ';
    s += buf;
  }
  return s.empty() ? "nothing (empty)" : s;
}

std::unique_ptr<Index> read_any(ByteReader& whole) {
  if (is_sextant_file(whole.data(), whole.size())) return read_sextant_file(whole);
  if (is_faiss_file(whole.data(), whole.size())) return read_faiss_file(whole);
  whole.fail("neither a sextant index file nor a Faiss index file that sextant reads (it starts with ",
             leading_bytes(whole.data(), whole.size()), ")");
}

void write_in(const Index& index, ByteSink& sink, FileFormat format) {
  if (format == FileFormat::faiss) {
    write_faiss_file(index, sink);
  } else {
    write_sextant_file(index, sink);
  }
}

}  // namespace

void write_index(const Index& index, const std::string& path, FileFormat format) {
  AtomicFileSink sink(path);
  write_in(index, sink, format);
  sink.commit();
}

std::vector<uint8_t> serialize_index(const Index& index, FileFormat format) {
  VectorSink sink;
  write_in(index, sink, format);
  return std::move(sink.bytes());
}

std::unique_ptr<Index> read_index(const std::string& path, IOFlags flags) {
  if (flags.mmap) {
    auto file = std::make_shared<const MappedFile>(path);
    ByteReader whole(file->data(), file->size(), "'" + path + "'", file);
    return read_any(whole);
  }
  // Read, not mapped: a file rewritten by another process meanwhile gives a
  // torn copy that the checks refuse, never a SIGBUS. The index copies what it keeps.
  const FileContents file(path);
  ByteReader whole(file.data(), file.size(), "'" + path + "'");
  return read_any(whole);
}

std::unique_ptr<Index> deserialize_index(const uint8_t* data, size_t size) {
  SEXTANT_CHECK(data != nullptr || size == 0, "deserialize_index: data is null");
  static const uint8_t kEmpty = 0;
  ByteReader whole(data ? data : &kEmpty, size, "(buffer)");
  return read_any(whole);
}

}  // namespace sextant
