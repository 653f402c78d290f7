#include "tokenizer/pad_token.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/log.hpp"

namespace slmtune::tokenizer {

namespace {

constexpr const char* kNewPadToken = "<|pad|>";

std::optional<TokenId> resolve(const Tokenizer& tok, const std::optional<std::string>& content) {
  if (!content) return std::nullopt;
  return tok.token_to_id(*content);
}

}  // namespace

PadFallback parse_pad_fallback(const std::string& name) {
  if (name == "auto") return PadFallback::automatic;
  if (name == "unk") return PadFallback::unk;
  if (name == "eos") return PadFallback::eos;
  if (name == "add") return PadFallback::add_new;
  fail("pad token policy '{}' is not one of auto, unk, eos, add", name);
}

PadTokenChoice resolve_pad_token(Tokenizer& tok, PadFallback fallback, uint64_t hidden_size, uint64_t bytes_per_weight,
                                 bool tied_embeddings) {
  PadTokenChoice choice;
  TokenizerConfig& config = tok.mutable_config();
  const auto finish = [&](TokenId id, PadTokenChoice::Source source) {
    choice.id = id;
    choice.content = tok.id_to_token(id);
    choice.source = source;
    config.pad_token = choice.content;
    return choice;
  };
  if (const auto id = resolve(tok, config.pad_token)) return finish(*id, PadTokenChoice::Source::configured);
  const auto unk = resolve(tok, config.unk_token);
  const auto eos = resolve(tok, config.eos_token);
  switch (fallback) {
    case PadFallback::automatic:
      if (unk) return finish(*unk, PadTokenChoice::Source::unk);
      if (eos) return finish(*eos, PadTokenChoice::Source::eos);
      fail("no pad token: the tokenizer configures no pad, unk or eos token (use the 'add' pad policy)");
    case PadFallback::unk:
      if (!unk) fail("pad token policy 'unk': the tokenizer has no unk token");
      return finish(*unk, PadTokenChoice::Source::unk);
    case PadFallback::eos:
      if (!eos) fail("pad token policy 'eos': the tokenizer has no eos token");
      return finish(*eos, PadTokenChoice::Source::eos);
    case PadFallback::add_new: {
      // A vocabulary that already spells <|pad|> (unconfigured) needs no new row.
      if (const auto existing = tok.token_to_id(kNewPadToken)) {
        log::info("pad token policy 'add': {} is already token {}; reusing it (no new row)", kNewPadToken, *existing);
        return finish(*existing, PadTokenChoice::Source::configured);
      }
      const TokenId id = tok.add_token(kNewPadToken, /*special=*/true);
      choice.rows_added = 1;
      choice.bytes_added = hidden_size * bytes_per_weight * (tied_embeddings ? 1 : 2);
      log::info("added pad token {} as id {}: embedding{} grow by one row ({} bytes)", kNewPadToken, id,
                tied_embeddings ? "" : " and output matrices", choice.bytes_added);
      return finish(id, PadTokenChoice::Source::added);
    }
  }
  fail("unreachable pad token policy");
}

std::string describe(const PadTokenChoice& choice) {
  switch (choice.source) {
    case PadTokenChoice::Source::configured: return fmt::format("pad token {:?} (id {}, configured)", choice.content, choice.id);
    case PadTokenChoice::Source::unk: return fmt::format("pad token {:?} (id {}, reusing unk)", choice.content, choice.id);
    case PadTokenChoice::Source::eos:
      return fmt::format("pad token {:?} (id {}, reusing eos; padding is masked by position, so real EOS tokens stay in the loss)",
                         choice.content, choice.id);
    case PadTokenChoice::Source::added:
      return fmt::format("pad token {:?} (id {}, new: +{} row(s) per matrix, {} bytes)", choice.content, choice.id, choice.rows_added,
                         choice.bytes_added);
  }
  return "pad token";
}

}  // namespace slmtune::tokenizer
