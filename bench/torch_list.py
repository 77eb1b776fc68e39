"""The Python peer of `weightscope list --json`: torch.load, then list names and shapes as JSON."""
import json
import sys

import torch

sd = torch.load(sys.argv[1], map_location="cpu")
print(json.dumps({"tensors": [{"name": k, "dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                              for k, v in sd.items()]}))
