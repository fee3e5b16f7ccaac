#include "sextant/embed/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include "sextant/base/Error.h"
#include "sextant/embed/json.h"

namespace sextant::embed {

namespace fs = std::filesystem;

namespace {
struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8},   {DType::F32, "F32", 4},         {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
    {DType::I64, "I64", 8},   {DType::I32, "I32", 4},         {DType::I16, "I16", 2},
    {DType::I8, "I8", 1},     {DType::U64, "U64", 8},         {DType::U32, "U32", 4},
    {DType::U16, "U16", 2},   {DType::U8, "U8", 1},           {DType::BOOL, "BOOL", 1},
};
const DTypeInfo& info(DType dtype) {
  for (const DTypeInfo& i : kDTypes) {
    if (i.dtype == dtype) return i;
  }
  return kDTypes[0];
}
}  // namespace

const char* dtype_name(DType dtype) { return info(dtype).name; }
size_t dtype_size(DType dtype) { return info(dtype).size; }

bool is_float_dtype(DType dtype) {
  return dtype == DType::F64 || dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 ||
         dtype == DType::F8_E4M3;
}

// ---- SafeTensorsFile ---------------------------------------------------------

size_t TensorView::numel() const {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

namespace {

DType parse_dtype(const std::string& name, const std::string& tensor, const std::string& path) {
  for (const DTypeInfo& i : kDTypes) {
    if (name == i.name) return i.dtype;
  }
  SEXTANT_FAIL(path, ": tensor \"", tensor, "\" has unknown dtype \"", name, "\"");
}

// The safetensors format itself caps the header at 100 MB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

}  // namespace

std::map<std::string, TensorView> parse_safetensors(const uint8_t* data, size_t file_size, const std::string& path) {
  std::map<std::string, TensorView> tensors;
  SEXTANT_CHECK(file_size >= 8, path, " is not a safetensors file: ", file_size,
                " bytes, too short for the 8-byte header length");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; i--) header_size = (header_size << 8) | data[i];  // little-endian
  SEXTANT_CHECK(header_size <= kMaxHeaderBytes, path, ": header length ", header_size,
                " exceeds the safetensors limit of ", kMaxHeaderBytes, " bytes");
  SEXTANT_CHECK(header_size <= file_size - 8, path, ": header length ", header_size, " runs past the end of the ",
                file_size, "-byte file (truncated file?)");
  std::string_view header_text(reinterpret_cast<const char*>(data + 8), header_size);
  Json header = parse_json(header_text, path + " (safetensors header)", JsonLimits{kMaxHeaderBytes, 16});
  SEXTANT_CHECK(header.is_object(), path, ": the safetensors header must be a JSON object");

  const uint8_t* data_start = data + 8 + header_size;
  const size_t data_size = file_size - 8 - header_size;
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const auto& [name, entry] : header.as_object("the safetensors header")) {
    if (name == "__metadata__") continue;
    const std::string what = path + ": tensor \"" + name + "\"";
    SEXTANT_CHECK(entry.is_object(), what, " must be described by an object");
    TensorView view;
    view.name = name;
    view.dtype = parse_dtype(entry.at("dtype", what).as_string(what + " dtype"), name, path);
    size_t numel = 1;
    for (const Json& dim : entry.at("shape", what).as_array(what + " shape")) {
      int64_t d = dim.as_int(what + " shape");
      SEXTANT_CHECK(d >= 0, what, " has a negative dimension ", d);
      SEXTANT_CHECK(d == 0 || numel <= std::numeric_limits<size_t>::max() / static_cast<size_t>(d), what,
                    " has a shape too large to address");
      numel *= static_cast<size_t>(d);
      view.shape.push_back(d);
    }
    const auto& offsets = entry.at("data_offsets", what).as_array(what + " data_offsets");
    SEXTANT_CHECK(offsets.size() == 2, what, " data_offsets must hold [begin, end], got ", offsets.size(),
                  " numbers");
    const int64_t begin = offsets[0].as_int(what + " data_offsets"), end = offsets[1].as_int(what + " data_offsets");
    SEXTANT_CHECK(begin >= 0 && begin <= end, what, " has data_offsets [", begin, ", ", end,
                  "]: begin must be >= 0 and <= end");
    SEXTANT_CHECK(static_cast<uint64_t>(end) <= data_size, what, " has data_offsets [", begin, ", ", end,
                  "] past the end of the data (", data_size, " bytes; truncated file?)");
    const size_t elem = dtype_size(view.dtype);
    SEXTANT_CHECK(numel <= std::numeric_limits<size_t>::max() / elem, what, " has a shape too large to address");
    view.nbytes = static_cast<size_t>(end - begin);
    SEXTANT_CHECK(view.nbytes == numel * elem, what, ": ", view.nbytes, " bytes stored but its shape and dtype ",
                  dtype_name(view.dtype), " need ", numel * elem);
    view.data = data_start + begin;
    if (view.nbytes > 0) ranges.emplace_back(static_cast<size_t>(begin), static_cast<size_t>(end));
    tensors.emplace(name, std::move(view));
  }
  // Overlapping tensors mean a corrupted or crafted file.
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); i++) {
    SEXTANT_CHECK(ranges[i].first >= ranges[i - 1].second, path, ": two tensors overlap in the data section");
  }
  return tensors;
}

SafeTensorsFile::SafeTensorsFile(const std::string& path)
    : file_(std::make_shared<MappedFile>(path)), tensors_(parse_safetensors(file_->data(), file_->size(), path)) {}

const TensorView* SafeTensorsFile::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

// ---- dtype conversion ------------------------------------------------------------

float fp8_e4m3_to_float(uint8_t byte) {
  const int sign = byte >> 7, exponent = (byte >> 3) & 0xF, mantissa = byte & 0x7;
  float value;
  if (exponent == 0xF && mantissa == 0x7) {
    value = std::numeric_limits<float>::quiet_NaN();
  } else if (exponent == 0) {
    value = std::ldexp(static_cast<float>(mantissa) / 8.0f, -6);  // subnormal
  } else {
    value = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  }
  return sign ? -value : value;
}

namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {
      // Subnormal half: value = mantissa * 2^-24, exact in float.
      float v = std::ldexp(static_cast<float>(mantissa), -24);
      std::memcpy(&bits, &v, 4);
      bits |= sign;
    }
  } else if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

}  // namespace

void convert_to_float(DType dtype, const uint8_t* src, size_t count, float* dst) {
  SEXTANT_CHECK(is_float_dtype(dtype), "cannot convert dtype ", dtype_name(dtype), " to float32");
  switch (dtype) {
    case DType::F64:
      for (size_t i = 0; i < count; i++) {
        double v;
        std::memcpy(&v, src + 8 * i, 8);
        dst[i] = static_cast<float>(v);
      }
      return;
    case DType::F32:
      if (count > 0) std::memcpy(dst, src, count * 4);  // an empty tensor may come with null pointers
      return;
    case DType::F16:
      for (size_t i = 0; i < count; i++) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = half_to_float(h);
      }
      return;
    case DType::BF16:
      for (size_t i = 0; i < count; i++) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        uint32_t bits = uint32_t(h) << 16;
        std::memcpy(dst + i, &bits, 4);
      }
      return;
    case DType::F8_E4M3: {
      float table[256];
      for (int b = 0; b < 256; b++) table[b] = fp8_e4m3_to_float(static_cast<uint8_t>(b));
      for (size_t i = 0; i < count; i++) dst[i] = table[src[i]];
      return;
    }
    default:
      return;
  }
}

size_t Tensor::cols() const {
  size_t c = 1;
  for (size_t i = 1; i < shape.size(); i++) c *= static_cast<size_t>(shape[i]);
  return c;
}

// ---- Checkpoint ----------------------------------------------------------------------

namespace {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

}  // namespace

Checkpoint::Checkpoint(const std::string& dir, std::vector<std::string> prefixes, std::array<int64_t, 2> fp8_block)
    : dir_(dir), prefixes_(std::move(prefixes)), fp8_block_(fp8_block) {
  SEXTANT_CHECK(fp8_block_[0] > 0 && fp8_block_[1] > 0, "FP8 weight block size must be positive");
  const fs::path root(dir);
  const fs::path single = root / "model.safetensors", index = root / "model.safetensors.index.json";
  std::vector<std::string> shard_names;
  if (fs::exists(index)) {
    Json doc = read_json_file(index.string());
    std::set<std::string> unique;
    for (const auto& [tensor, file] : doc.at("weight_map", index.string()).as_object("weight_map")) {
      const std::string& shard = file.as_string("weight_map entry of " + tensor);
      // A shard is a file next to the index, never a path elsewhere.
      SEXTANT_CHECK(!shard.empty() && shard.find('/') == std::string::npos && shard.find('\\') == std::string::npos &&
                        shard != "." && shard != "..",
                    index.string(), ": shard name \"", shard, "\" must be a plain file name");
      unique.insert(shard);
    }
    SEXTANT_CHECK(!unique.empty(), index.string(), " lists no shards");
    shard_names.assign(unique.begin(), unique.end());
  } else {
    SEXTANT_CHECK(fs::exists(single), "no model.safetensors or model.safetensors.index.json in ", dir);
    shard_names.push_back("model.safetensors");
  }
  for (const std::string& shard : shard_names) {
    files_.push_back(std::make_unique<SafeTensorsFile>((root / shard).string()));
    for (const auto& [name, view] : files_.back()->tensors()) {
      SEXTANT_CHECK(by_name_.emplace(name, &view).second, dir, ": tensor \"", name, "\" appears in two shards");
    }
  }
}

const TensorView* Checkpoint::resolve(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it != by_name_.end()) return it->second;
  for (const std::string& prefix : prefixes_) {
    it = by_name_.find(prefix + name);
    if (it != by_name_.end()) return it->second;
  }
  return nullptr;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto& [name, view] : by_name_) out.push_back(name);
  return out;
}

Tensor Checkpoint::load(const std::string& name, const std::vector<int64_t>& expected) const {
  const TensorView* view = resolve(name);
  SEXTANT_CHECK(view != nullptr, "checkpoint ", dir_, " has no tensor \"", name, "\"");
  SEXTANT_CHECK(expected.empty() || view->shape == expected, "checkpoint ", dir_, ": tensor \"", name,
                "\" has shape ", shape_string(view->shape), ", the model config expects ", shape_string(expected));
  SEXTANT_CHECK(is_float_dtype(view->dtype), "checkpoint ", dir_, ": tensor \"", name, "\" has dtype ",
                dtype_name(view->dtype), ", which does not convert to float32 (F64, F32, F16, BF16, F8_E4M3)");
  Tensor out;
  out.shape = view->shape;
  out.values.resize(view->numel());
  convert_to_float(view->dtype, view->data, out.values.size(), out.values.data());
  if (view->dtype == DType::F8_E4M3) {
    // DeepSeek-V3: w = q * scale_inv[i / block_rows][j / block_cols].
    const TensorView* scale = resolve(name + "_scale_inv");
    SEXTANT_CHECK(scale != nullptr, "checkpoint ", dir_, ": FP8 tensor \"", name, "\" has no \"", name,
                  "_scale_inv\" block scales");
    SEXTANT_CHECK(view->shape.size() == 2, "checkpoint ", dir_, ": FP8 tensor \"", name, "\" must be 2-D");
    const int64_t rows = view->shape[0], cols = view->shape[1];
    // Rounded-up division that cannot overflow: the block size comes from config.json.
    const int64_t block_rows = rows / fp8_block_[0] + (rows % fp8_block_[0] != 0);
    const int64_t block_cols = cols / fp8_block_[1] + (cols % fp8_block_[1] != 0);
    SEXTANT_CHECK(scale->shape == std::vector<int64_t>({block_rows, block_cols}), "checkpoint ", dir_, ": \"", name,
                  "_scale_inv\" has shape ", shape_string(scale->shape), ", expected ",
                  shape_string({block_rows, block_cols}), " for ", fp8_block_[0], "x", fp8_block_[1], " blocks");
    std::vector<float> scales(scale->numel());
    convert_to_float(scale->dtype, scale->data, scales.size(), scales.data());
    for (int64_t i = 0; i < rows; i++) {
      const float* srow = &scales[static_cast<size_t>(i / fp8_block_[0] * block_cols)];
      float* row = &out.values[static_cast<size_t>(i * cols)];
      for (int64_t j = 0; j < cols; j++) row[j] *= srow[j / fp8_block_[1]];
    }
  }
  return out;
}

}  // namespace sextant::embed
