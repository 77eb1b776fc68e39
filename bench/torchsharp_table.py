"""Medians of bench/torchsharp_bench.sh's runs (JSON lines of bench/TorchSharpLoad), one row per model, and the goal
check of issue 19 §3: WeightScope.TorchSharp's LoadWeights at least 2x faster in-process than PyBridge's load_py, and
its peak RSS no more than (the runtime's baseline + the module's own size) + 10%.
  load s      median Stopwatch time around the load call only
  peak MB     median VmHWM after the load (the process's peak up to then; the checksum pass after it is not counted)
  baseline    median VmRSS at start of the none runs (libtorch initialised, no module yet)
  module MB   bytes of the module's distinct tensors (a tied lm_head counted once)
  limit MB    (baseline + module) * 1.10
Usage: python3 bench/torchsharp_table.py RUNS.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

MB = 1024 * 1024


def main(path):
    runs = defaultdict(list)
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            runs[(r["model"], r["loader"])].append(r)
    models = list(dict.fromkeys(m for m, _ in runs))
    print("| model | module MB | none peak MB | load_py s | load_py peak MB | LoadWeights s | LoadWeights peak MB | speed-up | limit MB | same values | goal |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    notes = []
    for m in models:
        none, pyb, ws = runs[(m, "none")], runs[(m, "pybridge")], runs[(m, "weightscope")]
        module = none[0]["module_bytes"] / MB
        baseline = statistics.median(r["start"]["vm_rss_kb"] for r in none) / 1024
        limit = (baseline + module) * 1.10
        cells = [m, f"{module:.0f}", f"{statistics.median(r['after']['vm_hwm_kb'] for r in none) / 1024:.0f}"]
        stats = {}
        for name, rs in (("pybridge", pyb), ("weightscope", ws)):
            ok = [r for r in rs if "error" not in r]
            if not ok:
                err = rs[0]["error"] if rs else "not run"
                cells += ["fails", "-"]
                notes.append(f"{m}: {name} fails: {err}")
                continue
            if len(ok) < len(rs):
                notes.append(f"{m}: {name} failed {len(rs) - len(ok)} of {len(rs)} runs: {next(r['error'] for r in rs if 'error' in r)}")
            t = statistics.median(r["load_s"] for r in ok)
            peak = statistics.median(r["after"]["vm_hwm_kb"] for r in ok) / 1024
            stats[name] = (t, peak, {r["digest"] for r in ok})
            cells += [f"{t:.3f}", f"{peak:.0f}"]
        p, w = stats.get("pybridge"), stats.get("weightscope")
        cells.append(f"{p[0] / w[0]:.1f}x" if p and w else "-")
        cells.append(f"{limit:.0f}")
        cells.append(("yes" if p[2] == w[2] and len(w[2]) == 1 else f"NO {sorted(p[2])} vs {sorted(w[2])}") if p and w else "-")
        goals = []
        if w:
            goals.append("speed " + ("-" if not p else "PASS" if p[0] / w[0] >= 2 else "FAIL"))
            goals.append("RSS " + ("PASS" if w[1] <= limit else f"FAIL (+{w[1] - limit:.0f} MB)"))
        cells.append(", ".join(goals) or "-")
        print("| " + " | ".join(cells) + " |")
    for n in notes:
        print()
        print(n)


if __name__ == "__main__":
    main(sys.argv[1])
