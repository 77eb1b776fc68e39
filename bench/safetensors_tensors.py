"""The float32 tensors of a safetensors file as numpy memmaps, for the Python sides of the statistics benchmark."""
import json
import struct

import numpy as np


def memmaps(path):
    """Yields (name, np.memmap of float32) for each tensor, in header order."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        yield name, np.memmap(path, dtype=np.float32, mode="r", offset=8 + n + a, shape=((b - a) // 4,))
