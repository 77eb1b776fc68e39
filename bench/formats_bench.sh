#!/usr/bin/env bash
# The issue-7 suite across formats: GPT-2-small-like (~0.5 GB) and medium-like (~1.4 GB) state dicts as .pt,
# .safetensors, .npz and .h5, each measured side by side with its Python peer in one run:
#   list        torch.load + list / header JSON / npz member headers / h5py visititems   vs  weightscope list --json
#   full read   torch.load / numpy memmap copies / np.load / h5py ds[()]                   vs  bench/ReadAll (ToArray)
#   start-up    python3 -c 'import torch'                                                    vs  weightscope --version
# Results (median wall time, peak RSS) appended to bench/RESULTS.md. RUNS=n (default 5); SIZES="small medium".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
py=/usr/bin/python3
runs="${RUNS:-5}"
sizes="${SIZES:-small medium}"

"$py" "$here/make_gpt2_like.py" "$here/data" >/dev/null
"$py" "$here/make_formats.py" "$here/data"
source "$here/cli.sh"
for s in $sizes; do
  [ -f "$here/data/gpt2-$s-like.safetensors" ] || "${ws[@]}" convert "$here/data/gpt2-$s-like.pt" "$here/data/gpt2-$s-like.safetensors" >/dev/null 2>&1
done
dotnet publish "$here/ReadAll" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  -o "$root/artifacts/readall" --nologo -v quiet >&2
readall="$root/artifacts/readall/ReadAll.dll"

{
  echo
  echo "## $(date -u +%Y-%m-%d) — formats suite ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), dotnet $(dotnet --version), torch $("$py" -c 'import torch; print(torch.__version__)'), numpy $("$py" -c 'import numpy; print(numpy.__version__)'), h5py $("$py" -c 'import h5py; print(h5py.__version__)'))"
  echo
  echo "Command: \`bench/formats_bench.sh\` (CLI build: $ws_build) at commit $(git -C "$root" rev-parse --short HEAD) (median of $runs runs after one warm-up; peak RSS is the max over runs; load average at start: $(cut -d' ' -f1-3 /proc/loadavg))."
  echo
  echo '```'
  "$py" "$here/measure.py" "$runs" "python3 -c 'import torch'" -- "$py" -c "import torch" --- "weightscope --version" -- "${ws[@]}" --version
  echo '```'
  for s in $sizes; do
    for ext in pt safetensors npz h5; do
      f="$here/data/gpt2-$s-like.$ext"
      case "$ext" in
        pt) lister=("$py" "$here/torch_list.py" "$f"); llabel="torch.load + list"; reader=("$py" "$here/read_all.py" "$f"); rlabel="torch.load";;
        safetensors) lister=("$py" "$here/safetensors_list.py" "$f"); llabel="header JSON (python)"; reader=("$py" "$here/read_all.py" "$f"); rlabel="numpy memmap copies";;
        npz) lister=("$py" "$here/np_list.py" "$f"); llabel="npz member headers (numpy)"; reader=("$py" "$here/read_all.py" "$f"); rlabel="np.load every member";;
        h5) lister=("$py" "$here/h5py_list.py" "$f"); llabel="h5py visititems"; reader=("$py" "$here/h5py_read.py" "$f"); rlabel="h5py ds[()]";;
      esac
      echo "### gpt2-$s-like.$ext ($(du -h "$f" | cut -f1))"
      echo '```'
      "$py" "$here/measure.py" "$runs" "$llabel" -- "${lister[@]}" --- "weightscope list --json" -- "${ws[@]}" list --json "$f"
      "$py" "$here/measure.py" "$runs" "$rlabel" -- "${reader[@]}" --- "ReadAll ToArray every tensor" -- dotnet "$readall" "$f"
      echo '```'
    done
  done
} | tee -a "$here/RESULTS.md"
