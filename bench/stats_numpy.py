"""numpy's side of the statistics benchmark: the figures `weightscope stats` prints, per tensor, over a memory-mapped
safetensors file (np.memmap per tensor; float64 accumulation as numpy does for these reductions' dtype=float64)."""
import json
import sys

import numpy as np

from safetensors_tensors import memmaps

out = []
for name, x in memmaps(sys.argv[1]):
    ax = np.abs(x)
    out.append({"name": name, "count": int(x.size), "min": float(x.min()), "max": float(x.max()),
                "mean": float(x.mean(dtype=np.float64)), "std": float(x.std(dtype=np.float64)),
                "l1": float(ax.sum(dtype=np.float64)), "l2": float(np.sqrt(np.dot(x.astype(np.float64), x))),
                "zeros": int(np.count_nonzero(x == 0)), "near_zero": int(np.count_nonzero(ax < 1e-6)),
                "nan": int(np.isnan(x).sum()), "inf": int(np.isinf(x).sum())})
json.dump({"tensors": out}, sys.stdout)
