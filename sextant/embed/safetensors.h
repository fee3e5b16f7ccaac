// Reading Hugging Face checkpoints: safetensors files (memory-mapped), sharded
// checkpoints (model.safetensors.index.json), and conversion of the stored
// dtypes to float32, including DeepSeek-V3's block-scaled FP8 weights.
//
// The safetensors layout: an 8-byte little-endian header length N, N bytes of
// JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {...}}), then the tensor bytes; offsets count from the end
// of the header. Every field is checked against the file before use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sextant/base/File.h"

namespace sextant::embed {

/// The dtypes a safetensors header may name. Only the floating-point ones
/// convert to float32; the others (position ids, masks...) are skipped over.
enum class DType { F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U64, U32, U16, U8, BOOL };

const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);

/// One tensor inside a mapped file: valid while its file is alive.
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  size_t numel() const;
};

/// Validates a whole safetensors file held in memory (`size` bytes at `data`)
/// and returns its tensors, whose data point into `data` (valid while it is);
/// `source` names the bytes in error messages.
std::map<std::string, TensorView> parse_safetensors(const uint8_t* data, size_t size, const std::string& source);

/// One .safetensors file, validated and mapped.
class SafeTensorsFile {
 public:
  explicit SafeTensorsFile(const std::string& path);

  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const TensorView* find(const std::string& name) const;
  const std::string& path() const { return file_->path(); }

 private:
  std::shared_ptr<MappedFile> file_;
  std::map<std::string, TensorView> tensors_;
};

/// A dense float32 matrix or vector converted from a checkpoint tensor.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> values;

  size_t rows() const { return shape.empty() ? 1 : static_cast<size_t>(shape[0]); }
  size_t cols() const;
  const float* data() const { return values.data(); }
};

/// Whether convert_to_float handles the dtype (F64, F32, F16, BF16, F8_E4M3).
bool is_float_dtype(DType dtype);

/// Converts `count` elements of the given dtype to float32 (throws for other dtypes).
void convert_to_float(DType dtype, const uint8_t* src, size_t count, float* dst);

/// The value of one FP8 E4M3 (the "fn" variant: no infinities, 0x7F/0xFF are NaN) byte.
float fp8_e4m3_to_float(uint8_t byte);

/// All tensors of a checkpoint directory: model.safetensors, or the shards
/// listed by model.safetensors.index.json. Names are looked up as given and
/// with each of the model's prefixes ("model.", "bert."...), so a checkpoint
/// saved from a task head or a base model loads the same way.
class Checkpoint {
 public:
  /// `dir` holds model.safetensors or model.safetensors.index.json.
  /// `fp8_block` is the block size of FP8 weight scales (DeepSeek-V3: 128x128).
  explicit Checkpoint(const std::string& dir, std::vector<std::string> prefixes = {},
                      std::array<int64_t, 2> fp8_block = {128, 128});

  bool contains(const std::string& name) const { return resolve(name) != nullptr; }
  /// The float32 tensor; FP8 weights are multiplied by their block scales
  /// (`<name>_scale_inv`). Checks the shape when `expected` is not empty.
  Tensor load(const std::string& name, const std::vector<int64_t>& expected = {}) const;
  /// Names of all tensors, as stored.
  std::vector<std::string> names() const;

 private:
  const TensorView* resolve(const std::string& name) const;

  std::string dir_;
  std::vector<std::string> prefixes_;
  std::array<int64_t, 2> fp8_block_;
  std::vector<std::unique_ptr<SafeTensorsFile>> files_;
  std::map<std::string, const TensorView*> by_name_;
};

}  // namespace sextant::embed
