// libFuzzer target: the index_factory parser. The first byte picks the
// dimension (1..64) and the metric; the rest is the description. A string
// must build an index or raise sextant::Error; an index that builds must
// describe itself, and its description must build the same structure.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sextant/base/Error.h"
#include "sextant/index_factory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int d = 1 + (data[0] & 63);
  const auto metric = (data[0] & 64) ? sextant::MetricType::INNER_PRODUCT : sextant::MetricType::L2;
  const std::string description(reinterpret_cast<const char*>(data + 1), size - 1);
  std::unique_ptr<sextant::Index> index;
  try {
    index = sextant::index_factory(d, description, metric);
  } catch (const sextant::Error&) {
    return 0;
  }
  const std::string described = sextant::describe(*index);
  auto again = sextant::index_factory(d, described, metric);  // must not throw
  if (sextant::describe(*again) != described || again->type_name() != index->type_name()) __builtin_trap();
  return 0;
}
