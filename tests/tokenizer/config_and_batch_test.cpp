// tokenizer_config.json / special_tokens_map.json, the directory facade, batch encoding and the
// pad token policy. Expected ids come from llama.cpp's HF-generated vectors for Llama 2.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/batch_encoding.hpp"
#include "tokenizer/loaders.hpp"
#include "tokenizer/pad_token.hpp"
#include "test_vectors.hpp"

namespace slmtune::testing {
namespace {

using tokenizer::TokenId;
using tokenizer::Tokenizer;
using Ids = std::vector<TokenId>;

// The HF ids of a Llama 2 test string, from ggml-vocab-llama-spm.gguf.out.
Ids llama_reference(const std::string& text) {
  static const auto cases = read_llama_cpp_vectors(testdata("llama.cpp-vocab/ggml-vocab-llama-spm.gguf.inp"));
  for (const auto& c : cases)
    if (c.text == text) return c.ids;
  throw std::runtime_error("no reference case for " + text);
}

TEST(TokenizerConfig, Llama2DirectoryAddsBosFromConfig) {
  Tokenizer tok = Tokenizer::load(testdata("tokenizers/llama-2"));
  const auto& config = tok.config();
  EXPECT_EQ(config.bos_token, "<s>");  // given as an AddedToken object
  EXPECT_EQ(config.eos_token, "</s>");
  EXPECT_EQ(config.unk_token, "<unk>");
  EXPECT_FALSE(config.pad_token.has_value());  // null in the file
  EXPECT_EQ(config.add_bos_token, true);
  EXPECT_FALSE(config.model_max_length.has_value());  // 1e30 placeholder means "no limit"
  Ids expected = llama_reference("Hello world");
  expected.insert(expected.begin(), 1);
  EXPECT_EQ(tok.encode("Hello world", true), expected);
}

TEST(TokenizerConfig, Phi3DirectoryLeftPaddingNoBos) {
  Tokenizer tok = Tokenizer::load(testdata("tokenizers/microsoft-Phi-3-mini-4k-instruct"));
  const auto& config = tok.config();
  EXPECT_EQ(config.padding_side, tokenizer::PaddingSide::left);
  EXPECT_EQ(config.model_max_length, 4096u);
  EXPECT_EQ(config.pad_token, "<|endoftext|>");
  EXPECT_EQ(config.add_bos_token, false);
  ASSERT_NE(config.chat_template(), nullptr);
  EXPECT_NE(config.chat_template()->find("<|assistant|>"), std::string::npos);
  EXPECT_EQ(tok.encode("Hello world", true), llama_reference("Hello world"));
}

TEST(TokenizerConfig, SpecialTokensMapFillsGapsAndNamedTemplates) {
  tokenizer::TokenizerConfig config;
  tokenizer::apply_tokenizer_config(config, read_json_file(testdata("tokenizers/gemma-it/tokenizer_config.json")), "gemma config");
  tokenizer::apply_special_tokens_map(config, read_json_file(testdata("tokenizers/gemma-it/special_tokens_map.json")), "gemma map");
  EXPECT_EQ(config.bos_token, "<bos>");
  EXPECT_EQ(config.pad_token, "<pad>");
  EXPECT_EQ(config.add_bos_token, true);

  tokenizer::TokenizerConfig named;
  tokenizer::apply_tokenizer_config(
      named, parse_json(R"({"chat_template": [{"name": "default", "template": "A"}, {"name": "tool_use", "template": "B"}],
                            "pad_token": {"content": "<pad>", "lstrip": false}})", "inline"), "inline");
  ASSERT_NE(named.chat_template("tool_use"), nullptr);
  EXPECT_EQ(*named.chat_template("tool_use"), "B");
  EXPECT_EQ(*named.chat_template(), "A");
  EXPECT_EQ(named.pad_token, "<pad>");

  tokenizer::TokenizerConfig bad;
  EXPECT_THROW(tokenizer::apply_tokenizer_config(bad, parse_json(R"({"padding_side": "middle"})", "x"), "x"), slmtune::Error);
  EXPECT_THROW(tokenizer::apply_tokenizer_config(bad, parse_json(R"({"chat_template": 3})", "x"), "x"), slmtune::Error);
}

TEST(TokenizerFacade, LoadsEveryKindOfPath) {
  EXPECT_EQ(Tokenizer::load(testdata("tokenizers/llama-2/tokenizer.json")).encode("Hello world"), llama_reference("Hello world"));
  EXPECT_EQ(Tokenizer::load(testdata("llama.cpp-vocab/ggml-vocab-llama-spm.gguf")).encode("Hello world"), llama_reference("Hello world"));
  EXPECT_EQ(Tokenizer::load(testdata("tokenizers/llama3.2-bpe-ollama")).vocab_size(), 128000u);
  try {
    Tokenizer::load(testdata("tokenizers/no-such-model"));
    FAIL();
  } catch (const slmtune::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-model"), std::string::npos);
  }
}

TEST(BatchEncoding, PadsTruncatesAndMasks) {
  Tokenizer tok = Tokenizer::load(testdata("tokenizers/llama-2"));
  const auto pad = tokenizer::resolve_pad_token(tok, tokenizer::PadFallback::automatic);
  EXPECT_EQ(pad.source, tokenizer::PadTokenChoice::Source::unk);  // Llama 2 has no pad but has <unk>
  EXPECT_EQ(pad.id, 0);

  tokenizer::EncodeOptions options;
  options.padding = tokenizer::Padding::longest;
  options.pad_id = pad.id;
  const auto batch = tokenizer::encode_batch(tok, {"Hello", " Hello, world!"}, options);
  Ids first = llama_reference("Hello"), second = llama_reference(" Hello, world!");
  first.insert(first.begin(), 1);
  second.insert(second.begin(), 1);
  Ids padded_first = first;
  padded_first.resize(second.size(), 0);
  EXPECT_EQ(batch.input_ids[0], padded_first);
  EXPECT_EQ(batch.input_ids[1], second);
  EXPECT_EQ(batch.attention_mask[0], (std::vector<uint8_t>{1, 1, 0, 0, 0, 0}));

  options.padding_side = tokenizer::PaddingSide::left;
  options.max_length = 4;
  options.padding = tokenizer::Padding::max_length;
  const auto left = tokenizer::encode_batch(tok, {"Hello", " Hello, world!"}, options);
  // Truncation keeps the BOS and cuts the text: 1 special + 3 text ids.
  EXPECT_EQ(left.input_ids[1], (Ids{1, second[1], second[2], second[3]}));
  EXPECT_EQ(left.input_ids[0], (Ids{0, 0, 1, first[1]}));
  EXPECT_EQ(left.attention_mask[0], (std::vector<uint8_t>{0, 0, 1, 1}));
}

TEST(PadTokenPolicy, EosReuseKeepsRealEosInTheMask) {
  Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  tok.mutable_config().eos_token = "<|endoftext|>";
  const auto pad = tokenizer::resolve_pad_token(tok, tokenizer::PadFallback::eos);
  EXPECT_EQ(pad.source, tokenizer::PadTokenChoice::Source::eos);
  tokenizer::EncodeOptions options;
  options.parse_special = true;
  options.padding = tokenizer::Padding::longest;
  options.pad_id = pad.id;
  const auto batch = tokenizer::encode_batch(tok, {"Hi<|endoftext|>", "Hello there friend<|endoftext|>"}, options);
  // The first row ends with a real EOS and then pads with the same id: only the pads are masked.
  const auto& ids = batch.input_ids[0];
  const auto& mask = batch.attention_mask[0];
  ASSERT_EQ(ids.size(), batch.input_ids[1].size());
  EXPECT_EQ(ids[1], pad.id);
  EXPECT_EQ(mask[1], 1);
  for (size_t i = 2; i < ids.size(); ++i) {
    EXPECT_EQ(ids[i], pad.id);
    EXPECT_EQ(mask[i], 0);
  }
}

TEST(PadTokenPolicy, AddingANewTokenReportsItsCost) {
  Tokenizer tok = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  const size_t before = tok.vocab_size();
  const auto pad = tokenizer::resolve_pad_token(tok, tokenizer::PadFallback::add_new, 2560, 2, false);
  EXPECT_EQ(pad.source, tokenizer::PadTokenChoice::Source::added);
  EXPECT_EQ(static_cast<size_t>(pad.id), before);
  EXPECT_EQ(tok.vocab_size(), before + 1);
  EXPECT_EQ(pad.bytes_added, 2u * 2560u * 2u);  // embedding + output row, bf16
  EXPECT_EQ(tok.encode("<|pad|>", false, true), (Ids{pad.id}));
  EXPECT_TRUE(tok.is_special(pad.id));
  // Once chosen, the pad token is part of the config and is simply reused.
  EXPECT_EQ(tokenizer::resolve_pad_token(tok, tokenizer::PadFallback::unk).source, tokenizer::PadTokenChoice::Source::configured);
  // phi-2's tokenizer.json alone names no unk token: asking to reuse it is a clear error.
  Tokenizer bare = tokenizer::load_tokenizer_json(testdata("tokenizers/microsoft-phi-2/tokenizer.json"));
  EXPECT_THROW(tokenizer::resolve_pad_token(bare, tokenizer::PadFallback::unk), slmtune::Error);
}

}  // namespace
}  // namespace slmtune::testing
