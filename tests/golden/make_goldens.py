#!/usr/bin/python3
"""Whole-model goldens for tests/model/transformer_golden_test.cpp, computed with PyTorch autograd.

Run with Debian's python3-torch (1.13):   /usr/bin/python3 tests/golden/make_goldens.py
It rewrites tests/golden/<case>/{config.json, model.safetensors, expected.safetensors}.

Each case is a tiny random model of one family, written as a Hugging Face directory (config.json +
model.safetensors, weights stored as f32, bf16 or f16). The forward below re-implements the equations
of the transformers modeling files (v4.4x) for these families, in plain torch ops so that autograd
gives the reference gradients:

  * Llama / Mistral (modeling_llama.py, modeling_mistral.py): RMSNorm (x * rsqrt(mean(x²) + eps) * w,
    in f32), rotate-half RoPE (`rotate_half` = cat(-x2, x1); q·cos + rotate_half(q)·sin with
    emb = cat(freqs, freqs)), grouped-query attention (`repeat_kv`), SwiGLU MLP
    down(silu(gate(x)) * up(x)), sequential block h = x + attn(norm1(x)); out = h + mlp(norm2(h)).
    Rope frequencies: default, and `rope_type: llama3` (modeling_rope_utils._compute_llama3_parameters).
  * Qwen2 (modeling_qwen2.py): Llama plus biases on q_proj/k_proj/v_proj (not on o_proj); tied
    embeddings (lm_head = embed_tokens).
  * Phi-3 (modeling_phi3.py): fused `qkv_proj` whose output rows are q | k | v, fused `gate_up_proj`
    whose output is split by `chunk(2, dim=-1)` into gate (FIRST half) and up; `longrope` frequencies
    (_compute_longrope_parameters: long_factor once the sequence, max(position_ids) + 1, exceeds
    original_max_position_embeddings, short_factor otherwise; cos/sin scaled by
    sqrt(1 + log(max_pos / original) / log(original))).
  * phi-2 (modeling_phi.py, PhiForCausalLM): LayerNorm with bias, partial rotary (only the first
    int(partial_rotary_factor · head_dim) dims of each head rotate, the rest pass through), biases on
    q/k/v/dense/fc1/fc2, `gelu_new` (tanh GELU), parallel block out = x + dense(attn(ln(x))) +
    fc2(gelu(fc1(ln(x)))), final_layernorm, lm_head with bias.

Attention follows the eager path: scores = q·kᵀ / sqrt(head_dim) + a causal mask and the padding
mask (right padding; a key is admitted when j ≤ i and attention_mask[j] = 1), softmax in f32.
The loss is HF's: logits[:, :-1] against labels[:, 1:], mean cross-entropy, ignore_index -100.

expected.safetensors holds input_ids, attention_mask, labels (I32), logits [B, T, V], loss [1], the
gradient of the loss for every parameter ("grad.<hf name>") and for the input of every linear
layer ("grad_input.<module>.input", named as transformer.hpp's GradientObserver names them).
"""
import json
import math
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)

BASE = dict(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
            tie_word_embeddings=False, torch_dtype="float32", bos_token_id=1, eos_token_id=2)


def cases():
    yield "llama", "bf16", dict(BASE, architectures=["LlamaForCausalLM"], model_type="llama")
    yield "mistral", "f16", dict(BASE, architectures=["MistralForCausalLM"], model_type="mistral",
                                 sliding_window=4096, rope_theta=1e6)
    yield "qwen2", "f32", dict(BASE, architectures=["Qwen2ForCausalLM"], model_type="qwen2", rope_theta=1e6,
                               tie_word_embeddings=True, use_sliding_window=False)
    yield "phi3", "bf16", dict(BASE, architectures=["Phi3ForCausalLM"], model_type="phi3", rms_norm_eps=1e-5)
    yield "phi2", "f32", dict(BASE, architectures=["PhiForCausalLM"], model_type="phi",
                              num_key_value_heads=4, layer_norm_eps=1e-5, partial_rotary_factor=0.5,
                              hidden_act="gelu_new")
    # head_dim 10 with factor 0.4: four rotating dims, six passing through.
    yield "phi2_partial", "f32", dict(BASE, architectures=["PhiForCausalLM"], model_type="phi", hidden_size=40,
                                      num_key_value_heads=4, layer_norm_eps=1e-5, partial_rotary_factor=0.4,
                                      hidden_act="gelu_new")
    # original context 64 puts head_dim 8's four wavelengths (2π·10000^(i/4)) in all three bands.
    yield "llama3_rope", "f32", dict(BASE, architectures=["LlamaForCausalLM"], model_type="llama",
                                     max_position_embeddings=256,
                                     rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                                       high_freq_factor=4.0, original_max_position_embeddings=64))
    # original context 4 < 7 tokens: the long factors apply.
    yield "phi3_longrope", "f32", dict(BASE, architectures=["Phi3ForCausalLM"], model_type="phi3",
                                       rms_norm_eps=1e-5, max_position_embeddings=32,
                                       original_max_position_embeddings=4,
                                       rope_scaling=dict(type="longrope", short_factor=[1.0, 1.5, 2.0, 3.0],
                                                         long_factor=[1.0, 2.5, 4.0, 9.0]))


def family(cfg):
    return cfg["model_type"]


def tensor_table(cfg):
    """(HF name, shape, kind) in module order; kind: 'embed', 'linear', 'bias', 'norm', 'norm_bias'."""
    h, i, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = h // heads
    fam = family(cfg)
    out = [("model.embed_tokens.weight", [v, h], "embed")]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        def lin(name, o, n, bias):
            out.append((p + name + ".weight", [o, n], "linear"))
            if bias:
                out.append((p + name + ".bias", [o], "bias"))
        out.append((p + "input_layernorm.weight", [h], "norm"))
        if fam == "phi":
            out.append((p + "input_layernorm.bias", [h], "norm_bias"))
        if fam == "phi3":
            lin("self_attn.qkv_proj", heads * hd + 2 * kv * hd, h, False)
        else:
            bias = fam in ("qwen2", "phi")
            lin("self_attn.q_proj", heads * hd, h, bias)
            lin("self_attn.k_proj", kv * hd, h, bias)
            lin("self_attn.v_proj", kv * hd, h, bias)
        lin("self_attn.dense" if fam == "phi" else "self_attn.o_proj", h, heads * hd, fam == "phi")
        if fam == "phi":
            lin("mlp.fc1", i, h, True)
            lin("mlp.fc2", h, i, True)
            continue
        out.append((p + "post_attention_layernorm.weight", [h], "norm"))
        if fam == "phi3":
            lin("mlp.gate_up_proj", 2 * i, h, False)
        else:
            lin("mlp.gate_proj", i, h, False)
            lin("mlp.up_proj", i, h, False)
        lin("mlp.down_proj", h, i, False)
    out.append(("model.final_layernorm.weight" if fam == "phi" else "model.norm.weight", [h], "norm"))
    if fam == "phi":
        out.append(("model.final_layernorm.bias", [h], "norm_bias"))
    if not cfg["tie_word_embeddings"]:
        out.append(("lm_head.weight", [v, h], "linear"))
        if fam == "phi":
            out.append(("lm_head.bias", [v], "bias"))
    return out


STORAGE = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}
ST_DTYPE = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16", torch.int32: "I32"}


def random_weights(cfg, storage):
    weights = {}
    for name, shape, kind in tensor_table(cfg):
        if kind == "embed":
            w = torch.randn(shape) * 0.5
        elif kind == "linear":
            w = torch.randn(shape) / math.sqrt(shape[1])
        elif kind == "norm":
            w = 1.0 + 0.1 * torch.randn(shape)
        else:
            w = 0.1 * torch.randn(shape)
        # Round to the stored dtype: the reference computes in f32 from exactly the stored values.
        weights[name] = w.to(STORAGE[storage]).to(torch.float32)
    return weights


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        if t.dtype in (torch.bfloat16, torch.float16):
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


# ---- rope (modeling_rope_utils) ----

def inv_freq_of(cfg, seq_len):
    hd = cfg["hidden_size"] // cfg["num_attention_heads"]
    dim = int(hd * cfg.get("partial_rotary_factor", 1.0))
    base = cfg["rope_theta"]
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    scaling = cfg.get("rope_scaling")
    attention_factor = 1.0
    if scaling is None:
        return inv_freq, attention_factor
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv_freq
        scaled = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        return torch.where(medium, smoothed, scaled), attention_factor
    if kind == "longrope":
        original = cfg["original_max_position_embeddings"]
        ext = torch.tensor(scaling["long_factor"] if seq_len > original else scaling["short_factor"],
                           dtype=torch.float32)
        inv_freq = 1.0 / (ext * base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        scale = cfg["max_position_embeddings"] / original
        if scale > 1.0:
            attention_factor = math.sqrt(1 + math.log(scale) / math.log(original))
        return inv_freq, attention_factor
    raise ValueError(kind)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x, cos, sin):
    """x: [B, heads, T, hd]; rotates the first cos.shape[-1] dims (partial rotary), passes the rest."""
    rot = cos.shape[-1]
    x_rot, x_pass = x[..., :rot], x[..., rot:]
    return torch.cat((x_rot * cos + rotate_half(x_rot) * sin, x_pass), dim=-1)


# ---- the model ----

def forward(cfg, w, input_ids, attention_mask, labels, watch, attention_rows=None):
    """Logits and loss; `watch` receives the input of every linear layer (gradients retained when the
    weights require them), `attention_rows`, when a list, each layer's softmax probabilities [B, heads, T, T]
    (models/maritime-lm/attention_probe.py reads them)."""
    fam = family(cfg)
    B, T = input_ids.shape
    h, heads, kv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = h // heads
    eps = cfg.get("layer_norm_eps", cfg["rms_norm_eps"]) if fam == "phi" else cfg["rms_norm_eps"]
    position_ids = torch.arange(T).unsqueeze(0).expand(B, T)
    inv_freq, attention_factor = inv_freq_of(cfg, int(position_ids.max()) + 1)
    freqs = position_ids[:, :, None].float() * inv_freq[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos = (emb.cos() * attention_factor)[:, None]
    sin = (emb.sin() * attention_factor)[:, None]

    def norm(x, name):
        if fam == "phi":
            return torch.nn.functional.layer_norm(x, (h,), w[name + ".weight"], w[name + ".bias"], eps)
        return w[name + ".weight"] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def linear(x, name):
        return torch.nn.functional.linear(x, w[name + ".weight"], w.get(name + ".bias"))

    def keep(t, name):
        if t.requires_grad:
            t.retain_grad()
        watch[name] = t
        return t

    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    allowed = causal[None, None] & attention_mask[:, None, None, :].bool()
    neg = torch.finfo(torch.float32).min

    def attention(x, p):
        if fam == "phi3":
            qkv = linear(x, p + "self_attn.qkv_proj")
            q, k, v = qkv.split([heads * hd, kv * hd, kv * hd], dim=-1)
        else:
            q, k, v = (linear(x, p + "self_attn." + n) for n in ("q_proj", "k_proj", "v_proj"))
        q = q.view(B, T, heads, hd).transpose(1, 2)
        k = k.view(B, T, kv, hd).transpose(1, 2)
        v = v.view(B, T, kv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        k = k.repeat_interleave(heads // kv, dim=1)
        v = v.repeat_interleave(heads // kv, dim=1)
        scores = q @ k.transpose(2, 3) / math.sqrt(hd)
        scores = scores.masked_fill(~allowed, neg)
        probabilities = torch.softmax(scores, dim=-1)
        if attention_rows is not None:
            attention_rows.append(probabilities)
        out = probabilities @ v
        out = out.transpose(1, 2).reshape(B, T, heads * hd)
        o_name = "self_attn.dense" if fam == "phi" else "self_attn.o_proj"
        return linear(keep(out, p + o_name + ".input"), p + o_name)

    x = w["model.embed_tokens.weight"][input_ids]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        if fam == "phi":
            ln = keep(norm(x, p + "input_layernorm"), p + "self_attn.q_proj.input")
            watch[p + "mlp.fc1.input"] = ln
            act = torch.nn.functional.gelu(linear(ln, p + "mlp.fc1"), approximate="tanh")
            mlp = linear(keep(act, p + "mlp.fc2.input"), p + "mlp.fc2")
            x = x + attention(ln, p) + mlp
            continue
        n1 = keep(norm(x, p + "input_layernorm"), p + ("self_attn.qkv_proj.input" if fam == "phi3"
                                                         else "self_attn.q_proj.input"))
        x = x + attention(n1, p)
        n2 = norm(x, p + "post_attention_layernorm")
        if fam == "phi3":
            keep(n2, p + "mlp.gate_up_proj.input")
            gate, up = linear(n2, p + "mlp.gate_up_proj").chunk(2, dim=-1)
        else:
            keep(n2, p + "mlp.gate_proj.input")
            gate, up = linear(n2, p + "mlp.gate_proj"), linear(n2, p + "mlp.up_proj")
        act = torch.nn.functional.silu(gate) * up
        x = x + linear(keep(act, p + "mlp.down_proj.input"), p + "mlp.down_proj")
    x = keep(norm(x, "model.final_layernorm" if fam == "phi" else "model.norm"), "lm_head.input")
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    logits = torch.nn.functional.linear(x, head, w.get("lm_head.bias"))
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                             labels[:, 1:].reshape(-1), ignore_index=-100)
    return logits, loss


def make_case(name, storage, cfg):
    weights = random_weights(cfg, storage)
    B, T = 2, 7
    input_ids = torch.randint(0, cfg["vocab_size"], (B, T))
    attention_mask = torch.ones(B, T, dtype=torch.int64)
    attention_mask[1, 5:] = 0  # right padding: row 1 has 5 real tokens
    labels = input_ids.clone()
    labels[attention_mask == 0] = -100
    labels[0, :2] = -100  # a "prompt" the loss ignores
    params = {k: v.clone().requires_grad_(True) for k, v in weights.items()}
    watch = {}
    logits, loss = forward(cfg, params, input_ids, attention_mask, labels, watch)
    loss.backward()

    out_dir = os.path.join(HERE, name)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out_dir, "model.safetensors"),
                      {k: v.to(STORAGE[storage]) for k, v in weights.items()})
    expected = {
        "input_ids": input_ids.to(torch.int32),
        "attention_mask": attention_mask.to(torch.int32),
        "labels": labels.to(torch.int32),
        "logits": logits.detach(),
        "loss": loss.detach().reshape(1),
    }
    for k, v in params.items():
        expected["grad." + k] = v.grad
    for k, v in watch.items():
        expected["grad_input." + k] = v.grad.reshape(B * T, -1)
    write_safetensors(os.path.join(out_dir, "expected.safetensors"), expected)
    print(f"{name}: loss {loss.item():.6f}, {len(params)} parameters, {len(watch)} linear inputs")


if __name__ == "__main__":
    for case in cases():
        make_case(*case)
