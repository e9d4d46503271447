"""Run every benchmark in turn, each in its own process, with the interpreter running this.

    /work/venv/bin/python bench/run_all.py [startup growth throughput codegen]

Each prints its table and writes bench/results/<name>.json; this prints a summary of the
goals at the end and writes bench/results/summary.json.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

from _common import BENCH, PYTHON, RESULTS, write_json

BENCHMARKS = ["startup", "growth", "throughput", "codegen"]


def main() -> int:
    names = sys.argv[1:] or BENCHMARKS
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; choose from {BENCHMARKS}")
    status, took = {}, {}
    for name in names:
        print(f"\n## {name}\n", flush=True)
        t0 = time.perf_counter()
        status[name] = subprocess.run([PYTHON, str(BENCH / f"{name}.py")]).returncode
        took[name] = time.perf_counter() - t0
    print("\n## goals\n")
    goals = {}
    for name in names:
        path = RESULTS / f"{name}.json"
        if status[name] != 0 or not path.exists():
            print(f"{name}: FAILED (exit {status[name]})")
            continue
        for goal, ok in json.loads(path.read_text(encoding="utf-8")).get("goals", {}).items():
            goals[f"{name}: {goal}"] = ok
            print(f"{'MET   ' if ok else 'MISSED' if ok is not None else 'n/a   '}  {name}: {goal}")
        print(f"        ({name} took {took[name]:.0f} s)")
    write_json("summary", {"exit_codes": status, "seconds": took, "goals": goals})
    return max(status.values(), default=0)


if __name__ == "__main__":
    sys.exit(main())
