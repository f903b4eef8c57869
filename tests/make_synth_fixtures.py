"""Reference values for the synth area's tests (run with /opt/hfref/bin/python; numpy only).

Writes tests/fixtures/synth/js_divergence.json: Jensen-Shannon divergences in bits between expert-count vectors,
computed with plain numpy independently of the Java code (AcceptanceRule / RoutingCounts).
"""
import json
import pathlib

import numpy as np


def js_bits(a, b):
    p = np.asarray(a, float); p /= p.sum()
    q = np.asarray(b, float); q /= q.sum()
    m = (p + q) / 2

    def kl(x, y):
        mask = x > 0
        return float(np.sum(x[mask] * np.log(x[mask] / y[mask])))

    return (0.5 * kl(p, m) + 0.5 * kl(q, m)) / np.log(2)


cases = [
    {"a": [0, 0, 3, 1], "b": [20, 10, 5, 5]},
    {"a": [4, 2, 2, 2], "b": [20, 10, 5, 5]},
    {"a": [24, 12, 7, 7], "b": [20, 10, 5, 5]},
    {"a": [1, 0, 0, 0, 0, 0, 0, 0], "b": [0, 0, 0, 0, 0, 0, 0, 1]},
    {"a": [3, 1, 4, 1, 5, 9, 2, 6], "b": [2, 7, 1, 8, 2, 8, 1, 8]},
]
for c in cases:
    c["js_bits"] = js_bits(c["a"], c["b"])
out = pathlib.Path(__file__).parent / "fixtures" / "synth" / "js_divergence.json"
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(json.dumps({"format": "routecal.test.js_divergence", "format_version": 1, "cases": cases}, indent=1) + "\n")
print("wrote", out)
