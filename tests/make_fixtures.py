#!/usr/bin/env python3
"""Reference fixtures for routecal's forward-pass parity tests, made by HF transformers.

For each supported MoE family this script builds a tiny random-init checkpoint (bf16 weights, >= 2 MoE layers,
>= 8 experts, top-k >= 2, router weights scaled up so top-k margins are clear, a shared expert where the family has
one), saves it with save_pretrained, reloads it in fp32 and records, for a few token sequences of different lengths,
every MoE layer's router logits, top-k ids and weights, and the final logits.

Output: tests/fixtures/models/<family>/v1/{config.json, model.safetensors, reference.safetensors, reference.json}
Run: /opt/hfref/bin/python tests/make_fixtures.py   (torch 2.x CPU + transformers 5.17; any machine, no GPU needed)
"""
import json, os, sys, hashlib
import torch
import transformers
from transformers import AutoModelForCausalLM, Qwen3MoeConfig, Qwen2MoeConfig, MixtralConfig, OlmoeConfig
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "models")
VERSION = "v1"
VOCAB = 256
COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
              max_position_embeddings=256, tie_word_embeddings=False)

FAMILIES = {
    # 3 layers, the last one dense (mlp_only_layers) to exercise the dense-MLP path; norm_topk_prob as Qwen3-30B-A3B
    "qwen3_moe": (Qwen3MoeConfig, dict(num_hidden_layers=3, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                                        norm_topk_prob=True, mlp_only_layers=[2], head_dim=16, rope_theta=1000000.0)),
    "qwen2_moe": (Qwen2MoeConfig, dict(num_hidden_layers=2, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                                        shared_expert_intermediate_size=48, norm_topk_prob=False)),
    "mixtral": (MixtralConfig, dict(num_hidden_layers=2, num_local_experts=8, num_experts_per_tok=2)),
    "olmoe": (OlmoeConfig, dict(num_hidden_layers=2, num_experts=8, num_experts_per_tok=2, norm_topk_prob=False,
                                 pad_token_id=1, eos_token_id=2, bos_token_id=None)),
}
LENGTHS = [17, 5, 32, 1]          # a batch of different lengths, incl. a single token
ROUTER_SCALE = 4.0               # router logits std ~2.5: clear top-k margins without saturating the softmax


def routers(model):
    """Router modules in layer order: transformers 5 names them *TopKRouter (per family)."""
    out = []
    for name, mod in model.named_modules():
        if type(mod).__name__.endswith("TopKRouter"):
            out.append((int(name.split(".layers.")[1].split(".")[0]), name, mod))
    return sorted(out)


def main():
    torch.manual_seed(1234)
    for family, (cls, kw) in FAMILIES.items():
        cfg = cls(**COMMON, **kw)
        torch.manual_seed(sum(map(ord, family)))  # per-family seed, stable across Python runs
        model = AutoModelForCausalLM.from_config(cfg).eval()
        with torch.no_grad():
            for p_name, p in model.named_parameters():
                if "norm" in p_name:     # non-trivial norm weights, so a missing norm shows
                    p.copy_(1.0 + 0.1 * torch.randn_like(p))
                else:
                    p.copy_(0.08 * torch.randn_like(p))
            for _, _, r in routers(model):
                r.weight.mul_(ROUTER_SCALE)
        d = os.path.join(OUT, family, VERSION)
        os.makedirs(d, exist_ok=True)
        model.to(torch.bfloat16).save_pretrained(d)
        for f in os.listdir(d):
            if f not in ("config.json", "model.safetensors"):
                os.remove(os.path.join(d, f))
        ref = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32).eval()

        gen = torch.Generator().manual_seed(99)
        seqs = [torch.randint(0, VOCAB, (n,), generator=gen) for n in LENGTHS]
        tensors, meta = {}, {"family": family, "transformers": transformers.__version__, "torch": torch.__version__,
                             "lengths": LENGTHS, "sequences": [s.tolist() for s in seqs], "moe_layers": [], "near_ties": 0,
                             "min_topk_margin": None}
        captured = {}

        def hook(layer):
            def f(mod, inp, out):
                logits, scores, idx = out
                captured[layer] = (logits.detach().float(), scores.detach().float(), idx.detach())
            return f
        handles = [mod.register_forward_hook(hook(layer)) for layer, _, mod in routers(ref)]
        min_margin = float("inf")
        for i, s in enumerate(seqs):
            captured.clear()
            with torch.no_grad():
                out = ref(input_ids=s.unsqueeze(0), use_cache=False)
            tensors[f"seq{i}.logits"] = out.logits[0].float().contiguous()
            for layer, (logits, scores, idx) in sorted(captured.items()):
                tensors[f"seq{i}.layer{layer}.router_logits"] = logits.contiguous()
                tensors[f"seq{i}.layer{layer}.topk_weights"] = scores.contiguous()
                tensors[f"seq{i}.layer{layer}.topk_ids"] = idx.to(torch.int32).contiguous()
                # margin between the k-th and (k+1)-th router logit: a near tie could flip under rounding
                ranked = logits.sort(dim=-1, descending=True).values
                k = idx.shape[-1]
                gap = ranked[:, k - 1] - ranked[:, k]
                min_margin = min(min_margin, gap.min().item())
                meta["near_ties"] += int((gap < 1e-4).sum())
            meta["moe_layers"] = sorted(captured.keys())
        for h in handles:
            h.remove()
        meta["min_topk_margin"] = min_margin
        save_file(tensors, os.path.join(d, "reference.safetensors"))
        with open(os.path.join(d, "model.safetensors"), "rb") as f:
            meta["model_sha256"] = hashlib.sha256(f.read()).hexdigest()
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(meta, f, indent=1)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(f"{family}: moe layers {meta['moe_layers']}, min top-k margin {min_margin:.4f}, near ties {meta['near_ties']}, {size/1e6:.2f} MB")


if __name__ == "__main__":
    sys.exit(main())
