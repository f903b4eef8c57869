#!/usr/bin/env python3
"""Reference fixtures for routecal's AWQ (quant/awq): the AWQ grid search written here in PyTorch the way
llm-compressor's AWQModifier runs it (src/llmcompressor/modifiers/transform/awq/base.py, read at ab1ba3ef,
2026-08-22), with compressed-tensors' own calculate_qparams / fake_quantize as the quantizer:

- x̄ = mean |x| per channel of the activation the balance layers read (float32);
- w̄ = mean over the quantized balance layers' rows of |W| / (group amax + 1e-6) (duo scaling);
- grid: duo on = [(0, no duo)] + [(i/(n-2), duo) for i < n-1]; off = [(i/(n-1))]; both = half each, interleaved;
- s = clamp(x̄^α / (w̄^(1-α) + 1e-4), 1e-4) (duo) or clamp(x̄^α, 1e-4), divided by sqrt(max·min); inf/nan → 1
  (x̄^α and the square root correctly rounded, see search());
- each quantized balance becomes Q(W·s)/s (min/max observed on W·s); unquantized ones (the router) keep W;
- loss = mean squared error of the balances' parent output: the sparse-MoE block for post_attention_layernorm →
  [router, experts' gate_proj/up_proj], down_proj itself for up_proj → down_proj; the first minimum wins.

Then AWQ + GPTQ as llm-compressor chains them (AWQ smooths, GPTQ quantizes the smoothed W·s) with two Hessians: the
one llm-compressor uses (accumulated in the same calibration pass, i.e. of the unsmoothed inputs x) and the one of the
inputs the smoothed layer really sees, x/s (S⁻¹HS⁻¹).

Run:  /work/venv-hf/bin/python tests/make_awq_fixtures.py     (CPU; writes tests/fixtures/quant/awq/)
compressed-tensors is imported from $CT_SRC (default /tmp/ct/src), as for make_quant_fixtures.py.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_quant_fixtures as mq  # noqa: E402  (also puts compressed-tensors on the path)
from compressed_tensors.quantization.lifecycle.forward import fake_quantize  # noqa: E402

OUT = os.path.join(mq.OUT, "awq")
HIDDEN, INTER, EXPERTS, TOPK, TOKENS = 128, 64, 4, 2, 256


def grid(n_grid, duo):
    if duo == "both":
        n = n_grid // 2
        return [(i / (n - 1), d) for i in range(n) for d in (False, True)]
    if duo == "off":
        return [(i / (n_grid - 1), False) for i in range(n_grid)]
    return [(0.0, False)] + [(i / (n_grid - 2), True) for i in range(n_grid - 1)]


def layer_means(weights, spec):
    """w̄: per-group-normalized |W| averaged over all rows of all quantized balances (float64 sums)."""
    total, count = 0, 0
    for w in weights:
        rows, cols = w.shape
        gs = spec["group_size"] or cols
        g = w.reshape(-1, gs).abs()
        g = g / (g.amax(dim=1, keepdim=True) + 1e-6)
        total = total + g.reshape(rows, cols).sum(0, dtype=torch.float64)
        count += rows
    return total / count


def qdq(w, spec):
    """Q(w): min/max per group of w observed afresh (memoryless_minmax), compressed-tensors' fake_quantize."""
    args = mq.qargs(spec)
    scale, zp = mq.observe(w, spec, args, None)
    return fake_quantize(w, scale, zp if zp is not None else torch.zeros_like(scale), args)


def search(x_mean, balances, spec, loss_fn, n_grid=20, duo="on"):
    """balances: list of (weight, quantized?); returns scales, best (ratio, duo), curve."""
    w_mean = layer_means([w for w, q in balances if q], spec) if duo != "off" else None
    best, best_scales, best_point, curve = float("inf"), None, None, []
    for ratio, use_duo in grid(n_grid, duo):
        # x̄^α: float32 in llm-compressor too, but rounded correctly here (pow in float64): torch's vectorized float32
        # pow is off by an ulp at times, and one ulp of one scale moves Q(W·s) enough to change the loss by ~0.5%
        x_pow = x_mean.double().pow(ratio).float()
        if use_duo:
            scales = (x_pow / (w_mean.pow(1 - ratio) + 1e-4)).clamp(min=1e-4)
        else:
            scales = x_pow.clamp(min=1e-4).view(-1)
        # sqrt correctly rounded too: torch's CPU float32 sqrt is one ulp off at times (0.80833745 → 0.89907593)
        scales = scales / (scales.max() * scales.min()).double().sqrt().to(scales.dtype)
        scales[torch.isinf(scales)] = 1
        scales[torch.isnan(scales)] = 1
        sv = scales.view(1, -1)
        eff = []
        for w, quantized in balances:
            if quantized:
                ws = torch.empty_like(w).copy_(w * sv)          # W·s stored in the float32 parameter
                eff.append((qdq(ws, spec) / sv).to(w.dtype))  # Q(W·s)/s
            else:
                eff.append(w)
        loss = loss_fn(eff)
        curve.append({"ratio": ratio, "duo": use_duo, "loss": loss})
        if loss < best:
            best, best_scales, best_point = loss, scales.clone(), (ratio, use_duo)
    return best_scales, best_point, curve


def mlp(x, gate, up, down):
    return torch.nn.functional.silu(x @ gate.T) * (x @ up.T) @ down.T


def moe_block(x, router, experts, ids, weights):
    """Σ_k w_k · expert_{id_k}(x): routing passed in (the router is scaled exactly during the search)."""
    out = torch.zeros_like(x)
    for e, (gate, up, down) in enumerate(experts):
        rows, slots = torch.nonzero(ids == e, as_tuple=True)
        if len(rows):
            out[rows] += weights[rows, slots].unsqueeze(1) * mlp(x[rows], gate, up, down)
    return out


def mse(a, b):
    return float(torch.nn.functional.mse_loss(a, b, reduction="sum") / a.numel())


def model(gen):
    """A tiny MoE layer with outlier input channels (what AWQ exists for) and softmax top-2 routing, renormalized."""
    x = torch.randn(TOKENS, HIDDEN, generator=gen) * torch.exp(torch.randn(HIDDEN, generator=gen) * 0.8)
    router = torch.randn(EXPERTS, HIDDEN, generator=gen) * 0.05
    experts = [(torch.randn(INTER, HIDDEN, generator=gen) * 0.05, torch.randn(INTER, HIDDEN, generator=gen) * 0.05,
                torch.randn(HIDDEN, INTER, generator=gen) * 0.05) for _ in range(EXPERTS)]
    probs = torch.softmax(x @ router.T, dim=-1)
    weights, ids = torch.topk(probs, TOPK, dim=-1)
    weights = weights / weights.sum(-1, keepdim=True)
    return x, router, experts, ids, weights


def norm_case(name, x, router, experts, ids, weights, spec, duo, t):
    balances = [(router, False)] + [(w, True) for g, u, _ in experts for w in (g, u)]
    x_mean = x.abs().float().sum(0) / x.shape[0]
    ref = moe_block(x, router, experts, ids, weights)

    def loss_fn(eff):
        ex = [(eff[1 + 2 * e], eff[2 + 2 * e], experts[e][2]) for e in range(EXPERTS)]
        return mse(ref, moe_block(x, router, ex, ids, weights))

    scales, point, curve = search(x_mean, balances, spec, loss_fn, duo=duo)
    t[f"{name}.x_mean"] = x_mean
    t[f"{name}.scales"] = scales.double()
    return {"mapping": "post_attention_layernorm", "scheme": spec, "duo": duo, "best_ratio": point[0],
            "best_duo": point[1], "curve": curve}


def down_case(name, x, experts, ids, e, tokens, spec, duo, t, gptq_spec=None):
    gate, up, down = experts[e]
    rows = torch.arange(x.shape[0]) if tokens == "all" else torch.nonzero((ids == e).any(-1)).flatten()
    h = torch.nn.functional.silu(x[rows] @ gate.T) * (x[rows] @ up.T)  # down_proj's input, cached before smoothing
    x_mean = h.abs().float().sum(0) / h.shape[0]
    ref = h @ down.T
    scales, point, curve = search(x_mean, [(down, True)], spec, lambda eff: mse(ref, h @ eff[0].T), duo=duo)
    t[f"{name}.rows"] = rows.to(torch.int32)
    t[f"{name}.h"] = h.contiguous()
    t[f"{name}.x_mean"] = x_mean
    t[f"{name}.scales"] = scales.double()
    case = {"mapping": f"experts.{e}.up_proj->down_proj", "tokens": tokens, "scheme": spec, "duo": duo,
            "best_ratio": point[0], "best_duo": point[1], "curve": curve}
    if gptq_spec:
        case["gptq"] = awq_then_gptq(name, h, down, scales, gptq_spec, t)
    return case


def awq_then_gptq(name, h, down, scales, spec, t):
    """GPTQ on the smoothed weight W·s with llm-compressor's Hessian (of h) and with the smoothed inputs' (of h/s);
    plain GPTQ on W for comparison. The real output error is measured on the inputs each weight really gets."""
    h64 = h.double()
    hess = (2 / h.shape[0]) * (h64.T @ h64)                # accumulate_hessian: 2/n Σ x xᵀ
    ws = torch.empty_like(down).copy_(down * scales.view(1, -1))
    s_inv = (1 / scales).view(-1, 1)
    hess_s = hess * s_inv * s_inv.T
    out = {}
    for label, weight, hessian, inputs in (("plain", down, hess, h64), ("raw_hessian", ws, hess, h64 / scales),
                                           ("smoothed_hessian", ws, hess_s, h64 / scales)):
        r = mq.gptq(weight, hessian.float(), spec, "static")
        err = (weight.double() - r["q"].double())
        out_err = float(((inputs @ err.T) ** 2).sum() / h.shape[0])  # mean over tokens of ‖ΔW·x‖²
        t[f"{name}.gptq_{label}.codes"] = r["codes"].to(torch.int16).contiguous()
        t[f"{name}.gptq_{label}.scales"] = r["scale"].float().contiguous()
        if not spec["symmetric"]:
            t[f"{name}.gptq_{label}.zeros"] = r["zp"].to(torch.int32).contiguous()
        t[f"{name}.gptq_{label}.hessian"] = hessian.float().contiguous()
        out[label] = {"loss": r["loss"], "output_error": out_err}
        print(f"  {name} gptq {label}: loss {r['loss']:.6g} output error {out_err:.6g}")
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20261205)
    x, router, experts, ids, weights = model(gen)
    t = {"x": x.contiguous(), "router": router.contiguous(), "topk_ids": ids.to(torch.int32).contiguous(),
         "topk_weights": weights.contiguous()}
    for e, (g, u, d) in enumerate(experts):
        t[f"experts.{e}.gate_proj"], t[f"experts.{e}.up_proj"], t[f"experts.{e}.down_proj"] = g, u, d
    w4 = dict(scheme="int", bits=4, symmetric=True, group_size=32)
    w3a = dict(scheme="int", bits=3, symmetric=False, group_size=32)
    cases = {
        "norm_w4_sym_g32": norm_case("norm_w4_sym_g32", x, router, experts, ids, weights, w4, "on", t),
        "norm_w3_asym_g32_both": norm_case("norm_w3_asym_g32_both", x, router, experts, ids, weights, w3a, "both", t),
        "down_e0_routed_w3_asym_g32": down_case("down_e0_routed_w3_asym_g32", x, experts, ids, 0, "routed", w3a, "on", t,
                                                gptq_spec=w3a),
        "down_e1_all_w4_sym_g32_off": down_case("down_e1_all_w4_sym_g32_off", x, experts, ids, 1, "all", w4, "off", t),
    }
    for name, c in cases.items():
        losses = [p["loss"] for p in c["curve"]]
        print(f"{name}: best ratio {c['best_ratio']:.4f} duo {c['best_duo']}, loss {min(losses):.6g} "
              f"(identity {losses[0]:.6g})")
    save_file({k: v.contiguous() for k, v in t.items()}, os.path.join(OUT, "awq.safetensors"))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"format": "routecal.awq-fixtures", "format_version": 1, "hidden": HIDDEN, "inter": INTER,
                   "experts": EXPERTS, "topk": TOPK, "tokens": TOKENS, "n_grid": 20, "cases": cases}, f, indent=1,
                  sort_keys=True)


if __name__ == "__main__":
    main()
