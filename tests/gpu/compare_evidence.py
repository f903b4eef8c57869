"""Compares two demo runs' evidence.json (e.g. CPU and GPU): the verdict per domain, the modes won, the KL cells.

  python3 tests/gpu/compare_evidence.py CPU/evidence.json GPU/evidence.json
The verdict of a domain is what the demo concludes from its paired 95 % interval of KL(compound) − KL(original+more):
win (the interval is below 0), lose (above 0) or tie. Exit 0 when every domain's verdict agrees. How many of the
four modes compound won is printed too, but not required to agree: it compares point estimates cell by cell, and in a
domain that is a tie those flip with any rounding difference between devices.
"""
import json
import sys


def verdict(v):
    d = v["klDifference"]
    return "win" if d["upper"] < 0 else "lose" if d["lower"] > 0 else "tie"


def main():
    a, b = (json.load(open(p)) for p in sys.argv[1:3])
    va = {v["domain"]: v for v in a["verdicts"]}
    vb = {v["domain"]: v for v in b["verdicts"]}
    same = 0
    for domain, x in va.items():
        y = vb.get(domain)
        if y is None:
            print(f"{domain:24s} missing in {sys.argv[2]}")
            continue
        fmt = lambda v: (f"{verdict(v):4s} {v['klDifference']['estimate']:+.4f} [{v['klDifference']['lower']:+.4f}, "
                         f"{v['klDifference']['upper']:+.4f}], modes won {v['modesWon']}/{v['modes']}")
        ok = verdict(x) == verdict(y)
        same += ok
        print(f"{domain:24s} {'same   ' if ok else 'DIFFERS'} {fmt(x)} | {fmt(y)}")
    extra = sorted(set(vb) - set(va))
    if extra:
        print("only in " + sys.argv[2] + ": " + ", ".join(extra))
    # rows: {"set/mode": {domain: {"kl": …}}}; the largest relative difference of a KL cell between the two runs
    rel = 0.0
    for row, domains in a.get("rows", {}).items():
        for domain, cell in domains.items():
            other = b.get("rows", {}).get(row, {}).get(domain, {})
            if isinstance(cell.get("kl"), (int, float)) and isinstance(other.get("kl"), (int, float)) and cell["kl"] > 1e-12:
                rel = max(rel, abs(cell["kl"] - other["kl"]) / cell["kl"])
    print(f"domain verdicts equal: {same} of {len(va)}; largest relative difference of a KL cell {rel:.3g}")
    sys.exit(0 if same == len(va) and not extra else 1)


if __name__ == "__main__":
    main()
