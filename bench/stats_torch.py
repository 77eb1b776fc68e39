"""torch's side of the statistics benchmark: the same figures with torch ops over the memory-mapped tensors."""
import json
import sys

import torch

from safetensors_tensors import memmaps

out = []
for name, x in memmaps(sys.argv[1]):
    x = torch.from_numpy(x)
    ax = x.abs()
    lo, hi = torch.aminmax(x)
    out.append({"name": name, "count": x.numel(), "min": lo.item(), "max": hi.item(),
                "mean": x.mean(dtype=torch.float64).item(), "std": x.double().std(unbiased=False).item(),
                "l1": ax.sum(dtype=torch.float64).item(), "l2": torch.linalg.vector_norm(x, dtype=torch.float64).item(),
                "zeros": int((x == 0).sum()), "near_zero": int((ax < 1e-6).sum()),
                "nan": int(x.isnan().sum()), "inf": int(x.isinf().sum())})
json.dump({"tensors": out}, sys.stdout)
