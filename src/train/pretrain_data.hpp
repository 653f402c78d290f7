#pragma once
// Pretraining data: a corpus of documents → rows of token ids for next-token training (every token
// carries loss, as train_on all).
//
// Rows are filled greedily with WHOLE documents, in order, up to seq_len tokens; a document that does
// not fit in what is left of a row starts the next row, and only a document longer than seq_len is cut
// into seq_len pieces. So a chat transcript (system prompt with the GPS position, user turn, calls)
// always sits in one row: cut blindly at fixed offsets, many transcripts would lose their system
// prompt and teach the model to write a position it was never shown. Rows are at most seq_len long;
// the trainer pads a batch to its longest row, and padded positions carry no loss.
//
// Several documents in one row attend to each other (the attention kernel has no block-diagonal
// mask), as in GPT-style pretraining on concatenated text; each document ends with the separator
// token, so the model learns where a document stops.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "train/samples.hpp"

namespace slmtune::train {

// Splits a corpus file into documents at every line that holds only `separator` (surrounding spaces
// and a '\r' allowed). Leading/trailing blank lines of each document are dropped, and so are
// documents left empty. A separator inside a line is ordinary text.
std::vector<std::string> split_documents(std::string_view text, std::string_view separator);

struct PackedCorpus {
  std::vector<Sample> rows;        // labels == ids (every token trained)
  int64_t documents = 0;
  int64_t tokens = 0;              // corpus tokens, all in some row exactly once
  int64_t cut_documents = 0;       // documents longer than seq_len, split across rows
};

// Packs tokenized documents (each already ending with its separator/EOS, if any) into rows of at most
// `seq_len` tokens as described above. Empty documents are skipped; seq_len must be >= 2.
PackedCorpus pack_documents(const std::vector<std::vector<int32_t>>& documents, int64_t seq_len);

// Moves ceil(fraction × rows) rows, chosen by a seeded shuffle, from `train` to `validation` (at most
// all but one). fraction 0 moves none; it must lie in [0, 1).
void hold_out_rows(std::vector<Sample>& train, std::vector<Sample>& validation, double fraction, uint64_t seed);

}  // namespace slmtune::train
