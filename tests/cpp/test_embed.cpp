// The embedding producer's building blocks: JSON, safetensors, Unicode, split
// patterns, routing. The forward passes are checked against transformers in
// tests/python/test_embed.py.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "sextant/base/Error.h"
#include "sextant/embed/deepseek_moe.h"
#include "sextant/embed/json.h"
#include "sextant/embed/rope.h"
#include "sextant/embed/safetensors.h"
#include "sextant/embed/split_patterns.h"
#include "sextant/embed/unicode.h"

namespace sextant::embed {
namespace {

void expect_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "no error, expected one containing: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(EmbedJson, ParsesValuesAndKeepsMemberOrder) {
  Json j = parse_json(R"({"b": [1, -2.5e3, true, null], "a": "x\u00e9\ud83d\ude00\n", "n": 9007199254740993})", "t");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.as_object("j")[0].first, "b");
  EXPECT_EQ(j.at("b", "j").as_array("b")[1].as_double("v"), -2500.0);
  EXPECT_EQ(j.at("a", "j").as_string("a"), "x\xC3\xA9\xF0\x9F\x98\x80\n");
  EXPECT_EQ(j.at("n", "j").as_int("n"), 9007199254740993LL);  // exact beyond 2^53
  EXPECT_EQ(j.get_int("missing", 7), 7);
}

TEST(EmbedJson, RejectsMalformedDocuments) {
  expect_error([] { parse_json("{\"a\": 1", "f"); }, "line 1");
  expect_error([] { parse_json("{\"a\": 1,}", "f"); }, "expected a string key");
  expect_error([] { parse_json("[1 2]", "f"); }, "expected ','");
  expect_error([] { parse_json("\"\\ud800\"", "f"); }, "unpaired surrogate");
  expect_error([] { parse_json("\"\\q\"", "f"); }, "unknown escape");
  expect_error([] { parse_json("01", "f"); }, "unexpected content");
  expect_error([] { parse_json("1e999", "f"); }, "out of range");
  expect_error([] { parse_json(std::string(200, '[') + std::string(200, ']'), "f"); }, "nesting deeper");
  expect_error([] { parse_json("{}", "f", JsonLimits{1, 8}); }, "more than the limit");
  expect_error([] { parse_json("{\"a\": 1.5}", "f").at("a", "f").as_int("a"); }, "a must be an integer");
  expect_error([] { parse_json("[]", "f").as_object("root"); }, "root must be an object, got an array");
}

TEST(EmbedSafetensors, DecodesFp8AndHalfFloats) {
  EXPECT_EQ(fp8_e4m3_to_float(0x38), 1.0f);
  EXPECT_EQ(fp8_e4m3_to_float(0xB8), -1.0f);
  EXPECT_EQ(fp8_e4m3_to_float(0x7E), 448.0f);           // largest finite
  EXPECT_EQ(fp8_e4m3_to_float(0x01), std::ldexp(1.0f, -9));  // smallest subnormal
  EXPECT_TRUE(std::isnan(fp8_e4m3_to_float(0x7F)));
  const uint8_t half[] = {0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C};  // 1, -2, 2^-24, inf
  float out[4];
  convert_to_float(DType::F16, half, 4, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(out[3]));
  const uint8_t bf16[] = {0x80, 0x3F, 0x40, 0xC0};  // 1, -3
  convert_to_float(DType::BF16, bf16, 2, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -3.0f);
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path.string();
}

std::string safetensors(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; i++) out[i] = char((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

TEST(EmbedSafetensors, ReadsAndValidates) {
  const std::string data("\x00\x00\x80\x3F\x00\x00\x00\x40", 8);  // 1.0f, 2.0f
  auto path = write_file("sextant_ok.safetensors",
                         safetensors(R"({"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2],)"
                                     R"( "data_offsets": [0, 8]}})",
                                     data));
  SafeTensorsFile file(path);
  ASSERT_NE(file.find("w"), nullptr);
  EXPECT_EQ(file.find("w")->numel(), 2u);
  expect_error([&] { SafeTensorsFile(write_file("sextant_bad1.safetensors", "abc")); }, "too short");
  expect_error([&] {
    SafeTensorsFile(write_file("sextant_bad2.safetensors",
                               safetensors(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", data)));
  }, "past the end of the data");
  expect_error([&] {
    SafeTensorsFile(write_file("sextant_bad3.safetensors",
                               safetensors(R"({"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 8]}})", data)));
  }, "need 4");
  expect_error([&] {
    SafeTensorsFile(write_file("sextant_bad4.safetensors",
                               safetensors(R"({"w": {"dtype": "F32", "shape": [9223372036854775807, 4],)"
                                           R"( "data_offsets": [0, 8]}})",
                                           data)));
  }, "too large");
}

TEST(EmbedUnicode, CategoriesCaseAndAccents) {
  EXPECT_TRUE(is_letter(U'é'));
  EXPECT_TRUE(is_letter(U'東'));
  EXPECT_TRUE(is_number(U'٣'));
  EXPECT_TRUE(is_punctuation(U'。'));
  EXPECT_TRUE(is_symbol(U'€'));
  EXPECT_TRUE(is_mark(U'\u0301'));
  EXPECT_TRUE(is_whitespace(U'\u3000'));
  EXPECT_FALSE(is_whitespace(U'\u200b'));
  std::u32string out;
  for (char32_t c : std::u32string(U"ÀÉÎ ΣİÅ")) append_lowercase(c, out);
  EXPECT_EQ(out, U"àéî σi\u0307å");
  out.clear();
  for (char32_t c : std::u32string(U"Ångström café e\u0301 한")) append_without_accents(c, out);
  EXPECT_EQ(out, U"Angstrom cafe e \u1112\u1161\u11AB");
  EXPECT_EQ(utf8_to_u32("a\xFF" "b"), U"a\uFFFDb");
  EXPECT_EQ(u32_to_utf8(utf8_to_u32("héllo 🙂")), "héllo 🙂");
}

std::vector<std::u32string> split_all(const MatchAt& match, const std::u32string& text) {
  std::vector<std::u32string> parts;
  for (size_t i = 0; i < text.size();) {
    const size_t len = match(text, i);
    parts.push_back(text.substr(i, len ? len : 1));
    i += len ? len : 1;
  }
  return parts;
}

TEST(EmbedSplitPatterns, Gpt2AndDeepseek) {
  using V = std::vector<std::u32string>;
  EXPECT_EQ(split_all(match_gpt2, U"Hello world's  12ab!!"),
            (V{U"Hello", U" world", U"'s", U" ", U" 12", U"ab", U"!!"}));
  const MatchAt words = compile_split_pattern(
      "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
      " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+");
  EXPECT_EQ(split_all(words, U"Hi .net  x!!\n\n  y"), (V{U"Hi", U" .", U"net", U" ", U" x", U"!!\n\n", U" ", U" y"}));
  const MatchAt digits = compile_split_pattern("\\p{N}{1,3}");
  EXPECT_EQ(split_all(digits, U"12345"), (V{U"123", U"45"}));
  const MatchAt kana = compile_split_pattern("[一-龥\\u3040-ゟ゠-ヿ]+");
  EXPECT_EQ(kana(U"東京タワーa", 0), 5u);
  expect_error([] { compile_split_pattern("(?i)abc"); }, "not supported");
}

TEST(EmbedRouting, V3BiasSelectsButDoesNotWeigh) {
  DeepseekConfig c;
  c.version = 3;
  c.n_routed_experts = 4;
  c.num_experts_per_tok = 1;
  c.n_group = 2;
  c.topk_group = 1;
  c.norm_topk_prob = false;
  c.routed_scaling_factor = 2.0;
  const float logits[] = {2.0f, 0.0f, 0.0f, 0.0f};
  const float bias[] = {0.0f, 0.0f, 0.0f, 5.0f};  // expert 3 wins the choice...
  Route r = route_token(c, logits, bias);
  ASSERT_EQ(r.experts.size(), 1u);
  EXPECT_EQ(r.experts[0], 3);
  EXPECT_NEAR(r.weights[0], 2.0f * 0.5f, 1e-6);  // ...but weighs by its unbiased sigmoid score
  c.version = 2;
  c.topk_method = "greedy";
  r = route_token(c, logits, nullptr);
  EXPECT_EQ(r.experts[0], 0);
}

TEST(EmbedRope, YarnSoftmaxScale) {
  RopeConfig c;
  c.yarn = true;
  c.factor = 40;
  c.original_max_position_embeddings = 4096;
  c.mscale = 1.0;
  c.mscale_all_dim = 1.0;
  Rope rope(c, 64, true);
  const double m = 0.1 * std::log(40.0) + 1.0;
  EXPECT_NEAR(rope.softmax_scale_factor(), m * m, 1e-12);
  float x[64];
  for (int i = 0; i < 64; i++) x[i] = 1.0f;
  rope.apply(x, 0);  // position 0: rotation by zero, attention factor 1 (mscale ratio)
  for (float v : x) EXPECT_FLOAT_EQ(v, 1.0f);
}

}  // namespace
}  // namespace sextant::embed
