"""Benchmark: whole-process time of the offline plan (and optionally the test suite).

Usage: python scripts/bench.py [--stack prod] [--runs 7] [--tests]
The plan command synthesizes both layers and runs the policy gate on them; goal: at most
1.5 s whole process for prod on 2 cores. CPU time (user + system) is printed beside the wall
time because a shared machine's wall time also measures the neighbours.
Test-suite goal: under 120 s on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAN_GOAL_SECONDS = 1.5


def timed(command: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tests", action="store_true", help="also time one test-suite run")
    args = parser.parse_args()
    plan = [sys.executable, "-m", "stacks", "plan", args.stack, "--json"]
    timed(plan)  # warm the file cache and bytecode
    walls, cpus = zip(*(timed(plan) for _ in range(args.runs)), strict=True)
    wall = statistics.median(walls)
    verdict = "within" if wall <= PLAN_GOAL_SECONDS else "OVER"
    print(
        f"plan + gate {args.stack} (both layers): median {wall:.2f} s wall, "
        f"{statistics.median(cpus):.2f} s CPU (min {min(walls):.2f}, max {max(walls):.2f}, "
        f"{args.runs} runs); {verdict} the {PLAN_GOAL_SECONDS} s goal"
    )
    if args.tests:
        seconds, _ = timed([sys.executable, "-m", "pytest", "-q", "-n", "2"])
        print(f"test suite: {seconds:.1f} s (goal < 120 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
