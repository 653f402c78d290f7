// GGUF writer: write → read reproduces every metadata value and every tensor byte, and the bytes of a
// tiny written file are checked field by field against the spec (docs/gguf.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/error.hpp"
#include "formats/gguf.hpp"
#include "support/test_support.hpp"

namespace slmtune::gguf {
namespace {

using slmtune::testing::TempDir;
using ::testing::HasSubstr;

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::pair<std::string, Value>> every_value_type() {
  return {
      {"v.u8", Value::u8(250)},
      {"v.i8", Value::i8(-7)},
      {"v.u16", Value::u16(65535)},
      {"v.i16", Value::i16(-32768)},
      {"v.u32", Value::u32(4000000000u)},
      {"v.i32", Value::i32(-123456789)},
      {"v.f32", Value::f32(-0.0f)},
      {"v.bool_true", Value::boolean(true)},
      {"v.bool_false", Value::boolean(false)},
      {"v.string", Value::string("héllo\nworld")},
      {"v.empty_string", Value::string("")},
      {"v.u64", Value::u64(std::numeric_limits<uint64_t>::max())},
      {"v.i64", Value::i64(std::numeric_limits<int64_t>::min())},
      {"v.f64", Value::f64(3.141592653589793)},
      {"v.nan", Value::f32(std::numeric_limits<float>::quiet_NaN())},
      // Signalling NaNs with a payload (the GGUF fuzzer's 0xff918ac4): kept bit for bit, not quieted.
      {"v.snan32", Value::f32(std::bit_cast<float>(0xff918ac4u))},
      {"v.snan64", Value::f64(std::bit_cast<double>(0x7ff0000000000123ull))},
      {"a.strings", Value::string_array({"a", "", "<0x0A>", "▁the"})},
      {"a.i32", Value::i32_array({1, -2, 3})},
      {"a.f32", Value::f32_array({0.5f, -1e9f})},
      {"a.empty_u8", Value::array(ValueType::UINT8, {})},
      {"a.empty_string", Value::array(ValueType::STRING, {})},
      {"a.bools", Value::array(ValueType::BOOL, {Value::boolean(true), Value::boolean(false)})},
      {"a.u64", Value::array(ValueType::UINT64, {Value::u64(1), Value::u64(1ull << 63)})},
      {"a.f64", Value::array(ValueType::FLOAT64, {Value::f64(-2.5)})},
      {"a.nested",
       Value::array(ValueType::ARRAY,
                    {Value::i32_array({1, 2}), Value::array(ValueType::INT32, {}),
                     Value::array(ValueType::ARRAY, {Value::string_array({"deep"})})})},
      {"a.array_of_empty_arrays", Value::array(ValueType::ARRAY, {Value::array(ValueType::FLOAT64, {})})},
  };
}

Tensor patterned(DType dtype, Shape shape, int seed) {
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  for (size_t i = 0; i < t.nbytes(); ++i) t.mutable_data()[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return t;
}

TEST(GgufRoundTrip, EveryValueTypeAndTensorType) {
  Writer writer;
  writer.set("general.architecture", Value::string("llama"));
  for (const auto& [key, value] : every_value_type()) writer.set(key, value);
  writer.set("general.architecture", Value::string("qwen2"));  // replaces in place, keeps the position
  const std::vector<std::pair<std::string, Tensor>> tensors{
      {"f32", patterned(DType::F32, {3, 5}, 1)},  {"f16", patterned(DType::F16, {7}, 2)},
      {"bf16", patterned(DType::BF16, {2, 2, 3}, 3)}, {"f64", patterned(DType::F64, {1}, 4)},
      {"i8", patterned(DType::I8, {9}, 5)},       {"i16", patterned(DType::I16, {4}, 6)},
      {"i32", patterned(DType::I32, {2, 1}, 7)},  {"i64", patterned(DType::I64, {3}, 8)},
      {"empty", Tensor::zeros(DType::F32, {0, 4})}, {"scalar", patterned(DType::F32, {}, 9)},
  };
  for (const auto& [name, t] : tensors) writer.add_tensor(name, t);
  std::vector<std::byte> q4k(2 * 144);
  for (size_t i = 0; i < q4k.size(); ++i) q4k[i] = static_cast<std::byte>(i & 0xff);
  writer.add_raw_tensor("q4k", {256, 2}, 12, q4k);
  std::vector<std::byte> q80(34);
  q80[0] = std::byte{0x42};
  writer.add_raw_tensor("q8_0", {32}, 8, q80);

  TempDir dir;
  writer.write(dir / "rt.gguf");
  const File file = File::open(dir / "rt.gguf");
  EXPECT_EQ(file.version(), 3u);
  const auto expected_values = every_value_type();
  ASSERT_EQ(file.metadata().size(), expected_values.size() + 1);
  EXPECT_EQ(file.metadata()[0].first, "general.architecture");
  EXPECT_EQ(file.metadata()[0].second.as_string(), "qwen2");
  for (size_t i = 0; i < expected_values.size(); ++i) {
    EXPECT_EQ(file.metadata()[i + 1].first, expected_values[i].first);
    EXPECT_TRUE(file.metadata()[i + 1].second == expected_values[i].second) << expected_values[i].first;
  }
  EXPECT_EQ(file.get("a.nested").as_array()[2].as_array()[0].as_string_array(), std::vector<std::string>{"deep"});

  ASSERT_EQ(file.tensors().size(), tensors.size() + 2);
  for (const auto& [name, t] : tensors) {
    const Tensor back = file.tensor(name);
    EXPECT_EQ(back.dtype(), t.dtype()) << name;
    EXPECT_EQ(back.shape(), t.shape()) << name;
    ASSERT_EQ(back.nbytes(), t.nbytes()) << name;
    if (t.nbytes() > 0) {
      EXPECT_EQ(std::memcmp(back.data(), t.data(), t.nbytes()), 0) << name;
    }
    EXPECT_EQ(file.find_tensor(name)->offset % 32, 0u);
  }
  // Quantized tensors: the file opens, the type is named, the raw bytes are intact.
  const TensorInfo* q = file.find_tensor("q4k");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(ggml_type_name(q->type), "Q4_K");
  EXPECT_EQ(q->shape(), (Shape{2, 256}));
  const auto q_bytes = file.tensor_bytes(*q);
  ASSERT_EQ(q_bytes.size(), q4k.size());
  EXPECT_EQ(std::memcmp(q_bytes.data(), q4k.data(), q4k.size()), 0);
  EXPECT_THAT([&] { (void)file.tensor("q4k"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("rt.gguf: tensor 'q4k' has type Q4_K, which this reader cannot convert")));
  EXPECT_EQ(static_cast<uint8_t>(file.tensor_bytes(*file.find_tensor("q8_0"))[0]), 0x42);

  const auto bytes = writer.serialize();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), read_all(dir / "rt.gguf"));
  EXPECT_EQ(bytes.size() % 32, 0u);
}

TEST(GgufRoundTrip, CustomAlignment) {
  Writer writer;
  writer.set("general.alignment", Value::u32(64));
  writer.add_tensor("a", patterned(DType::F32, {3}, 1));
  writer.add_tensor("b", patterned(DType::F16, {5}, 2));
  const auto bytes = writer.serialize();
  const File file = File::open_bytes(bytes);
  EXPECT_EQ(file.alignment(), 64u);
  EXPECT_EQ(file.data_offset() % 64, 0u);
  EXPECT_EQ(file.find_tensor("b")->offset, 64u);
  EXPECT_EQ(file.tensor("b").to_f32_vector(), patterned(DType::F16, {5}, 2).to_f32_vector());
}

TEST(GgufRoundTrip, ZeroTensorFileEndsAfterMetadata) {
  Writer writer;
  writer.set("general.architecture", Value::string("x"));
  TempDir dir;
  writer.write(dir / "vocab.gguf");
  // magic 4 + version 4 + counts 16 + key (8 + 20) + type 4 + string (8 + 1): no padding after.
  EXPECT_EQ(read_all(dir / "vocab.gguf").size(), 4u + 4 + 16 + 8 + 20 + 4 + 8 + 1);
  const File file = File::open(dir / "vocab.gguf");
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_EQ(file.get_string("general.architecture"), "x");
  // And a completely empty file: header only.
  EXPECT_EQ(Writer().serialize().size(), 24u);
  EXPECT_TRUE(File::open_bytes(Writer().serialize()).metadata().empty());
}

TEST(GgufLayout, TinyFileBytesMatchTheSpec) {
  Writer writer;
  writer.set("a", Value::u8(7));
  Tensor t = Tensor::zeros(DType::F32, {2});
  t.as_mutable<float>()[0] = 1.0f;   // 0x3f800000
  t.as_mutable<float>()[1] = -2.0f;  // 0xc0000000
  writer.add_tensor("t", t);
  const auto bytes = writer.serialize();
  const unsigned char expected_header[] = {
      'G', 'G', 'U', 'F',                      // magic
      3, 0, 0, 0,                              // version
      1, 0, 0, 0, 0, 0, 0, 0,                  // tensor_count
      1, 0, 0, 0, 0, 0, 0, 0,                  // metadata_kv_count
      1, 0, 0, 0, 0, 0, 0, 0, 'a',             // key
      0, 0, 0, 0,                              // value type UINT8
      7,                                       // value
      1, 0, 0, 0, 0, 0, 0, 0, 't',             // tensor name
      1, 0, 0, 0,                              // n_dimensions
      2, 0, 0, 0, 0, 0, 0, 0,                  // dimensions[0]
      0, 0, 0, 0,                              // ggml type F32
      0, 0, 0, 0, 0, 0, 0, 0,                  // offset
  };
  static_assert(sizeof(expected_header) == 71);
  ASSERT_EQ(bytes.size(), 96u + 32u);  // header padded to 96 (next multiple of 32), data padded to 32
  EXPECT_EQ(std::memcmp(bytes.data(), expected_header, sizeof(expected_header)), 0);
  for (size_t i = sizeof(expected_header); i < 96; ++i) EXPECT_EQ(bytes[i], std::byte{0}) << i;
  const unsigned char expected_data[] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0};
  EXPECT_EQ(std::memcmp(bytes.data() + 96, expected_data, 8), 0);
  for (size_t i = 104; i < 128; ++i) EXPECT_EQ(bytes[i], std::byte{0}) << i;
}

TEST(GgufWriter, RejectsBadInput) {
  Writer writer;
  writer.add_tensor("a", Tensor::zeros(DType::F32, {1}));
  EXPECT_THAT([&] { writer.add_tensor("a", Tensor::zeros(DType::F32, {1})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tensor 'a' added twice")));
  EXPECT_THAT([&] { writer.add_tensor("u", Tensor::zeros(DType::U8, {1})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tensor 'u' has dtype U8, which GGUF cannot store")));
  EXPECT_THAT([&] { writer.add_raw_tensor("q", {100}, 12, std::vector<std::byte>(144)); },
              ::testing::ThrowsMessage<Error>(HasSubstr("not a multiple of the block size 256")));
  EXPECT_THAT([&] { writer.add_raw_tensor("q", {256}, 12, std::vector<std::byte>(140)); },
              ::testing::ThrowsMessage<Error>(HasSubstr("needs 144 bytes, got 140")));
  writer.set("general.alignment", Value::u32(24));
  EXPECT_THAT([&] { (void)writer.serialize(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("general.alignment is 24, not a power of two")));
  EXPECT_THAT([] { (void)Value::array(ValueType::INT32, {Value::u8(1)}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("item 0 is a uint8")));
}

TEST(GgufValue, AccessorsConvertAndCheck) {
  EXPECT_EQ(Value::u32(7).as_int(), 7);
  EXPECT_EQ(Value::i8(-1).as_int(), -1);
  EXPECT_EQ(Value::u64(1ull << 63).as_uint(), 1ull << 63);
  EXPECT_DOUBLE_EQ(Value::i32(-3).as_float(), -3.0);
  EXPECT_DOUBLE_EQ(Value::f32(0.25f).as_float(), 0.25);
  EXPECT_EQ(Value::array(ValueType::UINT32, {Value::u32(5)}).as_int_array(), std::vector<int64_t>{5});
  EXPECT_EQ(Value::array(ValueType::FLOAT64, {Value::f64(0.5)}).as_float_array(), std::vector<float>{0.5f});
  EXPECT_THAT([] { (void)Value::u64(1ull << 63).as_int(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("fits int64")));
  EXPECT_THAT([] { (void)Value::i16(-5).as_uint(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected a non-negative integer, found int16 -5")));
  EXPECT_THAT([] { (void)Value::f32(1).as_int(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected an integer, found float32")));
  EXPECT_THAT([] { (void)Value::u8(1).as_string(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected string, found uint8")));
  EXPECT_THAT([] { (void)Value::string("x").as_bool(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected bool, found string")));
  EXPECT_THAT([] { (void)Value::i32_array({1}).as_string_array(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected array of string, found array of int32")));
  EXPECT_THAT([] { (void)Value::string("x").as_array(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("expected array, found string")));
  EXPECT_EQ(Value::string_array({"a", "b"}).summary(), "[array of 2 string]");
  EXPECT_EQ(Value::i8(-3).summary(), "-3");
  EXPECT_EQ(Value::string("hi").summary(), "\"hi\"");
  // Long strings are cut at a character boundary: 59 ASCII bytes, then 'é' straddling byte 60.
  EXPECT_EQ(Value::string(std::string(59, 'a') + "é" + std::string(10, 'b')).summary(),
            "\"" + std::string(59, 'a') + "…\" (71 bytes)");
}

TEST(GgufTypes, NamesAndSizes) {
  EXPECT_EQ(ggml_type_name(0), "F32");
  EXPECT_EQ(ggml_type_name(1), "F16");
  EXPECT_EQ(ggml_type_name(2), "Q4_0");
  EXPECT_EQ(ggml_type_name(12), "Q4_K");
  EXPECT_EQ(ggml_type_name(14), "Q6_K");
  EXPECT_EQ(ggml_type_name(30), "BF16");
  EXPECT_EQ(ggml_type_name(39), "MXFP4");
  EXPECT_EQ(ggml_type_name(99), "type 99");
  EXPECT_EQ(ggml_type_name(4), "type 4");  // Q4_2, retired
  // Block sizes from ggml's block structs: Q4_0 = f16 scale + 16 bytes, Q8_0 = f16 + 32, Q6_K = 210.
  EXPECT_EQ(ggml_type_traits(2).type_size, 18u);
  EXPECT_EQ(ggml_type_traits(8).type_size, 34u);
  EXPECT_EQ(ggml_type_traits(14).type_size, 210u);
  EXPECT_EQ(ggml_type_traits(14).block_size, 256u);
  TensorInfo info{"x", {512, 3}, 14, 0};
  EXPECT_EQ(info.nbytes(), 2u * 3 * 210);
}

}  // namespace
}  // namespace slmtune::gguf
