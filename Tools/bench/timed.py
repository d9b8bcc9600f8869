#!/usr/bin/env python3
"""Times a whole command as a user meets it: a fresh process each run, from its start to its exit.

    timed.py NAME RUNS -- COMMAND [ARG ...]        prints:  NAME median_s p99_s peak_mib bytes

Each run's wall time is a monotonic clock read just before the start and just after the child is
reaped; its peak memory is the kernel's accounting of the finished child (ru_maxrss). One run first,
not counted (caches warm as they are for a user who just ran something). The command's standard input
is empty; what it writes on standard output is counted, then dropped. A command that fails stops the
benchmark: a figure of a refusal is not a figure.

p99 is the 99th percentile when there are at least 100 runs, else the slowest run (which bounds it).
"""
import os
import subprocess
import sys
import time


def run_once(command):
    started = time.monotonic()
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    written = 0
    while True:
        chunk = child.stdout.read(1 << 20)
        if not chunk:
            break
        written += len(chunk)
    _, status, usage = os.wait4(child.pid, 0)
    ended = time.monotonic()
    error = child.stderr.read().decode(errors="replace")
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"timed.py: {' '.join(command)} failed ({child.returncode}): {error.strip()[:400]}")
    return ended - started, usage.ru_maxrss / 1024, written


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit(__doc__)
    name, runs, command = sys.argv[1], int(sys.argv[2]), sys.argv[4:]
    run_once(command)
    walls, peaks, written = [], [], 0
    for _ in range(runs):
        wall, peak, written = run_once(command)
        walls.append(wall)
        peaks.append(peak)
    walls.sort()
    median = walls[len(walls) // 2]
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))] if len(walls) >= 100 else walls[-1]
    print(f"{name} {median:.4f} {p99:.4f} {sorted(peaks)[len(peaks) // 2]:.1f} {written}")


if __name__ == "__main__":
    main()
