// The GGUF reader against third-party files: llama.cpp's vocabulary GGUFs, the ollama tiny model and
// the tiny models written by llama.cpp's gguf-py. Expected facts come from SOURCES.md and the spec.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.hpp"
#include "formats/gguf.hpp"
#include "support/test_support.hpp"

namespace slmtune::gguf {
namespace {

using slmtune::testing::testdata;

struct VocabCase {
  std::string file;
  std::string model;  // tokenizer.ggml.model
};

class VocabGguf : public ::testing::TestWithParam<VocabCase> {};

TEST_P(VocabGguf, OpensAndHasConsistentVocabulary) {
  const VocabCase& c = GetParam();
  const File file = File::open(testdata("llama.cpp-vocab/ggml-vocab-" + c.file + ".gguf"));
  EXPECT_EQ(file.version(), 3u);
  EXPECT_TRUE(file.tensors().empty());
  EXPECT_EQ(file.get_string("tokenizer.ggml.model"), c.model);
  const auto tokens = file.get_string_array("tokenizer.ggml.tokens");
  EXPECT_GT(tokens.size(), 1000u);
  // Parallel arrays, where present, have one entry per token.
  if (const Value* scores = file.find("tokenizer.ggml.scores")) {
    EXPECT_EQ(scores->as_array().size(), tokens.size());
  }
  if (const Value* types = file.find("tokenizer.ggml.token_type")) {
    EXPECT_EQ(types->as_array().size(), tokens.size());
  }
  // SOURCES.md: only the older gpt-neox file lacks the pre-tokenizer key.
  EXPECT_EQ(file.find("tokenizer.ggml.pre") == nullptr, c.file == "gpt-neox");
  // Vocabulary-only files end right after the metadata: the data section would start at the file's
  // size rounded up to the alignment.
  const uint64_t a = file.alignment();
  EXPECT_EQ(file.data_offset(), (file.file_size() + a - 1) / a * a);
}

INSTANTIATE_TEST_SUITE_P(LlamaCpp, VocabGguf,
                         ::testing::Values(VocabCase{"bert-bge", "bert"}, VocabCase{"deepseek-coder", "gpt2"},
                                           VocabCase{"deepseek-llm", "gpt2"}, VocabCase{"falcon", "gpt2"},
                                           VocabCase{"gpt-2", "gpt2"}, VocabCase{"gpt-neox", "gpt2"},
                                           VocabCase{"llama-spm", "llama"}, VocabCase{"mpt", "gpt2"},
                                           VocabCase{"phi-3", "llama"}, VocabCase{"refact", "gpt2"},
                                           VocabCase{"starcoder", "gpt2"}),
                         [](const auto& info) {
                           std::string name = info.param.file;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

TEST(VocabGgufFacts, TokenCounts) {
  EXPECT_EQ(File::open(testdata("llama.cpp-vocab/ggml-vocab-llama-spm.gguf"))
                .get_string_array("tokenizer.ggml.tokens")
                .size(),
            32000u);
  EXPECT_EQ(File::open(testdata("llama.cpp-vocab/ggml-vocab-gpt-2.gguf"))
                .get_string_array("tokenizer.ggml.tokens")
                .size(),
            50257u);
  EXPECT_EQ(File::open(testdata("llama.cpp-vocab/ggml-vocab-phi-3.gguf"))
                .get_string_array("tokenizer.ggml.tokens")
                .size(),
            32064u);
}

TEST(VocabGgufFacts, EveryVocabFileInTheFolderOpens) {
  int opened = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testdata("llama.cpp-vocab"))) {
    if (entry.path().extension() != ".gguf") continue;
    EXPECT_NO_THROW(File::open(entry.path())) << entry.path();
    ++opened;
  }
  EXPECT_EQ(opened, 11);
}

// f16 decoded from its bit fields, independently of core/half.
float decode_f16_by_hand(uint16_t bits) {
  const int sign = bits >> 15, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(1.0f + mantissa / 1024.0f, exponent - 15);
  return sign ? -magnitude : magnitude;
}

std::vector<unsigned char> read_range(const std::filesystem::path& path, uint64_t offset, size_t size) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::vector<unsigned char> out(size);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(size));
  EXPECT_TRUE(in.good());
  return out;
}

TEST(TinyLlamaGguf, HeaderFactsFromSources) {
  const auto path = testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
  const File file = File::open(path);
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.metadata().size(), 18u);
  EXPECT_EQ(file.tensors().size(), 12u);
  EXPECT_EQ(file.data_offset(), 724416u);
  EXPECT_EQ(file.alignment(), 32u);
  EXPECT_EQ(file.get_string("general.architecture"), "llama");
  EXPECT_EQ(file.get_int("llama.embedding_length"), 8);
  EXPECT_EQ(file.get_int("llama.block_count"), 1);
  EXPECT_EQ(file.get_int("llama.attention.head_count"), 2);
  EXPECT_EQ(file.get_int("llama.feed_forward_length"), 32);
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens").size(), 32000u);
  // SentencePiece scores: specials and bytes 0, then -1, -2… by merge rank; 16 tokens have -1e9.
  const auto scores = file.get("tokenizer.ggml.scores").as_float_array();
  ASSERT_EQ(scores.size(), 32000u);
  EXPECT_EQ(std::count(scores.begin(), scores.end(), -1e9f), 16);
  for (const auto& info : file.tensors()) {
    const bool is_norm = info.name.find("norm") != std::string::npos;
    EXPECT_EQ(ggml_type_name(info.type), is_norm ? "F32" : "F16") << info.name;
    EXPECT_EQ(info.shape().size(), is_norm ? 1u : 2u) << info.name;
  }
}

TEST(TinyLlamaGguf, F16TensorMatchesBytesDecodedByHand) {
  const auto path = testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
  const File file = File::open(path);
  const TensorInfo* info = file.find_tensor("token_embd.weight");
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->type, kGgmlF16);
  EXPECT_EQ(info->dims, (std::vector<uint64_t>{8, 32000}));
  EXPECT_EQ(info->shape(), (Shape{32000, 8}));
  EXPECT_EQ(info->nbytes(), 32000u * 8 * 2);
  const Tensor tensor = file.tensor("token_embd.weight");
  EXPECT_EQ(tensor.dtype(), DType::F16);
  const std::vector<float> values = tensor.to_f32_vector();
  // The spec: data lives at the aligned end of the tensor infos plus the tensor's own offset.
  const auto raw = read_range(path, 724416 + info->offset, static_cast<size_t>(info->nbytes()));
  ASSERT_EQ(values.size(), raw.size() / 2);
  size_t nonzero = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const auto bits = static_cast<uint16_t>(raw[2 * i] | (raw[2 * i + 1] << 8));
    ASSERT_EQ(values[i], decode_f16_by_hand(bits)) << "element " << i;
    nonzero += values[i] != 0.0f;
  }
  EXPECT_GT(nonzero, values.size() / 2);  // random weights, not a zero page
}

TEST(TinyLlamaGguf, F32NormMatchesBytes) {
  const auto path = testdata("models/llama-2-tiny-random-gguf/llama-2-tiny-random.gguf");
  const File file = File::open(path);
  const TensorInfo* info = file.find_tensor("output_norm.weight");
  ASSERT_NE(info, nullptr);
  const Tensor tensor = file.tensor("output_norm.weight");
  EXPECT_EQ(tensor.shape(), Shape{8});
  const auto raw = read_range(path, file.data_offset() + info->offset, 32);
  for (size_t i = 0; i < 8; ++i) {
    float expected;
    std::memcpy(&expected, raw.data() + 4 * i, 4);
    EXPECT_EQ(tensor.as<float>()[i], expected);
  }
}

TEST(TinyRandomGguf, Qwen2FactsFromSources) {
  const File file = File::open(testdata("models/tiny-random-gguf/tiny-random-qwen2.gguf"));
  EXPECT_EQ(file.get_string("general.architecture"), "qwen2");
  EXPECT_EQ(file.get_int("qwen2.embedding_length"), 64);
  EXPECT_EQ(file.get_int("qwen2.block_count"), 2);
  EXPECT_EQ(file.get_int("qwen2.attention.head_count"), 4);
  EXPECT_EQ(file.get_int("qwen2.attention.head_count_kv"), 2);
  EXPECT_EQ(file.get_int("qwen2.feed_forward_length"), 128);
  EXPECT_FLOAT_EQ(static_cast<float>(file.get_float("qwen2.rope.freq_base")), 1e6f);
  EXPECT_FLOAT_EQ(static_cast<float>(file.get_float("qwen2.attention.layer_norm_rms_epsilon")), 1e-6f);
  EXPECT_EQ(file.find("qwen2.rope.dimension_count"), nullptr);
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens").size(), 50257u);
  EXPECT_FALSE(file.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(file.find_tensor("output.weight"), nullptr);  // tied embeddings
  ASSERT_NE(file.find_tensor("blk.0.attn_q.bias"), nullptr);
  EXPECT_EQ(file.tensor("blk.0.attn_q.bias").dtype(), DType::F32);
  EXPECT_EQ(file.tensor("blk.0.attn_q.weight").dtype(), DType::F16);
  EXPECT_EQ(file.tensor("blk.0.attn_k.weight").shape(), (Shape{32, 64}));
  EXPECT_EQ(file.tensor("blk.1.ffn_down.weight").shape(), (Shape{64, 128}));
  EXPECT_EQ(file.tensor("token_embd.weight").shape(), (Shape{50257, 64}));
}

TEST(TinyRandomGguf, Phi3FactsFromSources) {
  const File file = File::open(testdata("models/tiny-random-gguf/tiny-random-phi3.gguf"));
  EXPECT_EQ(file.get_string("general.architecture"), "phi3");
  EXPECT_EQ(file.get_int("phi3.rope.dimension_count"), 16);
  EXPECT_FLOAT_EQ(static_cast<float>(file.get_float("phi3.rope.freq_base")), 1e4f);
  EXPECT_FLOAT_EQ(static_cast<float>(file.get_float("phi3.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(file.get_int("phi3.rope.scaling.original_context_length"), 4096);
  EXPECT_EQ(file.get_string_array("tokenizer.ggml.tokens").size(), 32064u);
  EXPECT_TRUE(file.get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(file.tensor("blk.0.attn_qkv.weight").shape(), (Shape{64 + 32 + 32, 64}));
  EXPECT_EQ(file.tensor("blk.0.ffn_up.weight").shape(), (Shape{256, 64}));
  EXPECT_EQ(file.tensor("blk.0.attn_norm.weight").dtype(), DType::F32);
  EXPECT_EQ(file.find_tensor("output.weight"), nullptr);
}

TEST(GgufAccessors, TypedLookupErrorsNameFileAndKey) {
  const File file = File::open(testdata("llama.cpp-vocab/ggml-vocab-gpt-2.gguf"));
  try {
    (void)file.get_int("tokenizer.ggml.model");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("ggml-vocab-gpt-2.gguf: metadata key 'tokenizer.ggml.model': "
                                               "expected an integer, found string"));
  }
  EXPECT_THAT([&] { (void)file.get("no.such.key"); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("metadata key 'no.such.key' is missing")));
}

}  // namespace
}  // namespace slmtune::gguf
