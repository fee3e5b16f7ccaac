#pragma once

// Files under index I/O: read-only memory maps, and writes that replace a file
// atomically (a crash or a full disk leaves the previous file as it was).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sextant/impl/io_bytes.h"
#include "sextant/utils/Error.h"

namespace sextant {

/// An operating-system failure on a named file (missing, unreadable,
/// unwritable, disk full). what() names the path and the system's reason;
/// Python raises it as OSError (FileNotFoundError, PermissionError, ...).
class FileError : public Error {
 public:
  FileError(const std::string& message, std::string path, int error_number, const char* file, int line)
      : Error(message, file, line), path_(std::move(path)), errno_(error_number) {}
  const std::string& path() const { return path_; }
  int error_number() const { return errno_; }

 private:
  std::string path_;
  int errno_;
};

/// A whole file mapped read-only. Shared by the indexes that borrow from it
/// (see Storage), so it stays mapped while any of them lives.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

/// A whole file read into memory. Unlike a mapping, a copy cannot be killed
/// by another process truncating or rewriting the file meanwhile (a mapped
/// page past the new end raises SIGBUS): the copy comes out short or torn, and
/// the parser refuses it like any damaged file.
class FileContents {
 public:
  explicit FileContents(const std::string& path);
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

/// Writes a file atomically: the bytes go to a temporary file in the same
/// directory, which commit() flushes (fsync), renames over the target and
/// makes durable (fsync of the directory). Without commit() — an exception,
/// say — the temporary file is removed and the target is untouched.
///
/// Test hook: when the environment variable SEXTANT_TEST_ABORT_WRITE_AFTER is
/// a number N, the process aborts once N bytes are written (a crash in the
/// middle of a write, for the crash-safety tests).
class AtomicFileSink final : public ByteSink {
 public:
  explicit AtomicFileSink(std::string path);
  ~AtomicFileSink() override;
  AtomicFileSink(const AtomicFileSink&) = delete;
  AtomicFileSink& operator=(const AtomicFileSink&) = delete;

  void commit();

 protected:
  void put(const void* data, size_t size) override;

 private:
  void flush_buffer();
  [[noreturn]] void fail(const std::string& action, int error_number);

  std::string path_, temp_path_;
  int fd_ = -1;
  std::vector<uint8_t> buffer_;
  uint64_t written_ = 0;
  uint64_t abort_after_ = UINT64_MAX;
};

}  // namespace sextant
