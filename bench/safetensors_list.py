"""The Python peer of `weightscope list --json` for safetensors (Debian has no python3-safetensors): the header's
JSON, as safe_open(...).keys() and get_slice(k).get_shape() read it."""
import json
import struct
import sys

with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
print(json.dumps({"tensors": [{"name": k, "dtype": v["dtype"], "shape": v["shape"]} for k, v in header.items() if k != "__metadata__"]}))
