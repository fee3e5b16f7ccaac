// libFuzzer target: safetensors files from bytes (the 8-byte header length,
// the JSON header, the tensor table). A blob must either parse or raise
// sextant::Error; every tensor it lists must lie inside the blob, match its
// shape and dtype, and (for the float dtypes) convert to float32.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sextant/base/Error.h"
#include "sextant/embed/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant::embed;
  // A copy of exactly `size` bytes: reads past the blob are then caught by ASan.
  const std::vector<uint8_t> blob(data, data + size);
  std::map<std::string, TensorView> tensors;
  try {
    tensors = parse_safetensors(blob.data(), blob.size(), "fuzz input");
  } catch (const sextant::Error&) {
    return 0;
  }
  for (const auto& [name, view] : tensors) {
    if (view.name != name || view.nbytes != view.numel() * dtype_size(view.dtype)) __builtin_trap();
    if (view.nbytes > 0 && (view.data < blob.data() + 8 || view.data + view.nbytes > blob.data() + blob.size()))
      __builtin_trap();
    if (is_float_dtype(view.dtype)) {
      std::vector<float> values(view.numel());
      convert_to_float(view.dtype, view.data, values.size(), values.data());
    } else {
      try {
        float unused;
        convert_to_float(view.dtype, view.data, 0, &unused);
        __builtin_trap();  // only the float dtypes convert
      } catch (const sextant::Error&) {
      }
    }
  }
  return 0;
}
