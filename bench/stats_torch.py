"""torch's side of the statistics benchmark: the same figures with torch ops over the memory-mapped tensors."""
import json
import struct
import sys

import numpy as np
import torch

path = sys.argv[1]
with open(path, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
out = []
for name, info in header.items():
    if name == "__metadata__":
        continue
    a, b = info["data_offsets"]
    x = torch.from_numpy(np.memmap(path, dtype=np.float32, mode="r", offset=8 + n + a, shape=((b - a) // 4,)))
    ax = x.abs()
    lo, hi = torch.aminmax(x)
    out.append({"name": name, "count": x.numel(), "min": lo.item(), "max": hi.item(),
                "mean": x.mean(dtype=torch.float64).item(), "std": x.double().std(unbiased=False).item(),
                "l1": ax.sum(dtype=torch.float64).item(), "l2": torch.linalg.vector_norm(x, dtype=torch.float64).item(),
                "zeros": int((x == 0).sum()), "near_zero": int((ax < 1e-6).sum()),
                "nan": int(x.isnan().sum()), "inf": int(x.isinf().sum())})
json.dump({"tensors": out}, sys.stdout)
