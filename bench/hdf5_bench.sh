#!/usr/bin/env bash
# HDF5 benchmark: h5py (Debian's python3-h5py) against WeightScope on GPT-2-small-like files (~0.5 GB, float32), one
# contiguous, one chunked + deflate level 4 (h5py's own chunk guess). Results appended to bench/RESULTS.md.
#   listing:   h5py visititems collecting name/shape/dtype      vs  weightscope list --json
#   full read: h5py ds[()] on every dataset                      vs  bench/ReadAll (ToArray<float>() on every tensor)
#              h5py ds.read_direct into one reused buffer        vs  bench/ReadAll --into-buffer (CopyBytesTo)
# Run by bench/run.sh, or alone: bench/hdf5_bench.sh   (RUNS=n for the number of timed runs, default 5)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
py=/usr/bin/python3
runs="${RUNS:-5}"

"$py" "$here/make_hdf5_like.py" "$here/data"
dotnet publish "$here/ReadAll" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$root/artifacts/readall" --nologo -v quiet >&2
source "$here/cli.sh"
readall="$root/artifacts/readall/ReadAll.dll"

{
  echo
  echo "## $(date -u +%Y-%m-%d) — HDF5 listing and full reads ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), dotnet $(dotnet --version), h5py $("$py" -c 'import h5py; print(h5py.__version__, "/ libhdf5", h5py.version.hdf5_version)'))"
  echo
  echo "Command: \`bench/hdf5_bench.sh\` (CLI build: $ws_build) at commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src bench ':!bench/RESULTS.md' || echo '+changes') (median of $runs runs after one warm-up; peak RSS is the max over runs; load average at start: $(cut -d' ' -f1-3 /proc/loadavg))."
  echo
  for variant in contiguous deflate; do
    f="$here/data/gpt2-like-$variant.h5"
    echo "### gpt2-like-$variant.h5 ($(du -h "$f" | cut -f1), 148 datasets)"
    echo '```'
    "$py" "$here/measure.py" "$runs" \
      "h5py visititems list" -- "$py" "$here/h5py_list.py" "$f" --- \
      "weightscope list --json" -- "${ws[@]}" list --json "$f"
    "$py" "$here/measure.py" "$runs" \
      "h5py ds[()] every dataset" -- "$py" "$here/h5py_read.py" "$f" --- \
      "ReadAll ToArray every tensor" -- dotnet "$readall" "$f"
    "$py" "$here/measure.py" "$runs" \
      "h5py read_direct, one buffer" -- "$py" "$here/h5py_read.py" "$f" --into-buffer --- \
      "ReadAll CopyBytesTo, one buffer" -- dotnet "$readall" "$f" --into-buffer
    echo '```'
  done
} | tee -a "$here/RESULTS.md"
