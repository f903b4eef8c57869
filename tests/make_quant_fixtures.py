#!/usr/bin/env python3
"""Reference fixtures for routecal's quant area (grids, GPTQ).

Grids come from compressed-tensors itself (calculate_qparams, generate_gparam, quantize, fake_quantize); GPTQ is the
published algorithm (Frantar et al. 2022) written here in PyTorch the way llm-compressor's `quantize_weight` runs it:
scales observed from the original weight, act-order none/static/group, dead columns zeroed, damping 0.01·mean(diag),
cholesky → cholesky_inverse → upper cholesky, block-128 column sweep with lazy updates, float32 throughout.

Run:  /opt/hfref/bin/python tests/make_quant_fixtures.py            (writes tests/fixtures/quant/)
compressed-tensors is imported from $CT_SRC (default /tmp/ct/src): a source checkout of
github.com/vllm-project/compressed-tensors (read at 0.18.0, ac8e2ba) with a one-line src/compressed_tensors/version.py
(`version = "0.18.0"`), plus pydantic and loguru installed (`pip install pydantic loguru`).

Then `--format-proof` decodes the compressed-tensors checkpoints our Java writer produced (see format_proof).

Outputs (small): packing.safetensors (pack_to_int32 of random codes at 1..8 bits), rtn_<case>.safetensors (w, codes, scales[, zeros]), hessians.safetensors (the Hessians, shared by cases), gptq_<case>.safetensors (w, codes, scales,
[zeros], [g_idx], q), and cases.json (scheme parameters, GPTQ loss, reference layer-output error).
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.environ.get("CT_SRC", "/tmp/ct/src"))
from compressed_tensors.quantization import QuantizationArgs  # noqa: E402
from compressed_tensors.quantization.lifecycle.forward import fake_quantize, quantize  # noqa: E402
from compressed_tensors.quantization.utils import calculate_qparams, generate_gparam  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "quant")
# llm-compressor factorises in float32; routecal (and these fixtures, unless ROUTECAL_HINV_F32=1) in float64, so
# that the comparison measures the algorithm rather than float32 Cholesky noise on ill-conditioned Hessians
HINV_DOUBLE = os.environ.get("ROUTECAL_HINV_F32") != "1"
E2M1 = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])


def qargs(spec):
    """compressed-tensors QuantizationArgs for one of our scheme specs."""
    if spec["scheme"] == "int":
        strategy = "group" if spec["group_size"] > 0 else "channel"
        return QuantizationArgs(num_bits=spec["bits"], type="int", symmetric=spec["symmetric"], strategy=strategy,
                                group_size=spec["group_size"] or None)
    if spec["scheme"] == "fp8":
        return QuantizationArgs(num_bits=8, type="float", symmetric=True,
                                strategy="tensor" if spec["per_tensor"] else "channel")
    if spec["scheme"] == "nvfp4":
        return QuantizationArgs(num_bits=4, type="float", symmetric=True, strategy="tensor_group", group_size=16,
                                scale_dtype=torch.float8_e4m3fn)
    raise ValueError(spec)


def group_size(spec, cols):
    if spec["scheme"] == "nvfp4":
        return 16
    if spec["scheme"] == "int" and spec["group_size"] > 0:
        return spec["group_size"]
    return cols


def observe(w, spec, args, gscale):
    """min/max per group of w (contiguous columns) → compressed-tensors scales and zero points, shape [rows|1, groups]."""
    rows, cols = w.shape
    if spec["scheme"] == "fp8" and spec["per_tensor"]:
        mn, mx = w.min().reshape(1, 1), w.max().reshape(1, 1)
    else:
        gs = group_size(spec, cols)
        wg = w.reshape(rows, cols // gs, gs)
        mn, mx = wg.amin(-1), wg.amax(-1)
    scale, zp = calculate_qparams(mn, mx, args, global_scale=gscale)
    if spec.get("scale_dtype") == "bf16":
        scale = scale.to(torch.bfloat16)  # the weight_scale parameter has the model dtype (llm-compressor)
    return scale, zp


def column_args(args):
    """llm-compressor quantizes one column at a time as a per-channel problem."""
    a = args.model_copy()
    a.strategy = "channel"
    return a


def codes_of(qvals, spec):
    """Our code convention: int → the integer; fp8 → the E4M3 byte; nvfp4 → the E2M1 nibble (bit 3 sign)."""
    if spec["scheme"] == "int":
        return qvals.round().to(torch.int32)
    if spec["scheme"] == "fp8":
        return qvals.to(torch.float8_e4m3fn).view(torch.uint8).to(torch.int32)
    idx = (qvals.abs().unsqueeze(-1) - E2M1).abs().argmin(-1)
    return (idx + (torch.signbit(qvals).to(torch.long) << 3)).to(torch.int32)


def qdq_column(w, scale, zp, g, args, gscale, spec):
    """(codes, fake-quantized values) of one column w [rows] with group g's parameters."""
    a = column_args(args)
    s = scale[:, g:g + 1]
    z = zp[:, g:g + 1] if not spec.get("symmetric", True) else None
    x = w.unsqueeze(1)
    q = fake_quantize(x, s, z if z is not None else torch.zeros_like(s), a, global_scale=gscale).flatten()
    codes = codes_of(quantize(x, s, z if z is not None else torch.zeros_like(s), a, global_scale=gscale).flatten(), spec)
    return codes, q.float()


def rtn(w, spec):
    args = qargs(spec)
    gscale = global_scale(w, spec)
    scale, zp = observe(w, spec, args, gscale)
    rows, cols = w.shape
    gs = group_size(spec, cols)
    codes = torch.zeros(rows, cols, dtype=torch.int32)
    q = torch.zeros(rows, cols)
    for c in range(cols):
        g = 0 if scale.shape[1] == 1 else c // gs
        s = scale.expand(rows, -1) if scale.shape[0] == 1 else scale
        z = zp.expand(rows, -1) if zp.shape[0] == 1 else zp
        codes[:, c], q[:, c] = qdq_column(w[:, c], s, z, g, args, gscale, spec)
    return codes, q, scale, zp, gscale


def global_scale(w, spec):
    if spec["scheme"] != "nvfp4":
        return None
    if "global_scale" in spec:
        return torch.tensor([spec["global_scale"]], dtype=torch.float32)
    return generate_gparam(w.min(), w.max()).reshape(1)


def gptq(w, h, spec, actorder, blocksize=128, percdamp=0.01):
    """The published GPTQ column sweep (float32), llm-compressor's order of operations."""
    args = qargs(spec)
    w = w.clone().float()
    h = h.clone().float()
    rows, cols = w.shape
    gs = group_size(spec, cols)
    gscale = global_scale(w, spec)
    g_idx = torch.arange(cols) // gs
    perm = None
    if actorder == "group":
        perm = torch.argsort(torch.diag(h), descending=True, stable=True)
        w, h = w[:, perm], h[perm][:, perm]
        scale, zp = observe(w, spec, args, gscale)
    else:
        scale, zp = observe(w, spec, args, gscale)
        if actorder == "static":
            perm = torch.argsort(torch.diag(h), descending=True, stable=True)
            w, h = w[:, perm], h[perm][:, perm]
            g_idx = g_idx[perm]
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    damp = percdamp * torch.mean(torch.diag(h))
    h[range(cols), range(cols)] += damp
    fallback = False
    try:
        hd = h.double() if HINV_DOUBLE else h
        hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(hd)), upper=True).float()
    except torch._C._LinAlgError:
        hinv = torch.eye(cols)
        fallback = True
    codes = torch.zeros(rows, cols, dtype=torch.int32)
    losses = torch.zeros(rows)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        w1 = w[:, i1:i2].clone()
        q1 = torch.zeros_like(w1)
        err1 = torch.zeros_like(w1)
        loss1 = torch.zeros_like(w1)
        hinv1 = hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col = w1[:, i]
            d = hinv1[i, i]
            g = 0 if scale.shape[1] == 1 else int(g_idx[i1 + i])
            c, q = qdq_column(col, scale, zp, g, args, gscale, spec)
            codes[:, i1 + i] = c
            q1[:, i] = q
            loss1[:, i] = (col - q) ** 2 / d ** 2
            e = (col - q) / d
            w1[:, i:] -= e.unsqueeze(1).matmul(hinv1[i, i:].unsqueeze(0))
            err1[:, i] = e
        w[:, i1:i2] = q1
        losses += torch.sum(loss1, 1) / 2
        w[:, i2:] -= err1.matmul(hinv[i1:i2, i2:])
    out_gidx = None
    if perm is not None:
        inv = torch.argsort(perm)
        w, codes = w[:, inv], codes[:, inv]
        if actorder == "group":
            out_gidx = (torch.arange(cols) // gs)[inv].to(torch.int32)
    return dict(q=w, codes=codes, scale=scale, zp=zp, g_idx=out_gidx, loss=float(losses.sum()), fallback=fallback,
                gscale=gscale)


def hessian(cols, tokens, gen, dead=()):
    """2·XᵀX of correlated, heavy-tailed activations (outlier channels, as real MLP inputs have)."""
    base = torch.randn(tokens, cols // 8, generator=gen)
    mix = torch.randn(cols // 8, cols, generator=gen) / 3
    x = base @ mix + 0.5 * torch.randn(tokens, cols, generator=gen)
    x *= torch.exp(torch.randn(cols, generator=gen) * 0.7)
    x[:, list(dead)] = 0
    return (2 * x.T @ x).float()


def tensors_of(spec, codes, scale, zp):
    t = {"codes": codes.to(torch.int16).contiguous(), "scales": scale.float().contiguous()}
    if spec["scheme"] == "int" and not spec["symmetric"]:
        t["zeros"] = zp.to(torch.int32).contiguous()
    return t


RTN_CASES = {
    "w4_sym_g32": dict(scheme="int", bits=4, symmetric=True, group_size=32),
    "w4_asym_g32": dict(scheme="int", bits=4, symmetric=False, group_size=32),
    "w4_sym_g32_bf16": dict(scheme="int", bits=4, symmetric=True, group_size=32, scale_dtype="bf16"),
    "w8_sym_channel": dict(scheme="int", bits=8, symmetric=True, group_size=0),
    "w8_asym_channel": dict(scheme="int", bits=8, symmetric=False, group_size=0),
    "fp8_channel": dict(scheme="fp8", per_tensor=False),
    "fp8_tensor": dict(scheme="fp8", per_tensor=True),
    "nvfp4": dict(scheme="nvfp4"),
    "nvfp4_shared_gs": dict(scheme="nvfp4", global_scale=150.0),
}

GPTQ_CASES = {
    "w4_sym_g32_none": (RTN_CASES["w4_sym_g32"], "none", ()),
    "w4_sym_g32_static": (RTN_CASES["w4_sym_g32"], "static", ()),
    "w4_sym_g32_group": (RTN_CASES["w4_sym_g32"], "group", ()),
    "w4_asym_g32_static": (RTN_CASES["w4_asym_g32"], "static", ()),
    "w4_sym_g32_bf16_static": (RTN_CASES["w4_sym_g32_bf16"], "static", ()),
    "w8_sym_channel_dead": (RTN_CASES["w8_sym_channel"], "none", (3, 17, 100)),
    "w4_sym_g32_dead_static": (RTN_CASES["w4_sym_g32"], "static", (5, 64)),
    "fp8_channel_none": (RTN_CASES["fp8_channel"], "none", ()),
    "nvfp4_none": (RTN_CASES["nvfp4"], "none", ()),
}


# issue 18: every width 2..8, generated after the cases above from their own seed so those stay byte-identical.
# Non-power-of-two widths pack across int32 word boundaries (compressed-tensors >= 0.18).
WIDTH_RTN_CASES = {
    "w2_sym_g32": dict(scheme="int", bits=2, symmetric=True, group_size=32),
    "w2_asym_g32": dict(scheme="int", bits=2, symmetric=False, group_size=32),
    "w3_sym_g32": dict(scheme="int", bits=3, symmetric=True, group_size=32),
    "w3_asym_g64_bf16": dict(scheme="int", bits=3, symmetric=False, group_size=64, scale_dtype="bf16"),
    "w3_sym_channel": dict(scheme="int", bits=3, symmetric=True, group_size=0),
    "w5_sym_g32": dict(scheme="int", bits=5, symmetric=True, group_size=32),
    "w5_asym_channel": dict(scheme="int", bits=5, symmetric=False, group_size=0),
    "w6_sym_g128": dict(scheme="int", bits=6, symmetric=True, group_size=128),
    "w6_asym_g32": dict(scheme="int", bits=6, symmetric=False, group_size=32),
    "w7_sym_g32": dict(scheme="int", bits=7, symmetric=True, group_size=32),
}

WIDTH_GPTQ_CASES = {
    "w2_sym_g32_static": (WIDTH_RTN_CASES["w2_sym_g32"], "static", ()),
    "w2_asym_g32_none": (WIDTH_RTN_CASES["w2_asym_g32"], "none", ()),
    "w3_sym_g32_static": (WIDTH_RTN_CASES["w3_sym_g32"], "static", ()),
    "w3_asym_g64_bf16_group": (WIDTH_RTN_CASES["w3_asym_g64_bf16"], "group", ()),
    "w3_sym_channel_dead": (WIDTH_RTN_CASES["w3_sym_channel"], "none", (7, 200)),
    "w4_asym_g32_none": (RTN_CASES["w4_asym_g32"], "none", ()),
    "w5_sym_g32_static": (WIDTH_RTN_CASES["w5_sym_g32"], "static", ()),
    "w6_asym_g32_static": (WIDTH_RTN_CASES["w6_asym_g32"], "static", ()),
}


def width_tie_row(cols, bits):
    """A row whose absmax is 2^(b-1) - 1/2 (symmetric scale 1): every value a k+1/2 tie (round-half-to-even)."""
    top = (1 << (bits - 1)) - 0.5
    vals = torch.arange(-top, top + 0.5, 1.0)
    return vals.repeat(cols // len(vals) + 1)[:cols]


def packing_fixture(gen):
    """compressed-tensors' own pack_to_int32 on random codes of every width: along rows (weight_packed, 77 columns,
    not a multiple of 32) and along dim 0 (weight_zero_point, 13 rows), so element splits across words are covered."""
    from compressed_tensors.compressors.pack_quantized.helpers import pack_to_int32
    t = {}
    for bits in range(1, 9):
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        codes = torch.randint(lo, hi + 1, (5, 77), generator=gen, dtype=torch.int32).to(torch.int8)
        zeros = torch.randint(lo, hi + 1, (13, 3), generator=gen, dtype=torch.int32).to(torch.int8)
        t[f"codes_{bits}"] = codes.to(torch.int32).contiguous()
        t[f"packed_{bits}"] = pack_to_int32(codes, bits).contiguous()
        t[f"zeros_{bits}"] = zeros.to(torch.int32).contiguous()
        t[f"zeros_packed_{bits}"] = pack_to_int32(zeros, bits, packed_dim=0).contiguous()
    save_file(t, os.path.join(OUT, "packing.safetensors"))


def width_cases(cases, hessians, rows, cols):
    gen = torch.Generator().manual_seed(20261204)
    packing_fixture(gen)
    for name, spec in WIDTH_RTN_CASES.items():
        w = torch.randn(rows // 2, cols, generator=gen) * 0.05
        w[0] = width_tie_row(cols, spec["bits"])
        w[1, :16] = 0
        codes, q, scale, zp, gscale = rtn(w, spec)
        t = {"w": w.contiguous(), "q": q.contiguous(), **tensors_of(spec, codes, scale, zp)}
        save_file(t, os.path.join(OUT, f"rtn_{name}.safetensors"))
        cases["rtn"][name] = {**spec, "global_scale": None}
    for spec, actorder, dead in WIDTH_GPTQ_CASES.values():
        if dead:
            hessians["dead_" + "_".join(map(str, dead))] = hessian(cols, 2048, gen, dead)
    gptq_cases(WIDTH_GPTQ_CASES, cases, hessians, rows, cols, gen)


def gptq_cases(specs, cases, hessians, rows, cols, gen):
    for name, (spec, actorder, dead) in specs.items():
        w = torch.randn(rows, cols, generator=gen) * 0.05
        hname = "dead_" + "_".join(map(str, dead)) if dead else "plain"
        h = hessians[hname]
        r = gptq(w, h, spec, actorder)
        err = (w - r["q"])
        out_err = float(torch.einsum("ri,ij,rj->", err.double(), h.double(), err.double()))
        t = {"w": w.contiguous(), "q": r["q"].contiguous(), **tensors_of(spec, r["codes"], r["scale"], r["zp"])}
        if r["g_idx"] is not None:
            t["g_idx"] = r["g_idx"].contiguous()
        save_file(t, os.path.join(OUT, f"gptq_{name}.safetensors"))
        cases["gptq"][name] = {**spec, "actorder": actorder, "hessian": hname, "dead": list(dead), "loss": r["loss"],
                               "output_error": out_err, "fallback": r["fallback"],
                               "global_scale": None if r["gscale"] is None else float(r["gscale"])}
        print(f"{name}: loss {r['loss']:.6g} output error {out_err:.6g}")


def tie_row(cols):
    """A row whose absmax is 7.5 (int4 scale 1): every value is a k+½ tie, testing round-half-to-even."""
    vals = torch.tensor([7.5, -7.5, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -3.5, 4.5, 6.5])
    return vals.repeat(cols // len(vals) + 1)[:cols]


def format_proof():
    """Decodes the checkpoints our writer produced (tests/fixtures/quant/ct/<scheme>/, written by
    CompressedTensorsRoundTripTest with -Droutecal.regenerateFixtures=true) with compressed-tensors' own config parser,
    target matching and decompressors, and stores the dequantized weights as ct/<scheme>.decoded.safetensors (float32).
    A mixed-precision checkpoint has several config groups: each module is decoded with the group compressed-tensors
    itself assigns it (match_targets: exact name, then regex, then class name)."""
    from safetensors.torch import load_file
    from compressed_tensors.compressors import BaseCompressor
    from compressed_tensors.quantization import QuantizationConfig
    from compressed_tensors.utils.match import match_targets

    ct_dir = os.path.join(OUT, "ct")
    linear = torch.nn.Linear(1, 1, device="meta")  # every module we quantize is a Linear (class-name target)
    for scheme in sorted(os.listdir(ct_dir)):
        d = os.path.join(ct_dir, scheme)
        if not os.path.isdir(d):
            continue
        with open(os.path.join(d, "config.json")) as f:
            qc = QuantizationConfig.model_validate(json.load(f)["quantization_config"])  # pydantic: rejects unknown keys
        target_to_group = {}
        for group in qc.config_groups.values():
            for target in group.targets:
                target_to_group[target] = group
        tensors = load_file(os.path.join(d, "model.safetensors"))
        modules = sorted(k[: -len(".weight_scale")] for k in tensors if k.endswith(".weight_scale"))
        decoded = {}
        used = set()
        for m in modules:
            matched = match_targets(m, linear, list(target_to_group))
            assert matched, f"{scheme}: no config group targets {m}"
            group = target_to_group[matched[0]]
            compressor = BaseCompressor.get_value_from_registry(group.format or qc.format)
            state = {k[len(m) + 1:]: v for k, v in tensors.items() if k.startswith(m + ".")}
            out = compressor.decompress(state, group)
            decoded[m + ".weight"] = out["weight"].float().contiguous()
            used.add(f"{group.weights.num_bits}-bit {compressor.__name__}")
        save_file(decoded, os.path.join(ct_dir, f"{scheme}.decoded.safetensors"))
        print(f"{scheme}: {qc.format}, decoded {len(modules)} modules with {sorted(used)}")


def main():
    if "--format-proof" in sys.argv:
        format_proof()
        return
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(20261123)
    rows, cols = 32, 256
    cases = {"format": "routecal.quant-fixtures", "format_version": 1, "rows": rows, "cols": cols, "rtn": {}, "gptq": {}}
    for name, spec in RTN_CASES.items():
        w = torch.randn(rows // 2, cols, generator=gen) * 0.05
        w[0] = tie_row(cols)
        w[1, :16] = 0  # an all-zero group: zero scale replaced by eps
        codes, q, scale, zp, gscale = rtn(w, spec)
        t = {"w": w.contiguous(), "q": q.contiguous(), **tensors_of(spec, codes, scale, zp)}
        save_file(t, os.path.join(OUT, f"rtn_{name}.safetensors"))
        cases["rtn"][name] = {**spec, "global_scale": None if gscale is None else float(gscale)}
    hessians = {"plain": hessian(cols, 2048, gen)}
    for spec, actorder, dead in GPTQ_CASES.values():
        if dead:
            hessians["dead_" + "_".join(map(str, dead))] = hessian(cols, 2048, gen, dead)
    gptq_cases(GPTQ_CASES, cases, hessians, rows, cols, gen)
    width_cases(cases, hessians, rows, cols)
    save_file({k: v.contiguous() for k, v in hessians.items()}, os.path.join(OUT, "hessians.safetensors"))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
