// Loss masks on real tokenizers and chat templates (Phi-3-mini from /work/shared/testdata, whose
// pad token is its EOS <|endoftext|>).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "support/test_support.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/chat_jsonl.hpp"
#include "train/samples.hpp"

using namespace slmtune;
using namespace slmtune::train;
using slmtune::testing::testdata;

namespace {

const tokenizer::Tokenizer& phi3() {
  static const tokenizer::Tokenizer tok =
      tokenizer::Tokenizer::load(testdata("tokenizers/microsoft-Phi-3-mini-4k-instruct"));
  return tok;
}

ChatExample two_turns() {
  return parse_chat_jsonl(
             R"({"messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"}, )"
             R"({"role": "assistant", "content": "Four."}, {"role": "user", "content": "And 3+3?"}, {"role": "assistant", "content": "Six."}]})",
             "mem.jsonl")
      .front();
}

// The labelled stretches of a sample as [begin, end) token ranges.
std::vector<std::pair<size_t, size_t>> runs(const Sample& s) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t i = 0; i < s.labels.size(); ++i) {
    if (s.labels[i] == kIgnoreIndex) continue;
    if (!out.empty() && out.back().second == i) ++out.back().second;
    else out.emplace_back(i, i + 1);
  }
  return out;
}

std::string decode(const tokenizer::Tokenizer& tok, const Sample& s, std::pair<size_t, size_t> r) {
  std::vector<tokenizer::TokenId> ids(s.ids.begin() + static_cast<std::ptrdiff_t>(r.first),
                                      s.ids.begin() + static_cast<std::ptrdiff_t>(r.second));
  return tok.decode(ids);
}

std::string trim_left(std::string s) { return s.erase(0, s.find_first_not_of(' ')); }

}  // namespace

TEST(Samples, Phi3AssistantTokensOnlyWithEosAlthoughPadIsEos) {
  const auto& tok = phi3();
  const int32_t eos = *tok.token_to_id("<|endoftext|>");
  ASSERT_EQ(tok.token_to_id(*tok.config().pad_token), eos);  // the case the issue names
  SampleBuilder builder(tok, "", {});
  EXPECT_FALSE(builder.adds_bos());  // add_bos_token: false
  const Sample s = builder.build(two_turns());
  ASSERT_EQ(s.ids.size(), s.labels.size());
  // The ids are exactly those of the whole rendered conversation.
  const std::string text =
      "<|system|>\nYou are terse.<|end|>\n<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\nFour.<|end|>\n"
      "<|user|>\nAnd 3+3?<|end|>\n<|assistant|>\nSix.<|end|>\n<|endoftext|>";
  EXPECT_EQ(s.ids, tok.encode(text, false, true));
  const auto r = runs(s);
  ASSERT_EQ(r.size(), 2u);
  // Each assistant turn: its content and end marker; the last one also the template's EOS. Phi-3's
  // tokenizer.json gives <|end|>, <|user|>, <|assistant|> rstrip: true, so the "\n" after each is
  // absorbed into the token (as in HF) and decoding shows none.
  EXPECT_EQ(trim_left(decode(tok, s, r[0])), "Four.<|end|>");
  EXPECT_EQ(trim_left(decode(tok, s, r[1])), "Six.<|end|><|endoftext|>");
  EXPECT_EQ(s.labels.back(), eos);
  // Everything before the first reply (system, user, the <|assistant|> header) carries no loss.
  const std::string prompt = decode(tok, s, {0, r[0].first});
  EXPECT_NE(prompt.find("What is 2+2?<|end|><|assistant|>"), std::string::npos) << prompt;
  EXPECT_EQ(decode(tok, s, {r[0].second, r[1].first}), "<|user|> And 3+3?<|end|><|assistant|>");
  for (size_t i = 0; i < s.ids.size(); ++i)
    if (s.labels[i] != kIgnoreIndex) {
      EXPECT_EQ(s.labels[i], s.ids[i]);
    }
}

TEST(Samples, TrainOnAllLabelsEveryToken) {
  SampleOptions options;
  options.train_on = TrainOn::all;
  SampleBuilder builder(phi3(), "", options);
  const Sample s = builder.build(two_turns());
  EXPECT_EQ(s.labels, s.ids);
}

TEST(Samples, GenerationSpansDecideAndAFollowingEosJoins) {
  // A template marking only the reply; the EOS it writes right after the last reply is labelled too.
  const std::string source =
      "{% for m in messages %}{% if m.role == 'assistant' %}<|assistant|>\n{% generation %}{{ m.content }}<|end|>"
      "{% endgeneration %}{% if loop.last %}{{ eos_token }}{% endif %}\n{% else %}<|user|>\n{{ m.content }}<|end|>\n"
      "{% endif %}{% endfor %}";
  SampleBuilder builder(phi3(), source, {});
  const Sample s = builder.build(two_turns());
  const auto r = runs(s);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(trim_left(decode(phi3(), s, r[0])), "Four.<|end|>");
  EXPECT_EQ(trim_left(decode(phi3(), s, r[1])), "Six.<|end|><|endoftext|>");
}

TEST(Samples, BosAddedOnceWhenTemplateWritesItToo) {
  // Phi-3-mini-128k: add_bos_token true and a template that starts with {{ bos_token }}.
  slmtune::testing::TempDir dir;
  std::filesystem::copy_file(testdata("tokenizers/microsoft-Phi-3-mini-4k-instruct/tokenizer.json"),
                             dir / "tokenizer.json");
  std::filesystem::copy_file(testdata("tokenizers/microsoft-Phi-3-mini-128k-instruct/tokenizer_config.json"),
                             dir / "tokenizer_config.json");
  const auto tok = tokenizer::Tokenizer::load(dir.path());
  SampleBuilder builder(tok, "", {});
  EXPECT_TRUE(builder.adds_bos());
  const Sample s = builder.build(two_turns());
  const int32_t bos = *tok.token_to_id("<s>");
  ASSERT_GE(s.ids.size(), 2u);
  EXPECT_EQ(s.ids[0], bos);
  EXPECT_NE(s.ids[1], bos);
  EXPECT_EQ(std::count(s.ids.begin(), s.ids.end(), bos), 1);
  // This template has no generation prompt of its own: the user turn opens the reply.
  const auto r = runs(s);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(trim_left(decode(tok, s, r[1])), "Six.<|end|>");
}

TEST(Samples, TruncationIsCountedAndEmptyTargetsDropped) {
  const auto examples = parse_chat_jsonl(
      "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n"
      "\n"
      "{\"messages\": [{\"role\": \"user\", \"content\": \"a much longer question that will not fit into the "
      "limit at all\"}, {\"role\": \"assistant\", \"content\": \"ok\"}]}\n",
      "mem.jsonl");
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].origin, "mem.jsonl:3");
  SampleOptions options;
  options.max_seq_len = 12;
  SampleBuilder builder(phi3(), "", options);
  const size_t full_first = builder.build(examples[0]).ids.size();
  ASSERT_LE(full_first, 12u);  // the short one fits whole
  const SampleSet set = builder.build_all(examples);
  EXPECT_EQ(set.truncated, 1);
  EXPECT_EQ(set.dropped_no_targets, 1);
  ASSERT_EQ(set.samples.size(), 1u);
  EXPECT_EQ(set.samples[0].ids.size(), full_first);
  options.max_seq_len = 3;
  SampleBuilder tiny(phi3(), "", options);
  EXPECT_THROW(tiny.build_all(examples), slmtune::Error);
}

TEST(ChatJsonl, ErrorsNameFileAndLine) {
  const auto message = [](const std::string& text) {
    try {
      parse_chat_jsonl(text, "d.jsonl");
    } catch (const slmtune::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string ok = "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n";
  EXPECT_EQ(message(ok + "{\"messages\": [}\n"), "d.jsonl:2:15: invalid JSON");
  EXPECT_EQ(message(ok + "{\"messages\": [1e99999]}\n").rfind("d.jsonl:2: invalid JSON: number overflow", 0), 0u);
  EXPECT_EQ(message(ok + ok + "{\"messages\": []}"), "d.jsonl:3: \"messages\" must be a non-empty array");
  EXPECT_EQ(message("{\"messages\": [{\"content\": \"x\"}]}"), "d.jsonl:1: messages[0].role must be a string");
  EXPECT_EQ(message(ok + "{\"mesages\": []}"),
            "d.jsonl:2: unexpected key \"mesages\" (expected \"messages\" and optionally \"tools\")");
  EXPECT_EQ(message("\n\n"), "d.jsonl: no examples (the file is empty)");
  EXPECT_EQ(message(ok + "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": {}}"),
            "d.jsonl:2: \"tools\" must be an array of tool schemas");
}

TEST(Samples, ToolSchemasGoIntoThePromptWithoutLoss) {
  // Phi-3's template knows no tools: the chat module's fallback puts the schemas in the system turn.
  const auto example = parse_chat_jsonl(
                           R"({"messages": [{"role": "user", "content": "Weather in Oslo?"}, {"role": "assistant", "content": "Calling."}], )"
                           R"("tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]})",
                           "mem.jsonl")
                           .front();
  SampleBuilder builder(phi3(), "", {});
  const Sample s = builder.build(example);
  const auto r = runs(s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_NE(decode(phi3(), s, {0, r[0].first}).find("get_weather"), std::string::npos);
  EXPECT_EQ(trim_left(decode(phi3(), s, r[0])), "Calling.<|end|><|endoftext|>");
}
