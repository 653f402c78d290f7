#pragma once
// A tiny Llama that chats: `slmtune new-model --preset tiny-llama`, a 512-token byte-level BPE learnt
// from the maritime training data, and Qwen2.5's chat template (tool calls as <tool_call> blocks).
// Shared by the CLI tests of commands that render prompts and generate (eval, assist).
#include <gtest/gtest.h>

#include <string>

#include "core/atomic_file.hpp"
#include "formats/json.hpp"
#include "support/test_support.hpp"

namespace slmtune::testing {

inline void make_tiny_chat_model(const std::string& model) {
  auto made = run_slmtune("new-model --preset tiny-llama " + shell_quote(model));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto tok = run_slmtune("tokenizer train --vocab-size 512 --special '<|endoftext|>' --special '<|im_start|>' "
                         "--special '<|im_end|>' -o " + shell_quote(model + "/tokenizer.json") + " " +
                         shell_quote(source_dir() / "examples/maritime/data/train.csv"));
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const Json config = {{"eos_token", "<|im_end|>"},
                       {"chat_template", read_file(testdata("chat-templates/hf-tokenizer-configs/Qwen2.5-Instruct.jinja"))}};
  write_text(model + "/tokenizer_config.json", config.dump(2));
}

}  // namespace slmtune::testing
