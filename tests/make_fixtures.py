#!/usr/bin/env python3
"""Reference fixtures for routecal's forward-pass parity tests, made by HF transformers.

For each MoE family this script builds a tiny random-init checkpoint (bf16 weights, >= 2 MoE layers, >= 8 experts,
top-k >= 2, router weights scaled up so top-k margins are clear, a shared expert and dense layers where the family
has them), saves it with save_pretrained, reloads it in fp32 and records, for a few token sequences of different
lengths, every MoE layer's router logits, top-k ids and weights, and the final logits; and, for the first sequence,
the logits of transformers' own KV-cache decode (half the sequence as prefill, then one token at a time).

The new families (deepseek_v3, gpt_oss, glm4_moe, llama4_text) are configured so that what is special about them
is exercised: MLA with q LoRA, YaRN with mscale and a non-zero e_score_correction_bias with groups (DeepSeek-V3);
sinks, biases, a sliding window shorter than the sequences and YaRN without truncation (GPT-OSS); partial RoPE, q/k
norm, attention bias (GLM-4.5); chunked attention shorter than the sequences, NoPE layers with temperature tuning,
interleaved dense/MoE layers (Llama 4). Sequences run alone with eager attention.

Quantized twins (quantized by this script, decoded by transformers' own code):
  deepseek_v3_fp8/  the deepseek_v3 weights as FP8 e4m3 with 16x16 block weight_scale_inv, quantized by
                    transformers' Fp8Quantize (its FineGrainedFP8 quantizer), quantization_config as DeepSeek ships it;
                    dequantized.safetensors = transformers' Fp8Dequantize of every quantized tensor (float32), and the
                    references come from the checkpoint loaded by from_pretrained (which dequantizes on CPU).
  gpt_oss_mxfp4/    the gpt_oss experts as MXFP4 *_blocks / *_scales (e2m1 nibbles, low nibble first; e8m0 scales,
                    bias 127; [experts, out, in/32, 16] as GPT-OSS ships them); the bf16 twin gpt_oss/ holds exactly the
                    values transformers' convert_moe_packed_tensors decodes, so both route identically;
                    dequantized.safetensors = that decode (float32).

Output: tests/fixtures/models/<family>/v1/{config.json, model.safetensors, reference.safetensors, reference.json}
Run: /work/venv-hf/bin/python tests/make_fixtures.py [family ...]   (torch 2.x CPU + transformers 5.17 + accelerate;
     any machine, no GPU needed; with no argument every family is (re)made)
"""
import hashlib
import json
import math
import os
import shutil
import sys

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import (AutoModelForCausalLM, DeepseekV3Config, Glm4MoeConfig, GptOssConfig, Llama4TextConfig,
                          MixtralConfig, OlmoeConfig, Qwen2MoeConfig, Qwen3MoeConfig)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "models")
VERSION = "v1"
VOCAB = 256
COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
              max_position_embeddings=256, tie_word_embeddings=False)
EAGER = dict(attn_implementation="eager")

FAMILIES = {
    # 3 layers, the last one dense (mlp_only_layers) to exercise the dense-MLP path; norm_topk_prob as Qwen3-30B-A3B
    "qwen3_moe": (Qwen3MoeConfig, dict(num_hidden_layers=3, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                                        norm_topk_prob=True, mlp_only_layers=[2], head_dim=16, rope_theta=1000000.0)),
    "qwen2_moe": (Qwen2MoeConfig, dict(num_hidden_layers=2, num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                                        shared_expert_intermediate_size=48, norm_topk_prob=False)),
    "mixtral": (MixtralConfig, dict(num_hidden_layers=2, num_local_experts=8, num_experts_per_tok=2)),
    "olmoe": (OlmoeConfig, dict(num_hidden_layers=2, num_experts=8, num_experts_per_tok=2, norm_topk_prob=False,
                                 pad_token_id=1, eos_token_id=2, bos_token_id=None)),
    # layer 0 dense (first_k_dense_replace), 8 experts in 4 groups of which 2 are kept, q LoRA, YaRN with mscale
    "deepseek_v3": (DeepseekV3Config, dict(num_hidden_layers=3, first_k_dense_replace=1, n_routed_experts=8,
                                            num_experts_per_tok=2, n_group=4, topk_group=2, n_shared_experts=1,
                                            moe_intermediate_size=32, routed_scaling_factor=2.5, norm_topk_prob=True,
                                            num_key_value_heads=4, q_lora_rank=48, kv_lora_rank=32, qk_rope_head_dim=8,
                                            qk_nope_head_dim=16, v_head_dim=16, rope_interleave=True,
                                            rope_parameters=dict(rope_type="yarn", rope_theta=10000.0, factor=4.0,
                                                                 original_max_position_embeddings=64, mscale=1.0,
                                                                 mscale_all_dim=1.0, beta_fast=32.0, beta_slow=1.0),
                                            num_mtp_layers=0, pad_token_id=None, bos_token_id=None, eos_token_id=None)),
    # MLA's other branches (DeepSeek-V2-Lite's layout on the V3 code): no q LoRA (q_proj), rotate-half RoPE
    # (rope_interleave false), default RoPE (no YaRN, so no mscale), attention biases on kv_a_proj_with_mqa and o_proj
    "deepseek_v3_no_q_lora": (DeepseekV3Config, dict(num_hidden_layers=3, first_k_dense_replace=1, n_routed_experts=8,
                                                      num_experts_per_tok=2, n_group=4, topk_group=2, n_shared_experts=1,
                                                      moe_intermediate_size=32, routed_scaling_factor=2.5, norm_topk_prob=True,
                                                      num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=32,
                                                      qk_rope_head_dim=8, qk_nope_head_dim=16, v_head_dim=16,
                                                      rope_interleave=False, attention_bias=True,
                                                      rope_parameters=dict(rope_type="default", rope_theta=10000.0),
                                                      num_mtp_layers=0, pad_token_id=None, bos_token_id=None,
                                                      eos_token_id=None)),
    # layers alternate sliding (window 8 < the 17- and 32-token sequences) and full attention
    "gpt_oss": (GptOssConfig, dict(num_hidden_layers=2, num_local_experts=8, num_experts_per_tok=2, intermediate_size=32,
                                    head_dim=16, sliding_window=8, attention_bias=True,
                                    rope_parameters=dict(rope_type="yarn", rope_theta=150000.0, factor=4.0, beta_fast=32.0,
                                                         beta_slow=1.0, truncate=False, original_max_position_embeddings=64))),
    # layer 0 dense, 8 experts in 2 groups of which 1 is kept, q/k norm, q/k/v bias, half the head rotates
    "glm4_moe": (Glm4MoeConfig, dict(num_hidden_layers=3, first_k_dense_replace=1, n_routed_experts=8, num_experts_per_tok=2,
                                      n_group=2, topk_group=1, n_shared_experts=1, moe_intermediate_size=32,
                                      routed_scaling_factor=1.5, norm_topk_prob=True, use_qk_norm=True, attention_bias=True,
                                      head_dim=16, partial_rotary_factor=0.5, num_mtp_layers=0)),
    # MoE every 2nd layer (1, 3), NoPE every 2nd layer (1, 3) with temperature tuning (floor_scale 4 so it acts on
    # short sequences), chunked attention of 8 on the RoPE layers, llama3 RoPE scaling
    "llama4_text": (Llama4TextConfig, dict(num_hidden_layers=4, num_local_experts=8, num_experts_per_tok=2,
                                            intermediate_size=32, intermediate_size_mlp=96, interleave_moe_layer_step=2,
                                            head_dim=16, no_rope_layer_interval=2, attention_chunk_size=8, use_qk_norm=True,
                                            attn_temperature_tuning=True, floor_scale=4, attn_scale=0.1,
                                            rope_parameters=dict(rope_type="llama3", rope_theta=500000.0, factor=8.0,
                                                                 low_freq_factor=1.0, high_freq_factor=4.0,
                                                                 original_max_position_embeddings=64),
                                            pad_token_id=None, bos_token_id=None, eos_token_id=None)),
}
NEW_FAMILIES = ("deepseek_v3", "deepseek_v3_no_q_lora", "gpt_oss", "glm4_moe", "llama4_text")
LENGTHS = [17, 5, 32, 1]          # a batch of different lengths, incl. a single token
ROUTER_SCALE = 4.0               # router logits std ~2.5: clear top-k margins without saturating the softmax
FP8_BLOCK = [16, 16]             # DeepSeek ships [128, 128]; the tiny model's widths are multiples of 16
MXFP4_BLOCK = 32                 # values per e8m0 scale, as GPT-OSS


def routers(model):
    """(layer, name, module) of every router, in layer order: *TopKRouter / *TopkRouter / Llama4Router."""
    out = []
    for name, mod in model.named_modules():
        cls = type(mod).__name__
        if cls.endswith("TopKRouter") or cls.endswith("TopkRouter") or cls == "Llama4Router":
            out.append((int(name.split(".layers.")[1].split(".")[0]), name, mod))
    return sorted(out)


def routing_of(mod, out):
    """(router logits, top-k weights, top-k ids) of one router call, whatever the family returns."""
    if type(mod).__name__ == "Llama4Router":
        scores, logits = out                       # scores: sigmoid of the top-k logits, 0 elsewhere
        idx = torch.topk(logits, mod.top_k, dim=-1).indices
        return logits, scores.gather(1, idx), idx
    logits, weights, idx = out
    return logits, weights, idx


def choice_margin(cfg, mod, logits):
    """Per token: the gap between the k-th and (k+1)-th of what the family chooses on (a near tie could flip)."""
    k = cfg.num_experts_per_tok
    x = logits.float()
    if hasattr(mod, "e_score_correction_bias"):    # DeepSeek-V3 / GLM-4.5: biased sigmoid scores, groups first
        s = x.sigmoid() + mod.e_score_correction_bias.float()
        g = s.view(s.shape[0], cfg.n_group, -1)
        gs = g.topk(2, dim=-1).values.sum(-1).sort(dim=-1, descending=True).values
        group_gap = gs[:, cfg.topk_group - 1] - gs[:, cfg.topk_group] if cfg.topk_group < cfg.n_group else torch.full_like(gs[:, 0], float("inf"))
        keep = torch.zeros_like(gs, dtype=torch.bool).scatter_(1, g.topk(2, dim=-1).values.sum(-1).topk(cfg.topk_group, dim=-1).indices, True)
        s = s.masked_fill(~keep.repeat_interleave(s.shape[1] // cfg.n_group, dim=1), float("-inf"))
        r = s.sort(dim=-1, descending=True).values
        return torch.minimum(r[:, k - 1] - r[:, k], group_gap)
    r = x.sort(dim=-1, descending=True).values
    return r[:, k - 1] - r[:, k]


def randomize(model, family):
    with torch.no_grad():
        for p_name, p in model.named_parameters():
            if "norm" in p_name:         # non-trivial norm weights, so a missing norm shows
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif p_name.endswith("sinks"):
                p.copy_(torch.randn_like(p))
            else:
                p.copy_(0.08 * torch.randn_like(p))
        for _, _, r in routers(model):
            r.weight.mul_(ROUTER_SCALE)
            if hasattr(r, "e_score_correction_bias"):  # a buffer: set it so the bias-corrected choice matters
                r.e_score_correction_bias.copy_(0.1 * torch.randn_like(r.e_score_correction_bias))


def save_checkpoint(model, d):
    os.makedirs(d, exist_ok=True)
    model.to(torch.bfloat16)
    for _, _, r in routers(model):   # float32, as transformers keeps it (_keep_in_fp32_modules_strict) and DeepSeek ships it
        if hasattr(r, "e_score_correction_bias"):
            r.e_score_correction_bias.data = r.e_score_correction_bias.data.float()
    model.save_pretrained(d)
    for f in os.listdir(d):
        if f not in ("config.json", "model.safetensors"):
            os.remove(os.path.join(d, f))


def references(d, family, cfg, extra_meta=None):
    """Runs the checkpoint in d (fp32, eager attention) and writes reference.safetensors / reference.json."""
    kw = EAGER if family in NEW_FAMILIES else {}
    ref = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, **kw).eval()
    gen = torch.Generator().manual_seed(99)
    seqs = [torch.randint(0, VOCAB, (n,), generator=gen) for n in LENGTHS]
    tensors, meta = {}, {"family": family, "transformers": transformers.__version__, "torch": torch.__version__,
                         "lengths": LENGTHS, "sequences": [s.tolist() for s in seqs], "moe_layers": [], "near_ties": 0,
                         "min_topk_margin": None}
    captured = {}

    def hook(layer):
        def f(mod, inp, out):
            logits, weights, idx = routing_of(mod, out)
            captured[layer] = (logits.detach().float(), weights.detach().float(), idx.detach(),
                               choice_margin(ref.config, mod, logits.detach()))
        return f
    handles = [mod.register_forward_hook(hook(layer)) for layer, _, mod in routers(ref)]
    min_margin = float("inf")
    for i, s in enumerate(seqs):
        captured.clear()
        with torch.no_grad():
            out = ref(input_ids=s.unsqueeze(0), use_cache=False)
        tensors[f"seq{i}.logits"] = out.logits[0].float().contiguous()
        for layer, (logits, weights, idx, gap) in sorted(captured.items()):
            tensors[f"seq{i}.layer{layer}.router_logits"] = logits.contiguous()
            tensors[f"seq{i}.layer{layer}.topk_weights"] = weights.contiguous()
            tensors[f"seq{i}.layer{layer}.topk_ids"] = idx.to(torch.int32).contiguous()
            min_margin = min(min_margin, gap.min().item())
            meta["near_ties"] += int((gap < 1e-4).sum())
        meta["moe_layers"] = sorted(captured.keys())
    for h in handles:
        h.remove()
    meta["min_topk_margin"] = min_margin
    if family in NEW_FAMILIES:
        # transformers' own KV-cache decode of sequence 0: half as prefill, then one token at a time
        s, split = seqs[0], len(seqs[0]) // 2
        with torch.no_grad():
            o = ref(input_ids=s[:split].unsqueeze(0), use_cache=True)
            cache, steps = o.past_key_values, [o.logits[0]]
            for t in range(split, len(s)):
                o = ref(input_ids=s[t:t + 1].unsqueeze(0), past_key_values=cache, use_cache=True)
                cache = o.past_key_values
                steps.append(o.logits[0])
        tensors["seq0.decode_logits"] = torch.cat(steps).float().contiguous()
        meta["decode_prefill_tokens"] = split
        meta["decode_max_abs_diff_vs_prefill"] = (tensors["seq0.decode_logits"] - tensors["seq0.logits"]).abs().max().item()
    meta.update(extra_meta or {})
    save_file(tensors, os.path.join(d, "reference.safetensors"))
    with open(os.path.join(d, "model.safetensors"), "rb") as f:
        meta["model_sha256"] = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def check_loaded(d, decoded):
    """The checkpoint in d loaded by from_pretrained (which dequantizes on CPU through transformers' own converters)
    holds exactly the decoded values: per-expert names map into the packed in-memory experts."""
    m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, **EAGER)
    params = dict(m.named_parameters())
    for name, want in decoded.items():
        if name in params:
            got = params[name]
        else:   # model.layers.L.mlp.experts.E.{gate,up,down}_proj.weight → packed gate_up_proj / down_proj
            head, e, proj = name[: name.index(".experts.") + 9], int(name.split(".experts.")[1].split(".")[0]), name.split(".")[-2]
            packed = params[head + ("down_proj" if proj == "down_proj" else "gate_up_proj")][e]
            inter = packed.shape[0] // 2
            got = packed if proj == "down_proj" else packed[:inter] if proj == "gate_proj" else packed[inter:]
        assert torch.equal(got.float(), want.float()), name


def report(d, name, meta):
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{name}: moe layers {meta['moe_layers']}, min top-k margin {meta['min_topk_margin']:.4f}, "
          f"near ties {meta['near_ties']}, {size / 1e6:.2f} MB")


# ---- FP8 (DeepSeek-V3 block format) -------------------------------------------------------------------------

class _Fp8Quantizer:
    """The piece of transformers' FP8 quantizer that Fp8Quantize / Fp8Dequantize read: its config."""
    def __init__(self, block):
        from transformers import FineGrainedFP8Config
        self.quantization_config = FineGrainedFP8Config(weight_block_size=block)


def fp8_twin(src, dst):
    """deepseek_v3 → deepseek_v3_fp8: every Linear weight transformers' Fp8Quantize tiles (router, norms, embeddings
    and lm_head stay bf16, as in DeepSeek's checkpoints), and the dequantized values of transformers' Fp8Dequantize."""
    from transformers.integrations.finegrained_fp8 import Fp8Dequantize, Fp8Quantize
    q = _Fp8Quantizer(FP8_BLOCK)
    quant, dequant = Fp8Quantize(q), Fp8Dequantize(q)
    os.makedirs(dst, exist_ok=True)
    state = load_file(os.path.join(src, "model.safetensors"))
    out, decoded, skipped = {}, {}, []
    for name, t in state.items():
        linear = name.endswith(".weight") and t.ndim == 2 and not any(
            s in name for s in ("embed_tokens", "lm_head", "norm", "layernorm", "mlp.gate.weight"))
        if not linear:
            out[name] = t
            continue
        r = quant._quantize_one(name, t)
        if len(r) == 1:           # transformers leaves shapes its block does not tile in bf16
            skipped.append(name)
            out[name] = t
            continue
        out.update(r)
        scale = name[: -len(".weight")] + ".weight_scale_inv"
        decoded[name] = dequant._dequantize_one(r[name], r[scale], output_dtype=torch.float32).contiguous()
    save_file(out, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
    save_file(decoded, os.path.join(dst, "dequantized.safetensors"))
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    cfg["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                                  "weight_block_size": FP8_BLOCK}
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    check_loaded(dst, decoded)
    return {"fp8_block": FP8_BLOCK, "fp8_quantized": len(decoded), "fp8_left_bf16": skipped}


# ---- MXFP4 (GPT-OSS) ----------------------------------------------------------------------------------------

E2M1 = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])


def mxfp4_encode(w):
    """[E, out, in] float → (blocks uint8 [E, out, in/32, 16], scales uint8 [E, out, in/32]): per 32 values a
    power-of-two scale putting the block's max at or below 6, each value the nearest e2m1 code (low nibble = even
    element, sign in bit 3)."""
    e, rows, cols = w.shape
    g = w.float().reshape(e, rows, cols // MXFP4_BLOCK, MXFP4_BLOCK)
    amax = g.abs().amax(-1).clamp(min=2.0 ** -126)
    exp = torch.ceil(torch.log2(amax / 6.0)).clamp(-127, 127)
    x = g / torch.exp2(exp)[..., None]
    mag = (x.abs()[..., None] - E2M1).abs().argmin(-1)            # ties: lower magnitude code
    code = (mag | ((x < 0) & (mag > 0)).to(torch.int64) << 3).to(torch.uint8)
    blocks = (code[..., 0::2] | (code[..., 1::2] << 4)).contiguous()
    return blocks, (exp + 127).to(torch.uint8).contiguous()


def mxfp4_twin(src, dst):
    """gpt_oss: experts → MXFP4 blocks/scales in dst, and src's bf16 experts replaced by transformers' decode of them
    (convert_moe_packed_tensors), so the bf16 checkpoint and the MXFP4 one hold the same model."""
    from transformers.integrations.mxfp4 import convert_moe_packed_tensors
    os.makedirs(dst, exist_ok=True)
    state = load_file(os.path.join(src, "model.safetensors"))
    out, decoded = {}, {}
    for name, t in state.items():
        if name.endswith("experts.gate_up_proj") or name.endswith("experts.down_proj"):
            blocks, scales = mxfp4_encode(t.float().transpose(1, 2))   # stored [E, in, out]; blocks are out-major
            out[name + "_blocks"], out[name + "_scales"] = blocks, scales
            decoded[name] = convert_moe_packed_tensors(blocks, scales, dtype=torch.float32).contiguous()
            assert torch.equal(decoded[name], convert_moe_packed_tensors(blocks, scales, dtype=torch.bfloat16).float())
            state[name] = decoded[name].to(torch.bfloat16)              # exact: fp4 × 2^k is a bf16 value
        else:
            out[name] = t
    save_file(state, os.path.join(src, "model.safetensors"), metadata={"format": "pt"})
    save_file(out, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
    save_file(decoded, os.path.join(dst, "dequantized.safetensors"))
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    cfg["quantization_config"] = {"quant_method": "mxfp4", "modules_to_not_convert": [
        "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    check_loaded(dst, decoded)
    return {"mxfp4_block": MXFP4_BLOCK, "mxfp4_tensors": sorted(decoded)}


def main(names):
    for family in names:
        cls, kw = FAMILIES[family]
        cfg = cls(**{**COMMON, **kw})
        torch.manual_seed(sum(map(ord, family)))  # per-family seed, stable across Python runs
        model = AutoModelForCausalLM.from_config(cfg, **(EAGER if family in NEW_FAMILIES else {})).eval()
        randomize(model, family)
        d = os.path.join(OUT, family, VERSION)
        save_checkpoint(model, d)
        if family == "gpt_oss":   # the bf16 twin takes the MXFP4-exact expert values before its references are made
            q = os.path.join(OUT, "gpt_oss_mxfp4", VERSION)
            extra = mxfp4_twin(d, q)
            report(q, "gpt_oss_mxfp4", references(q, "gpt_oss", cfg, extra))
        report(d, family, references(d, family, cfg))
        if family == "deepseek_v3":
            q = os.path.join(OUT, "deepseek_v3_fp8", VERSION)
            extra = fp8_twin(d, q)
            report(q, "deepseek_v3_fp8", references(q, "deepseek_v3", cfg, extra))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(FAMILIES)))
