"""Writes bench/data/filters/<filter>.h5: one ~100 MB dataset per deflate-free filter WeightScope decodes, written by
h5py/libhdf5 and Debian's plugins (see tests/fixtures/generate/hdf5_filter_fixtures.py for the packages).
Values: a float32 random walk rounded to 3 decimals (compressible as real weights are not quite), int16 for N-bit
(12-bit precision) and int32 for integer scale-offset. Existing files are kept."""
import os
import sys

import h5py
import hdf5plugin
import bitshuffle.h5  # noqa: F401  registers filter 32008
import numpy as np
from h5py import h5d, h5p, h5s, h5t, h5z

out = os.path.join(sys.argv[1], "filters")
os.makedirs(out, exist_ok=True)
n = 25 * 1024 * 1024  # 25 M elements: 100 MB of float32
rng = np.random.default_rng(1)
walk = np.round(np.cumsum(rng.normal(0, 0.01, n)).astype("<f4"), 3).reshape(-1, 1024)
chunks = (1024, 1024)  # 4 MB chunks of float32


def make(name, write):
    path = os.path.join(out, name + ".h5")
    if not os.path.exists(path):
        with h5py.File(path + ".tmp", "w") as f:
            write(f)
        os.rename(path + ".tmp", path)


make("szip", lambda f: f.create_dataset("x", data=walk, chunks=chunks, compression="szip", compression_opts=("nn", 32)))
make("scaleoffset_f32", lambda f: f.create_dataset("x", data=walk, chunks=chunks, scaleoffset=3))
make("scaleoffset_i32", lambda f: f.create_dataset("x", data=(walk * 1000).astype("<i4"), chunks=chunks, scaleoffset=True))
make("blosc_lz4_shuffle", lambda f: f.create_dataset("x", data=walk, chunks=chunks, **hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE)))
make("blosc_blosclz_shuffle", lambda f: f.create_dataset("x", data=walk, chunks=chunks, **hdf5plugin.Blosc(cname="blosclz", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE)))
make("blosc_zstd_bitshuffle", lambda f: f.create_dataset("x", data=walk, chunks=chunks, **hdf5plugin.Blosc(cname="zstd", clevel=5, shuffle=hdf5plugin.Blosc.BITSHUFFLE)))
make("bitshuffle_lz4", lambda f: f.create_dataset("x", data=walk, chunks=chunks, **hdf5plugin.Bitshuffle(nelems=0, cname="lz4")))
make("lz4", lambda f: f.create_dataset("x", data=walk, chunks=chunks, **hdf5plugin.LZ4()))
make("bzip2", lambda f: f.create_dataset("x", data=walk, chunks=chunks, **hdf5plugin.BZip2(blocksize=9)))


def nbit(f):
    t = h5t.STD_I16LE.copy()
    t.set_precision(12)
    dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_chunk((1024, 2048))
    dcpl.set_filter(h5z.FILTER_NBIT, h5z.FLAG_OPTIONAL)
    data = np.clip(walk.reshape(-1, 2048) * 100, -2048, 2047).astype("<i2")  # 50 M int16: 100 MB
    data = np.concatenate([data, data])
    ds = h5d.create(f.id, b"x", t, h5s.create_simple(data.shape), dcpl)
    ds.write(h5s.ALL, h5s.ALL, data)


make("nbit_i16", nbit)
