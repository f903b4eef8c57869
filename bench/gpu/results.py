"""Renders the JSON that tests/gpu/run_gpu.sh leaves in its output folder as the Markdown tables of bench/RESULTS.md.

  python3 bench/gpu/results.py OUT_DIR > section.md
Reads what is there and says "not run" for the rest, so a partial run renders too. Numbers are copied, never
computed from anything but those files (ratios are ours over HF from the two files of one run).
"""
import glob
import re
import json
import os
import sys
import tarfile
import tempfile


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(v, digits=4):
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(fmt(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def device_line(out):
    try:
        with open(os.path.join(out, "gpu.txt")) as f:
            lines = [l.strip() for l in f if l.strip()]
        return lines[-1] if lines else "unknown"
    except OSError:
        return "unknown (no gpu.txt)"


def parity(out):
    checks = load(os.path.join(out, "backend_parity.json"))
    if checks is None:
        return "BackendParity: not run."
    failed = [c for c in checks if not c.get("pass")]
    s = f"BackendParity: {len(checks) - len(failed)} of {len(checks)} checks passed."
    if failed:
        s += "\n\n" + table(["op", "shape", "metric", "value", "limit"],
                            [[c["op"], c["shape"], c["metric"], c["value"], c["limit"]] for c in failed])
    return s


def numerics(out):
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "numerics_*.json"))):
        d = load(path)
        if not d:
            continue
        name = os.path.basename(path)[len("numerics_"):-len(".json")]
        for c in d.get("comparisons", []):
            rows.append([name, c["comparison"], c["token_layers"], c["topk_agreement"], c["near_tie_rate"],
                         c["topk_agreement_outside_near_ties"], c["logits_nmse"], c["logits_max_diff_rel_to_max"]])
    rows += numerics_from_logs(out, {r[0] for r in rows})
    if not rows:
        return "Numerics: not run."
    return table(["model", "comparison", "token×layers", "top-k agreement", "near-tie rate", "agreement outside near ties",
                  "logits NMSE", "max abs Δlogit / max abs logit"], rows)


def numerics_from_logs(out, have):
    """Models whose numerics_*.json did not come back (the device tool returns a limited number of files): their
    comparison lines from the call's log (ModelNumerics prints comparison, top-k agreement and logits NMSE; the
    near-tie columns exist only in the JSON)."""
    rows = []
    for path in sorted(glob.glob(os.path.join(out, "log_call*.txt"))):
        name = None
        with open(path, errors="replace") as f:
            for line in f:
                m = re.search(r"wrote \S+/num/(\S+) model", line)
                if m:
                    name = m.group(1)
                    continue
                m = re.match(r"comparison=(.+), token_layers=(\d+), topk_agreement=([0-9.Ee-]+)", line.strip())
                if m and name and name not in have:
                    rows.append([name, m.group(1), int(m.group(2)), float(m.group(3)), "–", "–", None, "–"])
                    continue
                m = re.match(r"logits_nmse=([0-9.Ee-]+)", line.strip())
                if m and rows and rows[-1][0] == name and rows[-1][6] is None:
                    rows[-1][6] = float(m.group(1))
    return rows


def quantize(out):
    parts = []
    diffs = sorted(glob.glob(os.path.join(out, "diff_*.json")))
    if diffs:
        rows = []
        for p in diffs:
            d = load(p) or {}
            rows.append([os.path.basename(p)[5:-5], d.get("weights_compared"), d.get("fraction_equal")])
        parts.append(table(["codes compared", "weights", "fraction equal"], rows))
    timings = []
    for p in sorted(glob.glob(os.path.join(out, "quantize_*_manifest.json"))):
        m = load(p) or {}
        t, params = m.get("timings_s", {}), m.get("parameters", {})
        dev = params.get("device") or {}
        timings.append([os.path.basename(p)[9:-14], f"{dev.get('kind')} {dev.get('name')}, {params.get('precision')}",
                        t.get("forward"), t.get("solve"), t.get("write"), t.get("total")])
    if timings:
        parts.append(table(["run", "device", "forward s", "solve s", "write s", "total s"], timings))
    ev = load(os.path.join(out, "quantize_eval.json"))
    if ev:
        parts.append(table(["model", "tokens", "ppl", "KL", "top-1"],
                           [[m.get("name"), m.get("tokens"), m.get("ppl"), m.get("kl"), m.get("top1_agreement", m.get("top1"))]
                            for m in ev.get("models", [])]))
    return "\n\n".join(parts) if parts else "Quantize: not run."


def bench(out):
    rows = []
    for hf_path in sorted(glob.glob(os.path.join(out, "hf_bench_*.json"))):
        hf = load(hf_path) or {}
        tag = os.path.basename(hf_path)[len("hf_bench_"):-5]
        for impl, r in (hf.get("routing_pass") or {}).items():
            if "tokens_per_s" in r:
                rows.append(["HF transformers " + tag, impl, hf.get("batch"), hf.get("seq"), r["tokens_per_s"], None])
    hf_best = {}
    for r in rows:
        key = (r[2], r[3])
        hf_best[key] = max(hf_best.get(key, 0), r[4])
    for p in sorted(glob.glob(os.path.join(out, "engine_*.json"))):
        e = load(p) or {}
        for r in e.get("routing_pass", []):
            best = hf_best.get((r["batch"], r["seq"]))
            rows.append(["routecal " + os.path.basename(p)[7:-5], f"{e.get('backend')}, {e.get('weights')}", r["batch"], r["seq"],
                         r["tokens_per_second"], (r["tokens_per_second"] / best) if best else None])
    if not rows:
        return "Routing pass: not run."
    return table(["system", "how", "batch", "seq", "tokens/s", "vs fastest HF at this shape"], rows)


def profile(out):
    """GPU time per kernel of one routing pass (EngineBench --profile: CUDA events around every launch)."""
    parts = []
    for p in sorted(glob.glob(os.path.join(out, "engine_*.json"))):
        for r in (load(p) or {}).get("routing_pass", []):
            prof = r.get("profile")
            if not prof:
                continue
            rows = [[k["kernel"], k["launches"], k["ms"], k["share_of_wall"]] for k in prof["kernels"]]
            parts.append(f"{os.path.basename(p)}, {r['batch']} x {r['seq']} tokens: kernels {fmt(prof['kernel_ms'])} ms of "
                         f"{fmt(prof['wall_ms'])} ms wall\n\n" + table(["kernel", "launches", "GPU ms", "share of wall"], rows))
    return "\n\n".join(parts) if parts else "Kernel profile: not run."


def gemm(out):
    """Our bf16 GEMM variants beside torch on the same shapes (GemmBench + torch_gemm_bench.py, one call)."""
    folder = out
    g = load(os.path.join(folder, "gemm_side_by_side.json"))
    if not g:
        return "GEMM side by side: not run."
    rows = [[r["kind"], r["experts"], r["rows_per_expert"], r["n"], r["k"], r["torch_impl"], r["torch_tflops"],
             r.get("v1_tflops"), r.get("v2_tflops"), r.get("v2_vs_torch"), r.get("v2_outputs_differing_from_v1")] for r in g["gemms"]]
    text = f"torch {g.get('torch')} on {g.get('device')}\n\n" + table(
        ["kind", "experts", "rows per expert", "N", "K", "torch", "torch TFLOP/s", "ours v1", "ours v2", "v2 / torch",
         "v2 outputs ≠ v1"], rows)
    v3 = load(os.path.join(folder, "gemm_v3.json"))
    if v3:
        text += "\n\nVariant 3 (GemmBench --variants 1,3)\n\n" + table(
            ["kind", "experts", "rows per expert", "N", "K", "ours v1", "ours v3", "v3 outputs ≠ v1"],
            [[r["kind"], r["experts"], r["rows_per_expert"], r["n"], r["k"], r.get("v1_tflops"), r.get("v3_tflops"),
              r.get("v3_outputs_differing_from_v1")] for r in v3["gemms"]])
    return text


def big(out):
    rows = []
    for name in ("route_48l", "quantize_48l"):
        m = load(os.path.join(out, name + "_manifest.json"))
        if m:
            rows.append([name, ", ".join(f"{k} {v:.1f}" for k, v in m.get("timings_s", {}).items())])
    return table(["run", "timings (s)"], rows) if rows else "48-layer runs: not run."


def multi(out):
    """quantize on 1..8 GPUs (run_gpu.sh multi and multi1): wall time, speed-up and efficiency against the same model's
    one-GPU run of the same output folder, the host-staged bytes, the spread of the devices' solve time, codes vs one GPU."""
    runs = {}
    for p in glob.glob(os.path.join(out, "multi_*_manifest.json")):
        name = os.path.basename(p)[len("multi_"):-len("_manifest.json")]
        model, _, gpus = name.rpartition("_")
        if gpus.isdigit():
            runs[(model, int(gpus))] = load(p) or {}
    rows = []
    for (model, gpus) in sorted(runs):
        m = runs[(model, gpus)]
        total = m.get("timings_s", {}).get("total")
        one = runs.get((model, 1), {}).get("timings_s", {}).get("total")
        res = m.get("results", {})
        devices = res.get("devices") or []
        solves = [d.get("solve_s") for d in devices if d.get("solve_s") is not None]
        diff = load(os.path.join(out, f"multi_diff_{model}_1_vs_{gpus}.json")) or {}
        speedup = one / total if one and total else None
        rows.append([model, gpus, res.get("tokens"), total, m.get("timings_s", {}).get("forward"), m.get("timings_s", {}).get("solve"),
                     speedup, speedup / gpus if speedup else None,
                     (res.get("reduction") or {}).get("bytes_to_host", 0) / 1e9 if devices else None,
                     f"{min(solves):.1f}–{max(solves):.1f}" if solves else None, diff.get("fraction_equal") if gpus > 1 else None])
    logical = []
    for p in sorted(glob.glob(os.path.join(out, "multi_diff_demo_1_vs_devices-*.json"))):
        d = load(p) or {}
        logical.append([os.path.basename(p)[len("multi_diff_demo_1_vs_"):-5], d.get("weights_compared"), d.get("fraction_equal")])
    parts = []
    if rows:
        parts.append(table(["model", "GPUs", "tokens", "total s", "forward s", "solve s", "speed-up", "efficiency", "host-staged GB",
                            "device solve s (min–max)", "codes equal vs 1 GPU"], rows))
    if logical:
        parts.append(table(["logical devices on GPU 0", "weights", "fraction equal vs 1"], logical))
    return "\n\n".join(parts) if parts else "Several GPUs: not run."


def cpu16(out):
    """run_gpu.sh cpu16: the side by side (routecal CPU forward vs HF fp32/bf16, one GPTQ layer vs PyTorch), the
    kernel bench's matmul share of the FMA peak, and the grouped-product A/B, all from the files of that one call."""
    parts = []
    sbs = load(os.path.join(out, "side_by_side_16core.json"))
    if sbs:
        ours = sbs.get("routecal_forward", {})
        rows = [["routecal fp32", ours.get("forward_tokens_per_s_median"), 1.0]]
        ours16 = sbs.get("routecal_forward_bf16") or {}
        if ours16.get("forward_tokens_per_s_median") and rows[0][1]:
            rows.append(["routecal bf16", ours16["forward_tokens_per_s_median"], ours16["forward_tokens_per_s_median"] / rows[0][1]])
        for key in ("hf_forward_float32", "hf_forward_bfloat16"):
            hf = sbs.get(key) or {}
            v = hf.get("forward_tokens_per_s_median")
            rows.append(["HF transformers " + key.rsplit("_", 1)[1], v, v / rows[0][1] if v and rows[0][1] else None])
        parts.append(f"Machine: {sbs.get('machine')}, {sbs.get('threads')} threads, torch {sbs.get('torch')}; "
                     f"same top-1 as HF fp32: {fmt(sbs.get('same_top1_as_hf_float32'))}\n\n"
                     + table(["forward (side-by-side geometry)", "tokens/s (median)", "vs routecal"], rows))
        parts.append(table(["ratio", "value"], [[k, v] for k, v in sbs.items() if k.startswith("ratio")]))
    for name in ("cpu-kernels-16core.json", "cpu-kernels-16core-1thread.json"):
        k = load(os.path.join(out, name))
        if not k:
            continue
        rows = [[m.get("shape"), f"{m.get('tokens')}×{m.get('in')}→{m.get('out')}", m.get("f32_panels_gflops_median"),
                 m.get("f32_panels_fraction_of_peak_median"), m.get("f32_gflops_median"), m.get("f32_fraction_of_peak_median")]
                for m in k.get("matmul", []) if isinstance(m, dict)]
        parts.append(f"`{name}`: {k.get('machine')}, threads {k.get('threads')}, FMA peak {fmt(k.get('fma_peak_gflops_per_core'))} "
                     f"GFLOP/s per core, {fmt(k.get('fma_peak_gflops_all_threads'))} all threads\n\n"
                     + (table(["matmul", "shape", "panels GFLOP/s", "panels share of peak", "f32 GFLOP/s", "f32 share of peak"], rows)
                        if rows else "(no matmul rows)"))
    ab = []
    for tag in ("forward", "forward_q30layer"):
        for g in ("true", "false"):
            vals = []
            for p in sorted(glob.glob(os.path.join(out, f"{tag}_grouped-{g}-*.json"))):
                d = load(p) or {}
                vals.append(d.get("forward_tokens_per_s_median") or d.get("forward_tokens_per_s"))
            if vals:
                ab.append([tag, "grouped" if g == "true" else "per expert", ", ".join(fmt(v) for v in vals)])
    if ab:
        parts.append(table(["bench-forward", "expert product", "tokens/s (each run)"], ab))
    return "\n\n".join(parts) if parts else "CPU side by side (cpu16): not run."


GOAL = 0.60  # issue 19: every product at ≥ 60 % of the all-threads FMA peak


def fork_join(f):
    """The sweep's fork-join line: one forEach of a task per thread, each task 20 µs when run alone."""
    if not isinstance(f, dict):
        return ""
    return (f", one forEach of a 20 µs task per thread {fmt(f.get('tasks_of_20us'))} µs (a task alone "
            f"{fmt(f.get('one_20us_task_serial'))} µs, empty tasks {fmt(f.get('empty_tasks'))} µs)")


def sweep_table(sw, name):
    """One PanelBlockingSweep file: per product the blocking it gets by default ("auto"), its GFLOP/s, share of the
    all-threads FMA peak and of its roofline (memory bandwidth × flop per byte, capped by the peak), the best blocking
    of the grid, and with --ab the default blocking off and on; then how many products meet issue 19's goal. Where
    the grid lacks a product's default blocking, its first blocking stands in."""
    ab = sw.get("ab")
    rows, met, n = [], 0, 0
    for s in sw.get("shapes", []):
        # the blocking the product gets by default; where the grid lacks it, the grid's first (its baseline)
        auto = s.get("auto_blocking") or (s.get("each") or [{}])[0].get("blocking")
        each = [e for e in s.get("each", []) if e.get("blocking") == auto]
        on = next((e for e in each if e.get("ab_on") is True), None)
        off = next((e for e in each if e.get("ab_on") is False), None)
        cur = on or (each[-1] if each else {})
        share = cur.get("fraction_of_peak")
        n += 1
        met += 1 if share is not None and share >= GOAL else 0
        row = [s.get("shape"), f"{s.get('rows')}×{s.get('in')}→{s.get('out')}", f"{fmt(s.get('roofline_gflops'))} ({fmt(s.get('flops_per_byte_from_memory'))} flop/B)",
               f"`{auto}`", cur.get("gflops_median"), share, cur.get("fraction_of_roofline")]
        if ab:
            row += [off.get("gflops_median") if off else None]
        row += [f"`{s.get('best_blocking')}`" + (f" ({ab} {'on' if s.get('best_ab_on') else 'off'})" if ab else ""), s.get("best_gflops"), s.get("best_fraction_of_peak")]
        rows.append(row)
    header = ["product", "shape", "roofline GFLOP/s", "default blocking", "GFLOP/s", "share of peak", "share of roofline"]
    if ab:
        header[4] = f"GFLOP/s ({ab} on)"
        header += [f"GFLOP/s ({ab} off)"]
    header += ["best of the grid", "GFLOP/s", "share of peak"]
    return (f"`{name}`: {sw.get('threads')} threads, {sw.get('panels', 'f32')} panels, FMA peak all threads at once "
            f"{fmt(sw.get('fma_peak_gflops_all_threads_at_once'))} GFLOP/s, triad {fmt(sw.get('memory_gbps_triad_all_threads'))} GB/s"
            + fork_join(sw.get("fork_join_microseconds")) + "\n\n" + table(header, rows)
            + f"\n\nDefault blocking at ≥ {GOAL:.0%} of the FMA peak: **{met} of {n} products**.")


def tune16(out):
    """run_gpu.sh tune16 / sweep16: every blocking sweep of the call (see sweep_table), the side by side with the
    default and with the sweep's best, and the profiled forward's rates."""
    parts = []
    for p in sorted(glob.glob(os.path.join(out, "panel-blocking-16core*.json"))):
        sw = load(p)
        if sw:
            parts.append(sweep_table(sw, os.path.basename(p)))
    sbs = []
    for p in sorted(glob.glob(os.path.join(out, "side_by_side_16core_*.json"))):
        d = load(p) or {}
        ours = d.get("routecal_forward") or {}
        sbs.append([os.path.basename(p)[len("side_by_side_16core_"):-5], ours.get("forward_tokens_per_s_median"),
                    (d.get("hf_forward_float32") or {}).get("forward_tokens_per_s_median"), d.get("ratio_routecal_over_hf_forward_float32")])
    if sbs:
        parts.append(table(["side by side", "routecal tokens/s", "HF fp32 tokens/s", "ratio"], sbs))
    prof = load(os.path.join(out, "forward_profiled.json"))
    if prof:
        parts.append(f"Profiled forward (JFR): median {fmt(prof.get('forward_tokens_per_s_median'))}, best "
                     f"{fmt(prof.get('forward_tokens_per_s_best'))} tokens/s after {prof.get('warmup_passes')} warm-up passes; each: "
                     + ", ".join(fmt(v) for v in prof.get("forward_tokens_per_s_each", [])))
    return "\n\n".join(parts) if parts else "Blocking sweep (tune16): not run."


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench/gpu/out"
    if out.endswith((".tgz", ".tar.gz")):  # one call's outputs packed as one file (the device tool returns few files)
        folder = tempfile.mkdtemp(prefix="routecal-gpu-")
        with tarfile.open(out) as t:
            t.extractall(folder, filter="data")
        out = folder
    print(f"Device: {device_line(out)}  \nFrom: `{out}`\n")
    for title, body in (("Parity", parity(out)), ("Numerics against HF transformers", numerics(out)),
                        ("Quantize on the GPU and the CPU", quantize(out)), ("Routing pass", bench(out)),
                        ("GPU time per kernel of the routing pass", profile(out)), ("bf16 GEMM against torch", gemm(out)),
                        ("Qwen3-30B-A3B geometry, 48 layers", big(out)), ("Several GPUs (quantize --devices)", multi(out)),
                        ("CPU side by side on the GPU machine's cores", cpu16(out)),
                        ("Matmul blocking on the GPU machine's cores", tune16(out))):
        print(f"### {title}\n\n{body}\n")
    cmp = os.path.join(out, "demo_compare.txt")
    if os.path.exists(cmp):
        with open(cmp) as f:
            print("### Demo on the GPU vs the CPU\n\n```\n" + f.read().strip() + "\n```\n")


if __name__ == "__main__":
    main()
