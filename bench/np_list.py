"""The NumPy peer of `weightscope list --json` for .npz: each member's header (name, dtype, shape) without loading
the arrays, as np.load(...)'s lazy NpzFile would need to (it has no shape-only API)."""
import json
import sys
import zipfile

import numpy as np

out = []
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        with z.open(info) as f:
            version = np.lib.format.read_magic(f)
            shape, fortran, dtype = np.lib.format._read_array_header(f, version)
        out.append({"name": info.filename[:-4], "dtype": str(dtype), "shape": list(shape)})
print(json.dumps({"tensors": out}))
