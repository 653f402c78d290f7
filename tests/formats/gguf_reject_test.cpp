// Malformed GGUF files, crafted byte by byte: each is rejected with one line naming the file and the
// offset, key or tensor at fault.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "core/error.hpp"
#include "formats/gguf.hpp"

namespace slmtune::gguf {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Little-endian GGUF bytes, built field by field.
class Bytes {
 public:
  template <class T>
  Bytes& put(T v) {
    const size_t at = data_.size();
    data_.resize(at + sizeof(T));
    std::memcpy(data_.data() + at, &v, sizeof(T));
    return *this;
  }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& str(const std::string& s) {
    u64(s.size());
    data_.insert(data_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& raw(const std::string& s) {
    data_.insert(data_.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& header(uint64_t tensors, uint64_t kvs, uint32_t version = 3) {
    return raw("GGUF").u32(version).u64(tensors).u64(kvs);
  }
  Bytes& pad_to(size_t alignment) {
    while (data_.size() % alignment) data_.push_back('\0');
    return *this;
  }
  // Tensor info: name, dims (GGUF order), ggml type, offset.
  Bytes& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  size_t size() const { return data_.size(); }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

std::string error_of(const std::string& bytes) {
  try {
    (void)File::open_bytes({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}, "bad.gguf");
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.rfind("bad.gguf: ", 0), 0u) << message;
    return message;
  }
  return "(no error)";
}
std::string error_of(const Bytes& b) { return error_of(b.data()); }

// One F32 tensor of 4 elements at offset 0, followed by its data: a valid file to mutate.
Bytes valid_file(std::vector<std::pair<std::string, Bytes>> extra_kvs = {}) {
  Bytes b;
  b.header(1, 1 + extra_kvs.size()).str("general.architecture").u32(8).str("llama");
  for (const auto& [key, value] : extra_kvs) b.str(key).raw(value.data());
  b.tensor("w", {4}, 0, 0).pad_to(32).raw(std::string(16, '\x01'));
  return b;
}

TEST(GgufRejects, ValidBaseline) { EXPECT_EQ(error_of(valid_file()), "(no error)"); }

TEST(GgufRejects, MagicAndVersion) {
  EXPECT_THAT(error_of("GG"), HasSubstr("too short for the magic"));
  EXPECT_THAT(error_of(Bytes().raw("GGML").u32(3).u64(0).u64(0)),
              HasSubstr("not a GGUF file: magic at offset 0 is \"GGML\""));
  EXPECT_THAT(error_of(Bytes().header(0, 0, 1)), HasSubstr("GGUF version 1 (offset 4) is not supported"));
  EXPECT_THAT(error_of(Bytes().header(0, 0, 4)), HasSubstr("unsupported GGUF version 4 at offset 4"));
  EXPECT_THAT(error_of(Bytes().header(0, 0, 0x03000000)), HasSubstr("big-endian GGUF"));
  EXPECT_EQ(error_of(Bytes().header(0, 0, 2)), "(no error)");  // v2 has the same layout
  EXPECT_THAT(error_of(Bytes().raw("GGUF").u32(3).u32(0)), HasSubstr("truncated at offset 8: the tensor count"));
}

TEST(GgufRejects, TruncatedMetadata) {
  const Bytes full = Bytes().header(0, 2).str("key").u32(4).u32(7).str("k2").u32(4).u32(9);
  EXPECT_EQ(error_of(full), "(no error)");
  const std::string cut = full.data().substr(0, full.size() - 2);
  EXPECT_THAT(error_of(cut), HasSubstr("truncated at offset 57: a uint32 value needs 4 bytes but only 2 remain"));
  EXPECT_THAT(error_of(full.data().substr(0, 54)),
              HasSubstr("truncated at offset 53: a metadata value type needs 4 bytes but only 1 remain"));
  // A count the remaining bytes cannot hold is refused before anything is read or reserved.
  EXPECT_THAT(error_of(full.data().substr(0, 30)), HasSubstr("metadata count 2 at offset 16 is impossible"));
}

TEST(GgufRejects, StringAndArrayLengthsBeyondTheFile) {
  EXPECT_THAT(error_of(Bytes().header(0, 1).u64(1000).raw("abcdefgh")),
              HasSubstr("a metadata key at offset 24 has length 1000, beyond the end of the file (8 bytes left)"));
  EXPECT_THAT(error_of(Bytes().header(0, 1).str("k").u32(8).u64(UINT64_MAX)),
              HasSubstr("a string value at offset 37 has length 18446744073709551615, beyond the end"));
  EXPECT_THAT(error_of(Bytes().header(0, 1).str("k.arr").u32(9).u32(4).u64(1ull << 40).u32(1)),
              AllOf(HasSubstr("metadata key 'k.arr': array of 1099511627776 uint32"),
                    HasSubstr("goes beyond the end of the file")));
  // An array of strings needs at least 8 bytes per element (each length).
  EXPECT_THAT(error_of(Bytes().header(0, 1).str("k").u32(9).u32(8).u64(3).u64(0).u64(0)),
              HasSubstr("array of 3 string"));
}

TEST(GgufRejects, UnknownValueTypes) {
  EXPECT_THAT(error_of(Bytes().header(0, 1).str("k.x").u32(13).u32(0)),
              HasSubstr("metadata key 'k.x': unknown value type 13 at offset 35"));
  EXPECT_THAT(error_of(Bytes().header(0, 1).str("k.x").u32(9).u32(77).u64(0)),
              HasSubstr("metadata key 'k.x': unknown value type 77 at offset 39"));
  EXPECT_THAT(error_of(Bytes().header(0, 1).str("k.b").u32(7).put<uint8_t>(2)),
              HasSubstr("metadata key 'k.b': bool at offset 39 is 2, not 0 or 1"));
}

TEST(GgufRejects, AbsurdCounts) {
  EXPECT_THAT(error_of(Bytes().header(0, UINT64_MAX)), HasSubstr("metadata count 18446744073709551615 at offset 16 is impossible"));
  EXPECT_THAT(error_of(Bytes().header(1ull << 60, 0)), HasSubstr("tensor count 1152921504606846976 (offset 8) is impossible"));
  // Arrays nested beyond any real file are refused before they can exhaust the stack.
  Bytes deep = Bytes().header(0, 1).str("k.deep").u32(9);
  for (int i = 0; i < 40; ++i) deep.u32(9).u64(1);
  deep.u32(0).u64(0);
  EXPECT_THAT(error_of(deep), HasSubstr("metadata key 'k.deep': arrays nested deeper than 32"));
}

TEST(GgufRejects, DuplicateKeysAndTensorNames) {
  EXPECT_THAT(error_of(Bytes().header(0, 2).str("k").u32(0).put<uint8_t>(1).str("k").u32(0).put<uint8_t>(2)),
              HasSubstr("duplicate metadata key 'k' at offset 38"));
  Bytes b = Bytes().header(2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad_to(32).raw(std::string(64, 'x'));
  EXPECT_THAT(error_of(b), HasSubstr("duplicate tensor name 'w'"));
}

TEST(GgufRejects, Alignment) {
  Bytes not_pow2;
  not_pow2.u32(4).u32(48);
  EXPECT_THAT(error_of(valid_file({{"general.alignment", not_pow2}})),
              HasSubstr("metadata key 'general.alignment' is 48, not a power of two"));
  Bytes zero;
  zero.u32(4).u32(0);
  EXPECT_THAT(error_of(valid_file({{"general.alignment", zero}})), HasSubstr("is 0, not a power of two"));
  Bytes text;
  text.u32(8).str("32");
  EXPECT_THAT(error_of(valid_file({{"general.alignment", text}})),
              HasSubstr("'general.alignment' must be an integer (uint32), found string"));
}

TEST(GgufRejects, TensorInfos) {
  auto with_tensor = [](const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset,
                        size_t data_bytes) {
    return Bytes().header(1, 0).tensor(name, std::move(dims), type, offset).pad_to(32).raw(std::string(data_bytes, 'x'));
  };
  EXPECT_EQ(error_of(with_tensor("w", {4}, 0, 0, 16)), "(no error)");
  EXPECT_THAT(error_of(with_tensor("w", {5}, 0, 0, 16)),
              HasSubstr("tensor 'w' data (20 bytes at data offset 0, file offset 64) goes beyond the end of the file (80 bytes)"));
  EXPECT_THAT(error_of(with_tensor("w", {4}, 0, 32, 16)), HasSubstr("tensor 'w' data (16 bytes at data offset 32"));
  EXPECT_THAT(error_of(with_tensor("w", {4}, 0, 8, 64)),
              HasSubstr("tensor 'w' data offset 8 is not a multiple of the alignment 32"));
  EXPECT_THAT(error_of(with_tensor("w", {4}, 99, 0, 64)), HasSubstr("tensor 'w' (info at offset 24) has unknown ggml type 99"));
  EXPECT_THAT(error_of(with_tensor("w", {100}, 12, 0, 512)),
              HasSubstr("tensor 'w' of type Q4_K: innermost dimension 100 is not a multiple of the block size 256"));
  EXPECT_THAT(error_of(with_tensor("w", {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0, 0, 64)), HasSubstr("has 9 dimensions"));
  EXPECT_THAT(error_of(with_tensor("w", {1ull << 32, 1ull << 32}, 0, 0, 64)), HasSubstr("dimensions overflow 64 bits"));
  EXPECT_THAT(error_of(with_tensor("w", {0, 1ull << 62, 2}, 0, 0, 64)), HasSubstr("dimensions overflow 64 bits"));
  // 2^62 + 1 F32 elements: the byte count would wrap around 64 bits to a small number.
  EXPECT_THAT(error_of(with_tensor("w", {(1ull << 62) + 1}, 0, 0, 64)),
              HasSubstr("tensor 'w' (info at offset 24) of type F32 with dimensions 4611686018427387905 needs more "
                        "bytes than the file holds"));
  // The data section itself beyond the file: tensor infos end exactly at the file's end.
  EXPECT_THAT(error_of(Bytes().header(1, 0).tensor("w", {4}, 0, 0)),
              HasSubstr("tensor data section would start at offset 64, beyond the end of the file (57 bytes)"));
  // A scalar (no dimensions) is a valid one-element tensor, and the smallest possible tensor info.
  EXPECT_EQ(error_of(with_tensor("", {}, 0, 0, 4)), "(no error)");
  // A Q4_K tensor opens; its bytes are there even though it cannot be viewed as floats.
  EXPECT_EQ(error_of(with_tensor("q", {256}, 12, 0, 144)), "(no error)");
}

TEST(GgufRejects, OverlappingTensors) {
  Bytes b = Bytes().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad_to(32).raw(std::string(64, 'x'));
  EXPECT_THAT(error_of(b), HasSubstr("tensors 'a' (data offset 0, 64 bytes) and 'b' (data offset 32) overlap"));
  // An empty tensor occupies nothing, so it may point anywhere in the data section.
  Bytes ok = Bytes().header(2, 0).tensor("a", {16}, 0, 0).tensor("e", {0}, 0, 32).pad_to(32).raw(std::string(64, 'x'));
  EXPECT_EQ(error_of(ok), "(no error)");
}

TEST(GgufReader, SmallAlignmentGivesAlignedCopies) {
  // general.alignment 1 lets F32 data start at an odd file offset; tensor() must still be readable.
  Bytes b = Bytes().header(1, 1).str("general.alignment").u32(4).u32(1).tensor("w", {2}, 0, 0);
  const float values[2] = {1.25f, -7.0f};
  b.raw(std::string(reinterpret_cast<const char*>(values), 8));
  const std::string bytes = b.data();
  ASSERT_NE((bytes.size() - 8) % 4, 0u);
  const File file = File::open_bytes({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
  const Tensor t = file.tensor("w");
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 4, 0u);
  EXPECT_EQ(t.to_f32_vector(), (std::vector<float>{1.25f, -7.0f}));
}

}  // namespace
}  // namespace slmtune::gguf
