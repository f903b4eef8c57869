"""Side-by-side on one machine's CPUs: routecal's CPU forward against HF transformers' CPU forward (fp32 and bf16) on
the same random-init Qwen3-MoE checkpoint, geometry and token ids at equal threads, and one MoE layer of GPTQ on the CPU
against the PyTorch reference GPTQ (tests/gpu/gptq_torch.py). Writes one JSON file with both sides and the ratios.

Needs: python with torch + transformers + safetensors (no GPU), a Java 17+ runtime and routecal.jar (./routecal builds
lib/target/routecal.jar). On the 16-CPU GPU machine, with the packed JRE:

    python tests/cpu/side_by_side.py --java /path/to/jre/bin/java --jar routecal.jar --threads 16 --out side_by_side.json

Defaults are the bench-forward geometry (hidden 1024, 8 layers, 32 experts top-4, 512 tokens) and a Qwen3-30B-A3B
GPTQ layer (hidden 2048, moe_intermediate 768, 8192 tokens, top-8, W4 g128), measured on --gptq-experts experts and
extrapolated to 128 the same way on both sides (the shared block-input Hessian and its factorisation once; gate/up
sweeps, down Hessian and down GPTQ per expert). Both sides are pinned to the same CPUs with taskset when available.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "gpu"))
import gptq_torch  # noqa: E402  (the PyTorch reference GPTQ, shared with the GPU fixtures)


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        return {k: info.get(k, "?").strip() for k in ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket", "Socket(s)")}
    except (OSError, subprocess.CalledProcessError):
        return {"Model name": platform.processor() or "?", "CPU(s)": str(os.cpu_count())}


def pin(threads):
    """taskset prefix pinning a process to CPUs 0..threads-1 (both sides get the same CPUs), or nothing."""
    if shutil.which("taskset") and threads < (os.cpu_count() or threads):
        return ["taskset", "-c", f"0-{threads - 1}"]
    return []


def make_checkpoint(a, directory):
    from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM
    torch.manual_seed(a.seed)
    config = Qwen3MoeConfig(vocab_size=a.vocab, hidden_size=a.hidden, intermediate_size=a.moe_intermediate * 4,
                            num_hidden_layers=a.layers, num_attention_heads=a.heads, num_key_value_heads=a.kv_heads,
                            head_dim=a.head_dim, num_experts=a.experts, num_experts_per_tok=a.top_k,
                            moe_intermediate_size=a.moe_intermediate, decoder_sparse_step=1, mlp_only_layers=[],
                            norm_topk_prob=True, max_position_embeddings=max(4096, a.seq), tie_word_embeddings=False)
    model = Qwen3MoeForCausalLM(config).to(torch.bfloat16)  # bf16 on disk: both sides read identical values
    model.save_pretrained(directory, safe_serialization=True)


def hf_forward(directory, tokens, dtype, threads, repeats, warmup):
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype).eval()
    ids = torch.tensor([tokens])
    rates = []
    with torch.inference_mode():
        t0 = time.perf_counter()
        logits = model(ids).logits  # warm-up: at least one pass, more until warmup seconds have passed (as routecal's)
        while time.perf_counter() - t0 < warmup:
            model(ids)
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(ids)
            rates.append(len(tokens) / (time.perf_counter() - t0))
    top5 = torch.topk(logits[0, -1].float(), 5).indices.tolist()
    return {"dtype": str(dtype), "threads": threads, "forward_tokens_per_s_median": statistics.median(rates),
            "forward_tokens_per_s_best": max(rates), "last_position_top5": top5}


def routecal_forward(a, directory, tokens_file, out_file, precision="fp32"):
    cmd = pin(a.threads) + [a.java, "--add-modules", "jdk.incubator.vector", f"-Xmx{a.heap}", "-XX:+UseG1GC", "-XX:G1HeapRegionSize=32m",
                            f"-Droutecal.threads={a.threads}", *a.jvm_option, "-jar", a.jar, "bench-forward", "--model", str(directory),
                            "--tokens-file", str(tokens_file), "--repeats", str(a.repeats), "--warmup-seconds", str(a.warmup_seconds),
                            "--precision", precision, "--out", str(out_file)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return cmd, json.loads(Path(out_file).read_text())


def routecal_gptq(a, out_file):
    cmd = pin(a.threads) + [a.java, "--add-modules", "jdk.incubator.vector", f"-Xmx{a.heap}", "-XX:+UseG1GC", "-XX:G1HeapRegionSize=32m",
                            f"-Droutecal.threads={a.threads}", f"-Djava.util.concurrent.ForkJoinPool.common.parallelism={max(1, a.threads - 1)}", "-cp", a.jar,
                            "org.routecal.quant.bench.GptqMoeBench", "--experts", str(a.gptq_experts), "--tokens",
                            str(a.gptq_tokens), "--hidden", str(a.gptq_hidden), "--inter", str(a.gptq_inter), "--out", str(out_file)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return cmd, json.loads(Path(out_file).read_text())


def torch_gptq(a):
    """The same layer as GptqMoeBench with the PyTorch reference: XᵀX in float32 matmuls (as llm-compressor), the
    factorisation in double (gptq_torch.hinv_upper), the sweep in float32; per-expert medians × 128."""
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(1)
    hidden, inter, tokens, experts_full, top_k = a.gptq_hidden, a.gptq_inter, a.gptq_tokens, 128, 8
    basis = torch.randn(32, hidden, generator=g)
    x = torch.randn(tokens, 32, generator=g) * 0.3 @ basis + torch.randn(tokens, hidden, generator=g)
    t0 = time.perf_counter()
    h_all = x.t() @ x
    h_all_s = time.perf_counter() - t0
    routed = tokens * top_k // experts_full
    prep, sweep, down_h, down_q = [], [], [], []
    for _ in range(a.gptq_experts):
        gate, up = torch.randn(inter, hidden, generator=g) * 0.02, torch.randn(inter, hidden, generator=g) * 0.02
        down = torch.randn(hidden, inter, generator=g) * 0.02
        t0 = time.perf_counter()
        u = gptq_torch.hinv_upper(h_all)
        prep.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for w in (gate, up):
            gptq_torch.gptq_sweep(w, u, gptq_torch.symmetric_scales(w, 128), 128, -8, 7)
        sweep.append(time.perf_counter() - t0)
        act = torch.randn(routed, inter, generator=g) * torch.randn(routed, inter, generator=g)
        t0 = time.perf_counter()
        h_down = act.t() @ act
        down_h.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        gptq_torch.gptq_sweep(down, gptq_torch.hinv_upper(h_down), gptq_torch.symmetric_scales(down, 128), 128, -8, 7)
        down_q.append(time.perf_counter() - t0)
    med = statistics.median
    layer = h_all_s + med(prep) + experts_full * (med(sweep) + med(down_h) + med(down_q))
    return {"threads": a.threads, "experts_run": a.gptq_experts,
            "measured_seconds": {"hessian_all_tokens_once": h_all_s, "factorisation_shared_median": med(prep),
                                 "sweeps_gate_plus_up_per_expert_median": med(sweep),
                                 "hessian_down_per_expert_median": med(down_h), "down_proj_gptq_per_expert_median": med(down_q)},
            "extrapolated_shared_hessian_batch_seconds": layer}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--java", default="java")
    p.add_argument("--jar", default=str(HERE.parent.parent / "lib/target/routecal.jar"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--heap", default="8g")
    for name, default in (("hidden", 1024), ("layers", 8), ("experts", 32), ("top-k", 4), ("moe-intermediate", 512),
                          ("heads", 16), ("kv-heads", 4), ("head-dim", 64), ("vocab", 32000), ("seq", 512), ("repeats", 3),
                          ("seed", 0), ("gptq-experts", 4), ("gptq-tokens", 8192), ("gptq-hidden", 2048), ("gptq-inter", 768)):
        p.add_argument("--" + name, type=int, default=default)
    p.add_argument("--skip-gptq", action="store_true")
    p.add_argument("--skip-bf16", action="store_true", help="no routecal bf16 forward (HF's bf16 forward still runs)")
    p.add_argument("--jvm-option", action="append", default=[], help="extra JVM option for routecal's runs (repeatable), e.g. -Droutecal.panelBlocking=...")
    p.add_argument("--warmup-seconds", type=float, default=5.0,
                   help="untimed forward passes, on both sides, last at least this long (routecal's JIT compiles its hot loops "
                        "over the first seconds)")
    p.add_argument("--workdir", help="where the checkpoint and intermediate files go (default: a temporary directory, removed)")
    p.add_argument("--out", default="side_by_side.json")
    a = p.parse_args()
    if not Path(a.jar).is_file():
        sys.exit(f"routecal jar not found: {a.jar} (build it with ./routecal --help, or pass --jar)")
    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="routecal-sbs-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        ckpt = work / "checkpoint"
        make_checkpoint(a, ckpt)
        g = torch.Generator().manual_seed(a.seed + 1)
        tokens = torch.randint(0, a.vocab, (a.seq,), generator=g).tolist()
        tokens_file = work / "tokens.txt"
        tokens_file.write_text(" ".join(map(str, tokens)))
        result = {"format": "routecal.bench.side_by_side", "format_version": 1, "machine": cpu_model(),
                  "threads": a.threads, "torch": torch.__version__, "geometry": {k: v for k, v in vars(a).items()
                                                                                 if k not in ("java", "jar", "out", "workdir")}}
        cmd, ours = routecal_forward(a, ckpt, tokens_file, work / "routecal_forward.json")
        result["routecal_forward"] = ours
        result["commands"] = {"routecal_forward": " ".join(cmd)}
        if not a.skip_bf16:  # routecal's bf16 forward (bf16 panels, bf16-rounded activations) against HF's bf16
            cmd16, ours16 = routecal_forward(a, ckpt, tokens_file, work / "routecal_forward_bf16.json", "bf16")
            result["routecal_forward_bf16"] = ours16
            result["commands"]["routecal_forward_bf16"] = " ".join(cmd16)
        for dtype in (torch.float32, torch.bfloat16):
            result["hf_forward_" + str(dtype).split(".")[-1]] = hf_forward(ckpt, tokens, dtype, a.threads, a.repeats, a.warmup_seconds)
        for key in ("hf_forward_float32", "hf_forward_bfloat16"):
            result["ratio_routecal_over_" + key] = ours["forward_tokens_per_s_median"] / result[key]["forward_tokens_per_s_median"]
        if "routecal_forward_bf16" in result:
            result["ratio_routecal_bf16_over_hf_forward_bfloat16"] = (result["routecal_forward_bf16"]["forward_tokens_per_s_median"]
                                                                       / result["hf_forward_bfloat16"]["forward_tokens_per_s_median"])
            result["same_top1_bf16_as_hf_bfloat16"] = (result["routecal_forward_bf16"]["last_position_top5"][0]
                                                       == result["hf_forward_bfloat16"]["last_position_top5"][0])
        result["same_top1_as_hf_float32"] = ours["last_position_top5"][0] == result["hf_forward_float32"]["last_position_top5"][0]
        if not a.skip_gptq:
            cmd, rg = routecal_gptq(a, work / "routecal_gptq.json")
            result["commands"]["routecal_gptq"] = " ".join(cmd)
            result["routecal_gptq_layer"] = rg
            result["torch_gptq_layer"] = torch_gptq(a)
            result["ratio_gptq_layer_torch_over_routecal"] = (result["torch_gptq_layer"]["extrapolated_shared_hessian_batch_seconds"]
                                                              / rg["extrapolated_to_full_layer_seconds"]["shared_hessian_batch"])
        out = Path(a.out)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=2))
        tmp.replace(out)
        print(json.dumps({k: v for k, v in result.items() if k.startswith("ratio") or k.startswith("same")}, indent=2))
    finally:
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
