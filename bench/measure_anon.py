"""Median wall time and peak anonymous memory (RssAnon: heap and buffers, not the page cache of a mapped file) of
commands run side by side. RssAnon has no kernel peak counter, so /proc/PID/status is sampled every millisecond.

Usage: measure_anon.py RUNS LABEL -- CMD... [--- LABEL -- CMD...]
"""
import os
import statistics
import subprocess
import sys
import time

from measure import parse_groups


def anon_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, anon_kib(proc.pid))
        time.sleep(0.001)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{err}")
    return wall, peak / 1024.0


def main():
    runs = int(sys.argv[1])
    groups = parse_groups(sys.argv[2:])
    rows = []
    for label, cmd in groups:
        run(cmd)  # warm-up: the file in the page cache for every side
        samples = [run(cmd) for _ in range(runs)]
        rows.append((label, statistics.median(s[0] for s in samples), max(s[1] for s in samples)))
    width = max(len(r[0]) for r in rows)
    for label, wall, anon in rows:
        print(f"{label:<{width}}  {wall * 1000:8.0f} ms  peak RssAnon {anon:7.1f} MiB")
    base = rows[0]
    for label, wall, _ in rows[1:]:
        print(f"{label}: {wall / base[1]:.2f}× the time of {base[0]}")


if __name__ == "__main__":
    main()
