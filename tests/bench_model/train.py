#!/usr/bin/env python3
"""Trains the routecal benchmark MoE: a small Qwen3-MoE on the multi-domain corpus of build_corpus.py.

One command (CPU, the shared build machine; about an hour niced on one thread):

    nice -n 19 /work/venv-hf/bin/python tests/bench_model/train.py --device cpu --threads 1

or on a GPU machine (same steps, same data; minutes):

    python tests/bench_model/train.py --device cuda

Input: tests/bench_model/build/train.jsonl (python3 tests/bench_model/build_corpus.py). Output: --out (default
tests/bench_model/model/): config.json, model.safetensors (bf16), tokenizer.json, tokenizer_config.json,
train_log.jsonl (loss every --log-every steps, per-domain held-out loss at the end). Training state (weights, AdamW
moments, data RNG, step) is saved to OUT/train_state.pt every --checkpoint-minutes; a rerun with the same arguments
resumes from it. The data order depends only on --seed, so an interrupted and resumed run sees the same batches.

Model: 6 layers, hidden 192, 4 heads (2 KV heads, head_dim 48), 32 experts of width 32, top-4 with renormalised
weights, every layer MoE, tied embeddings, byte-level BPE of 2048 tokens trained here with `tokenizers`. The router
load-balancing loss (coefficient 0.01, transformers' own) keeps experts alive without forcing uniform use, so experts
specialise by domain the way large MoEs do.

Training mix: sequences of 256 tokens, each cut from one domain's token stream; the domain is drawn with the weights
below (real use is not uniform: English docs and code dominate, Greek is rare).
"""
import argparse
import json
import math
import os
import random
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent

DOMAIN_WEIGHTS = {
    "doc_en": 0.17, "code_python": 0.12, "code_js": 0.10, "code_c": 0.10, "code_rust": 0.08, "fortunes": 0.09,
    "arith": 0.06, "po_de": 0.07, "po_fr": 0.07, "po_ru": 0.06, "po_zh": 0.05, "po_el": 0.03,
}
VOCAB = 2048
SEQ = 256
EOS = "<|endoftext|>"


def train_tokenizer(rows, out, seed):
    """Byte-level BPE on an equal share of every domain (so rare scripts get merges too)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    by_domain = {}
    for r in rows:
        by_domain.setdefault(r["domain"], []).append(r["text"])
    rng = random.Random(seed)
    texts = []
    for d in sorted(by_domain):
        t = by_domain[d][:]
        rng.shuffle(t)
        n = 0
        for s in t:
            if n > 400_000:
                break
            texts.append(s)
            n += len(s)
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=[EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "PreTrainedTokenizerFast", "eos_token": EOS, "pad_token": EOS, "bos_token": None,
        "model_max_length": 512, "add_bos_token": False}, indent=1) + "\n")
    return tok


def model_config():
    from transformers import Qwen3MoeConfig
    return Qwen3MoeConfig(
        vocab_size=VOCAB, hidden_size=192, intermediate_size=384, moe_intermediate_size=32, num_hidden_layers=6,
        num_attention_heads=4, num_key_value_heads=2, head_dim=48, num_experts=32, num_experts_per_tok=4,
        norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[], max_position_embeddings=512,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, rms_norm_eps=1e-6, tie_word_embeddings=True,
        router_aux_loss_coef=0.01, output_router_logits=True, eos_token_id=0, bos_token_id=None, pad_token_id=0)


class Streams:
    """One token stream per domain (documents joined by EOS); batches are windows drawn by a seeded generator."""

    def __init__(self, rows, tok, seed):
        eos = tok.token_to_id(EOS)
        self.streams = {}
        by_domain = {}
        for r in rows:
            by_domain.setdefault(r["domain"], []).append(r["text"])
        for d, texts in sorted(by_domain.items()):
            ids = []
            for enc in tok.encode_batch(texts):
                ids.extend(enc.ids)
                ids.append(eos)
            self.streams[d] = torch.tensor(ids, dtype=torch.long)
        self.domains = [d for d in DOMAIN_WEIGHTS if d in self.streams]
        self.weights = [DOMAIN_WEIGHTS[d] for d in self.domains]
        self.gen = torch.Generator().manual_seed(seed)

    def batch(self, size):
        picks = torch.multinomial(torch.tensor(self.weights), size, replacement=True, generator=self.gen)
        rows = []
        for p in picks.tolist():
            s = self.streams[self.domains[p]]
            start = int(torch.randint(0, len(s) - SEQ - 1, (1,), generator=self.gen))
            rows.append(s[start:start + SEQ + 1])
        return torch.stack(rows)


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def save_state(path, model, opt, streams, step):
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": streams.gen.get_state(), "step": step}, tmp)
    os.replace(tmp, path)


@torch.no_grad()
def heldout_loss(model, tok, rows, device):
    """Mean next-token loss per domain on the held-out split (token-weighted), the model in fp32."""
    model.eval()
    sums = {}
    for r in rows:
        ids = tok.encode(r["text"]).ids[:SEQ + 1]
        x = torch.tensor([ids], device=device)
        out = model(input_ids=x[:, :-1], labels=None)
        logp = torch.log_softmax(out.logits.float(), -1)
        nll = -logp[0].gather(-1, x[0, 1:, None]).sum().item()
        s = sums.setdefault(r["domain"], [0.0, 0])
        s[0] += nll
        s[1] += len(ids) - 1
    model.train()
    return {d: s[0] / s[1] for d, s in sorted(sums.items())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=HERE / "build" / "train.jsonl")
    ap.add_argument("--heldout", type=Path, default=HERE / "heldout.jsonl")
    ap.add_argument("--out", type=Path, default=HERE / "model")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (the build machine is shared: 1)")
    ap.add_argument("--steps", type=int, default=850)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--checkpoint-minutes", type=float, default=5)
    ap.add_argument("--max-minutes", type=float, default=0, help="stop (resumable) after this long; 0: run to --steps")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    from transformers import Qwen3MoeForCausalLM
    from tokenizers import Tokenizer
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(l) for l in open(args.corpus, encoding="utf-8")]
    tok_path = args.out / "tokenizer.json"
    tok = Tokenizer.from_file(str(tok_path)) if tok_path.exists() else train_tokenizer(rows, args.out, args.seed)
    streams = Streams(rows, tok, args.seed)
    print("tokens per domain:", {d: len(s) for d, s in streams.streams.items()}, flush=True)

    cfg = model_config()
    cfg._experts_implementation = "grouped_mm"
    model = Qwen3MoeForCausalLM(cfg).to(args.device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
    state_path = args.out / "train_state.pt"
    step = 0
    log = open(args.out / "train_log.jsonl", "a", encoding="utf-8")
    if state_path.exists():
        st = torch.load(state_path, map_location=args.device)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        streams.gen.set_state(st["gen"])
        step = st["step"]
        print(f"resumed at step {step}", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params:,}", flush=True)
    model.train()
    t0 = last_ckpt = time.time()
    acc_loss, acc_aux, acc_n = 0.0, 0.0, 0
    while step < args.steps:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        batch = streams.batch(args.batch).to(args.device)
        # no labels: transformers would shift them again; the loss is computed here on the aligned targets
        out = model(input_ids=batch[:, :-1], output_router_logits=True)
        logits = out.logits.float()
        lm = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), batch[:, 1:].reshape(-1))
        loss = lm + cfg.router_aux_loss_coef * out.aux_loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        acc_loss += lm.item()
        acc_aux += out.aux_loss.item()
        acc_n += 1
        if step % args.log_every == 0 or step == args.steps:
            rec = {"step": step, "loss": acc_loss / acc_n, "aux_loss": acc_aux / acc_n, "lr": opt.param_groups[0]["lr"],
                   "seconds": round(time.time() - t0, 1)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(rec, flush=True)
            acc_loss, acc_aux, acc_n = 0.0, 0.0, 0
        if time.time() - last_ckpt > args.checkpoint_minutes * 60:
            save_state(state_path, model, opt, streams, step)
            last_ckpt = time.time()
        if args.max_minutes and time.time() - t0 > args.max_minutes * 60 and step < args.steps:
            save_state(state_path, model, opt, streams, step)
            print(f"stopped at step {step} after --max-minutes; rerun to resume", flush=True)
            return
    save_state(state_path, model, opt, streams, step)
    heldout = [json.loads(l) for l in open(args.heldout, encoding="utf-8")]
    per_domain = heldout_loss(model, tok, heldout, args.device)
    log.write(json.dumps({"step": step, "heldout_loss": per_domain}) + "\n")
    print("held-out loss per domain:", per_domain, flush=True)
    model.config.output_router_logits = False
    model.config.use_cache = True
    model.to(torch.bfloat16).save_pretrained(args.out, safe_serialization=True)
    print(f"saved {args.out}", flush=True)


if __name__ == "__main__":
    main()
