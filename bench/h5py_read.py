"""The Python peer of bench/ReadAll: h5py reads every dataset with ds[()] into a fresh numpy array."""
import sys

import h5py

checksum, nbytes, count = 0.0, 0, 0


def read(name, obj):
    global checksum, nbytes, count
    if isinstance(obj, h5py.Dataset):
        a = obj[()]
        if a.size:
            checksum += float(a.flat[0]) + float(a.flat[-1])
        nbytes += a.nbytes
        count += 1


with h5py.File(sys.argv[1], "r") as f:
    f.visititems(read)
print(f"{count} tensors, {nbytes} bytes, checksum {checksum}")
