"""Writes a GPT-2-medium-like float32 checkpoint as safetensors for the statistics benchmark (issue 5).

HF GPT-2 medium's names and shapes (24 layers, d=1024; the causal-mask buffers left out as they are not weights),
values N(0, 0.02) (LayerNorm weights N(1, 0.02)), ~1.4 GB. safetensors is written from its definition (8-byte
little-endian header length, JSON header, then the tensors' bytes back to back), so numpy, torch, the C reference
loop and WeightScope all read the same bytes. Run: /usr/bin/python3 bench/make_stats_data.py OUT_DIR
"""
import json
import os
import struct
import sys

import numpy as np


def shapes(n_layer=24, d=1024, vocab=50257, ctx=1024):
    yield "wte.weight", (vocab, d)
    yield "wpe.weight", (ctx, d)
    for i in range(n_layer):
        p = f"h.{i}."
        yield p + "ln_1.weight", (d,)
        yield p + "ln_1.bias", (d,)
        yield p + "attn.c_attn.weight", (d, 3 * d)
        yield p + "attn.c_attn.bias", (3 * d,)
        yield p + "attn.c_proj.weight", (d, d)
        yield p + "attn.c_proj.bias", (d,)
        yield p + "ln_2.weight", (d,)
        yield p + "ln_2.bias", (d,)
        yield p + "mlp.c_fc.weight", (d, 4 * d)
        yield p + "mlp.c_fc.bias", (4 * d,)
        yield p + "mlp.c_proj.weight", (4 * d, d)
        yield p + "mlp.c_proj.bias", (d,)
    yield "ln_f.weight", (d,)
    yield "ln_f.bias", (d,)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "gpt2-medium-like.safetensors")
    if os.path.exists(path):
        print(path, os.path.getsize(path))
        return
    header, offset, items = {}, 0, list(shapes())
    for name, shape in items:
        n = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * (-len(blob) % 8)
    rng = np.random.default_rng(0)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for name, shape in items:
            mean = 1.0 if "ln_" in name and name.endswith("weight") else 0.0
            (rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02) + np.float32(mean)).tofile(f)
    os.rename(path + ".tmp", path)
    print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
