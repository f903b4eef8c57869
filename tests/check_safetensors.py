#!/usr/bin/env python3
"""Checks checkpoints written by our SafetensorsWriter with the reference `safetensors` library and torch.

Produce them first:  mvn -o -q -pl lib test -Dtest=SafetensorsPythonCheckTest
Then:                /opt/hfref/bin/python tests/check_safetensors.py lib/target/safetensors-check
Every tensor must load with safetensors.torch (single file via load_file, shards via safe_open + the index) and be
bit-identical to torch's own conversion of the same f32 values (x.bfloat16(), x.half(), x.to(float8_e4m3fn)).
Exit status 0 and "OK" when everything matches.
"""
import json
import os
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file


def values(n, scale):
    i = torch.arange(n, dtype=torch.int64)
    x = ((i % 97) - 48).to(torch.float32) * 0.37 + (i // 97).to(torch.float32) * 1.5
    return x * scale if scale != 1 else x


def expected():
    return {
        "model.layers.0.mlp.experts.0.gate_proj.weight": values(210, 1).bfloat16().reshape(6, 35),
        "model.layers.0.mlp.experts.0.up_proj.weight": values(210, 1).half(),
        "model.norm.weight": values(210, 1).reshape(5, 42),
        "model.layers.0.mlp.experts.0.down_proj.weight": values(210, 40.0).to(torch.float8_e4m3fn).reshape(14, 15),
        "i32": (torch.arange(12, dtype=torch.int64) * 1_000_003 - 7).to(torch.int32).reshape(3, 4),
        "i64": torch.tensor([-2**63, 2**63 - 1], dtype=torch.int64),
        "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
    }


def same(name, got, want):
    assert got.dtype == want.dtype, f"{name}: dtype {got.dtype} != {want.dtype}"
    assert tuple(got.shape) == tuple(want.shape), f"{name}: shape {tuple(got.shape)} != {tuple(want.shape)}"
    a, b = got.contiguous().view(torch.uint8), want.contiguous().view(torch.uint8)
    assert torch.equal(a, b), f"{name}: bytes differ at {(a != b).nonzero()[:5].tolist()}"


def main(root):
    want = expected()
    single = os.path.join(root, "single.safetensors")
    got = load_file(single)
    assert set(got) == set(want), f"single: names {sorted(got)}"
    for k in want:
        same(k, got[k], want[k])
    with safe_open(single, "pt") as f:
        assert f.metadata() == {"format": "pt", "writer": "routecal"}, f.metadata()
    with open(single, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        assert n % 8 == 0, "header not padded to 8 bytes"

    d = os.path.join(root, "sharded")
    index = json.load(open(os.path.join(d, "model.safetensors.index.json")))
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) > 1 and all(s.endswith(f"-of-{len(shards):05d}.safetensors") for s in shards), shards
    total = 0
    for shard in shards:
        with safe_open(os.path.join(d, shard), "pt") as f:
            assert f.metadata()["writer"] == "routecal"
            for k in f.keys():
                assert index["weight_map"][k] == shard, f"{k} in {shard} but index says {index['weight_map'][k]}"
                t = f.get_tensor(k)
                same(k, t, want[k])
                total += t.numel() * t.element_size()
    assert set(index["weight_map"]) == set(want)
    assert index["metadata"]["total_size"] == total, (index["metadata"], total)
    print("OK", root, "single + sharded:", len(shards), "shards,", total, "bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "lib/target/safetensors-check")
