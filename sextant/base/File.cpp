#include "sextant/base/File.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sextant {

void throw_file_error(const std::string& what, const std::string& path, int error_number) {
  throw FileError(what + " '" + path + "': " + std::strerror(error_number), path, error_number, __FILE__, __LINE__);
}

namespace {

// A regular file opened for reading, and its size.
int open_regular_file(const std::string& path, size_t& size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw_file_error("cannot open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw_file_error("cannot stat", path, e);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw_file_error("not a regular file:", path, EINVAL);
  }
  size = static_cast<size_t>(st.st_size);
  return fd;
}

}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  const int fd = open_regular_file(path, size_);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      ::close(fd);
      throw_file_error("cannot map", path, e);
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);  // the mapping keeps the file
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

FileContents::FileContents(const std::string& path) {
  size_t expected = 0;
  const int fd = open_regular_file(path, expected);
  data_.reset(new uint8_t[std::max<size_t>(expected, 1)]);  // not zeroed: read() fills what counts
  while (size_ < expected) {  // a file shortened meanwhile ends the copy early
    const ssize_t r = ::read(fd, data_.get() + size_, expected - size_);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int e = errno;
      ::close(fd);
      throw_file_error("cannot read", path, e);
    }
    if (r == 0) break;
    size_ += static_cast<size_t>(r);
  }
  ::close(fd);
}

}  // namespace sextant
