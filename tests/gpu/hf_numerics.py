"""HF transformers' side of routecal's numerics check, on the GPU machine (CUDA; CPU works for a dry run).

  python3 tests/gpu/hf_numerics.py --model DIR --out DIR [--sequences 4 --length 128 --seed 0] [--scale-router 8 --save-scaled DIR]

Writes into --out:
  tokens.json                 the token sequences (random ids, seeded), shared with the Java side
  hf_fp32.safetensors         per MoE layer "layer{L}.router_logits" [T, E] fp32 and "logits" [T, V] fp32 of
  hf_bf16.safetensors         model(input_ids) with output_router_logits=True, the model loaded in that dtype
With --scale-router F the checkpoint is first copied to --save-scaled with every router weight multiplied by F
(random-init routers have tiny top-k margins; scaled ones make the comparison about arithmetic, not ties), and the
run uses the copy. org.routecal.bench.ModelNumerics then compares our engine with both dtypes.
"""
import argparse
import json
import os
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from make_fixtures import routers, routing_of  # noqa: E402  one definition of "every family's router" for both scripts


def scaled_copy(src, dst, factor):
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if not name.endswith(".safetensors"):
            p = os.path.join(src, name)
            if os.path.isfile(p):
                shutil.copy(p, dst)
    for name in os.listdir(src):
        if name.endswith(".safetensors"):
            t = load_file(os.path.join(src, name))
            for k in t:
                # HF names the router "mlp.gate.weight" (Qwen, OLMoE, DeepSeek) or "block_sparse_moe.gate.weight"
                # (Mixtral): a gate with no expert index and no "_proj"
                if k.endswith("gate.weight") and "experts" not in k and "proj" not in k and "shared_expert_gate" not in k:
                    t[k] = (t[k].float() * factor).to(t[k].dtype)
            save_file(t, os.path.join(dst, name), metadata={"format": "pt"})
    return dst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sequences", type=int, default=4)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale-router", type=float, default=0)
    ap.add_argument("--save-scaled")
    args = ap.parse_args()
    model_dir = args.model
    if args.scale_router:
        model_dir = scaled_copy(args.model, args.save_scaled, args.scale_router)
    os.makedirs(args.out, exist_ok=True)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    vocab = cfg.get("vocab_size")
    g = torch.Generator().manual_seed(args.seed)
    ids = torch.randint(0, vocab, (args.sequences, args.length), generator=g)
    json.dump(ids.tolist(), open(os.path.join(args.out, "tokens.json"), "w"))
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(dev).eval()
        # Every family's router logits through a hook on its router module (output_router_logits is not offered by
        # every family in transformers 5: DeepSeek-V3, GLM-4.5, GPT-OSS and Llama 4 lack it)
        captured = {}
        hooks = [mod.register_forward_hook(lambda m, i, o, layer=layer: captured.__setitem__(layer, routing_of(m, o)[0].detach()))
                 for layer, _, mod in routers(model)]
        with torch.no_grad():
            out = model(ids.to(dev))
        for h in hooks:
            h.remove()
        biases = {layer: mod.e_score_correction_bias for layer, _, mod in routers(model) if hasattr(mod, "e_score_correction_bias")}
        assert captured, "no router module found in " + type(model).__name__
        tensors = {"logits": out.logits.float().reshape(-1, out.logits.shape[-1]).cpu().contiguous()}
        layer_ids = sorted(captured)
        for i in layer_ids:
            r = captured[i]
            tensors["layer%d.router_logits" % i] = r.float().reshape(-1, r.shape[-1]).cpu().contiguous()
            if i in biases:  # DeepSeek-V3 / GLM-4.5 choose on sigmoid + this bias (ModelNumerics applies it)
                tensors["layer%d.score_bias" % i] = biases[i].float().cpu().contiguous()
        save_file(tensors, os.path.join(args.out, "hf_%s.safetensors" % name))
        del model
        if dev == "cuda":
            torch.cuda.empty_cache()
    print("wrote", args.out, "model", model_dir, "tokens", tuple(ids.shape), "moe layers", layer_ids, "device", dev)


if __name__ == "__main__":
    main()
