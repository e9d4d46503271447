"""Helpers shared by the benchmarks: paths, medians, tables, JSON results.

Benchmarks, not tests: they print a table and write bench/results/<name>.json. The
machines are shared and noisy, so every comparison is made inside one run, with the
commands interleaved, and quoted as medians and ratios of medians.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"

# The interpreter running the benchmark (use the venv's: /work/venv/bin/python bench/x.py).
PYTHON = sys.executable
# The `mcalc` console script installed beside that interpreter.
MCALC = str(Path(PYTHON).with_name("mcalc"))
# The children's environment: Python reads and writes byte-code caches as it does for a user
# (a start-up measured with PYTHONDONTWRITEBYTECODE=1 times the compiler, not the program).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(s, digits=3):
    """Seconds as a readable time: 1.23 s, 45.6 ms, 789 µs."""
    if s is None:
        return "—"
    if isinstance(s, str):
        return s
    if s >= 1:
        return f"{s:.{digits}g} s" if s < 100 else f"{s:.0f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.{digits}g} ms"
    return f"{s * 1e6:.{digits}g} µs"


def fmt_ratio(r):
    if r is None:
        return "—"
    if r >= 100:
        return f"{r:.0f}×"
    if r >= 10:
        return f"{r:.1f}×"
    if r >= 0.01:
        return f"{r:.2f}×"
    return f"{r:.4f}×"


def table(headers, rows, title=None) -> str:
    """A plain-text table (GitHub-flavoured Markdown, so it pastes into an issue)."""
    cells = [[str(h) for h in headers]] + [[("—" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = []
    if title:
        out.append(f"### {title}")
        out.append("")

    def line(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    out.append(line(cells[0]))
    out.append("| " + " | ".join("-" * w for w in widths) + " |")
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out)


def environment() -> dict:
    def version(mod):
        try:
            m = __import__(mod)
            return getattr(m, "__version__", "?")
        except Exception:  # noqa: BLE001 - an optional extra that is not installed
            return None

    try:
        commit = os.popen(f"git -C {ROOT} rev-parse --short HEAD 2>/dev/null").read().strip() or None
        dirty = bool(os.popen(f"git -C {ROOT} status --porcelain -- mcalc grammar 2>/dev/null").read().strip())
    except Exception:  # noqa: BLE001
        commit, dirty = None, None
    return {
        "python": platform.python_version(),
        "executable": PYTHON,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": commit,
        "mcalc_tree_dirty": dirty,
        "versions": {m: version(m) for m in ("mcalc", "sympy", "numpy", "typer", "rich", "lark", "jax")},
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_json(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "environment": environment(), **data}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def goal_line(name: str, ok, detail: str) -> str:
    mark = "MET" if ok else ("MISSED" if ok is not None else "n/a")
    return f"goal {name}: {mark} — {detail}"


def progress(msg: str) -> None:
    """A one-line progress note on a terminal (nothing when stderr is piped)."""
    if sys.stderr.isatty():
        print("\r" + msg + "   ", end="", file=sys.stderr, flush=True)


def progress_done() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)
