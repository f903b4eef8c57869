#!/usr/bin/env python3
"""Reference fixtures for org.routecal.io.safetensors, made with the real `safetensors` library and torch.

Run:  /opt/hfref/bin/python tests/make_safetensors_fixture.py
Writes tests/fixtures/safetensors/:
  reference.safetensors + reference.json   one tensor of every dtype (safetensors.torch.save_file) and the values
                                           torch holds for each (floats as float32 bit patterns, ints as ints)
  sharded/                                 huggingface_hub.save_torch_state_dict with a small max_shard_size:
                                           model-0000i-of-0000N.safetensors + model.safetensors.index.json
  sharded.json                             values of the sharded tensors
  codec.safetensors                        `input` F32 [N] and torch's conversions of it: `bf16` = input.bfloat16(),
                                           `f16` = input.half(), `fp8` = input.to(torch.float8_e4m3fn);
                                           decode tables `f16_bits` I32 → `f16_as_f32` F32 (torch .float()),
                                           `fp8_all` U8 [256] → `fp8_as_f32` F32
The Java tests compare our codecs bit-for-bit with these (NaN bit patterns excepted for bf16; see DTypeCodec).
"""
import json
import os
import shutil
import struct

import numpy as np
import torch
from safetensors.torch import save_file
from huggingface_hub import save_torch_state_dict

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "safetensors")


def f32_bits(t):
    return t.to(torch.float32).contiguous().view(torch.int32).tolist()


def describe(tensors):
    out = {}
    for name, t in tensors.items():
        d = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
        if t.dtype.is_floating_point:
            d["f32_bits"] = [int(v) for v in np.asarray(f32_bits(t)).reshape(-1)]
        else:
            d["ints"] = [int(v) for v in t.reshape(-1).tolist()]
        out[name] = d
    return out


def reference_tensors(g):
    return {
        "model.layers.0.mlp.gate.weight": torch.randn(3, 4, generator=g).bfloat16(),
        "model.layers.0.mlp.experts.1.up_proj.weight": torch.randn(2, 3, generator=g).half(),
        "model.norm.weight": torch.randn(5, generator=g),
        "model.layers.0.mlp.experts.0.down_proj.weight": (torch.randn(4, 2, generator=g) * 100).to(torch.float8_e4m3fn),
        "i8": torch.tensor([-128, -1, 0, 1, 127, 5], dtype=torch.int8),
        "i32": torch.tensor([[-2**31, 2**31 - 1], [7, -7]], dtype=torch.int32),
        "i64": torch.tensor([-2**63, 2**63 - 1, 42], dtype=torch.int64),
        "u8": torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
    }


def codec_inputs(g):
    rng = np.random.default_rng(1234)
    parts = [
        rng.standard_normal(300).astype(np.float32),
        # wide exponent range, both signs
        (rng.choice([-1, 1], 200) * rng.uniform(1, 2, 200) * 2.0 ** rng.integers(-40, 40, 200)).astype(np.float32),
        # f16 subnormal range and fp8 subnormal range
        (rng.uniform(-1, 1, 100) * 2.0 ** -14).astype(np.float32),
        (rng.uniform(-1, 1, 100) * 2.0 ** -6).astype(np.float32),
        # fp8 normal range up to past saturation
        rng.uniform(-600, 600, 100).astype(np.float32),
    ]
    ties = []
    for _ in range(60):  # exact ties at the bf16 / f16 / fp8 rounding points, odd and even kept bits
        m = int(rng.integers(0, 1 << 23))
        e = int(rng.integers(100, 140))
        ties.append(struct.unpack("<f", struct.pack("<I", (e << 23) | (m & ~0xFFFF) | 0x8000))[0])
        e16 = int(rng.integers(113, 142))
        ties.append(struct.unpack("<f", struct.pack("<I", (e16 << 23) | (m & ~0x1FFF) | 0x1000))[0])
        e8 = int(rng.integers(121, 135))
        ties.append(struct.unpack("<f", struct.pack("<I", (e8 << 23) | (m & ~0xFFFFF) | 0x80000))[0])
    specials = [0.0, -0.0, 1.0, -1.0, 448.0, -448.0, 449.0, 464.0, 465.0, 480.0, 1e6, -1e6, 65504.0, 65519.0,
                65520.0, 65536.0, -70000.0, 3.0e38, -3.4e38, float("inf"), float("-inf"), float("nan"),
                2.0 ** -9, 2.0 ** -10, 3 * 2.0 ** -11, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26, 1e-45, -1e-45,
                1.17549435e-38, 2.0 ** -6, 2.0 ** -7, 0.1, 1.0 / 3.0, 255.99, 3.3895314e38]
    x = np.concatenate(parts + [np.asarray(ties, np.float32), np.asarray(specials, np.float32)])
    return torch.from_numpy(x.astype(np.float32))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    g = torch.Generator().manual_seed(7)

    ref = reference_tensors(g)
    meta = {"format": "pt", "producer": "make_safetensors_fixture.py"}
    save_file(ref, os.path.join(OUT, "reference.safetensors"), metadata=meta)
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump({"metadata": meta, "tensors": describe(ref)}, f, indent=1)

    sharded = {f"model.layers.{i}.mlp.experts.{j}.gate_proj.weight": torch.randn(8, 16, generator=g).bfloat16()
               for i in range(2) for j in range(3)}
    sharded["model.embed_tokens.weight"] = torch.randn(10, 16, generator=g)
    os.makedirs(os.path.join(OUT, "sharded"))
    save_torch_state_dict(sharded, os.path.join(OUT, "sharded"), max_shard_size=700, metadata={"format": "pt"})
    with open(os.path.join(OUT, "sharded.json"), "w") as f:
        json.dump({"tensors": describe(sharded)}, f, indent=1)

    x = codec_inputs(g)
    f16_bits = torch.arange(0, 65536, 7, dtype=torch.int32)  # 9363 bit patterns, every exponent and subnormals
    f16_bits = torch.cat([f16_bits, torch.arange(0, 1024, dtype=torch.int32), torch.arange(0x8000, 0x8400, dtype=torch.int32)])
    f16_vals = f16_bits.to(torch.int16).view(torch.float16)
    fp8_all = torch.arange(0, 256, dtype=torch.int32).to(torch.uint8)
    codec = {
        "input": x,
        "bf16": x.bfloat16(),
        "f16": x.half(),
        "fp8": x.to(torch.float8_e4m3fn),
        "f16_bits": f16_bits,
        "f16_as_f32": f16_vals.float(),
        "fp8_all": fp8_all,
        "fp8_as_f32": fp8_all.view(torch.float8_e4m3fn).float(),
    }
    save_file(codec, os.path.join(OUT, "codec.safetensors"), metadata={"torch": torch.__version__})
    print("wrote", OUT, "codec inputs:", x.numel())


if __name__ == "__main__":
    main()
