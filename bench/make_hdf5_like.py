"""Writes GPT-2-like HDF5 files for the HDF5 benchmark: HF GPT-2 small names and shapes (12 layers, d=768, ~124M
float32 parameters, ~0.5 GB), values ~ N(0, 0.02) like trained weights (so deflate does realistic work).

  gpt2-like-contiguous.h5  every dataset contiguous (h5py's default)
  gpt2-like-deflate.h5     every dataset chunked with h5py's own chunk guess (chunks=True) and gzip level 4

Run with Debian's interpreter: /usr/bin/python3 bench/make_hdf5_like.py OUT_DIR
"""
import os
import sys

import h5py
import numpy as np


def gpt2_shapes(n_layer=12, d=768, vocab=50257, ctx=1024):
    yield "transformer/wte/weight", (vocab, d)
    yield "transformer/wpe/weight", (ctx, d)
    for i in range(n_layer):
        p = f"transformer/h/{i}/"
        yield p + "ln_1/weight", (d,)
        yield p + "ln_1/bias", (d,)
        yield p + "attn/c_attn/weight", (d, 3 * d)
        yield p + "attn/c_attn/bias", (3 * d,)
        yield p + "attn/c_proj/weight", (d, d)
        yield p + "attn/c_proj/bias", (d,)
        yield p + "ln_2/weight", (d,)
        yield p + "ln_2/bias", (d,)
        yield p + "mlp/c_fc/weight", (d, 4 * d)
        yield p + "mlp/c_fc/bias", (4 * d,)
        yield p + "mlp/c_proj/weight", (4 * d, d)
        yield p + "mlp/c_proj/bias", (d,)
    yield "transformer/ln_f/weight", (d,)
    yield "transformer/ln_f/bias", (d,)


def write(path, **kwargs):
    rng = np.random.default_rng(0)
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        for name, shape in gpt2_shapes():
            data = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype("<f4")
            f.create_dataset(name, data=data, **kwargs)
    os.replace(tmp, path)


out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data")
os.makedirs(out, exist_ok=True)
for name, kwargs in [("gpt2-like-contiguous.h5", {}), ("gpt2-like-deflate.h5", {"chunks": True, "compression": "gzip", "compression_opts": 4})]:
    path = os.path.join(out, name)
    if not os.path.exists(path):
        write(path, **kwargs)
    print(path, os.path.getsize(path))
