#!/usr/bin/env python3
"""Per-layer normalised routing entropy per domain of the benchmark model, measured by routecal's own route stage.

    python3 tests/bench_model/routing_report.py [--model tests/bench_model/model] [--corpus tests/bench_model/heldout.jsonl]

Runs `./routecal route --jsonl` once on the corpus (JVM heap from ROUTECAL_HEAP) and reads its token_routing.jsonl (per
token, per layer, the top-k expert ids). Per domain and layer: the normalised entropy of the expert picks
(−Σ p ln p / ln E, route's own definition; the all-domain row is checked against route's metrics.json) and the
Jensen–Shannon divergence (bits) between the domain's expert distribution and the all-domain one. Domain
specialisation shows as per-domain entropies below the all-domain entropy of the same layer and JS divergences well
above zero: each domain uses its own subset of the experts.
"""
import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def entropy(counts):
    total = sum(counts)
    return -sum(c / total * math.log(c / total) for c in counts if c) / math.log(len(counts))


def js_bits(a, b):
    ta, tb = sum(a), sum(b)
    js = 0.0
    for x, y in zip(a, b):
        p, q = x / ta, y / tb
        m = (p + q) / 2
        if p:
            js += 0.5 * p * math.log2(p / m)
        if q:
            js += 0.5 * q * math.log2(q / m)
    return js


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "tests/bench_model/model")
    ap.add_argument("--corpus", type=Path, default=ROOT / "tests/bench_model/heldout.jsonl")
    args = ap.parse_args()
    domain_of = {}
    for line in args.corpus.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        domain_of[str(r["sample_id"])] = r["domain"]
    cfg = json.loads((args.model / "config.json").read_text())
    experts = cfg.get("num_experts", cfg.get("num_local_experts"))  # transformers 4 and 5 spellings
    counts = {}  # domain → layer → [experts]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "route"
        subprocess.run([str(ROOT / "routecal"), "route", "--model", str(args.model), "--corpus", str(args.corpus), "--out", str(out),
                        "--no-rtn-sensitivity", "--jsonl"], check=True, stdout=subprocess.DEVNULL)
        metrics = json.loads((out / "metrics.json").read_text())
        with open(out / "token_routing.jsonl", encoding="utf-8") as f:
            for line in f:
                t = json.loads(line)
                d = domain_of[str(t["sample_id"])]
                for layer, ids in t["activated_expert_ids"].items():
                    for e in ids:
                        for key in (d, "all domains"):
                            counts.setdefault(key, {}).setdefault(int(layer), [0] * experts)[e] += 1
    layers = sorted(counts["all domains"])
    for l, m in zip(layers, metrics["per_layer"]):
        assert abs(entropy(counts["all domains"][l]) - m["entropy_norm"]) < 1e-9, (l, m)
    order = ["all domains"] + [d for d in dict.fromkeys(domain_of.values())]
    print("| domain | " + " | ".join(f"H layer {l}" for l in layers) + " | mean H | mean JS to all (bits) |")
    print("|---|" + "---|" * (len(layers) + 2))
    for d in order:
        h = [entropy(counts[d][l]) for l in layers]
        js = [js_bits(counts[d][l], counts["all domains"][l]) for l in layers]
        print(f"| {d} | " + " | ".join(f"{v:.3f}" for v in h) + f" | {sum(h) / len(h):.3f} | {sum(js) / len(js):.3f} |")


if __name__ == "__main__":
    main()
