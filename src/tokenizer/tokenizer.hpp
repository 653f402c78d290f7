#pragma once
// The tokenizer facade: added tokens → normalizer → pre-tokenizer → model → post-processor, and
// back through the decoder. Loaders (tokenizer.json, GGUF, GPT-2 vocab files) assemble the parts.
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_vocabulary.hpp"
#include "tokenizer/decoders.hpp"
#include "tokenizer/model.hpp"
#include "tokenizer/normalizers.hpp"
#include "tokenizer/post_processors.hpp"
#include "tokenizer/pre_tokenizers.hpp"
#include "tokenizer/tokenizer_config.hpp"

namespace slmtune::tokenizer {

struct TokenizerParts {
  std::unique_ptr<Normalizer> normalizer;        // may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer;   // may be null
  std::unique_ptr<Model> model;                  // required
  std::unique_ptr<PostProcessor> post_processor; // may be null: add_special then adds nothing
  std::unique_ptr<Decoder> decoder;              // may be null: tokens are joined with spaces
  std::vector<AddedToken> added_tokens;
  TokenizerConfig config;                        // special tokens, chat template, limits
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerParts parts);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // MODEL as the CLI takes it: a Hugging Face directory (tokenizer.json, or vocab.json/encoder.json
  // + merges.txt/vocab.bpe; tokenizer_config.json and special_tokens_map.json when present), a
  // tokenizer.json file, or a .gguf file.
  static Tokenizer load(const std::filesystem::path& path);

  // add_special: wrap with the model's special tokens (BOS/EOS via the post-processor).
  // parse_special: recognise special tokens written in the text ("<s>") as those tokens.
  std::vector<TokenId> encode(std::string_view text, bool add_special = false, bool parse_special = false) const;
  std::vector<TokenId> encode_pair(std::string_view first, std::string_view second, bool add_special = true,
                                   bool parse_special = false) const;
  // Adds the special tokens of add_special=true around already-encoded ids (used after truncation).
  std::vector<TokenId> encode_ids_with_specials(std::vector<TokenId> ids) const;
  // Fails naming the id when one is outside the vocabulary.
  std::string decode(std::span<const TokenId> ids, bool skip_special = false) const;

  // Ids + 1 of the largest id (model vocabulary and added tokens together).
  size_t vocab_size() const { return vocab_size_; }
  std::optional<TokenId> token_to_id(std::string_view token) const;
  // The token's string as the vocabulary spells it; fails for an id outside the vocabulary.
  const std::string& id_to_token(TokenId id) const;
  bool is_special(TokenId id) const;
  // How many special ids encode(add_special=true) adds around one sequence (or a pair).
  size_t special_tokens_added(bool pair = false) const;

  const std::vector<AddedToken>& added_tokens() const { return parts_.added_tokens; }
  const Model& model() const { return *parts_.model; }
  const TokenizerConfig& config() const { return parts_.config; }
  TokenizerConfig& mutable_config() { return parts_.config; }
  // Replaces the post-processor (add_bos_token/add_eos_token from tokenizer_config.json).
  void set_post_processor(std::unique_ptr<PostProcessor> post_processor);
  // Adds a token after the current vocabulary (e.g. a new <|pad|>) and returns its id.
  TokenId add_token(const std::string& content, bool special);

 private:
  void rebuild_matchers();
  void encode_text(std::string_view text, bool at_start, std::vector<TokenId>& out) const;
  std::vector<TokenId> encode_raw(std::string_view text, bool parse_special) const;

  TokenizerParts parts_;
  size_t vocab_size_ = 0;
  std::unordered_map<TokenId, size_t> added_by_id_;
  TokenMap added_by_content_;
  AddedTokenMatcher raw_matcher_;         // tokens with normalized=false, cut from the input
  AddedTokenMatcher normalized_matcher_;  // tokens with normalized=true, cut after normalizing
};

}  // namespace slmtune::tokenizer
