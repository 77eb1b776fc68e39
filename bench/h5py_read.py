"""The Python peer of bench/ReadAll: h5py reads every dataset.

  default        ds[()] into a fresh numpy array per dataset
  --into-buffer  ds.read_direct() into one buffer reused for every dataset (the peer of ReadAll --into-buffer)
"""
import sys

import h5py
import numpy as np

into_buffer = len(sys.argv) > 2 and sys.argv[2] == "--into-buffer"
checksum, nbytes, count = 0.0, 0, 0

with h5py.File(sys.argv[1], "r") as f:
    datasets = []
    f.visititems(lambda name, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None)
    buffer = np.empty(max(d.size * d.dtype.itemsize for d in datasets), dtype=np.uint8) if into_buffer else None
    for ds in datasets:
        if into_buffer:
            a = buffer[:ds.size * ds.dtype.itemsize].view(ds.dtype).reshape(ds.shape)
            if ds.size:
                ds.read_direct(a)
        else:
            a = ds[()]
        if a.size:
            checksum += float(a.flat[0]) + float(a.flat[-1])
        nbytes += a.nbytes
        count += 1
print(f"{count} tensors, {nbytes} bytes, checksum {checksum}")
