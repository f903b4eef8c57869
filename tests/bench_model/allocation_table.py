#!/usr/bin/env python3
"""Renders tests/bench_model/allocation.sh's runs: allocation.json (the numbers) and allocation.md (the table).

Usage: python3 tests/bench_model/allocation_table.py WORK_DIR OUT_DIR
Reads WORK_DIR/<run>/bit_allocation.json (widths chosen, stored bits) and WORK_DIR/eval-vs-<baseline>/eval.json
(routecal evaluate's bootstrap intervals and paired differences). Only formats; every number comes from those files.
"""
import json
import sys
from pathlib import Path

DESCRIPTIONS = {
    "w3-uniform": "every expert W3",
    "alloc-expert-w3size": "per expert from {2,3,4}, at W3's size",
    "blind-expert-w3size": "per expert from {2,3,4}, at W3's size, routing ignored",
    "alloc-layer": "per layer from {2,3,4} (vLLM-servable)",
    "alloc-expert": "per expert from {2,3,4}",
    "blind-expert": "per expert from {2,3,4}, routing ignored",
    "alloc-expert-34": "per expert from {3,4}",
    "alloc-expert-pool": "per expert from {2,3,4}, usage from the pool's routing",
    "w4-uniform": "every expert W4",
}


def interval(node):
    return {"estimate": node["estimate"], "lower": node["lower"], "upper": node["upper"]}


def fmt(i, digits=4, paired=False):
    star = " *" if paired and (i["lower"] > 0 or i["upper"] < 0) else ""
    return f"{i['estimate']:.{digits}f} [{i['lower']:.{digits}f}, {i['upper']:.{digits}f}]{star}"


def main(work, out):
    work, out = Path(work), Path(out)
    evals = {b: json.loads((work / f"eval-vs-{b}" / "eval.json").read_text())
             for b in ("w3-uniform", "w4-uniform", "alloc-expert", "alloc-expert-w3size")}
    aware_of = {"blind-expert": "alloc-expert", "blind-expert-w3size": "alloc-expert-w3size"}
    stats = evals["w3-uniform"]["statistics"]
    rows = []
    for m in stats["models"]:
        name = m["model"]
        if name not in DESCRIPTIONS:
            continue
        alloc = json.loads((work / name / "bit_allocation.json").read_text())
        widths = {}
        for e in alloc["experts"]:
            widths[e["bits"]] = widths.get(e["bits"], 0) + 1
        row = {"run": name, "what": DESCRIPTIONS[name], "average_bits": alloc["average_bits"],
               "experts_per_width": {str(k): v for k, v in sorted(widths.items())},
               "objective": alloc["objective"],
               "mean_delta_nll": interval(m["mean_delta_nll"]), "worst_domain_delta_nll": interval(m["worst_domain_delta_nll"]),
               "worst_domain": m["worst_domain_delta_nll_domain"], "mean_kl": interval(m["mean_kl"])}
        for base, ev in evals.items():
            if base.startswith("alloc") and aware_of.get(name) != base:
                continue
            for c in ev["statistics"]["comparisons"]:
                if c["model"] == name and c["baseline"] == base:
                    key = "vs_routing_aware" if base.startswith("alloc") else "vs_" + base
                    row[key] = {"baseline": base} | {k: interval(c[k]) for k in ("mean_delta_nll", "worst_domain_delta_nll", "mean_kl")}
        rows.append(row)
    summary = {"format": "routecal.bench-allocation", "format_version": 1, "method": stats["method"],
               "command": "bash tests/bench_model/allocation.sh", "rows": rows}
    out.mkdir(parents=True, exist_ok=True)
    (out / "allocation.json").write_text(json.dumps(summary, indent=1) + "\n")

    lines = ["| run | experts | stored bits/expert weight | experts at W2/W3/W4 | mean ΔNLL [95% CI] | worst-domain ΔNLL [95% CI] "
             "| mean KL [95% CI] | KL − uniform W3 [95% CI] | KL − uniform W4 [95% CI] | mean ΔNLL − uniform W4 [95% CI] "
             "| routing ignored − routing used, same size: mean ΔNLL / KL [95% CI] |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        w = r["experts_per_width"]
        counts = "/".join(str(w.get(str(b), 0)) for b in (2, 3, 4))
        d3, d4, da = r.get("vs_w3-uniform"), r.get("vs_w4-uniform"), r.get("vs_routing_aware")
        lines.append(f"| {r['run']} | {r['what']} | {r['average_bits']:.3f} | {counts} | {fmt(r['mean_delta_nll'])} "
                     f"| {fmt(r['worst_domain_delta_nll'])} {r['worst_domain']} | {fmt(r['mean_kl'])} "
                     f"| {fmt(d3['mean_kl'], 5, True) if d3 else '—'} | {fmt(d4['mean_kl'], 5, True) if d4 else '—'} "
                     f"| {fmt(d4['mean_delta_nll'], 4, True) if d4 else '—'} "
                     f"| {fmt(da['mean_delta_nll'], 4, True) + ' / ' + fmt(da['mean_kl'], 5, True) if da else '—'} |")
    lines.append("")
    lines.append(f"Intervals: {stats['method']}. * marks a paired difference whose interval excludes zero.")
    (out / "allocation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
