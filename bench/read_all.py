"""The Python peers of bench/ReadAll (every tensor's values in memory, a checksum so nothing is skipped):
  .pt           torch.load (map_location cpu)            .npz  np.load, each member read
  .safetensors  numpy memmap copied (np.array) per tensor .h5   see h5py_read.py
"""
import sys

import numpy as np

path = sys.argv[1]
checksum, nbytes, count = 0.0, 0, 0


def take(a):
    global checksum, nbytes, count
    if a.size:
        checksum += float(a.flat[0]) + float(a.flat[-1])
    nbytes += a.nbytes
    count += 1


if path.endswith(".pt"):
    import torch
    for v in torch.load(path, map_location="cpu").values():
        take(v.numpy())
elif path.endswith(".npz"):
    with np.load(path) as z:
        for k in z.files:
            take(z[k])
elif path.endswith(".safetensors"):
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from safetensors_tensors import memmaps
    for _, m in memmaps(path):
        take(np.array(m))
print(f"{count} tensors, {nbytes} bytes, checksum {checksum}")
