"""Runs commands side by side, several times each, and reports median wall time and peak RSS.

Usage: measure.py RUNS LABEL -- CMD... [--- LABEL -- CMD...]
Peak RSS comes from wait4()'s rusage of each child (ru_maxrss, KiB on Linux).
"""
import os
import statistics
import subprocess
import sys
import time


def run(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024.0


def parse_groups(argv):
    """[LABEL, --, CMD..., ---, LABEL, --, CMD...] → [(label, cmd)]; shared with measure_anon.py."""
    groups, cur = [], None
    for a in argv:
        if a == "---":
            cur = None
        elif cur is None:
            cur = [a, []]
            groups.append(cur)
        elif a == "--" and not cur[1]:
            continue
        else:
            cur[1].append(a)
    return groups


def main():
    runs = int(sys.argv[1])
    groups = parse_groups(sys.argv[2:])
    results = []
    for label, cmd in groups:
        run(cmd)  # warm-up: page cache and disk state equal for both sides
        samples = [run(cmd) for _ in range(runs)]
        wall = statistics.median(s[0] for s in samples)
        rss = max(s[1] for s in samples)
        results.append((label, wall, rss))
        print(f"{label}\t{wall * 1000:.1f} ms\t{rss:.1f} MiB", flush=True)
    if len(results) == 2:
        (a, wa, ra), (b, wb, rb) = results
        speed = f"{wa / wb:.1f}x faster" if wb <= wa else f"{wb / wa:.1f}x slower"
        memory = f"{ra / rb:.1f}x less memory" if rb <= ra else f"{rb / ra:.1f}x more memory"
        print(f"ratio\t{b} is {speed} and uses {memory} than {a}")


if __name__ == "__main__":
    main()
