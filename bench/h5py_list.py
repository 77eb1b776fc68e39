"""The Python peer of `weightscope list --json` for HDF5: h5py's visititems collecting each dataset's name, shape, dtype."""
import json
import sys

import h5py

out = []
with h5py.File(sys.argv[1], "r") as f:
    f.visititems(lambda name, obj: out.append({"name": name, "dtype": str(obj.dtype), "shape": list(obj.shape)})
                 if isinstance(obj, h5py.Dataset) else None)
print(json.dumps({"tensors": out}))
