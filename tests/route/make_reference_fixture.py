#!/usr/bin/env python3
"""Reference fixture for routecal's route area: runs the PASCAL-MoE phase-1 code itself on a small seeded example.

Usage (the reference source is the snapshot of github:nota-github/nota_ai_pascal_moe_quantization, HEAD b9a3fb9):
    /opt/hfref/bin/python tests/route/make_reference_fixture.py --pascal-src /path/to/repo/src/phase1 \
        --out tests/fixtures/route/reference_v1

What is run from the reference (nothing re-implemented here):
  step 3 (CLI):  step3_count_expert_dist.py --freq-thr/--less-thr        -> expected/step3_thr{a,b}.json
  step 4 (funcs): expert_sensitivity_score, sort_by_score_asc, save_quant_threshold_json
                                                                          -> expected/step4_sensitivity.json, step4_thr.json
  step 5 (CLI):  step5_sort_token_plot.py --threshold-json ... --token-thr-blue/red, both modes, two box sets
                                                                          -> expected/step5_{mode}_{boxes}.json
  step 6 (funcs): load_blue_red_by_sample, per_position_labels, clear_labels_before_char, count_labels,
                 merged_spans, apply_tags, with the stored offsets (step 6 would re-tokenize; we give it the
                 tokenization directly)                                  -> expected/step6_{mode}_{boxes}_{after|all}.jsonl
Inputs written: token_routing.jsonl (reference schema + "weights"), samples.jsonl (text, domain, token ids,
code-point offsets), weights.bin (bf16 little-endian, concatenated) + weights.json (names, shapes, byte offsets).
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

LAYERS, EXPERTS, TOPK = 6, 8, 2
WORDS = ["The", " cat", " sat", " on", " the", " mat", ".", " We", " are", " given", " an", " array", " of", " integers",
         " k", "=", "3", " and", " caf", "é", " 🙂", " so", " we", " can", " think", "\n", "<think>", "\n", " answer",
         " is", " 42", ";", " def", " f", "(x", "):", " return", " x", "*", "2"]


def make_samples(rng):
    samples = []
    domains = ["chat", "code", "math", "chat"]
    for sid, dom in enumerate(domains):
        n = int(rng.integers(30, 45))
        toks = [WORDS[int(i)] for i in rng.integers(0, len(WORDS), n)]
        if sid != 2:  # sample 2 has no "<think>\n" marker
            at = int(rng.integers(5, 15))
            toks[at:at] = ["<think>", "\n"]
        else:
            toks = [t for t in toks if t != "<think>"]
        text, starts, ends = "", [], []
        for t in toks:
            starts.append(len(text))
            text += t
            ends.append(len(text))
        ids = [WORDS.index(t) for t in toks]
        samples.append({"sample_id": sid, "domain": dom, "text": text, "token_ids": ids,
                        "char_start": starts, "char_end": ends})
    return samples


def make_routing(rng, samples):
    # skewed, layer-dependent expert popularity so that counts tie and differ
    pop = [rng.dirichlet(np.full(EXPERTS, 0.6 + 0.3 * l)) for l in range(LAYERS)]
    rows = []
    for s in samples:
        for pos, tid in enumerate(s["token_ids"]):
            ids, wts = {}, {}
            for l in range(LAYERS):
                logits = np.log(pop[l] + 1e-3) + rng.gumbel(size=EXPERTS)
                order = np.argsort(-logits, kind="stable")[:TOPK]
                p = np.exp(logits - logits.max())
                p = p / p.sum()
                w = p[order] / p[order].sum()
                ids[str(l)] = [int(e) for e in order]
                wts[str(l)] = [float(np.float32(x)) for x in w]
            rows.append({"sample_id": s["sample_id"], "position_id": pos, "token_id": tid, "token_str": WORDS[tid],
                         "activated_expert_ids": ids, "weights": wts})
    return rows


def bf16(a):
    return torch.tensor(a, dtype=torch.float32).to(torch.bfloat16)


def make_weights(rng):
    tensors = {}
    for l in range(LAYERS):
        for e in range(EXPERTS):
            shapes = {"gate_proj": (4, 256), "up_proj": (4, 256), "down_proj": (4, 200)}
            if (l, e) == (3, 7):
                shapes["down_proj"] = (4, 100)          # narrower than a group: NaN, ignored in the max
            if (l, e) == (2, 5):
                shapes = {k: (4, 64) for k in shapes}    # all NaN: the expert's score is NaN, ranked last
            for name, shp in shapes.items():
                w = rng.standard_normal(shp) * 0.02
                k = int(rng.integers(0, 4))              # a few planted outliers of random size
                for _ in range(k):
                    w[rng.integers(0, shp[0]), rng.integers(0, shp[1])] *= float(rng.uniform(3, 60))
                tensors[f"model.layers.{l}.mlp.experts.{e}.{name}.weight"] = bf16(w)
    return tensors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pascal-src", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    src = Path(args.pascal_src).resolve()
    out = Path(args.out).resolve()
    exp = out / "expected"
    exp.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)

    samples = make_samples(rng)
    with open(out / "samples.jsonl", "w", encoding="utf-8") as f:
        for s in samples:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    rows = make_routing(rng, samples)
    routing = out / "token_routing.jsonl"
    with open(routing, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    tensors = make_weights(rng)
    meta, blob = [], bytearray()
    for name, t in tensors.items():
        raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        meta.append({"name": name, "shape": list(t.shape), "offset": len(blob), "bytes": len(raw)})
        blob += raw
    (out / "weights.bin").write_bytes(bytes(blob))
    (out / "weights.json").write_text(json.dumps(meta, indent=1))

    py = sys.executable
    run = lambda *a: subprocess.run([py, *map(str, a)], check=True, cwd=src, stdout=subprocess.DEVNULL)

    # step 3, two threshold pairs
    for tag, (fq, ls) in {"a": ("0.25", "0.25"), "b": ("0.1", "0.3")}.items():
        d = out / "tmp3" / tag
        d.mkdir(parents=True, exist_ok=True)
        run(src / "step3_count_expert_dist.py", "--jsonl", routing, "--num-experts", EXPERTS, "--out-path", d,
            "--freq-thr", fq, "--less-thr", ls)
        (exp / f"step3_thr{tag}.json").write_text((d / "expert_dist_threshold_experts.json").read_text())

    # step 4 through its functions (its CLI needs an HF checkpoint)
    sys.path.insert(0, str(src))
    # step4 imports step2 for find_sparse_moe_blocks (unused here), and step2 imports `datasets` at top level; a
    # stand-in module avoids installing that package just to satisfy the import.
    import types
    sys.modules.setdefault("datasets", types.SimpleNamespace(load_from_disk=None))
    import step4_weight_outlier_dist as s4

    class Expert(torch.nn.Module):
        def __init__(self, l, e):
            super().__init__()
            for name in ("gate_proj", "up_proj", "down_proj"):
                w = tensors[f"model.layers.{l}.mlp.experts.{e}.{name}.weight"]
                lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False, dtype=torch.bfloat16)
                lin.weight.data.copy_(w)
                setattr(self, name, lin)

    keys, scores = [], []
    for l in range(LAYERS):
        for e in range(EXPERTS):
            keys.append((l, e))
            scores.append(s4.expert_sensitivity_score(Expert(l, e), group_size=128))
    (exp / "step4_sensitivity.json").write_text(json.dumps(
        [{"layer": l, "expert_id": e, "sensitivity": None if np.isnan(s) else s} for (l, e), s in zip(keys, scores)]))
    sorted_k, _ = s4.sort_by_score_asc(keys, scores)
    s4.save_quant_threshold_json(exp / "step4_thr.json", sen_thr=0.25, rob_thr=0.25, sorted_keys=sorted_k,
                                 group_size=128, ranking_basis="full_grid_sensitivity_asc")

    # step 5 (CLI) and step 6 (functions), two box sets per mode
    import step6_apply_bracket as s6
    boxes = {"balance": {"ref": ((0.10, 0.77), (0.15, 0.60)), "wide": ((0.2, 0.4), (0.2, 0.35))},
             "q_sensitivity": {"ref": ((0.20, 0.20), (0.35, 0.25)), "wide": ((0.3, 0.1), (0.2, 0.3))}}
    thr_json = {"balance": exp / "step3_thra.json", "q_sensitivity": exp / "step4_thr.json"}
    for mode, sets in boxes.items():
        for bname, ((bx, by), (rx, ry)) in sets.items():
            d = out / "tmp5" / f"{mode}_{bname}"
            d.mkdir(parents=True, exist_ok=True)
            run(src / "step5_sort_token_plot.py", "--mode", mode, "--jsonl", routing, "--threshold-json", thr_json[mode],
                "--num-experts", EXPERTS, "--out-path", d, "--token-thr-blue", bx, by, "--token-thr-red", rx, ry)
            cls = d / f"token_freq_less_scatter_{mode}_classified.json"
            (exp / f"step5_{mode}_{bname}.json").write_text(cls.read_text())
            blue_by, red_by = s6.load_blue_red_by_sample(cls, mode)
            for after in (True, False):
                lines = []
                for s in samples:
                    offsets = list(zip(s["char_start"], s["char_end"]))
                    labels = s6.per_position_labels(len(offsets), blue_by.get(s["sample_id"], set()),
                                                    red_by.get(s["sample_id"], set()), overlap="blue_first")
                    if after:
                        m = s["text"].find(s6.BRACKET_AFTER_MARKER)
                        if m == -1:
                            labels = [None] * len(labels)
                        else:
                            s6.clear_labels_before_char(labels, offsets, m + len(s6.BRACKET_AFTER_MARKER))
                    nb, nr = s6.count_labels(labels)
                    text = s6.apply_tags(s["text"], s6.merged_spans(labels, offsets))
                    lines.append(json.dumps({"domain": s["domain"], "sample_id": s["sample_id"], "mode": mode,
                                             "n_tokens_total": len(offsets), "n_tokens_blue": nb, "n_tokens_red": nr,
                                             "text": text}, ensure_ascii=False))
                name = f"step6_{mode}_{bname}_{'after' if after else 'all'}.jsonl"
                (exp / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run(["rm", "-rf", str(out / "tmp3"), str(out / "tmp5")], check=True)


if __name__ == "__main__":
    main()
