#!/usr/bin/env python3
"""Rebuilds the benchmark corpus from the pinned packages of recipe.json (stdlib only; needs apt-get, dpkg-deb, npm).

    python3 tests/bench_model/build_corpus.py [--out tests/bench_model/build] [--offline]

Steps: (1) download every Debian package (`apt-get download NAME=VERSION`, run `apt-get update` first) and npm tarball
(`npm pack NAME@VERSION`) into OUT/cache and check it against recipe.lock.json (written on the first run; commit it);
(2) unpack them; (3) per domain, turn the files matching its sources into units: a man page (troff requests and escapes
stripped), a source file, one translated message of a .mo catalogue (msgstr of the domain's language), one fortune, one
generated arithmetic problem set; (4) give every unit a split from sha256(domain, unit key): train / calib / pool /
heldout by recipe.split_percent, so no two splits share a file, message or fortune; (5) cut units into samples of
about sample_chars.train (train) or sample_chars.eval (the rest: short, so calibration and evaluation stay cheap on a
CPU) characters at line boundaries and write
  OUT/train.jsonl            every train sample (model training; at most max_train_chars_per_domain per domain)
  OUT/calib.jsonl            calib_per_domain samples per domain (the "original" calibration corpus of the experiment)
  OUT/pool.jsonl             pool_per_domain samples per domain (candidates for select/refine)
  OUT/heldout.jsonl          heldout_per_domain samples per domain (evaluation; never selected)
Rows are {"sample_id", "domain", "text"}. The same recipe gives byte-identical files (checked by sha256 in
recipe.lock.json under "outputs").
"""
import argparse
import fnmatch
import gzip
import hashlib
import json
import os
import random
import re
import struct
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------- 1. download
def fetch(recipe, cache, lock, offline):
    """Downloads every pinned artifact into cache; returns {package name: artifact path}."""
    cache.mkdir(parents=True, exist_ok=True)
    got = {}
    for p in recipe["deb"]:
        # apt-get download names files NAME_VERSION_ARCH.deb with ':' in the version escaped as %3a
        pattern = f"{p['name']}_{p['version'].replace(':', '%3a')}_*.deb"
        hits = sorted(cache.glob(pattern))
        if not hits:
            if offline:
                sys.exit(f"{pattern} not in {cache} and --offline given")
            subprocess.run(["apt-get", "download", f"{p['name']}={p['version']}"], cwd=cache, check=True)
            hits = sorted(cache.glob(pattern))
            if not hits:
                sys.exit(f"apt-get download {p['name']}={p['version']} wrote no {pattern} (version gone from the archive? "
                         f"fetch it from https://snapshot.debian.org/)")
        got[p["name"]] = hits[0]
    for p in recipe["npm"]:
        tgz = cache / f"{p['name']}-{p['version']}.tgz"
        if not tgz.exists():
            if offline:
                sys.exit(f"{tgz} missing and --offline given")
            subprocess.run(["npm", "pack", f"{p['name']}@{p['version']}", "--pack-destination", str(cache)],
                           check=True, stdout=subprocess.DEVNULL)
        got["npm:" + p["name"]] = tgz
    artifacts = lock.setdefault("artifacts", {})
    for name, path in got.items():
        digest = sha256(path)
        want = artifacts.get(name)
        if want is not None and want["sha256"] != digest:
            sys.exit(f"{path}: sha256 {digest} but recipe.lock.json pins {want['sha256']} for {name}")
        artifacts[name] = {"file": path.name, "sha256": digest}
    return got


def unpack(got, root):
    """Unpacks every artifact once into root/<name>/; returns {name: dir}."""
    dirs = {}
    for name, path in got.items():
        d = root / name.replace(":", "_")
        if not (d / ".done").exists():
            d.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".deb":
                subprocess.run(["dpkg-deb", "-x", str(path), str(d)], check=True)
            else:
                with tarfile.open(path) as t:
                    t.extractall(d, filter="data")
            (d / ".done").write_text("")
        dirs[name] = d
    return dirs


def matching(base, pattern):
    """Files under base whose relative path matches pattern ('**' spans directories), sorted."""
    rx = re.compile(fnmatch.translate(pattern).replace(".*.*/", "(?:.*/)?"))
    out = []
    for dirpath, _, files in os.walk(base):
        for f in files:
            p = Path(dirpath) / f
            rel = p.relative_to(base).as_posix()
            if rx.fullmatch(rel) and p.is_file() and not p.is_symlink():
                out.append(p)
    return sorted(out)


# ---------------------------------------------------------------------------------------------------- 3. units
_TROFF_DROP = {"TH", "PD", "ad", "na", "nh", "hy", "ne", "in", "ft", "ps", "ll", "ta", "so", "ds", "nr", "ie", "el",
               "if", "de", "ig", "tr", "cs", "ss", "fam", "RS", "RE", "EX", "EE", "nf", "fi", "UE", "ME", "YS", "SY",
               "OP", "mso", "TS", "TE", "T&", "ce", "rm", "as", "ti", "HP", "DT", "UC", "bp", "lf", "ns", "rs", "ev"}
_TROFF_BREAK = {"PP", "LP", "P", "sp", "br", "IP", "TP", "SH", "SS"}
_ESCAPES = [(r"\\f(\[[^\]]*\]|\(..|.)", ""), (r"\\-", "-"), (r"\\\(em|\\\[em\]", "\u2014"), (r"\\\(en|\\\[en\]", "\u2013"),
            (r"\\\(aq|\\\[aq\]", "'"), (r"\\\(dq|\\\[dq\]", '"'), (r"\\\(bu|\\\[bu\]", "\u2022"),
            (r"\\\(co|\\\[co\]", "\u00a9"), (r"\\\*\(lq|\\\(lq|\\\[lq\]", "\u201c"), (r"\\\*\(rq|\\\(rq|\\\[rq\]", "\u201d"),
            (r"\\\(ga|\\\[ga\]", "`"), (r"\\\(ti|\\\[ti\]", "~"), (r"\\\(ha|\\\[ha\]", "^"), (r"\\e", "\\\\"),
            (r"\\[&|^%c]", ""), (r"\\[ ~0]", " "), (r"\\s[-+]?\d", ""), (r"\\\*\[[^\]]*\]|\\\*\(..|\\\*.", ""),
            (r"\\\[[^\]]*\]|\\\(..", ""), (r"\\.", "")]


def troff_text(raw):
    """Plain text of a man page: requests dropped, font/size escapes removed, macro arguments kept as text."""
    out = []
    for line in raw.splitlines():
        if line.startswith(('.\\"', "'\\\"", '.\\}', "\\}")) or line.strip() == ".":
            continue
        if line.startswith((".", "'")):
            m = re.match(r"[.'](\S+)\s*(.*)", line)
            if not m:
                continue
            req, args = m.group(1), m.group(2)
            if req in _TROFF_DROP:
                continue
            if req in _TROFF_BREAK:
                out.append("")
                if req in ("SH", "SS") and args:
                    out.append(args.strip('"'))
                elif req == "IP" and args:
                    out.append(re.findall(r'"[^"]*"|\S+', args)[0].strip('"'))
                continue
            parts = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', args)]
            # alternating-font macros (.BR, .IR, …) join their arguments without spaces; .B/.I with spaces
            line = "".join(parts) if len(req) == 2 and req[0] in "BIR" and req[1] in "BIR" else " ".join(parts)
        for pat, rep in _ESCAPES:
            line = re.sub(pat, rep, line)
        out.append(line)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def mo_messages(path):
    """(msgid, msgstr) pairs of a GNU .mo file (plural forms: every form), header entry skipped."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic == 0x950412DE else ">"
    _, n, orig_off, trans_off = struct.unpack(endian + "4I", data[4:20])
    pairs = []
    for i in range(n):
        ol, oo = struct.unpack(endian + "2I", data[orig_off + 8 * i: orig_off + 8 * i + 8])
        tl, to = struct.unpack(endian + "2I", data[trans_off + 8 * i: trans_off + 8 * i + 8])
        msgid = data[oo:oo + ol].decode("utf-8", "replace")
        if not msgid:
            continue
        for s in data[to:to + tl].decode("utf-8", "replace").split("\x00"):
            if s.strip():
                pairs.append((msgid, s))
    return pairs


def arithmetic_unit(rng):
    """One generated problem set: a few lines of integer arithmetic with exact results."""
    lines = []
    for _ in range(rng.randint(4, 9)):
        kind = rng.randrange(5)
        a, b, c = rng.randint(0, 999), rng.randint(1, 999), rng.randint(1, 99)
        if kind == 0:
            lines.append(f"{a} + {b} = {a + b}")
        elif kind == 1:
            lines.append(f"{a} - {b} = {a - b}")
        elif kind == 2:
            lines.append(f"{a % 100} * {b % 100} = {(a % 100) * (b % 100)}")
        elif kind == 3:
            lines.append(f"{a * c} / {c} = {a}")
        else:
            lines.append(f"({a} + {b}) * {c} = {(a + b) * c}")
    return "\n".join(lines)


def units_of(domain, recipe, dirs):
    """[(unit key, text)] of one domain, in a fixed order."""
    kind = domain["extract"]
    if kind == "arithmetic":
        rng = random.Random(recipe["seed"])
        return [(f"arith/{i}", arithmetic_unit(rng)) for i in range(domain["units"])]
    units = []
    for src in domain["sources"]:
        owner, pattern = src.rsplit(":", 1)
        owners = recipe["catalogues"] if owner == "@catalogues" else [owner]
        for o in owners:
            base = dirs[o]
            for f in matching(base, pattern):
                rel = f"{o}/{f.relative_to(base).as_posix()}"
                if kind == "mo":
                    for msgid, msgstr in mo_messages(f):
                        units.append((f"{rel}#{msgid}", msgstr.strip()))
                    continue
                raw = f.read_bytes()
                if domain.get("max_file_bytes") and len(raw) > domain["max_file_bytes"]:
                    continue
                if f.name.endswith(".gz"):
                    raw = gzip.decompress(raw)
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    continue  # binary or legacy-encoded: not text we want
                if kind == "troff":
                    if text.lstrip().startswith(".so "):
                        continue  # a link page
                    units.append((rel, troff_text(text)))
                elif kind == "fortune":
                    for i, fortune in enumerate(re.split(r"\n%\n", text)):
                        if fortune.strip():
                            units.append((f"{rel}#{hashlib.sha256(fortune.encode()).hexdigest()[:16]}", fortune.strip()))
                else:
                    units.append((rel, text.strip()))
    seen, out = set(), []
    for k, t in units:  # the same text from two packages (shared headers, repeated messages) counts once
        if t and t not in seen:
            seen.add(t)
            out.append((k, t))
    return out


# ---------------------------------------------------------------------------------------------------- 4–5. splits
def split_of(domain, key, percent):
    bucket = int(hashlib.sha256(f"{domain}\0{key}".encode()).hexdigest()[:8], 16) % 100
    edge = 0
    for name in ("train", "calib", "pool", "heldout"):
        edge += percent[name]
        if bucket < edge:
            return name
    return "heldout"


def chunks(text, size):
    """Cuts text into pieces of about size characters at line boundaries (a longer line is its own piece)."""
    out, cur = [], ""
    for line in text.split("\n"):
        if cur and len(cur) + 1 + len(line) > size:
            out.append(cur)
            cur = ""
        cur = line if not cur else cur + "\n" + line
    if cur.strip():
        out.append(cur)
    return [c for c in out if c.strip()]


def samples_of(units, size):
    """Units packed into samples: short units (messages, fortunes, problems) joined, long ones (files) cut."""
    out, cur = [], ""
    for _, text in units:
        if len(text) >= size:
            if cur:
                out.append(cur)
                cur = ""
            out.extend(chunks(text, size))
        elif cur and len(cur) + 2 + len(text) > size:
            out.append(cur)
            cur = text
        else:
            cur = text if not cur else cur + "\n\n" + text
    if cur:
        out.append(cur)
    return out


def write_jsonl(path, rows):
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE / "build")
    ap.add_argument("--offline", action="store_true", help="use only what is already in OUT/cache")
    args = ap.parse_args()
    recipe = json.loads((HERE / "recipe.json").read_text())
    lock_path = HERE / "recipe.lock.json"
    lock = json.loads(lock_path.read_text()) if lock_path.exists() else {"format": "routecal.bench-corpus-lock", "format_version": 1}
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    got = fetch(recipe, out / "cache", lock, args.offline)
    dirs = unpack(got, out / "unpacked")
    splits = {s: [] for s in ("train", "calib", "pool", "heldout")}
    stats = {}
    for domain in recipe["domains"]:
        name = domain["name"]
        by_split = {s: [] for s in splits}
        for key, text in units_of(domain, recipe, dirs):
            by_split[split_of(name, key, recipe["split_percent"])].append((key, text))
        rng = random.Random(f"{recipe['seed']}/{name}")
        st = stats[name] = {}
        for s, units in by_split.items():
            # shuffled by a seeded RNG so a domain's samples mix files/packages; samples keep their units' text intact
            units.sort(key=lambda u: hashlib.sha256(u[0].encode()).hexdigest())
            size = recipe["sample_chars"]["train" if s == "train" else "eval"]
            pieces = samples_of(units, size)
            rng.shuffle(pieces)
            if s == "train":
                kept, total = [], 0
                for p in pieces:
                    if total + len(p) > recipe["max_train_chars_per_domain"]:
                        break
                    kept.append(p)
                    total += len(p)
                pieces = kept
            else:
                # evaluation-sized samples only: drop fragments much shorter than a sample and single overlong lines (minified code)
                pieces = [p for p in pieces if size // 3 <= len(p) <= 2 * size][:recipe[f"{s}_per_domain"]]
            st[s] = {"units": len(units), "samples": len(pieces), "chars": sum(len(p) for p in pieces)}
            for i, p in enumerate(pieces):
                splits[s].append({"sample_id": f"{s}/{name}/{i:05d}", "domain": name, "text": p})
        print(f"{name:12s} " + "  ".join(f"{s}: {v['samples']} samples / {v['chars']} chars" for s, v in st.items()), flush=True)
    outputs = lock.setdefault("outputs", {})
    for s, rows in splits.items():
        path = out / f"{s}.jsonl"
        write_jsonl(path, rows)
        digest = sha256(path)
        if s in outputs and outputs[s]["sha256"] != digest:
            print(f"warning: {path.name} differs from recipe.lock.json ({outputs[s]['sha256'][:12]}… vs {digest[:12]}…)")
        outputs[s] = {"rows": len(rows), "sha256": digest}
    lock["domains"] = stats
    lock_path.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    print(f"wrote {', '.join(str(out / (s + '.jsonl')) for s in splits)}; lock: {lock_path}")


if __name__ == "__main__":
    main()
