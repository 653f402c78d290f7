#!/usr/bin/python3
"""Runs a Llama-architecture Hugging Face model directory in PyTorch and shows where each attention
head looks from the last token: the tool behind the README's analysis of why the bundled model does
not copy the longitude's hemisphere letter.

    ids=$(build/slmtune tokenize models/maritime-lm --parse-special --text "$TEXT")
    /usr/bin/python3 models/maritime-lm/attention_probe.py models/maritime-lm --ids "$ids" --top 3

prints the last position's top logits and, for every layer and head, the prompt positions that head
attends to most (with the token there), as JSON with --json. It follows transformers' LlamaForCausalLM
(rotate-half RoPE, RMSNorm, grouped-query attention, SwiGLU, tied or untied lm_head) in float64, from
the safetensors file as stored (f32, bf16 or f16), so its logits are an independent check of slmtune's.
Needs Debian's python3-torch; reads nothing but the model directory.
"""
import argparse
import json
import struct
import sys

import numpy as np
import torch


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


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], -1)


def forward(config, weights, ids):
    """Logits of the last position and each layer's attention rows of the last position [heads, T]."""
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    head_dim = config.get("head_dim", hidden // heads)
    eps = config.get("rms_norm_eps", 1e-6)
    steps = len(ids)

    def rms_norm(x, weight):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * weight

    inverse = 1.0 / (config.get("rope_theta", 10000.0) ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    angles = torch.outer(torch.arange(steps, dtype=torch.float64), inverse)
    angles = torch.cat([angles, angles], -1)
    cos, sin = angles.cos(), angles.sin()
    causal = torch.triu(torch.ones(steps, steps, dtype=torch.bool), 1)

    x = weights["model.embed_tokens.weight"][ids]
    attention = []
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, weights[p + "input_layernorm.weight"])

        def project(name, count):
            y = h @ weights[p + f"self_attn.{name}.weight"].T
            if p + f"self_attn.{name}.bias" in weights:
                y = y + weights[p + f"self_attn.{name}.bias"]
            return y.view(steps, count, head_dim).transpose(0, 1)

        q, k, v = project("q_proj", heads), project("k_proj", kv_heads), project("v_proj", kv_heads)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(heads // kv_heads, 0), v.repeat_interleave(heads // kv_heads, 0)
        scores = (q @ k.transpose(1, 2) / head_dim ** 0.5).masked_fill(causal, float("-inf"))
        probabilities = scores.softmax(-1)
        attention.append(probabilities[:, -1, :])
        x = x + (probabilities @ v).transpose(0, 1).reshape(steps, heads * head_dim) @ weights[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, weights[p + "post_attention_layernorm.weight"])
        gate = torch.nn.functional.silu(h @ weights[p + "mlp.gate_proj.weight"].T)
        x = x + (gate * (h @ weights[p + "mlp.up_proj.weight"].T)) @ weights[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, weights["model.norm.weight"])
    head = weights.get("lm_head.weight", weights["model.embed_tokens.weight"])
    return x[-1] @ head.T, attention


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
