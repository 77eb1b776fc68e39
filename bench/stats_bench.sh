#!/usr/bin/env bash
# Issue 5's statistics benchmark: `weightscope stats` against numpy, torch and a C reference loop (the machine's limit)
# on one ~1.4 GB float32 safetensors checkpoint, in one run; appends a section to bench/RESULTS.md.
# Needs Debian's python3-numpy and python3-torch, and gcc with OpenMP.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
py=/usr/bin/python3
runs="${RUNS:-5}"
data="$here/data"
file="$data/gpt2-medium-like.safetensors"

"$py" "$here/make_stats_data.py" "$data"
gcc -O3 -march=native -fopenmp "$here/stats_ref.c" -o "$data/stats_ref" -lm
source "$here/cli.sh"
threads=$(nproc)

{
  echo
  echo "## $(date -u +%Y-%m-%d) — stats ($threads cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), dotnet $(dotnet --version), numpy $("$py" -c 'import numpy; print(numpy.__version__)'), torch $("$py" -c 'import torch; print(torch.__version__)'))"
  echo
  echo "Command: \`bench/stats_bench.sh\` on \`$(basename "$file")\` ($(du -h "$file" | cut -f1), $(($(stat -c %s "$file") / 1000000)) MB), CLI build: $ws_build, median of $runs runs after one warm-up (file in the page cache); whole processes."
  echo
  echo '```'
  OMP_NUM_THREADS=$threads "$py" "$here/measure_anon.py" "$runs" \
    "C reference loop (min/max/sum/sum², $threads threads)" -- "$data/stats_ref" "$file" --- \
    "weightscope stats --json" -- "${ws[@]}" stats --json "$file" --- \
    "numpy (same figures)" -- "$py" "$here/stats_numpy.py" "$file" --- \
    "torch (same figures)" -- "$py" "$here/stats_torch.py" "$file"
  echo '```'
} | tee -a "$here/RESULTS.md"
