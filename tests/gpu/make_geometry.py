"""Random-weight checkpoints at real MoE geometry, written by HF transformers, for the multi-GPU scaling runs (issue 20,
tests/gpu/run_gpu.sh multi). Runs on the GPU machine; --tiny shrinks every width so the script and routecal's reading
of its output can be checked anywhere (CPU).

  python tests/gpu/make_geometry.py --family qwen3_30b --layers 48 --out DIR    # Qwen3-30B-A3B: 2048 hidden, 128 experts
  python tests/gpu/make_geometry.py --family deepseek_v3 --layers 3 --out DIR   # 1 dense + 2 MoE layers, 256 experts, 7168 hidden

Weights are N(0, 0.02) (the routers too: transformers creates some as zeros), bf16, seeded.
"""
import argparse
import os
import sys

import torch
from transformers import DeepseekV3Config, DeepseekV3ForCausalLM, Qwen3MoeConfig, Qwen3MoeForCausalLM


def qwen3_30b(layers, tiny):
    if tiny:
        return Qwen3MoeConfig(vocab_size=256, hidden_size=64, intermediate_size=96, moe_intermediate_size=32, num_hidden_layers=layers,
                              num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_experts=16, num_experts_per_tok=4,
                              norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[], max_position_embeddings=4096,
                              tie_word_embeddings=False)
    sys.path.insert(0, os.path.dirname(__file__))
    from hf_bench import config  # the one Qwen3-30B-A3B geometry of the GPU benchmarks
    return config(layers)


def deepseek_v3(layers, tiny):
    # the real widths are DeepseekV3Config's defaults; the slice keeps one dense layer first and no MTP layer
    common = dict(num_hidden_layers=layers, first_k_dense_replace=1, num_mtp_layers=0, max_position_embeddings=4096,
                  tie_word_embeddings=False)
    if tiny:
        return DeepseekV3Config(vocab_size=256, hidden_size=64, intermediate_size=96, moe_intermediate_size=32, num_attention_heads=4,
                                num_key_value_heads=4, n_routed_experts=16, num_experts_per_tok=4, n_group=4, topk_group=2,
                                q_lora_rank=48, kv_lora_rank=32, qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16, **common)
    return DeepseekV3Config(**common)


FAMILIES = {"qwen3_30b": (qwen3_30b, Qwen3MoeForCausalLM), "deepseek_v3": (deepseek_v3, DeepseekV3ForCausalLM)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", choices=sorted(FAMILIES), required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tiny", action="store_true", help="small widths, same structure (to check the script on a CPU)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        sys.exit(f"{args.out} exists and is not empty; remove it first")
    make_config, model_class = FAMILIES[args.family]
    cfg = make_config(args.layers, args.tiny)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_default_dtype(torch.bfloat16)  # built in bf16: a 3-layer DeepSeek-V3 slice is 48 GB, twice that in fp32
    try:
        with torch.device(device):
            model = model_class(cfg).eval()
    finally:
        torch.set_default_dtype(torch.float32)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.02)
    model.save_pretrained(args.out)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.family}: {args.layers} layers, {params / 1e9:.2f} B parameters -> {args.out}")


if __name__ == "__main__":
    main()
