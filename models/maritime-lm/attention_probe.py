#!/usr/bin/python3
"""Runs a Llama-architecture Hugging Face model directory in PyTorch and shows where each attention
head looks from the last token: the tool behind the README's analysis of why the bundled model does
not copy the longitude's hemisphere letter.

    ids=$(build/slmtune tokenize models/maritime-lm --parse-special --text "$TEXT")
    /usr/bin/python3 models/maritime-lm/attention_probe.py models/maritime-lm --ids "$ids" --top 3

prints the last position's top logits and, for every layer and head, the prompt positions that head
attends to most (with the token there), as JSON with --json. The forward is tests/golden/make_goldens.py's
re-implementation of transformers' LlamaForCausalLM (rotate-half RoPE, RMSNorm, grouped-query
attention, SwiGLU, tied or untied lm_head), run on the weights of the safetensors file as stored (f32,
bf16 or f16) widened to float64, so its logits are an independent check of slmtune's. Needs Debian's
python3-torch; reads nothing but the model directory.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

# The forward is tests/golden/make_goldens.py's, the PyTorch reference of the Hugging Face modeling
# equations that the C++ transformer's golden tests are made from.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/golden"))
import make_goldens  # noqa: E402


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        fail(f"{path}: too short for a safetensors header")
    size = struct.unpack("<Q", raw[:8])[0]
    try:
        header = json.loads(raw[8:8 + size])
    except ValueError as e:
        fail(f"{path}: header is not JSON ({e})")
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        data = raw[8 + size + begin:8 + size + end]
        if info["dtype"] == "BF16":
            values = (np.frombuffer(data, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] == "F16":
            values = np.frombuffer(data, dtype=np.float16).astype(np.float32)
        elif info["dtype"] == "F32":
            values = np.frombuffer(data, dtype=np.float32)
        else:
            fail(f"{path}: {name}: dtype {info['dtype']} (expected F32, BF16 or F16)")
        tensors[name] = torch.tensor(values.reshape(info["shape"]).copy(), dtype=torch.float64)
    return tensors


def forward(config, weights, ids):
    """Logits of the last position and each layer's attention rows of the last position [heads, T]."""
    input_ids = torch.tensor([ids])
    rows = []
    logits, _ = make_goldens.forward(config, weights, input_ids, torch.ones_like(input_ids), input_ids, {}, rows)
    return logits[0, -1], [layer[0, :, -1, :] for layer in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a Hugging Face directory of a LlamaForCausalLM (config.json, model.safetensors)")
    parser.add_argument("--ids", required=True, help="token ids separated by spaces (slmtune tokenize prints them)")
    parser.add_argument("--top", type=int, default=5, help="how many logits, and attended positions per head, to print")
    parser.add_argument("--json", action="store_true", help='print {"top": [{"id", "logit"}], "attention": '
                        '[[[{"position", "weight"}] per head] per layer]}')
    args = parser.parse_args()

    try:
        with open(f"{args.model}/config.json", encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{args.model}/config.json: {e}")
    if config.get("model_type") != "llama":
        fail(f"{args.model}/config.json: model_type {config.get('model_type')!r} (this probe follows LlamaForCausalLM only)")
    try:
        ids = [int(token) for token in args.ids.split()]
    except ValueError:
        fail(f"--ids: expected token ids separated by spaces, got {args.ids!r}")
    if not ids or min(ids) < 0 or max(ids) >= config["vocab_size"]:
        fail(f"--ids: expected 1 or more ids in [0, {config['vocab_size']})")
    weights = load_safetensors(f"{args.model}/model.safetensors")

    logits, attention = forward(config, weights, ids)
    top = logits.topk(min(args.top, logits.numel()))
    result = {
        "top": [{"id": int(i), "logit": float(v)} for v, i in zip(top.values, top.indices)],
        "attention": [[[{"position": int(j), "weight": float(w)}
                        for w, j in zip(*row.topk(min(args.top, len(ids))))] for row in layer] for layer in attention],
    }
    if args.json:
        print(json.dumps(result))
        return
    print("top logits: " + ", ".join(f"{t['id']}={t['logit']:.3f}" for t in result["top"]))
    for layer, rows in enumerate(result["attention"]):
        for head, row in enumerate(rows):
            looks = ", ".join(f"{a['position']} (token {ids[a['position']]}) {a['weight']:.2f}" for a in row)
            print(f"layer {layer} head {head}: {looks}")


if __name__ == "__main__":
    main()
