#include "sextant/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace sextant {

namespace {

constexpr size_t kWriteBuffer = size_t{1} << 20;

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// `path` + ".tmp.XXXXXX" (a mkstemp template) in the same directory, the
// file name cut short when it would pass the file-name limit (NAME_MAX): a
// valid target name of 245 to 255 bytes still gets a temporary file.
std::string temporary_template(const std::string& path) {
  static const std::string kSuffix = ".tmp.XXXXXX";
  const size_t slash = path.find_last_of('/');
  const size_t name_at = slash == std::string::npos ? 0 : slash + 1;
  long name_max = ::pathconf(directory_of(path).c_str(), _PC_NAME_MAX);
  if (name_max <= 0) name_max = NAME_MAX;
  const size_t keep = std::min(path.size() - name_at, size_t(name_max) - kSuffix.size());
  return path.substr(0, name_at + keep) + kSuffix;
}

// write() until done, retrying on EINTR; returns 0 or an errno.
int write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return 0;
}

}  // namespace

// ---------------------------------------------------------------- AtomicFileSink

AtomicFileSink::AtomicFileSink(std::string path)
    : path_(std::move(path)) {
  SEXTANT_CHECK(!path_.empty(), "write_index: the path is empty");
  std::string pattern = temporary_template(path_);
  fd_ = ::mkstemp(pattern.data());
  if (fd_ < 0) throw_file_error("cannot create a temporary file next to", path_, errno);
  temp_path_ = pattern;
  ::fchmod(fd_, 0644);  // mkstemp makes 0600; index files are ordinary files
  buffer_.reserve(kWriteBuffer);
}

AtomicFileSink::~AtomicFileSink() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFileSink::fail(const std::string& action, int error_number) {
  ::close(fd_);
  ::unlink(temp_path_.c_str());
  fd_ = -1;
  throw_file_error(action, path_, error_number);
}

void AtomicFileSink::put(const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  if (size >= kWriteBuffer) {
    flush_buffer();
    if (const int e = write_all(fd_, p, size)) fail("cannot write index file", e);
    return;
  }
  if (buffer_.size() + size > kWriteBuffer) flush_buffer();
  buffer_.insert(buffer_.end(), p, p + size);
}

void AtomicFileSink::flush_buffer() {
  if (buffer_.empty()) return;
  if (const int e = write_all(fd_, buffer_.data(), buffer_.size())) fail("cannot write index file", e);
  buffer_.clear();
}

void AtomicFileSink::commit() {
  SEXTANT_CHECK(fd_ >= 0, "write_index: the file was already committed or failed");
  flush_buffer();
  if (::fsync(fd_) != 0) fail("cannot flush index file", errno);
  if (::close(fd_) != 0) {
    fd_ = -1;
    const int e = errno;
    ::unlink(temp_path_.c_str());
    throw_file_error("cannot close index file", path_, e);
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    ::unlink(temp_path_.c_str());
    throw_file_error("cannot rename the temporary file onto", path_, e);
  }
  // The rename is durable once the directory is on disk too.
  const int dir = ::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace sextant
