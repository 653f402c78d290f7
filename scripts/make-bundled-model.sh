#!/usr/bin/env bash
# Rebuilds the bundled base model models/maritime-lm from nothing but this repository: generates the
# corpus (templated maritime radio/boating text + the assistant's synthetic conversations, deduplicated
# against the maritime validation and test splits, each given a random position of its own), trains a
# byte-level BPE tokenizer on it (the functional tokens of the two maritime functions reserved; numbers
# stay whole tokens: --split-digits made this 4-layer model copy positions far worse; a hemisphere
# letter is kept with the digit before it, "87.9761E" -> "8" "7" "." "9" "76" "1E", so that copying
# the number's tokens copies the letter: with GPT-2's split the model never learnt to copy the
# longitude's letter, models/maritime-lm/README.md), and pretrains a
# small Llama-architecture model from a seeded random init with `slmtune pretrain`, the conversations
# written in the functional-token format the main job fine-tunes in.
#
#   bash scripts/make-bundled-model.sh          # the committed model: ~40 min on two quiet cores
#   THREADS=1 bash scripts/make-bundled-model.sh   # when the machine is shared; not bit-identical to it
#   SYNTH_RUNS=12 TEXT_DOCUMENTS=1500 EPOCHS=12 bash scripts/make-bundled-model.sh   # a larger corpus
#
# Everything is seeded: the same commit and thread count give the same model. Intermediate files go to
# runs/maritime-lm-build/ (WORK=...); the model directory is overwritten (OUT=... writes elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."

slmtune=${SLMTUNE:-build/slmtune}
if [ ! -x "$slmtune" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$(nproc)" --target slmtune
fi
corpus=models/maritime-lm/corpus
maritime=examples/maritime
work=${WORK:-runs/maritime-lm-build}
out=${OUT:-models/maritime-lm}
threads=${THREADS:-2}
rm -rf "$work"
mkdir -p "$work/tokenizer"

echo "== corpus"
python3 "$corpus/generate_text.py" --seed 1 --documents "${TEXT_DOCUMENTS:-1000}" --out "$work/text.txt"
# Several small synth runs rather than one large one: each run draws the cases evenly before any case
# runs out of distinct queries, and the same query comes back with other positions in other runs.
# No hand-written message enters the corpus: train.csv is what the main job fine-tunes on, the others
# are held out.
handwritten=("$maritime/data/train.csv" "$maritime/data/validation.csv" "$maritime/data/test.csv"
             "$maritime/data/fresh.csv")
chats=()
for seed in $(seq 1 "${SYNTH_RUNS:-10}"); do
  "$slmtune" data synth "$corpus/chat.yaml" -n 560 --seed "$seed" --out "$work/synth-$seed.csv" \
    "${handwritten[@]/#/--exclude=}"
  chats+=("$work/synth-$seed.csv")
done
# A position of its own for every conversation (none of the held-out splits'), so that copying the
# position from the system message, not recalling one, is what the model learns.
python3 "$corpus/random_positions.py" --seed 1 --exclude "$maritime/data/validation.csv" \
  --exclude "$maritime/data/test.csv" --exclude "$maritime/data/fresh.csv" "${chats[@]}"
# About 40% of the messages as typed in a hurry (capitals, typos, repetition), none equal to a
# hand-written one.
python3 "$corpus/noisy_queries.py" --seed 1 "${handwritten[@]/#/--exclude=}" "${chats[@]}"

echo "== tokenizer"
python3 "$corpus/tokenizer_text.py" --system "$maritime/system_prompt.txt" --out "$work/chats.txt" "${chats[@]}"
# Special tokens are reserved, not learnt: keep their spellings out of the merge statistics.
sed -E 's/<\|endoftext\|>|<\|im_start\|>|<\|im_end\|>|<tool_call>|<\/tool_call>|<fn_[a-z_]+>/\n/g' \
  "$work/text.txt" "$work/chats.txt" > "$work/tokenizer-text.txt"
"$slmtune" tokenizer train --vocab-size 2048 --pattern "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+(?=\\p{N}'?[NSEW](?!\\p{L}))|\\p{N}'?[NSEW](?!\\p{L})| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+" --special '<|endoftext|>' --special '<|im_start|>' \
  --special '<|im_end|>' --special '<|pad|>' --special '<tool_call>' --special '</tool_call>' \
  --special '<fn_categorize_emergency>' --special '<fn_broadcast_emergency_message>' \
  -o "$work/tokenizer/tokenizer.json" "$work/tokenizer-text.txt"
python3 - "$corpus/chat_template.jinja" "$work/tokenizer/tokenizer_config.json" <<'PY'
import json, sys
template = open(sys.argv[1], encoding="utf-8").read()
config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|endoftext|>", "eos_token": "<|im_end|>",
          "pad_token": "<|pad|>", "unk_token": None, "add_bos_token": False, "add_eos_token": False,
          "model_max_length": 1024, "padding_side": "right", "clean_up_tokenization_spaces": False,
          "chat_template": template}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(config, f, indent=2, ensure_ascii=False)
    f.write("\n")
PY

echo "== pretraining"
"$slmtune" --threads "$threads" pretrain --config "$corpus/config.json" --tokenizer "$work/tokenizer" \
  --corpus "$work/text.txt" --chat "${chats[@]}" --system-file "$maritime/system_prompt.txt" \
  --out "$out" --run-dir "$work/run" --seq-len 640 --batch-size "${BATCH:-4}" --lr "${LR:-2e-3}" --warmup-steps 20 \
  --epochs "${EPOCHS:-10}" --seed 1 --dtype bf16 --prompt-format functional_tokens
ls -l "$out"
