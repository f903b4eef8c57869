"""Reference values for routecal's CUDA-kernel math, from torch 2.13 / transformers 5.17 on CPU.

Run:  /opt/hfref/bin/python tests/gpu/make_ref_fixtures.py
Writes tests/fixtures/cuda_ref/ref.json: per op, the inputs and the outputs (float arrays as base64 little-endian float32) torch (or HF's own module, where one
exists) computes. ReferenceFixtureTest checks org.routecal.compute.cuda.ref.ReferenceMoeOps against it on CPU; the GPU
parity phase (bash tests/gpu/run_gpu.sh setup parity) then checks the CUDA kernels against ReferenceMoeOps at full model sizes.
"""
import base64
import json
import os

import torch
import torch.nn.functional as F
from transformers.models.qwen3_moe.modeling_qwen3_moe import Qwen3MoeRMSNorm, apply_rotary_pos_emb

from gptq_torch import gptq_sweep, hinv_upper, symmetric_scales

torch.manual_seed(1234)
out = {"format": "routecal-cuda-ref-fixtures", "format_version": 1,
       "generator": f"torch {torch.__version__}, transformers {__import__('transformers').__version__}"}


def fl(t):
    """float32 array as base64 of its little-endian bytes (exact and compact)."""
    return base64.b64encode(t.detach().reshape(-1).float().contiguous().numpy().astype("<f4").tobytes()).decode()


def il(t):
    return [int(v) for v in t.reshape(-1).tolist()]


# RMSNorm: HF's module in fp32.
x = torch.randn(6, 64)
norm = Qwen3MoeRMSNorm(64, eps=1e-6)
with torch.no_grad():
    norm.weight.copy_(torch.rand(64) + 0.5)
    y = norm(x)
out["rmsnorm"] = {"rows": 6, "dim": 64, "eps": 1e-6, "x": fl(x), "weight": fl(norm.weight), "y": fl(y)}

# RoPE: HF's apply_rotary_pos_emb (rotate-half) with cos/sin built the way HF's default rotary embedding builds them.
tokens, heads, hd, theta = 5, 3, 16, 10000.0
pos = torch.tensor([0, 1, 2, 7, 1000])
inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
freqs = pos[:, None].float() * inv_freq[None, :]
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos()[None], emb.sin()[None]
q = torch.randn(1, heads, tokens, hd)
q_rot, _ = apply_rotary_pos_emb(q, q, cos, sin)
out["rope"] = {"tokens": tokens, "heads": heads, "head_dim": hd, "positions": il(pos), "inv_freq": fl(inv_freq),
               "x": fl(q[0].transpose(0, 1)), "y": fl(q_rot[0].transpose(0, 1))}  # stored [tokens, heads, head_dim]

# SiLU * up, and a Linear.
g, u = torch.randn(4, 24) * 3, torch.randn(4, 24)
out["silu_mul"] = {"rows": 4, "inter": 24, "gate": fl(g), "up": fl(u), "y": fl(F.silu(g) * u)}
xa, wl = torch.randn(5, 32), torch.randn(12, 32)
out["linear"] = {"m": 5, "k": 32, "n": 12, "x": fl(xa), "weight": fl(wl), "y": fl(F.linear(xa, wl))}

# Router, softmax + renormalized top-k (Qwen3-MoE's rule), with exact ties planted to pin the tie order.
T, E, K = 7, 16, 4
logits = torch.randn(T, E)
logits[1, 3] = logits[1, 9] = logits[1].max() + 1.0   # tie at the top
logits[2, :] = 0.25                                    # all equal
probs = F.softmax(logits, dim=-1, dtype=torch.float)
w, ids = torch.topk(probs, K, dim=-1)
w = w / w.sum(dim=-1, keepdim=True)
out["router_softmax"] = {"tokens": T, "experts": E, "k": K, "logits": fl(logits), "ids": il(ids), "weights": fl(w)}
# Sigmoid with a selection-only bias, renormalized and scaled (DeepSeek-V3's rule without groups).
bias = torch.randn(E) * 0.1
scores = logits.sigmoid()
_, sids = torch.topk(scores + bias, K, dim=-1)
sw = scores.gather(1, sids)
sw = sw / (sw.sum(dim=-1, keepdim=True) + 1e-20) * 2.5
out["router_sigmoid"] = {"tokens": T, "experts": E, "k": K, "logits": fl(logits), "bias": fl(bias),
                         "routed_scaling": 2.5, "ids": il(sids), "weights": fl(sw)}
out["histogram"] = {"experts": E, "ids": il(ids), "counts": il(torch.bincount(ids.reshape(-1), minlength=E))}

# Routed expert MLP (gate_up packed gate-first, HF Qwen3-MoE v5 layout), combined with the routing weights.
H, I = 32, 16
xm = torch.randn(T, H)
gate_up = torch.randn(E, 2 * I, H) * 0.2
down = torch.randn(E, H, I) * 0.2
moe = torch.zeros(T, H)
for t in range(T):
    for j in range(K):
        e = int(ids[t, j])
        gu = gate_up[e] @ xm[t]
        moe[t] += w[t, j] * (down[e] @ (F.silu(gu[:I]) * gu[I:]))
out["moe_experts"] = {"tokens": T, "hidden": H, "inter": I, "experts": E, "k": K, "x": fl(xm), "ids": il(ids),
                      "weights": fl(w), "gate_up": fl(gate_up), "down": fl(down), "y": fl(moe)}

# Causal GQA attention over two packed sequences, via torch SDPA per sequence.
hq, hkv, d = 4, 2, 16
lens = [5, 3]
qa, ka, va = torch.randn(sum(lens), hq, d), torch.randn(sum(lens), hkv, d), torch.randn(sum(lens), hkv, d)
att = torch.zeros(sum(lens), hq, d)
s0 = 0
for n in lens:
    qs, ks, vs = (t[s0:s0 + n].transpose(0, 1)[None] for t in (qa, ka, va))
    o = F.scaled_dot_product_attention(qs, ks, vs, is_causal=True, enable_gqa=True, scale=d ** -0.5)
    att[s0:s0 + n] = o[0].transpose(0, 1)
    s0 += n
out["attention"] = {"hq": hq, "hkv": hkv, "head_dim": d, "seq_start": [0, 5, 8], "scale": d ** -0.5,
                    "q": fl(qa), "k": fl(ka), "v": fl(va), "y": fl(att)}

# Hessians of two experts: rows gathered by token index, weighted.
xh = torch.randn(10, 24)
row_index = torch.tensor([0, 3, 4, 9, 1, 2, 5])
offsets = [0, 4, 7]
row_weight = torch.rand(7)
hs = []
for b in range(2):
    sel = xh[row_index[offsets[b]:offsets[b + 1]]]
    wgt = row_weight[offsets[b]:offsets[b + 1]]
    hs.append(2.0 * (sel * wgt[:, None]).T @ sel)
out["hessian"] = {"k": 24, "x": fl(xh), "row_index": il(row_index), "offsets": offsets, "row_weight": fl(row_weight),
                  "alpha": 2.0, "h": fl(torch.stack(hs))}

# Weight quantizers with compressed-tensors' formulas (research/llmcompressor.md §3), written out in torch.
Wq = torch.randn(8, 64)
Wq[0, :32] = 0.0  # an all-zero group: its scale becomes eps


def int_quant(W, gs, bits, symmetric):
    qmin, qmax = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    g = W.reshape(W.shape[0], -1, gs)
    if symmetric:
        scale = g.abs().amax(2) / ((qmax - qmin) / 2)
        zp = torch.zeros_like(scale)
    else:
        lo, hi = torch.clamp(g.amin(2), max=0), torch.clamp(g.amax(2), min=0)
        scale = (hi - lo) / (qmax - qmin)
    scale = scale.to(torch.bfloat16).float()
    scale = torch.where(scale == 0, torch.finfo(torch.bfloat16).eps, scale)
    if not symmetric:
        zp = torch.clamp(torch.round(qmin - lo / scale), qmin, qmax)
    s, z = scale.repeat_interleave(gs, 1), zp.repeat_interleave(gs, 1)
    q = torch.round(torch.clamp(W / s + z, qmin, qmax))
    return scale, zp, q, (q - z) * s


for name, gs, bits, sym in (("int4_sym_g32", 32, 4, True), ("int4_asym_g32", 32, 4, False), ("int8_sym_channel", 64, 8, True)):
    sc, zp, q, dq = int_quant(Wq, gs, bits, sym)
    out["rtn_" + name] = {"rows": 8, "k": 64, "group_size": gs, "bits": bits, "symmetric": sym, "w": fl(Wq),
                          "scale": fl(sc), "zp": fl(zp), "q": il(q.to(torch.int64)), "deq": fl(dq)}

# FP8 E4M3 per-channel, scale rounded to bf16.
sc8 = (Wq.abs().amax(1, keepdim=True) / 448).to(torch.bfloat16).float()
sc8 = torch.where(sc8 == 0, torch.finfo(torch.bfloat16).eps, sc8)
f8 = torch.clamp(Wq / sc8, -448, 448).to(torch.float8_e4m3fn)
out["fp8_channel"] = {"rows": 8, "k": 64, "w": fl(Wq), "scale": fl(sc8), "codes": il(f8.view(torch.uint8).to(torch.int64)),
                      "deq": fl(f8.float() * sc8)}

# NVFP4 (group 16, FP8 group scales, global divisor 448*6/amax).
FP4 = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])


def fp4_code(a):
    bounds = [(0.25, True), (0.75, False), (1.25, True), (1.75, False), (2.5, True), (3.5, False), (5.0, True)]
    code = torch.full_like(a, 7, dtype=torch.int64)
    for i in reversed(range(7)):
        b, inclusive = bounds[i]
        code = torch.where(a <= b if inclusive else a < b, torch.full_like(code, i), code)
    return code


gsc = torch.tensor(448 * 6, dtype=torch.float32) / Wq.abs().max()
grp = Wq.reshape(8, 4, 16)
sg = torch.clamp(gsc * grp.abs().amax(2) / 6, max=448).to(torch.float8_e4m3fn)
sgf = sg.float()
sgf = torch.where(sgf == 0, torch.tensor(0.125), sgf)
sg = sgf.to(torch.float8_e4m3fn)
xs = grp / (sgf / gsc)[..., None]
mag = fp4_code(xs.abs())
codes = mag | ((xs < 0) & (mag != 0)).to(torch.int64) * 8
codes = codes.reshape(8, 64)
packed = codes[:, 0::2] | (codes[:, 1::2] << 4)
deq = torch.where(xs < 0, -1.0, 1.0) * FP4[mag] * (sgf / gsc)[..., None]
out["nvfp4"] = {"rows": 8, "k": 64, "w": fl(Wq), "global_scale": float(gsc), "scale_codes": il(sg.view(torch.uint8).to(torch.int64)),
                "packed": il(packed), "deq": fl(deq.reshape(8, 64))}

# Raw conversions: bf16 and FP8 round-to-nearest-even including exact ties, subnormals and saturation.
edge = torch.tensor([0.0, -0.0, 1.0, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, 1.0 + 2 ** -9, 3.14159, -2.71828, 1e-3, 2 ** -9,
                     2 ** -10, 3 * 2 ** -10, 0.0137, 239.9, 240.0, 248.0, 440.0, 447.9, 448.0, -447.0, 1e-30, 65504.0])
edge = torch.cat([edge, torch.randn(64) * 40, torch.randn(32) * 0.01])
edge8 = torch.clamp(edge, -448, 448)
out["convert"] = {"x": fl(edge), "bf16": fl(edge.to(torch.bfloat16)), "x8": fl(edge8),
                  "fp8_codes": il(edge8.to(torch.float8_e4m3fn).view(torch.uint8).to(torch.int64)),
                  "fp8_values": fl(edge8.to(torch.float8_e4m3fn).float())}

# GPTQ: a Hessian shared by 32 rows, int4 symmetric group 32, block 128 (ours sweeps in blocks of 32).
cols = 128
Xg = torch.randn(300, cols) @ (torch.eye(cols) + 0.3 * torch.randn(cols, cols) / cols ** 0.5)
Hg = 2 * Xg.T @ Xg / 300
U = hinv_upper(Hg)
Wg = torch.randn(32, cols)
sc = symmetric_scales(Wg, 32)
Wout, loss = gptq_sweep(Wg, U, sc, 32, -8, 7)
out["gptq"] = {"rows": 32, "k": cols, "group_size": 32, "qmin": -8, "qmax": 7, "w": fl(Wg), "hessian": fl(Hg), "hinv_upper": fl(U),
               "scale": fl(sc), "deq": fl(Wout), "loss": fl(loss)}

path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "cuda_ref", "ref.json")
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(out, f, separators=(",", ":"))
os.replace(tmp, path)
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
