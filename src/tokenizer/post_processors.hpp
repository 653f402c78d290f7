#pragma once
// Post-processors add the special tokens of a model around an encoded sequence (BOS/EOS, CLS/SEP)
// when the caller asks for special tokens.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/json_access.hpp"
#include "tokenizer/model.hpp"

namespace slmtune::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // `pair` is the optional second sequence.
  virtual std::vector<TokenId> process(std::vector<TokenId> single, const std::vector<TokenId>* pair) const = 0;
  // How many ids process() adds (for truncation budgets).
  virtual size_t added_count(bool is_pair) const = 0;
};

// `lookup` resolves special token strings (Roberta/Bert cls/sep) to ids.
std::unique_ptr<PostProcessor> make_post_processor(const JsonValue& spec, const std::string& path,
                                                   const std::function<std::optional<TokenId>(const std::string&)>& lookup);
// BOS/EOS as configured by add_bos_token/add_eos_token (GGUF, tokenizer_config.json).
std::unique_ptr<PostProcessor> bos_eos_post_processor(std::optional<TokenId> bos, std::optional<TokenId> eos);

}  // namespace slmtune::tokenizer
