#!/usr/bin/env bash
# convert .pt → .safetensors against cp of the same file (the issue's limit), both made durable the same way:
# weightscope fsyncs its temporary file before renaming it into place, so cp is followed by `sync FILE` (coreutils
# fsyncs just that file). cp without sync is shown too. Appends a section to bench/RESULTS.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
py=/usr/bin/python3
runs="${RUNS:-5}"
[ -f "$here/data/gpt2-small-like.pt" ] || "$py" "$here/make_gpt2_like.py" "$here/data"
source "$here/cli.sh"
{
  echo
  echo "## $(date -u +%Y-%m-%d) — convert ($(nproc) cores, $(uname -m), dotnet $(dotnet --version))"
  echo
  echo "Command: \`bench/convert_bench.sh\` (CLI build: $ws_build; median of $runs runs after one warm-up; files in page cache)."
  echo
  for f in gpt2-small-like.pt gpt2-medium-like.pt; do
    in="$here/data/$f"
    out="$here/data/converted.safetensors"
    echo "### $f ($(du -h "$in" | cut -f1))"
    echo '```'
    "$py" "$here/measure.py" "$runs" \
      "cp + sync FILE" -- sh -c "cp '$in' '$here/data/copied.bin' && sync '$here/data/copied.bin'" --- \
      "cp (no sync)" -- cp "$in" "$here/data/copied.bin" --- \
      "weightscope convert .pt .safetensors" -- "${ws[@]}" convert "$in" "$out"
    echo '```'
  done
  rm -f "$here/data/converted.safetensors" "$here/data/copied.bin"
} | tee -a "$here/RESULTS.md"
