#!/usr/bin/env bash
# The README's first command: installs the dependencies, builds slmtune and runs the main job —
# fine-tune the bundled base model (models/maritime-lm) on the maritime emergency data with LoRA,
# evaluate it on the held-out test split, show a few conversations with the assistant, and leave
# everything in one run directory:
#
#   runs/main-job/train/      the LoRA adapter (PEFT format), checkpoints, metrics.jsonl, loss.svg,
#                             train_config.yaml
#   runs/main-job/merged/     the base model with the adapter merged in (when `slmtune merge` exists)
#   runs/main-job/eval.txt    the metrics table on examples/maritime/data/test.csv, decoded as the assistant
#                             runs (constrained: every call valid JSON for its schema); eval.json: the same
#                             as JSON; predictions.jsonl: every row's output, score and wrong arguments
#   runs/main-job/eval-unconstrained.*  the same for the model alone, without constrained decoding
#   runs/main-job/assist.txt  example conversations: a crew message → the calls → the radio message
#
# RUN_DIR=... picks another run directory, BUILD_DIR=... another build directory, THREADS=N the
# compute threads (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target slmtune

slmtune="$build/slmtune --threads ${THREADS:-$(nproc)}"
run=${RUN_DIR:-runs/main-job}
model=models/maritime-lm
maritime=examples/maritime
rm -rf "$run"
mkdir -p "$run"
start=$(date +%s)

echo "== fine-tuning $model with LoRA on $maritime/data/train.csv"
$slmtune train "$maritime/train.yaml" --set output_dir="$run/train"

echo "== evaluating on the held-out test split ($maritime/data/test.csv), with constrained decoding as assist runs"
eval_test="$slmtune eval --model $model --adapter $run/train --data $maritime/data/test.csv
  --system-file $maritime/system_prompt.txt --prompt-format functional_tokens"
$eval_test --constrained --json-out "$run/eval.json" --predictions "$run/predictions.jsonl" | tee "$run/eval.txt"
echo "== the model alone, without constrained decoding ($run/eval-unconstrained.txt)"
$eval_test --json-out "$run/eval-unconstrained.json" --predictions "$run/predictions-unconstrained.jsonl" \
  > "$run/eval-unconstrained.txt"
grep -E '^(exact_match|json_valid|no_call_accuracy) ' "$run/eval-unconstrained.txt"

echo "== the assistant"
while IFS='|' read -r gps message; do
  {
    echo "> [$gps] $message"
    $slmtune -q assist --model "$model" --adapter "$run/train" --system-file "$maritime/system_prompt.txt" \
      --prompt-format functional_tokens --gps "$gps" "$message"
    echo
  } | tee -a "$run/assist.txt"
done <<'MESSAGES'
42.3541N, 71.0654W|we are taking on water
50.3660N, 4.1420W|my wife slipped on deck and broke her arm, she is in pain
36.1408N, 5.3536W|the engine quit and the current is pushing us onto the rocks
43.2965N, 5.3698E|thanks, everyone is back on board and fine
MESSAGES

if "$build/slmtune" merge --help >/dev/null 2>&1; then
  echo "== merging the adapter into the base model"
  $slmtune merge --model "$model" --adapter "$run/train" --out "$run/merged"
else
  echo "== (no merge command in this build: the adapter stays separate)"
fi
echo "main job done in $(( $(date +%s) - start )) s; everything is in $run/"
