"""Writes the GPT-2-like state dicts of make_gpt2_like.py in the other formats the suite measures, each with the
Python tool people use for it: .npz with np.savez (tied lm_head written as its own copy, as numpy cannot share),
.h5 with h5py (one dataset per tensor, named as in the state dict). The .safetensors copies are made by
`weightscope convert` in formats_bench.sh (Debian has no python3-safetensors); their content is fixed by the format.
Run with Debian's interpreter: /usr/bin/python3 bench/make_formats.py DATA_DIR
"""
import os
import sys

import h5py
import numpy as np
import torch

data = sys.argv[1]
for stem in ("gpt2-small-like", "gpt2-medium-like"):
    pt = os.path.join(data, stem + ".pt")
    sd = None
    for ext in (".npz", ".h5"):
        path = os.path.join(data, stem + ext)
        if os.path.exists(path):
            continue
        if sd is None:
            sd = {k: v.numpy() for k, v in torch.load(pt, map_location="cpu").items()}
        tmp = path + ".tmp"
        if ext == ".npz":
            with open(tmp, "wb") as f:
                np.savez(f, **sd)
        else:
            with h5py.File(tmp, "w") as f:
                for k, v in sd.items():
                    f.create_dataset(k, data=v)
        os.replace(tmp, path)
        print(path, os.path.getsize(path))
