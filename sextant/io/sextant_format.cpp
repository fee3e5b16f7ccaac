// Framing of sextant index files (header, checksum, trailer) and the object
// layer shared by every codec. The codecs themselves are in sextant_codecs.cpp.
#include "sextant/io/sextant_format.h"

#include <cmath>
#include <cstring>

#include "sextant/io/checksum.h"

namespace sextant {

namespace {

const IndexCodec* codec_for_tag(uint32_t tag) {
  for (const IndexCodec& c : sextant_codecs())
    if (c.tag == tag) return &c;
  return nullptr;
}

const IndexCodec* codec_for_type(const std::string& type_name) {
  for (const IndexCodec& c : sextant_codecs())
    if (type_name == c.type_name) return &c;
  return nullptr;
}

}  // namespace

std::string fourcc_text(uint32_t tag) {
  std::string s(4, '?');
  for (int i = 0; i < 4; i++) {
    const char c = char((tag >> (8 * i)) & 0xff);
    if (c >= 0x20 && c < 0x7f) s[i] = c;
  }
  return s;
}

// ---------------------------------------------------------------- writer

void SextantWriter::array_header(uint64_t count, uint32_t elem_size) {
  u64(count);
  u32(elem_size);
  u32(0);
  sink_.align(kArrayAlignment);
}

void SextantWriter::index(const Index& index) {
  const IndexCodec* codec = codec_for_type(index.type_name());
  SEXTANT_CHECK(codec != nullptr, "write_index: ", index.type_name(),
                " cannot be written to a sextant file yet (no codec is registered for it in "
                "sextant/io/sextant_codecs.cpp)");
  u32(codec->tag);
  u32(codec->version ? codec->version(index) : 1);
  i32(index.d());
  u8(static_cast<uint8_t>(index.metric()));
  u8(index.is_trained() ? 1 : 0);
  i64(index.ntotal());
  codec->write(index, *this);
}

void write_sextant_file(const Index& index, ByteSink& sink) {
  uint8_t header[kSextantHeaderSize] = {};
  std::memcpy(header, kSextantMagic, sizeof(kSextantMagic));
  const uint32_t version = kSextantFormatVersion, header_size = kSextantHeaderSize;
  std::memcpy(header + 8, &version, 4);
  std::memcpy(header + 12, &header_size, 4);
  sink.write(header, sizeof(header));
  SextantWriter(sink).index(index);
  const uint64_t checksum = sink.hash();
  sink.scalar(checksum);
  sink.write(kSextantEndMagic, sizeof(kSextantEndMagic));
}

// ---------------------------------------------------------------- reader

bool SextantReader::boolean(const char* what) {
  const uint8_t v = u8(what);
  in_.check(v <= 1, what, " must be 0 or 1, got ", int(v));
  return v == 1;
}

uint64_t SextantReader::array_header(size_t elem_size, const char* what) {
  const uint64_t count = u64(what);
  const uint32_t stored_size = u32(what);
  in_.check(stored_size == elem_size, what, " has elements of ", stored_size, " bytes, expected ", elem_size);
  in_.check(u32(what) == 0, what, ": reserved field is not zero");
  in_.align(kArrayAlignment, what);
  in_.checked_bytes(count, elem_size, what);
  return count;
}

std::unique_ptr<Index> SextantReader::index(const char* what) {
  in_.check(depth_ < kMaxNesting, what, ": indexes nested more than ", kMaxNesting, " deep");
  const uint32_t tag = u32(what);
  const IndexCodec* codec = codec_for_tag(tag);
  in_.check(codec != nullptr, what, ": unknown index type tag '", fourcc_text(tag),
            "' (written by a newer sextant, or corrupt)");
  IndexHeader h;
  h.version = u32("object version");
  in_.check(h.version >= 1 && h.version <= codec->max_version, what, " (", codec->type_name, "): object version ",
            h.version, " is not supported by this build (it reads versions 1 to ", codec->max_version, ")");
  h.d = i32("d");
  in_.check(h.d >= 1 && h.d <= kMaxFileDimension, codec->type_name, ": d must be in [1, ", kMaxFileDimension,
            "], got ", h.d);
  const uint8_t metric = u8("metric");
  in_.check(metric <= 1, codec->type_name, ": metric must be 0 (inner product) or 1 (L2), got ", int(metric));
  h.metric = static_cast<MetricType>(metric);
  h.is_trained = boolean("is_trained");
  h.ntotal = i64("ntotal");
  in_.check(h.ntotal >= 0, codec->type_name, ": ntotal must be >= 0, got ", h.ntotal);
  in_.check(h.is_trained || h.ntotal == 0, codec->type_name, " holds ", h.ntotal, " vectors but is not trained");

  depth_++;
  std::unique_ptr<Index> index = codec->read(h, *this);
  depth_--;
  in_.check(index->d() == h.d && index->metric() == h.metric && index->ntotal() == h.ntotal &&
                index->is_trained() == h.is_trained,
            codec->type_name, ": the header says d=", h.d, ", ", metric_name(h.metric), ", ntotal=", h.ntotal,
            ", trained=", h.is_trained, " but the stored data make d=", index->d(), ", ",
            metric_name(index->metric()), ", ntotal=", index->ntotal(), ", trained=", index->is_trained());
  return index;
}

bool is_sextant_file(const uint8_t* data, size_t size) {
  return size >= sizeof(kSextantMagic) && std::memcmp(data, kSextantMagic, sizeof(kSextantMagic)) == 0;
}

std::unique_ptr<Index> read_sextant_file(ByteReader& whole) {
  const uint8_t* data = whole.data();
  const size_t size = whole.size();
  whole.check(is_sextant_file(data, size), "not a sextant index file (bad magic)");
  whole.check(size >= kSextantHeaderSize + kSextantTrailerSize, "truncated: ", size,
              " bytes is too short for a sextant index file");
  uint32_t version, header_size;
  std::memcpy(&version, data + 8, 4);
  std::memcpy(&header_size, data + 12, 4);
  whole.check(version == kSextantFormatVersion, "format version ", version,
              " is not supported by this build of sextant (it reads version ", kSextantFormatVersion,
              "); a newer sextant wrote it?");
  whole.check(header_size == kSextantHeaderSize, "header size ", header_size, ", expected ", kSextantHeaderSize);
  whole.check(std::memcmp(data + size - sizeof(kSextantEndMagic), kSextantEndMagic, sizeof(kSextantEndMagic)) == 0,
              "truncated or corrupt: the end marker is missing (an interrupted write?)");
  uint64_t stored;
  std::memcpy(&stored, data + size - kSextantTrailerSize, 8);
  const uint64_t computed = Xxh64::of(data, size - kSextantTrailerSize);
  whole.check(stored == computed, "checksum mismatch: the file is corrupt (stored XXH64 ", stored, ", computed ",
              computed, ")");

  ByteReader body = whole.prefix(size - kSextantTrailerSize);
  body.take(kSextantHeaderSize, "header");
  SextantReader reader(body);
  std::unique_ptr<Index> index = reader.index("root index");
  body.check(body.remaining() == 0, body.remaining(), " unexpected bytes after the root index");
  return index;
}

}  // namespace sextant
