#!/usr/bin/env python3
"""The anchor for org.routecal.bench.GemmBench: torch's bf16 matmul (A @ Wᵀ, fp32 out like ours) and grouped_mm
(torch._grouped_mm, what transformers' grouped_mm experts run) on the shapes GemmBench timed, CUDA events, median of 5
timings of 10 calls after warm-up. Writes the rows of GemmBench's JSON with torch_ms, torch_tflops and ours/torch.

    python3 tests/gpu/torch_gemm_bench.py --ours gemm.json --out gemm_side_by_side.json
"""
import argparse
import json
import os

import torch


def median_ms(fn):
    for _ in range(3):
        fn()
    times = []
    for _ in range(5):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(10):
            fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / 10)
    return sorted(times)[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    ours = json.load(open(args.ours))
    rows = []
    for r in ours["gemms"]:
        e, m, n, k = r["experts"], r["rows_per_expert"], r["n"], r["k"]
        a = torch.randn(e * m, k, device="cuda", dtype=torch.bfloat16)
        if r["kind"] == "dense":
            w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16) * 0.05
            impl, fn = "matmul", (lambda: torch.matmul(a, w.t()))
        else:
            w = torch.randn(e, n, k, device="cuda", dtype=torch.bfloat16) * 0.05
            offs = torch.arange(1, e + 1, device="cuda", dtype=torch.int32) * m
            wt = w.transpose(-2, -1)
            try:
                torch._grouped_mm(a, wt, offs=offs)
                impl, fn = "grouped_mm", (lambda: torch._grouped_mm(a, wt, offs=offs))
            except Exception as ex:  # older torch or a shape it refuses: one matmul per expert
                impl = f"per-expert matmul ({type(ex).__name__})"
                fn = lambda: [torch.matmul(a[i * m:(i + 1) * m], w[i].t()) for i in range(e)]
        ms = median_ms(fn)
        row = dict(r)
        row["torch_impl"] = impl
        row["torch_ms"] = ms
        row["torch_tflops"] = r["flops"] / (ms * 1e-3) / 1e12
        for v in (1, 2):
            if f"v{v}_tflops" in r:
                row[f"v{v}_vs_torch"] = r[f"v{v}_tflops"] / row["torch_tflops"]
        rows.append(row)
        del a, w
        print(f"{r['kind']:7s} E{e:<4d} {m:5d}x{n}x{k}: torch {impl} {row['torch_tflops']:.0f} TFLOP/s, "
              + ", ".join(f"v{v} {r[f'v{v}_tflops']:.0f}" for v in (1, 2) if f"v{v}_tflops" in r), flush=True)
    result = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "ours": ours.get("device"), "gemms": rows}
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
