#!/usr/bin/env bash
# The fuzzers' long setting, in slices that can be stopped between (and each one's results kept):
#   tests/WeightScope.Tests/Robustness/long_run.sh OUT 'NAME=FILTER' ...
# e.g.  long_run.sh /tmp/fuzz 'onnx=FullyQualifiedName~StructuredMutationTests.Mutated_file_fails&DisplayName~fixtures/onnx/'
# Build first (dotnet build tests/WeightScope.Tests -c Release); this runs with --no-build at nice 10. TARGET=a copy of the
# built WeightScope.Tests.dll runs that instead, so the project can be rebuilt (to fix what a slice found) meanwhile.
# ITER (default 100000: every candidate of every kind) and LARGE (default 2000 per kind, files of 20 kB or more) set
# WEIGHTSCOPE_FUZZ_ITERATIONS and WEIGHTSCOPE_FUZZ_ITERATIONS_LARGE. Per slice: OUT/NAME.log (dotnet test's output),
# OUT/NAME.tsv (one line per input checked: ms, bytes allocated beyond values, input size, mutation), and a line of
# OUT/summary.tsv: slice, test cases (files or folders), inputs checked, wall seconds, failed cases, exit code.
set -u
out=$1
shift
project="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$out"
for slice in "$@"; do
  name=${slice%%=*}
  filter=${slice#*=}
  report="$out/$name.tsv"
  : > "$report"
  start=$(date +%s)
  WEIGHTSCOPE_FUZZ_ITERATIONS=${ITER:-100000} WEIGHTSCOPE_FUZZ_ITERATIONS_LARGE=${LARGE:-2000} WEIGHTSCOPE_FUZZ_REPORT="$report" \
    nice -n 10 dotnet test ${TARGET:-"$project" -c Release --no-build} --nologo --filter "$filter" > "$out/$name.log" 2>&1
  rc=$?
  seconds=$(( $(date +%s) - start ))
  total=$(grep -oE 'Total: +[0-9]+' "$out/$name.log" | grep -oE '[0-9]+' | tail -1)
  failed=$(grep -oE 'Failed: +[0-9]+' "$out/$name.log" | grep -oE '[0-9]+' | tail -1)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${total:-?}" "$(wc -l < "$report")" "$seconds" "${failed:-?}" "$rc" | tee -a "$out/summary.tsv"
done
