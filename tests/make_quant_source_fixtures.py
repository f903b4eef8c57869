#!/usr/bin/env python3
"""compressed-tensors checkpoints as llm-compressor writes them, for routecal's reader (requantize / evaluate a
checkpoint someone else quantized). Every tensor is made by compressed-tensors' own code: scales by
calculate_qparams, the stored tensors by the format's compressor (FloatQuantizationCompressor for FP8,
PackedQuantizationCompressor for int4), the reference values by the same compressor's decompress. The config is
QuantizationConfig's own serialisation.

Cases (tests/fixtures/quant/ct_sources/<case>/: config.json, model.safetensors, decoded.safetensors):
  fp8_channel   float-quantized, FP8 weights per output channel, dynamic per-token FP8 activations (FP8_DYNAMIC)
  fp8_block     float-quantized, FP8 weights in 16×16 blocks (FP8_BLOCK) (compressed-tensors 0.18 cannot decompress a partial edge block)
  w4a16_group   pack-quantized, int4 symmetric, group 32 (W4A16)

Run:  /work/venv-hf/bin/python tests/make_quant_source_fixtures.py   (compressed-tensors from $CT_SRC, default /tmp/ct/src,
      set up as tests/make_quant_fixtures.py describes)
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.environ.get("CT_SRC", "/tmp/ct/src"))
from compressed_tensors.compressors import BaseCompressor  # noqa: E402
from compressed_tensors.quantization import QuantizationArgs, QuantizationConfig, QuantizationScheme, QuantizationStatus  # noqa: E402
from compressed_tensors.quantization.utils import calculate_qparams  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "quant", "ct_sources")
MODULES = {"model.layers.0.self_attn.kv_a_proj_with_mqa": (48, 64), "model.layers.0.mlp.experts.0.gate_proj": (32, 64),
           "model.layers.0.mlp.experts.0.down_proj": (64, 32)}
PLAIN = {"model.layers.0.input_layernorm.weight": (64,), "model.layers.0.mlp.gate.weight": (8, 64)}

CASES = {
    "fp8_channel": ("float-quantized", QuantizationArgs(num_bits=8, type="float", symmetric=True, strategy="channel"),
                    QuantizationArgs(num_bits=8, type="float", symmetric=True, strategy="token", dynamic=True)),
    "fp8_block": ("float-quantized", QuantizationArgs(num_bits=8, type="float", symmetric=True, strategy="block",
                                                      block_structure=[16, 16]),
                  QuantizationArgs(num_bits=8, type="float", symmetric=True, strategy="group", group_size=16, dynamic=True)),
    "w4a16_group": ("pack-quantized", QuantizationArgs(num_bits=4, type="int", symmetric=True, strategy="group", group_size=32), None),
}


def min_max(w, args):
    """Per-strategy observed range, the shapes calculate_qparams expects for the weight_scale parameter."""
    if args.strategy == "channel":
        return w.amin(1, keepdim=True), w.amax(1, keepdim=True)
    if args.strategy == "group":
        g = w.reshape(w.shape[0], -1, args.group_size)
        return g.amin(-1), g.amax(-1)
    if args.strategy == "block":
        bh, bw = args.block_structure
        rows, cols = -(-w.shape[0] // bh) * bh, -(-w.shape[1] // bw) * bw
        p = torch.nn.functional.pad(w, (0, cols - w.shape[1], 0, rows - w.shape[0]))
        b = p.reshape(rows // bh, bh, cols // bw, bw)
        return b.amin((1, 3)), b.amax((1, 3))
    raise ValueError(args.strategy)


def main():
    gen = torch.Generator().manual_seed(20261201)
    for case, (fmt, wargs, iargs) in CASES.items():
        scheme = QuantizationScheme(targets=["Linear"], weights=wargs, input_activations=iargs, format=fmt)
        compressor = BaseCompressor.get_value_from_registry(fmt)
        stored, decoded = {}, {}
        for module, shape in MODULES.items():
            w = (torch.randn(*shape, generator=gen) * 0.05).to(torch.bfloat16)
            lo, hi = min_max(w.float(), wargs)
            scale, zp = calculate_qparams(lo, hi, wargs)
            state = {"weight": w, "weight_scale": scale.to(torch.bfloat16), "weight_zero_point": zp}
            out = compressor.compress(state, scheme)
            for k, v in out.items():
                stored[f"{module}.{k}"] = v.contiguous()
            back = compressor.decompress({k: v for k, v in out.items()}, scheme)
            decoded[f"{module}.weight"] = back["weight"].float().contiguous()
        for name, shape in PLAIN.items():
            stored[name] = (torch.randn(*shape, generator=gen) * 0.05).to(torch.bfloat16)
        d = os.path.join(OUT, case)
        os.makedirs(d, exist_ok=True)
        save_file(stored, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        save_file(decoded, os.path.join(d, "decoded.safetensors"))
        qc = QuantizationConfig(config_groups={"group_0": scheme}, format=fmt, quant_method="compressed-tensors",
                                quantization_status=QuantizationStatus.COMPRESSED,
                                ignore=["lm_head", "re:.*mlp.gate$"])
        cfg = {"model_type": "deepseek_v3", "torch_dtype": "bfloat16", "quantization_config": qc.model_dump(mode="json", exclude_none=False)}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        print(f"{case}: {fmt}, {sorted(stored)[:4]}…")


if __name__ == "__main__":
    sys.exit(main())
