"""Writes a random-init Qwen3-MoE checkpoint at Qwen3-30B-A3B geometry (hidden 2048, 128 experts, top-8,
moe_intermediate 768, 32 query / 4 KV heads, head_dim 128, vocab 151936, bf16) with any number of layers, streaming
tensor by tensor so it needs little memory (a 48-layer checkpoint is 61 GB; transformers would build it in RAM first).
Values: normal(0, 0.02) like transformers' init, norms 1. For CPU timing of route/quantize at real geometry.

  python3 tests/cpu/make_geometry_checkpoint.py OUT_DIR --layers 12 [--shard-gb 4] [--seed 0]
Any dimension can be changed, e.g. GLM-4.5-sized experts (160 × 1536 × 5120: one layer's gate/up is 2.5·10⁹ values,
more than one Java array holds) on a small vocabulary:
  python3 tests/cpu/make_geometry_checkpoint.py OUT_DIR --layers 1 --hidden 5120 --experts 160 --moe-inter 1536 --vocab 32000
Needs numpy only.
"""
import argparse
import json
import os
import struct

import numpy as np

GEOMETRY = dict(hidden=2048, experts=128, top_k=8, moe_inter=768, heads=32, kv_heads=4, head_dim=128, vocab=151936)


def tensors(layers):
    g = GEOMETRY
    h, d = g["hidden"], g["head_dim"]
    yield "model.embed_tokens.weight", (g["vocab"], h), "normal"
    for l in range(layers):
        p = f"model.layers.{l}."
        yield p + "input_layernorm.weight", (h,), "ones"
        yield p + "post_attention_layernorm.weight", (h,), "ones"
        yield p + "self_attn.q_proj.weight", (g["heads"] * d, h), "normal"
        yield p + "self_attn.k_proj.weight", (g["kv_heads"] * d, h), "normal"
        yield p + "self_attn.v_proj.weight", (g["kv_heads"] * d, h), "normal"
        yield p + "self_attn.o_proj.weight", (h, g["heads"] * d), "normal"
        yield p + "self_attn.q_norm.weight", (d,), "ones"
        yield p + "self_attn.k_norm.weight", (d,), "ones"
        yield p + "mlp.gate.weight", (g["experts"], h), "normal"
        for e in range(g["experts"]):
            q = f"{p}mlp.experts.{e}."
            yield q + "gate_proj.weight", (g["moe_inter"], h), "normal"
            yield q + "up_proj.weight", (g["moe_inter"], h), "normal"
            yield q + "down_proj.weight", (h, g["moe_inter"]), "normal"
    yield "model.norm.weight", (h,), "ones"
    yield "lm_head.weight", (g["vocab"], h), "normal"


def bf16_bytes(rng, shape, kind):
    n = int(np.prod(shape))
    x = np.ones(n, np.float32) if kind == "ones" else rng.standard_normal(n, dtype=np.float32) * np.float32(0.02)
    bits = x.view(np.uint32)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)  # round to nearest even
    return rounded.tobytes()


def write_shard(path, items, rng):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape, _ in items:
        size = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name, shape, kind in items:
            f.write(bf16_bytes(rng, shape, kind))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--shard-gb", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    for key, value in GEOMETRY.items():
        ap.add_argument("--" + key.replace("_", "-"), type=int, default=value)
    a = ap.parse_args()
    GEOMETRY.update({k: getattr(a, k) for k in GEOMETRY})
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    shards, cur, size, limit = [], [], 0, int(a.shard_gb * (1 << 30))
    for t in tensors(a.layers):
        b = int(np.prod(t[1])) * 2
        if cur and size + b > limit:
            shards.append(cur)
            cur, size = [], 0
        cur.append(t)
        size += b
    shards.append(cur)
    weight_map, total = {}, 0
    for i, items in enumerate(shards):
        name = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_shard(os.path.join(a.out, name), items, rng)
        for n, shape, _ in items:
            weight_map[n] = name
            total += int(np.prod(shape)) * 2
        print(f"wrote {name} ({sum(int(np.prod(s)) * 2 for _, s, _ in items) / 2**30:.2f} GiB)", flush=True)
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)
    g = GEOMETRY
    config = {"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "vocab_size": g["vocab"],
              "hidden_size": g["hidden"], "intermediate_size": 6144, "num_hidden_layers": a.layers,
              "num_attention_heads": g["heads"], "num_key_value_heads": g["kv_heads"], "head_dim": g["head_dim"],
              "hidden_act": "silu", "max_position_embeddings": 40960, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
              "num_experts": g["experts"], "num_experts_per_tok": g["top_k"], "moe_intermediate_size": g["moe_inter"],
              "norm_topk_prob": True, "decoder_sparse_step": 1, "mlp_only_layers": [], "tie_word_embeddings": False,
              "torch_dtype": "bfloat16", "attention_bias": False}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    print(f"{a.out}: {a.layers} layers, {total / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
