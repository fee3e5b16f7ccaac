#pragma once

// Writes that replace a file atomically: a crash or a full disk leaves the
// previous file as it was.

#include <cstddef>
#include <cstdint>
#include <string>

#include "sextant/base/Error.h"
#include "sextant/base/File.h"
#include "sextant/io/bytes.h"

namespace sextant {

/// Writes a file atomically: the bytes go to a temporary file in the same
/// directory, which commit() flushes (fsync), renames over the target and
/// makes durable (fsync of the directory). Without commit() — an exception,
/// say — the temporary file is removed and the target is untouched.
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
};

}  // namespace sextant
