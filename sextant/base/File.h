#pragma once

// Reading whole files: read-only memory maps and in-memory copies, and the
// error raised when the operating system refuses a file.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sextant/base/Error.h"

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

/// Throws FileError: "<what> '<path>': <the system's reason>".
[[noreturn]] void throw_file_error(const std::string& what, const std::string& path, int error_number);

/// A whole file mapped read-only. Shared by whatever borrows from it (see
/// Storage), so it stays mapped while any of them lives.
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

}  // namespace sextant
