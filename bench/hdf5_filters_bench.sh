#!/usr/bin/env bash
# HDF5 filter decoding: h5py (libhdf5 1.10.8 + Debian's plugins) against WeightScope on ~100 MB datasets, one per
# deflate-free filter WeightScope decodes (bench/make_hdf5_filters.py). One timed run side by side after a warm-up
# (RUNS=n for more): h5py ds[()] (bench/h5py_read.py) against bench/ReadAll (ToArray on every tensor).
# Results appended to bench/RESULTS.md. Run alone: bench/hdf5_filters_bench.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
py=/usr/bin/python3
runs="${RUNS:-1}"

"$py" "$here/make_hdf5_filters.py" "$here/data"
dotnet publish "$here/ReadAll" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$root/artifacts/readall" --nologo -v quiet >&2
readall="$root/artifacts/readall/ReadAll.dll"
{
  echo
  echo "## $(date -u +%Y-%m-%d) — HDF5 filters, full reads ($(nproc) cores, $(uname -m), dotnet $(dotnet --version), h5py $("$py" -c 'import h5py; print(h5py.__version__, "/ libhdf5", h5py.version.hdf5_version)'))"
  echo
  echo "Command: \`bench/hdf5_filters_bench.sh\` at commit $(git -C "$root" rev-parse --short HEAD) (median of $runs run(s) after one warm-up; load average at start: $(cut -d' ' -f1-3 /proc/loadavg))."
  echo '```'
  for f in "$here"/data/filters/*.h5; do
    echo "### $(basename "$f") ($(du -h "$f" | cut -f1) on disk)"
    "$py" "$here/measure.py" "$runs" \
      "h5py ds[()]" -- "$py" "$here/h5py_read.py" "$f" --- \
      "ReadAll ToArray" -- dotnet "$readall" "$f"
  done
  echo '```'
} | tee -a "$here/RESULTS.md"
