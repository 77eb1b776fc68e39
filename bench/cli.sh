# Sourced by the benchmark scripts: builds the CLI through ./weightscope (Native AOT where this machine can, else
# ReadyToRun) before anything is timed, and sets `ws` to the command that runs that build without the wrapper's checks.
"$root/weightscope" --version >/dev/null
if [ -x "$root/artifacts/cli/weightscope" ]; then
  ws=("$root/artifacts/cli/weightscope")
  ws_build="Native AOT"
else
  ws=(dotnet "$root/artifacts/cli/WeightScope.Cli.dll")
  ws_build="ReadyToRun, run by dotnet"
fi
