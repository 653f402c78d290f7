#!/usr/bin/env bash
# The README's first command: installs the dependencies, builds slmtune and runs the main job.
# Until the training pipeline lands, the main job describes a model that slmtune makes itself:
# a small Llama-architecture directory with random weights, inspected as any base model would be.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target slmtune
model=runs/demo-model
build/slmtune new-model --preset tiny-llama "$model"
build/slmtune inspect "$model"
