"""Compares two demo runs' evidence.json (e.g. CPU and GPU): the verdicts per domain and the KL cells.

  python3 tests/gpu/compare_evidence.py CPU/evidence.json GPU/evidence.json
Prints one line per domain (verdict equal or not) and the largest relative KL difference; exit 0 when every verdict
agrees.
"""
import json
import sys


def flatten(node, prefix=""):
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = node
    return out


def main():
    a, b = (json.load(open(p)) for p in sys.argv[1:3])
    fa, fb = flatten(a), flatten(b)
    # the verdict is the domain and how many modes compound won; its KL means, interval and text carry numbers that
    # legitimately differ by rounding between devices (compared below as KL values)
    verdicts = {k: v for k, v in fa.items() if k.startswith("verdicts.") and k.endswith((".domain", ".modesWon"))}
    same = sum(1 for k, v in verdicts.items() if fb.get(k) == v)
    for k, v in verdicts.items():
        if fb.get(k) != v:
            print(f"differs: {k}: {v!r} vs {fb.get(k)!r}")
    rel = 0.0
    for k, v in fa.items():
        w = fb.get(k)
        if isinstance(v, (int, float)) and isinstance(w, (int, float)) and "kl" in k.lower() and abs(v) > 1e-12:
            rel = max(rel, abs(v - w) / abs(v))
    print(f"verdict fields equal: {same} of {len(verdicts)}; largest relative KL difference {rel:.3g}")
    sys.exit(0 if same == len(verdicts) else 1)


if __name__ == "__main__":
    main()
