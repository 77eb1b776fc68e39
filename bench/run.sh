#!/usr/bin/env bash
# The benchmark suite: one command, results appended to bench/RESULTS.md with machine and date.
# Needs Debian's python3-torch and python3-h5py (apt-get install -y python3-torch python3-h5py). Data files go to bench/data/ (git-ignored).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
py=/usr/bin/python3
runs="${RUNS:-5}"

"$py" "$here/make_gpt2_like.py" "$here/data"
source "$here/cli.sh"

{
  echo
  echo "## $(date -u +%Y-%m-%d) — listing ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), dotnet $(dotnet --version), torch $("$py" -c 'import torch; print(torch.__version__)'))"
  echo
  echo "Command: \`bench/run.sh\` (CLI build: $ws_build; median of $runs runs after one warm-up; peak RSS is the max over runs)."
  echo
  for f in gpt2-small-like.pt gpt2-medium-like.pt; do
    size=$(du -h "$here/data/$f" | cut -f1)
    echo "### $f ($size)"
    echo '```'
    "$py" "$here/measure.py" "$runs" \
      "torch.load + list" -- "$py" "$here/torch_list.py" "$here/data/$f" --- \
      "weightscope list --json" -- "${ws[@]}" list --json "$here/data/$f"
    echo '```'
  done
} | tee -a "$here/RESULTS.md"

# HDF5: h5py against WeightScope, listing and full reads (contiguous and deflate); appends its own section.
RUNS="$runs" "$here/hdf5_bench.sh"

# Every format (.pt, .safetensors, .npz, .h5): listing and full reads against each Python peer, start-up; own section.
RUNS="$runs" "$here/formats_bench.sh"

# convert .pt → .safetensors against cp (+ sync); appends its own section.
RUNS="$runs" "$here/convert_bench.sh"

# Statistics: weightscope stats against numpy, torch and a C reference loop; appends its own section.
RUNS="$runs" "$here/stats_bench.sh"
