// safetensors: the third-party sample files, write → read round trips, the exact bytes of a written
// file checked by hand against the README, sharded models, and every malformed header rejected with a
// message naming the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "core/half.hpp"
#include "formats/safetensors.hpp"
#include "support/test_support.hpp"

namespace slmtune::safetensors {
namespace {

using slmtune::testing::TempDir;
using slmtune::testing::testdata;
using slmtune::testing::write_text;
using ::testing::HasSubstr;

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string le64(uint64_t v) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &v, 8);
  return out;
}

// A file from a header text and a data section; the header length is the header's size unless given.
std::string craft(const std::string& header, const std::string& data, std::optional<uint64_t> length = {}) {
  return le64(length.value_or(header.size())) + header + data;
}

File open_text(const std::string& bytes) {
  return File::open_bytes({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}, "crafted.safetensors");
}

std::string error_of(const std::string& bytes) {
  try {
    (void)open_text(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SafetensorsSamples, SyoyoF64ModelLoads) {
  const auto path = testdata("safetensors/syoyo-model-f64.safetensors");
  const File file = File::open(path);
  EXPECT_EQ(file.header_size(), 136u);
  ASSERT_EQ(file.tensors().size(), 2u);
  EXPECT_EQ(file.tensors()[0].name, "weight1");
  EXPECT_EQ(file.tensors()[0].dtype, DType::F64);
  EXPECT_EQ(file.tensors()[0].shape, (Shape{8, 8}));
  EXPECT_EQ(file.tensors()[1].name, "weight2");
  EXPECT_EQ(file.tensors()[1].shape, (Shape{16, 16}));
  EXPECT_TRUE(file.metadata().empty());
  // Values straight from the file's bytes at 8 + header + data_offsets.begin.
  const std::string raw = read_all(path);
  ASSERT_EQ(raw.size(), 2704u);
  const Tensor w2 = file.tensor("weight2");
  ASSERT_EQ(w2.numel(), 256);
  for (int i = 0; i < 256; ++i) {
    double expected;
    std::memcpy(&expected, raw.data() + 8 + 136 + 512 + 8 * i, 8);
    ASSERT_EQ(w2.as<double>()[i], expected) << i;
  }
  const auto w1 = file.tensor("weight1").to_f32_vector();
  double first;
  std::memcpy(&first, raw.data() + 8 + 136, 8);
  EXPECT_EQ(w1[0], static_cast<float>(first));
}

TEST(SafetensorsSamples, AbuseAttemptIsRejected) {
  try {
    (void)File::open(testdata("safetensors/syoyo-abuse_attempt_1.safetensors"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("syoyo-abuse_attempt_1.safetensors: header length 1000"));
    EXPECT_THAT(e.what(), HasSubstr("beyond the end of the file (88 bytes)"));
  }
}

Tensor iota_tensor(DType dtype, Shape shape) {
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  auto* bytes = t.mutable_data();
  for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] = static_cast<std::byte>((i * 37 + 11) & 0xff);
  return t;
}

TEST(SafetensorsRoundTrip, EveryDtypeAndMetadata) {
  const std::vector<DType> dtypes{DType::F64, DType::F32, DType::F16,  DType::BF16, DType::I64,     DType::I32,
                                  DType::I16, DType::I8,  DType::U8,   DType::BOOL, DType::F8_E4M3, DType::F8_E5M2};
  Writer writer;
  std::vector<std::pair<std::string, Tensor>> written;
  for (size_t i = 0; i < dtypes.size(); ++i) {
    const std::string name = fmt::format("t{}.{}", dtypes.size() - i, dtype_name(dtypes[i]));
    Tensor t = dtypes[i] == DType::BOOL ? Tensor::zeros(DType::BOOL, {3, 1}) : iota_tensor(dtypes[i], {3, 5});
    if (dtypes[i] == DType::BOOL) t.mutable_data()[1] = std::byte{1};
    writer.add(name, t);
    written.emplace_back(name, t);
  }
  writer.add("scalar", iota_tensor(DType::F32, {}));
  writer.add("empty", Tensor::zeros(DType::F16, {0, 4}));
  writer.set_metadata("format", "pt");
  writer.set_metadata("note", "");
  writer.set_metadata("format", "np");  // replaces in place
  TempDir dir;
  writer.write(dir / "a.safetensors");
  const File file = File::open(dir / "a.safetensors");
  EXPECT_EQ(file.header_size() % 8, 0u);
  ASSERT_EQ(file.metadata().size(), 2u);
  EXPECT_EQ(file.metadata()[0], (std::pair<std::string, std::string>{"format", "np"}));
  EXPECT_EQ(file.metadata()[1], (std::pair<std::string, std::string>{"note", ""}));
  ASSERT_EQ(file.tensors().size(), dtypes.size() + 2);
  for (const auto& [name, t] : written) {
    const Tensor back = file.tensor(name);
    EXPECT_EQ(back.dtype(), t.dtype()) << name;
    EXPECT_EQ(back.shape(), t.shape()) << name;
    ASSERT_EQ(back.nbytes(), t.nbytes());
    EXPECT_EQ(std::memcmp(back.data(), t.data(), t.nbytes()), 0) << name;
  }
  EXPECT_EQ(file.tensor("scalar").shape(), Shape{});
  EXPECT_EQ(file.tensor("scalar").numel(), 1);
  EXPECT_EQ(file.tensor("empty").shape(), (Shape{0, 4}));
  // Deterministic: data laid out in name order, and the same input gives the same bytes.
  for (size_t i = 1; i < file.tensors().size(); ++i)
    EXPECT_LT(file.tensors()[i - 1].name, file.tensors()[i].name);
  writer.write(dir / "b.safetensors");
  EXPECT_EQ(read_all(dir / "a.safetensors"), read_all(dir / "b.safetensors"));
  const auto bytes = writer.serialize();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), read_all(dir / "a.safetensors"));
}

TEST(SafetensorsRoundTrip, EmptyFile) {
  TempDir dir;
  Writer().write(dir / "e.safetensors");
  EXPECT_EQ(read_all(dir / "e.safetensors"), le64(8) + "{}      ");
  EXPECT_TRUE(File::open(dir / "e.safetensors").tensors().empty());
}

TEST(SafetensorsLayout, TinyFileBytesMatchTheReadme) {
  // README: 8-byte little-endian N, N bytes of JSON starting with '{' padded with spaces, then the
  // byte buffer with data_offsets relative to its start.
  Writer writer;
  Tensor b = Tensor::zeros(DType::F16, {2});
  b.as_mutable<uint16_t>()[0] = 0x3c00;  // 1.0
  b.as_mutable<uint16_t>()[1] = 0xc000;  // -2.0
  Tensor a = Tensor::zeros(DType::U8, {3});
  a.mutable_data()[0] = std::byte{7};
  writer.add("b", b);
  writer.add("a", a);
  const std::string header =
      R"({"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"F16","shape":[2],"data_offsets":[3,7]}})";
  std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
  ASSERT_EQ(padded.size() % 8, 0u);
  const std::string expected = le64(padded.size()) + padded + std::string("\x07\x00\x00", 3) + std::string("\x00\x3c\x00\xc0", 4);
  const auto bytes = writer.serialize();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), expected);
}

TEST(SafetensorsSharded, TwoShardsWithIndex) {
  TempDir dir;
  Writer first, second;
  const Tensor x = iota_tensor(DType::F32, {2, 3});
  const Tensor y = iota_tensor(DType::BF16, {4});
  const Tensor z = iota_tensor(DType::I64, {1});
  first.add("model.x", x);
  first.add("model.y", y);
  first.set_metadata("format", "pt");
  second.add("lm_head.z", z);
  first.write(dir / "model-00001-of-00002.safetensors");
  second.write(dir / "model-00002-of-00002.safetensors");
  write_text(dir / "model.safetensors.index.json", R"({"metadata": {"total_size": 36},
    "weight_map": {"lm_head.z": "model-00002-of-00002.safetensors",
                   "model.x": "model-00001-of-00002.safetensors",
                   "model.y": "model-00001-of-00002.safetensors"}})");
  const Model model = Model::open(dir.path());
  EXPECT_EQ(model.file_count(), 2u);
  EXPECT_EQ(model.names(), (std::vector<std::string>{"model.x", "model.y", "lm_head.z"}));
  ASSERT_NE(model.find("lm_head.z"), nullptr);
  EXPECT_EQ(model.find("nope"), nullptr);
  const Tensor back = model.tensor("lm_head.z");
  EXPECT_EQ(std::memcmp(back.data(), z.data(), 8), 0);
  EXPECT_EQ(model.tensor("model.y").dtype(), DType::BF16);
  ASSERT_EQ(model.metadata().size(), 1u);
  EXPECT_EQ(model.metadata()[0].second, "pt");
  EXPECT_THAT([&] { (void)model.tensor("nope"); }, ::testing::ThrowsMessage<Error>(HasSubstr("no tensor named 'nope'")));

  // A single file and a directory with model.safetensors open too.
  EXPECT_EQ(Model::open(dir / "model-00001-of-00002.safetensors").names().size(), 2u);
  TempDir single;
  first.write(single / "model.safetensors");
  EXPECT_EQ(Model::open(single.path()).file_count(), 1u);
}

TEST(SafetensorsSharded, MissingShardAndMissingTensorAreErrors) {
  TempDir dir;
  Writer first;
  first.add("a", iota_tensor(DType::F32, {2}));
  first.write(dir / "s1.safetensors");
  write_text(dir / "model.safetensors.index.json",
             R"({"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})");
  EXPECT_THAT([&] { (void)Model::open(dir.path()); },
              ::testing::ThrowsMessage<Error>(::testing::AllOf(
                  HasSubstr("model.safetensors.index.json: shard 's2.safetensors'"), HasSubstr("does not exist"))));
  write_text(dir / "model.safetensors.index.json",
             R"({"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors"}})");
  EXPECT_THAT([&] { (void)Model::open(dir.path()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tensor 'b' is mapped to shard 's1.safetensors', which does not contain it")));
  TempDir empty;
  EXPECT_THAT([&] { (void)Model::open(empty.path()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("no model.safetensors or model.safetensors.index.json")));
}

const std::string kGoodTensor = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

TEST(SafetensorsRejects, CraftedHeaders) {
  const std::string data8(8, '\x01');
  EXPECT_EQ(error_of(craft("{" + kGoodTensor + "}", data8)), "(no error)");
  EXPECT_THAT(error_of("abc"), HasSubstr("too short for the 8-byte header length"));
  EXPECT_THAT(error_of(craft("{}", "", 1u << 20)), HasSubstr("header length 1048576 (offset 0) goes beyond the end"));
  EXPECT_THAT(error_of(craft("{}", "", UINT64_MAX)), HasSubstr("goes beyond the end of the file"));
  EXPECT_THAT(error_of(craft("[1, 2]", "")), HasSubstr("must be a JSON object"));
  EXPECT_THAT(error_of(craft(" {}", "")), HasSubstr("must be a JSON object starting with '{'"));
  EXPECT_THAT(error_of(craft("{\"w\": ", "")), HasSubstr("crafted.safetensors header:1:"));
  EXPECT_THAT(error_of(craft("{\"a\": 1} x", "")), HasSubstr("invalid JSON"));
  EXPECT_THAT(error_of(craft("{\"w\": 5}", "")), HasSubstr("tensor 'w' must be an object"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}})", data8)),
              HasSubstr("tensor 'w': unknown dtype 'F17'"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8)),
              HasSubstr("tensor 'w': a shape dimension has a negative value -2"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", data8)),
              HasSubstr("must be a non-negative integer"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8)),
              HasSubstr("tensor 'w': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8)),
              HasSubstr("tensor 'w' data_offsets [0, 16] go beyond the data section (8 bytes)"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data8)),
              HasSubstr("end before they begin"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", data8)),
              HasSubstr("'data_offsets' must be an array [begin, end]"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[2]}})", data8)), HasSubstr("'data_offsets'"));
  EXPECT_THAT(error_of(craft(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", data8)),
              HasSubstr("missing string field 'dtype'"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", data8)),
              HasSubstr("missing array field 'shape'"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", data8)),
              HasSubstr("unexpected field 'x'"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data8)),
              HasSubstr("overflows 64 bits"));
  EXPECT_THAT(error_of(craft(R"({"w":{"dtype":"F32","shape":[4611686018427387904,2,0],"data_offsets":[0,0]}})", "")),
              HasSubstr("overflows 64 bits"));
  // Overlaps, holes (between, before and after tensors), duplicates.
  EXPECT_THAT(error_of(craft(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                                 "b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8)),
              HasSubstr("tensors 'a' and 'b' overlap"));
  EXPECT_THAT(error_of(craft(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
                                 "b":{"dtype":"I16","shape":[1],"data_offsets":[6,8]}})", data8)),
              HasSubstr("hole: bytes [4, 6) before tensor 'b'"));
  EXPECT_THAT(error_of(craft(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", data8)),
              HasSubstr("hole: bytes [0, 4) before tensor 'a'"));
  EXPECT_THAT(error_of(craft("{" + kGoodTensor + "}", data8 + "xx")), HasSubstr("hole: bytes [8, 10) after the last"));
  EXPECT_THAT(error_of(craft("{" + kGoodTensor + "," + kGoodTensor + "}", data8)), HasSubstr("header names 'w' twice"));
  // __metadata__ must map strings to strings.
  EXPECT_THAT(error_of(craft(R"({"__metadata__":{"n":1}})", "")), HasSubstr("__metadata__ 'n' must be a string"));
  EXPECT_THAT(error_of(craft(R"({"__metadata__":[1]})", "")), HasSubstr("__metadata__ must be an object"));
}

TEST(SafetensorsReader, KeepsMetadataOrderAndReadsUnalignedData) {
  // A header of odd length puts the F32 data at an odd address; the reader copies it out instead.
  const std::string header = R"({"__metadata__":{"z":"1","a":"2"},)" + kGoodTensor + "} ";
  std::string data(8, '\0');
  const float values[2] = {1.5f, -3.0f};
  std::memcpy(data.data(), values, 8);
  const File file = open_text(craft(header, data));
  ASSERT_EQ(file.metadata().size(), 2u);
  EXPECT_EQ(file.metadata()[0].first, "z");
  const Tensor t = file.tensor("w");
  EXPECT_EQ(t.to_f32_vector(), (std::vector<float>{1.5f, -3.0f}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 4, 0u);
}

TEST(SafetensorsWriter, RejectsDuplicateNames) {
  Writer writer;
  writer.add("a", Tensor::zeros(DType::F32, {1}));
  EXPECT_THAT([&] { writer.add("a", Tensor::zeros(DType::F32, {1})); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tensor 'a' added twice")));
}

}  // namespace
}  // namespace slmtune::safetensors
