"""Start-up: wall time of one `mcalc diff` from the shell, against bare Python, the bare
typer+rich+lark import, and a SymPy one-liner that does the same derivative.

    /work/venv/bin/python bench/startup.py [--runs 21]

The commands are interleaved (shuffled in each round, after one discarded warm-up round)
and every figure is a median over the rounds. Goals (issue 8): mcalc ≤ 1.0× the
typer+rich+lark import, ≤ 0.2× the SymPy one-liner. Also writes where mcalc's own start-up
goes (`python -X importtime`, self time summed by top-level package).
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time

from _common import MCALC, PYTHON, fmt_ratio, fmt_s, goal_line, median, progress, progress_done, table, write_json

SYMPY_ONELINER = ("from sympy import MatrixSymbol, symbols; n = symbols('n'); "
                  "x = MatrixSymbol('x', n, 1); A = MatrixSymbol('A', n, n); print((x.T*A*x).diff(x))")

MCALC_ARGS = ["diff", "x^T A x", "--wrt", "x", "--format", "text"]

COMMANDS = {
    "python -c pass": [PYTHON, "-c", "pass"],
    "import typer, rich, lark": [PYTHON, "-c", "import typer, rich, lark"],
    "mcalc diff \"x^T A x\" --wrt x --format text": [MCALC] + MCALC_ARGS,
    "import mcalc.cli (no work)": [PYTHON, "-c", "import mcalc.cli"],
    "SymPy one-liner (MatrixSymbol diff)": [PYTHON, "-c", SYMPY_ONELINER],
}
KEYS = list(COMMANDS)
PY, IMPORTS, MCALC_CMD, MCALC_IMPORT, SYMPY = KEYS
EXPECTED = {MCALC_CMD: "(A + A^T) x"}


def run_once(cmd) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {cmd}\n{p.stderr}")
    return dt, p.stdout.strip()


def importtime_breakdown() -> dict:
    """Self import time of the mcalc command, summed by top-level package (ms)."""
    code = ("import sys; sys.argv = ['mcalc'] + %r; from mcalc.cli import run; run()" % (MCALC_ARGS,))
    p = subprocess.run([PYTHON, "-X", "importtime", "-c", code], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    by_pkg: dict[str, float] = {}
    modules = []
    for line in p.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        head, cum_us, name = line.split("|", 2)
        self_us = head.split(":", 1)[1].strip()
        mod = name.strip()
        top = mod.split(".")[0]
        by_pkg[top] = by_pkg.get(top, 0.0) + int(self_us) / 1000
        modules.append((mod, int(self_us) / 1000, int(cum_us) / 1000))
    total = sum(by_pkg.values())
    top_mods = sorted(modules, key=lambda m: -m[1])[:15]
    return {"total_ms": round(total, 1),
            "by_package_ms": {k: round(v, 1) for k, v in sorted(by_pkg.items(), key=lambda kv: -kv[1])},
            "top_modules_self_ms": [{"module": m, "self_ms": round(s, 1), "cumulative_ms": round(c, 1)}
                                    for m, s, c in top_mods]}


PHASES = r"""
import io, json, sys, time
t0 = time.perf_counter()
import typer, rich, lark
t1 = time.perf_counter()
import mcalc.cli
t2 = time.perf_counter()
try:
    import typer._adapters                # typer >= 0.29 imports pydantic lazily while it parses options
except ImportError:
    pass
t3 = time.perf_counter()
import mcalc.api
t4 = time.perf_counter()
mcalc.api.diff("x^T A x", "x").text      # lazy imports of the engine, the grammar, first-call costs
t5 = time.perf_counter()
sys.argv = ["mcalc"] + %r
out, sys.stdout = sys.stdout, io.StringIO()
mcalc.cli.run_argv(sys.argv[1:])       # run() would end the process with os._exit
sys.stdout = out
t6 = time.perf_counter()
mcalc.api.diff("y^T B y", "y").text
t7 = time.perf_counter()
print(json.dumps({"import typer, rich, lark": t1 - t0, "import mcalc.cli (rest)": t2 - t1,
                  "import typer._adapters + pydantic (typer >= 0.29 only)": t3 - t2, "import mcalc.api": t4 - t3,
                  "first diff(...).text (engine imports, grammar, work)": t5 - t4,
                  "typer dispatch (cli.run, all imported, warm)": (t6 - t5) - (t7 - t6),
                  "a warm diff(...).text": t7 - t6}))
""" % (MCALC_ARGS,)


def phases(runs: int = 7) -> dict:
    """Where one start-up goes, phase by phase, in fresh processes (median ms)."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        p = subprocess.run([PYTHON, "-c", PHASES], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            return {"error": p.stderr.strip()[-300:]}
        for k, v in json.loads(p.stdout.strip().splitlines()[-1]).items():
            samples.setdefault(k, []).append(v * 1000)
    return {k: round(median(v), 1) for k, v in samples.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21, help="measured rounds (each runs every command once)")
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    times: dict[str, list[float]] = {k: [] for k in KEYS}
    # warm-up round (page cache, .pyc files), discarded; also checks the outputs
    for k in KEYS:
        _, out = run_once(COMMANDS[k])
        if k in EXPECTED and out != EXPECTED[k]:
            raise SystemExit(f"{k!r} printed {out!r}, expected {EXPECTED[k]!r}")
    rounds = []
    for r in range(args.runs):
        order = KEYS[:]
        rng.shuffle(order)
        this = {}
        for k in order:
            this[k], _ = run_once(COMMANDS[k])
            times[k].append(this[k])
        rounds.append(this)
        progress(f"round {r + 1}/{args.runs}")
    progress_done()

    med = {k: median(v) for k, v in times.items()}
    # ratio of medians, and the median of the per-round ratios (robust to drifting load)
    def ratios(a, b):
        return med[a] / med[b], median([rd[a] / rd[b] for rd in rounds])

    r_imp, r_imp_paired = ratios(MCALC_CMD, IMPORTS)
    r_sym, r_sym_paired = ratios(MCALC_CMD, SYMPY)
    rows = []
    for k in KEYS:
        v = sorted(times[k])
        rows.append([k, fmt_s(med[k]), fmt_s(v[0]), fmt_s(v[-1]),
                     fmt_ratio(med[k] / med[IMPORTS]), fmt_ratio(med[k] / med[SYMPY])])
    print(table(["command", "median", "min", "max", "÷ typer+rich+lark", "÷ SymPy one-liner"], rows,
                title=f"Start-up, wall time, {args.runs} interleaved runs each (medians)"))
    print()
    g1 = r_imp <= 1.0
    g2 = r_sym <= 0.2
    print(goal_line("mcalc ≤ 1.0× typer+rich+lark import", g1,
                    f"{fmt_ratio(r_imp)} (median of per-round ratios {fmt_ratio(r_imp_paired)})"))
    print(goal_line("mcalc ≤ 0.2× SymPy one-liner", g2,
                    f"{fmt_ratio(r_sym)} (median of per-round ratios {fmt_ratio(r_sym_paired)})"))
    print(f"mcalc's own work beyond the bare typer+rich+lark import: {fmt_s(med[MCALC_CMD] - med[IMPORTS])}; "
          f"beyond `import mcalc.cli`: {fmt_s(med[MCALC_CMD] - med[MCALC_IMPORT])}")

    it = importtime_breakdown()
    print()
    print(table(["package", "self import time"],
                [[k, f"{v:.1f} ms"] for k, v in list(it["by_package_ms"].items())[:12]],
                title=f"Where the mcalc command's imports go (python -X importtime, one run, "
                      f"total {it['total_ms']:.0f} ms; top 12 packages by self time)"))
    print()
    print(table(["module", "self", "cumulative"],
                [[m["module"], f"{m['self_ms']:.1f} ms", f"{m['cumulative_ms']:.1f} ms"]
                 for m in it["top_modules_self_ms"][:10]],
                title="Slowest single modules to import (self time, same run)"))

    ph = phases()
    print()
    if "error" in ph:
        print(f"phase breakdown failed: {ph['error']}")
    else:
        print(table(["phase", "median"], [[k, f"{v:.1f} ms"] for k, v in ph.items()],
                    title="Where one mcalc start-up goes, phase by phase (in-process, 7 fresh processes)"))

    path = write_json("startup", {
        "phases_ms": ph,
        "runs": args.runs,
        "commands": {k: COMMANDS[k] for k in KEYS},
        "times_s": times,
        "median_s": med,
        "ratios": {"mcalc/typer_rich_lark": r_imp, "mcalc/typer_rich_lark_paired": r_imp_paired,
                   "mcalc/sympy": r_sym, "mcalc/sympy_paired": r_sym_paired},
        "goals": {"mcalc <= 1.0x typer+rich+lark": g1, "mcalc <= 0.2x sympy one-liner": g2},
        "importtime": it,
    })
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
