"""Benchmark: whole-process wall time of the offline plan (and optionally the test suite).

Usage: python scripts/bench.py [--stack prod] [--runs 7] [--tests]
Targets: plan of prod under 3 s, test suite under 120 s, on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tests", action="store_true", help="also time one test-suite run")
    args = parser.parse_args()
    plan = [sys.executable, "-m", "stacks", "plan", args.stack, "--json"]
    timed(plan)  # warm the file cache and bytecode
    samples = [timed(plan) for _ in range(args.runs)]
    print(
        f"plan {args.stack}: median {statistics.median(samples):.2f} s "
        f"(min {min(samples):.2f}, max {max(samples):.2f}, {args.runs} runs; goal < 3 s)"
    )
    if args.tests:
        seconds = timed([sys.executable, "-m", "pytest", "-q", "-n", "2"])
        print(f"test suite: {seconds:.1f} s (goal < 120 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
