#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace sextant {

/// The exception the library throws when a caller breaks a precondition.
/// what() is written for the caller: it names the argument and the value
/// expected. where() gives the source location, for whoever debugs the library.
class Error : public std::runtime_error {
 public:
  Error(const std::string& message, const char* file, int line)
      : std::runtime_error(message), where_(std::string(file) + ":" + std::to_string(line)) {}

  const std::string& where() const noexcept { return where_; }

 private:
  std::string where_;
};

namespace detail {

template <class... Parts>
[[noreturn]] void throw_error(const char* file, int line, const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str(), file, line);
}

}  // namespace detail
}  // namespace sextant

/// Throws sextant::Error with the concatenation of the remaining arguments when
/// `cond` is false:  SEXTANT_CHECK(k > 0, "k must be > 0, got ", k);
#define SEXTANT_CHECK(cond, ...)                                            \
  do {                                                                      \
    if (!(cond)) [[unlikely]]                                               \
      ::sextant::detail::throw_error(__FILE__, __LINE__, __VA_ARGS__);      \
  } while (0)

/// Throws sextant::Error with the concatenation of the arguments; never
/// returns, so the compiler needs no value after it:
///   SEXTANT_FAIL("pooling must be one of none, mean, cls, last; got \"", name, "\"");
#define SEXTANT_FAIL(...) ::sextant::detail::throw_error(__FILE__, __LINE__, __VA_ARGS__)
