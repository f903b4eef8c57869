"""The HF transformers side of routecal's GPU benchmark (issue 8, item 6). Runs on the GPU machine.

  python tests/gpu/hf_bench.py --layers 4 --seq 2048 --batch 1 --out bench/gpu/hf_bench.json [--save-checkpoint DIR]

1. Builds a random-init Qwen3-MoE at Qwen3-30B-A3B layer geometry (hidden 2048, 128 experts, top-8,
   moe_intermediate 768, 32 query / 4 KV heads, head_dim 128) with --layers decoder layers, bf16 on cuda, and
   optionally saves it (safetensors + config.json) so routecal's routing pass can run on the very same checkpoint.
2. Routing pass: model.model(input_ids, output_router_logits=True) (no lm_head), tokens/s at --seq, for every
   experts_implementation this transformers offers (eager, batched_mm, grouped_mm = the default, sonicmoe when its
   package is installed); reports the default and the fastest.
3. Compute floor: measured bf16 matmul peak (8192^3 torch.matmul) and the routing pass's FLOPs -> the floor in seconds.
4. GPTQ baseline: the straightforward per-expert PyTorch loop on layer 0 (gate_proj, up_proj, down_proj of every
   expert, each its own Hessian from its routed tokens, block 128, int4 symmetric group 128) -> seconds per layer.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F
import transformers
from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM

sys.path.insert(0, os.path.dirname(__file__))
from gptq_torch import gptq_sweep, hinv_upper, symmetric_scales  # noqa: E402


def config(layers):
    return Qwen3MoeConfig(
        vocab_size=151936, hidden_size=2048, intermediate_size=6144, moe_intermediate_size=768,
        num_hidden_layers=layers, num_attention_heads=32, num_key_value_heads=4, head_dim=128,
        num_experts=128, num_experts_per_tok=8, norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
        max_position_embeddings=40960, rms_norm_eps=1e-6, tie_word_embeddings=False, torch_dtype="bfloat16")


def sync_time(fn, reps):
    fn()  # warm-up (kernel selection, allocator)
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return min(times), times


def matmul_peak():
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    best, _ = sync_time(lambda: a @ b, 5)
    return 2 * 8192 ** 3 / best


def routing_pass_flops(cfg, batch, seq):
    h, d, hq, hkv = cfg.hidden_size, cfg.head_dim, cfg.num_attention_heads, cfg.num_key_value_heads
    t = batch * seq
    proj = 2 * t * h * (hq * d + 2 * hkv * d) + 2 * t * hq * d * h
    attn = 2 * 2 * batch * (seq * (seq + 1) / 2) * hq * d  # causal QK^T and PV
    router = 2 * t * h * cfg.num_experts
    experts = 2 * t * cfg.num_experts_per_tok * 3 * h * cfg.moe_intermediate_size
    return cfg.num_hidden_layers * (proj + attn + router + experts)


def experts_implementations():
    impls = ["eager", "batched_mm", "grouped_mm"]
    try:
        import sonicmoe  # noqa: F401
        impls.append("sonicmoe")
    except ImportError:
        pass
    return impls


def gptq_per_expert_layer(model, ids):
    """Per-expert PyTorch GPTQ of layer 0's experts; returns (seconds, modules, tokens per expert stats)."""
    layer = model.model.layers[0]
    captured = {}
    hook = layer.mlp.register_forward_pre_hook(lambda m, a: captured.__setitem__("x", a[0].detach()))
    with torch.inference_mode():
        model.model(ids)
    hook.remove()
    x = captured["x"].reshape(-1, model.config.hidden_size)
    experts = layer.mlp.experts
    with torch.inference_mode():
        _, _, top = layer.mlp.gate(x)
    inter = model.config.moe_intermediate_size
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    modules = 0
    with torch.inference_mode():
        for e in range(model.config.num_experts):
            rows = (top == e).any(dim=-1).nonzero().squeeze(-1)
            xe = x[rows].float()
            gate_w = experts.gate_up_proj[e, :inter].float()
            up_w = experts.gate_up_proj[e, inter:].float()
            act = (F.silu(xe @ gate_w.T) * (xe @ up_w.T))
            for w, inp in ((gate_w, xe), (up_w, xe), (experts.down_proj[e].float(), act)):
                n = max(1, inp.shape[0])
                H = 2 * inp.T @ inp / n
                U = hinv_upper(H)
                gptq_sweep(w, U, symmetric_scales(w, 128), 128, -8, 7)
                modules += 1
    torch.cuda.synchronize()
    return time.perf_counter() - t0, modules


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default="bench/gpu/hf_bench.json")
    ap.add_argument("--save-checkpoint", default=None)
    ap.add_argument("--skip-gptq", action="store_true")
    args = ap.parse_args()

    torch.manual_seed(0)
    cfg = config(args.layers)
    with torch.device("cuda"):
        model = Qwen3MoeForCausalLM(cfg).to(torch.bfloat16).eval()
    with torch.no_grad():  # make sure every parameter is random (the router weight is created as zeros)
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0.0, 0.02)
    if args.save_checkpoint:
        model.save_pretrained(args.save_checkpoint)
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq), device="cuda")
    tokens = args.batch * args.seq
    result = {"format": "routecal-hf-bench", "format_version": 1, "device": torch.cuda.get_device_name(),
              "torch": torch.__version__, "transformers": transformers.__version__, "layers": args.layers,
              "batch": args.batch, "seq": args.seq, "attn_implementation": model.config._attn_implementation,
              "default_experts_implementation": model.get_experts_implementation() if hasattr(model, "get_experts_implementation") else None,
              "routing_pass": {}}
    for impl in experts_implementations():
        try:
            model.set_experts_implementation(impl)
            with torch.inference_mode():
                best, times = sync_time(lambda: model.model(ids, output_router_logits=True), args.reps)
            result["routing_pass"][impl] = {"seconds": best, "tokens_per_s": tokens / best, "all_seconds": times}
            print(f"routing pass {impl:11s}: {best * 1e3:8.1f} ms  {tokens / best:10.0f} tok/s", flush=True)
        except Exception as e:  # an implementation unavailable on this torch/GPU is reported, not fatal
            result["routing_pass"][impl] = {"error": repr(e)}
            print(f"routing pass {impl}: unavailable: {e!r}", flush=True)
    ok = {k: v for k, v in result["routing_pass"].items() if "tokens_per_s" in v}
    if ok:
        result["fastest_experts_implementation"] = max(ok, key=lambda k: ok[k]["tokens_per_s"])
    peak = matmul_peak()
    flops = routing_pass_flops(cfg, args.batch, args.seq)
    result["bf16_matmul_peak_tflops"] = peak / 1e12
    result["routing_pass_flops"] = flops
    result["compute_floor_seconds"] = flops / peak
    result["compute_floor_tokens_per_s"] = tokens / (flops / peak)
    print(f"bf16 matmul peak {peak / 1e12:.0f} TFLOP/s; routing pass {flops / 1e12:.2f} TFLOP -> floor "
          f"{flops / peak * 1e3:.1f} ms ({tokens / (flops / peak):.0f} tok/s)", flush=True)
    if not args.skip_gptq:
        secs, modules = gptq_per_expert_layer(model, ids)
        result["gptq_per_expert_loop"] = {"seconds_per_layer": secs, "modules": modules, "scheme": "int4 sym g128, block 128, damp 0.01"}
        print(f"GPTQ per-expert PyTorch loop: {secs:.1f} s for layer 0 ({modules} modules)", flush=True)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
