#!/usr/bin/env bash
# WeightScope.TorchSharp against TorchSharp.PyBridge (issue 19 §3): loading .pt state dicts into a matching TorchSharp
# module in-process, module.LoadWeights(path) against module.load_py(path), on GPT-2 small/medium-like state dicts (tied
# and untied lm_head) and torchvision resnet18/resnet50. Builds bench/TorchSharpLoad once (Release), writes the inputs
# with make_torchsharp_inputs.py into $WS_TS_BENCH (default /tmp/ws-ts-bench, never committed), then per input runs
# none / pybridge / weightscope alternately, RUNS times each (default 5), one process per run, and prints the medians
# (torchsharp_table.py) with the goal check. Raw JSON lines: $WS_TS_BENCH/runs.jsonl.
#   none        constructs the module and loads nothing: the runtime's baseline plus the module's own size
#   pybridge    module.load_py(path)            (TorchSharp.PyBridge 1.4.4)
#   weightscope module.LoadWeights(path)        (WeightScope.TorchSharp)
# Usage: bench/torchsharp_bench.sh [MODEL...]    (default: every model; RUNS=n; SURVEY=1 also runs the failure survey;
#        R2R=1 publishes ReadyToRun instead, to artifacts/torchsharpload-r2r: the load's first-call JIT mostly precompiled)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
py=/usr/bin/python3
runs="${RUNS:-5}"
data="${WS_TS_BENCH:-/tmp/ws-ts-bench}"
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(gpt2-small-tied gpt2-small-untied gpt2-medium-tied gpt2-medium-untied resnet18 resnet50)

"$py" "$here/make_torchsharp_inputs.py" "$data" >&2
if [ "${R2R:-0}" = 1 ]; then
  # Publishing copies TorchSharp's native libraries from the package, so the GLIBCXX bridge is applied to that copy too.
  dotnet publish "$here/TorchSharpLoad/TorchSharpLoad.csproj" -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true -o "$root/artifacts/torchsharpload-r2r" --nologo -v quiet >&2
  bash "$root/eng/libtorchsharp-compat/patch.sh" "$root/artifacts/torchsharpload-r2r" >&2
  exe="$root/artifacts/torchsharpload-r2r/TorchSharpLoad"
  build="ReadyToRun (dotnet publish -p:PublishReadyToRun=true)"
else
  dotnet build "$here/TorchSharpLoad/TorchSharpLoad.csproj" -c Release --nologo -v quiet >&2
  exe="$here/TorchSharpLoad/bin/Release/net10.0/TorchSharpLoad"
  build="dotnet build -c Release"
fi

out="$data/runs.jsonl"
: > "$out"
echo "$(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), dotnet $(dotnet --version), build: $build, commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src bench ':!bench/RESULTS.md' || echo '+changes'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for model in "${models[@]}"; do
  f="$data/$model.pt"
  cat "$f" > /dev/null # every loader reads from the page cache, the first one included
  for ((i = 1; i <= runs; i++)); do
    for loader in none pybridge weightscope; do
      # A loader that refuses the file prints {"error": …} and exits 1: recorded, not fatal.
      "$exe" run "$loader" "$model" "$f" >> "$out" || true
    done
  done
  echo "  $model done" >&2
done
"$py" "$here/torchsharp_table.py" "$out"

if [ "${SURVEY:-0}" = 1 ]; then
  echo
  "$exe" survey "$root/tests/fixtures" /work/shared/corpus/pytorch 2>/dev/null
fi
