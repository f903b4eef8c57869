"""Reference fixture for the generated demo model (tests/fixtures/demo/v1/), made with HF transformers.

Usage (CPU is fine, ~1-3 minutes):
    ./routecal demo-assets --out /tmp/demo          # or: java ... org.routecal.cli.Main demo-assets --out /tmp/demo
    /opt/hfref/bin/python tests/make_demo_fixture.py /tmp/demo [tests/fixtures/demo/v1]

It proves the generated checkpoint is a valid Qwen3-MoE checkpoint: transformers' AutoModelForCausalLM and
AutoTokenizer load it, and it records what HF computes so our Java code can be checked against it:
  expected.json         sha256 of every generated file (the Java determinism test regenerates and compares),
                        the HF token ids of a few texts (plain and chat-templated), the rendered chat text,
                        and the share of routing slots that land in the planted expert group, per layer and class,
                        measured by HF on the first N corpus and pool samples.
  expected.safetensors  per text t and layer L: "t{t}.layer{L}.topk_ids" [tokens, top_k] I32,
                        "t{t}.layer{L}.topk_weights" [tokens, top_k] F32 (after norm_topk_prob),
                        "t{t}.layer{L}.router_logits" [tokens, experts] F32,
                        "t{t}.logits_last" [vocab] F32 (final position), "t{t}.logits_top32_ids"/"_values" [tokens, 32].
"""
import collections
import hashlib
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

FILES = ["config.json", "generation_config.json", "model.safetensors", "planted_routing.json", "tokenizer.json",
         "tokenizer_config.json"]
TEXTS = [
    {"text": "The sun rises over the sea every morning. In 2024, 3 + 4 = 7 and x^2 - 5x + 6 = 0."},
    {"text": "def add_items(xs, threshold=10):\n    return [x + 1 for x in xs if x > threshold]\n"},
    {"text": "Ο ήλιος ανατέλλει πάνω από τη θάλασσα. Поезд отправляется через час. Потяг відправляється. 今天天气很好。今日はとても良い天気です。"},
    {"messages": [{"role": "system", "content": "You are a patient tutor."},
                  {"role": "user", "content": "What is 12 × 7?"},
                  {"role": "assistant", "content": "12 × 7 = 84.", "reasoning_content": "Twelve sevens: 70 + 14 = 84."}]},
]
SHARE_SAMPLES = 100


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def ids_of(tok, item):
    if "text" in item:
        return tok(item["text"], add_special_tokens=False)["input_ids"], None
    rendered = tok.apply_chat_template(item["messages"], tokenize=False)
    return tok(rendered, add_special_tokens=False)["input_ids"], rendered


def main():
    root = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "fixtures", "demo", "v1")
    model_dir = os.path.join(root, "model")
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    cfg = model.config
    top_k = cfg.num_experts_per_tok
    planted = json.load(open(os.path.join(model_dir, "planted_routing.json")))
    classes, groups, token_class = planted["classes"], planted["groups_per_layer"], planted["token_class"]

    tensors, texts = {}, []
    for t, item in enumerate(TEXTS):
        ids, rendered = ids_of(tok, item)
        with torch.no_grad():
            res = model(torch.tensor([ids]), output_router_logits=True)
        for layer, logits in enumerate(res.router_logits):
            probs = torch.softmax(logits.float(), dim=-1)
            w, e = torch.topk(probs, top_k, dim=-1)
            if cfg.norm_topk_prob:
                w = w / w.sum(dim=-1, keepdim=True)
            tensors[f"t{t}.layer{layer}.topk_ids"] = e.to(torch.int32).contiguous()
            tensors[f"t{t}.layer{layer}.topk_weights"] = w.float().contiguous()
            tensors[f"t{t}.layer{layer}.router_logits"] = logits.float().contiguous()
        final = res.logits[0].float()
        tensors[f"t{t}.logits_last"] = final[-1].contiguous()
        v, i = torch.topk(final, 32, dim=-1)
        tensors[f"t{t}.logits_top32_ids"] = i.to(torch.int32).contiguous()
        tensors[f"t{t}.logits_top32_values"] = v.contiguous()
        entry = dict(item)
        entry["ids"] = ids
        if rendered is not None:
            entry["rendered"] = rendered
        texts.append(entry)

    # Planted-routing evidence: share of top-k slots inside the token's class group (capped by the group size).
    share = {}
    for name in ["corpus", "pool"]:
        hits = collections.defaultdict(lambda: [0, 0])
        with open(os.path.join(root, name + ".jsonl"), encoding="utf-8") as f:
            rows = [json.loads(line) for line in f][:SHARE_SAMPLES]
        for row in rows:
            ids, _ = ids_of(tok, row)
            ids = ids[:256]
            with torch.no_grad():
                res = model(torch.tensor([ids]), output_router_logits=True)
            for layer, logits in enumerate(res.router_logits):
                top = torch.topk(logits.float(), top_k, dim=-1).indices.tolist()
                for pos, tid in enumerate(ids):
                    c = classes[token_class[tid]]
                    g = groups[layer][c]
                    hits[(layer, c)][0] += sum(e in g for e in top[pos])
                    hits[(layer, c)][1] += min(top_k, len(g))
        share[name] = [{c: round(hits[(layer, c)][0] / max(1, hits[(layer, c)][1]), 4) for c in classes}
                       for layer in range(cfg.num_hidden_layers)]
        share[name + "_slots"] = [{c: hits[(layer, c)][1] for c in classes} for layer in range(cfg.num_hidden_layers)]

    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, "expected.safetensors"), metadata={"format": "routecal.fixture.demo"})
    expected = {
        "format": "routecal.fixture.demo",
        "format_version": 1,
        "generator": "tests/make_demo_fixture.py",
        "transformers_version": __import__("transformers").__version__,
        "torch_version": torch.__version__,
        "sha256": {f: sha256(os.path.join(model_dir, f)) for f in FILES},
        "texts": texts,
        "planted_share": share,
        "planted_share_samples": SHARE_SAMPLES,
    }
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for name in ["corpus", "pool"]:
        print(name)
        for layer, row in enumerate(share[name]):
            print(f"  layer {layer}: " + " ".join(f"{c}={v:.3f}" for c, v in row.items()))


if __name__ == "__main__":
    main()
