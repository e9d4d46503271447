"""Start-up: wall time of one `mcalc diff` and one `mcalc check` from the shell, against
bare Python, the bare typer+rich+lark and numpy+typer imports, and a SymPy one-liner that
does the same derivative.

    python bench/startup.py [--runs 21] [--before DIR]

The commands are interleaved (shuffled in each round, after one discarded warm-up round)
and every figure is a median over the rounds, with the median of the per-round ratios
beside each ratio of medians. Goals (issues 8, 18): the one-liner ≤ 1.0× the
typer+rich+lark import and ≤ 0.2× the SymPy one-liner; a one-claim `check` ≤ 1.2× the
numpy+typer import. `--before DIR` adds the same two mcalc commands run from another
checkout (say `git worktree add /tmp/old <commit>`), in the same rounds, so a change is
measured before and after in one run; that checkout gets its own HOME, so the two do not
overwrite each other's grammar cache. Also writes where mcalc's own start-up goes
(`python -X importtime`, self time summed by top-level package).

Python writes and reads byte-code caches as it does for a user (PYTHONDONTWRITEBYTECODE is
dropped from the children's environment): a start-up measured without them times the
compiler, not the program.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from _common import CHILD_ENV, MCALC, PYTHON, fmt_ratio, fmt_s, goal_line, median, progress, progress_done, table, write_json

SYMPY_ONELINER = ("from sympy import MatrixSymbol, symbols; n = symbols('n'); "
                  "x = MatrixSymbol('x', n, 1); A = MatrixSymbol('A', n, n); print((x.T*A*x).diff(x))")

MCALC_ARGS = ["diff", "x^T A x", "--wrt", "x", "--format", "text"]

CHECK_ARGS = ["check", "x^T A x", "--wrt", "x", "--claim", "(A + A^T) x"]

COMMANDS = {
    "python -c pass": [PYTHON, "-c", "pass"],
    "import typer, rich, lark": [PYTHON, "-c", "import typer, rich, lark"],
    "mcalc diff \"x^T A x\" --wrt x --format text": [MCALC] + MCALC_ARGS,
    "import mcalc.main (no work)": [PYTHON, "-c", "import mcalc.main"],
    "SymPy one-liner (MatrixSymbol diff)": [PYTHON, "-c", SYMPY_ONELINER],
    "import numpy, typer": [PYTHON, "-c", "import numpy, typer"],
    "mcalc check (one claim)": [MCALC] + CHECK_ARGS,
}
KEYS = list(COMMANDS)
PY, IMPORTS, MCALC_CMD, MCALC_IMPORT, SYMPY, NUMPY_TYPER, CHECK = KEYS
BEFORE_CMD, BEFORE_CHECK = "before: mcalc diff (same command)", "before: mcalc check (same command)"
AFTER_CMD, AFTER_CHECK = "after: mcalc diff, as python -m mcalc", "after: mcalc check, as python -m mcalc"
EXPECTED = {MCALC_CMD: "(A + A^T) x", BEFORE_CMD: "(A + A^T) x", AFTER_CMD: "(A + A^T) x"}
ENV = CHILD_ENV
ENVS: dict[str, dict] = {}


# The children run in an empty directory: `python -c` and `python -m` put the working
# directory first on sys.path, and run from a checkout they would import its mcalc, not
# the one under test (the --before checkout's, or the installed one).
NEUTRAL = tempfile.mkdtemp(prefix="mcalc-bench-")


def run_once(key, cmd) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENVS.get(key, ENV),
                       cwd=NEUTRAL)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"command failed ({p.returncode}): {cmd}\n{p.stderr}")
    return dt, p.stdout.strip()


def importtime_breakdown() -> dict:
    """Self import time of the mcalc command, summed by top-level package (ms)."""
    code = ("import sys; sys.argv = ['mcalc'] + %r; from mcalc.main import run; run()" % (MCALC_ARGS,))
    for _ in range(2):       # the first run writes the byte-code caches
        p = subprocess.run([PYTHON, "-X", "importtime", "-c", code], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=ENV, cwd=NEUTRAL)
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


# Where the time goes, phase by phase, in one fresh process each: the same imports and calls as
# the command, in the order it makes them, each timed on its own (later phases reuse what
# earlier ones loaded, as the command does).
PHASES = {
    "one-liner": r"""
import io, json, sys, time
T = [("start", time.perf_counter())]
def mark(name):
    T.append((name, time.perf_counter()))
import mcalc.main; mark("import mcalc.main (the console script, present, result, errors)")
import mcalc.parse; mark("import mcalc.parse (ops records, nodes, the generated parser module)")
import mcalc.api, mcalc.commands, mcalc.deriv.derive, mcalc.render.text; mark("import the engine (shapes, deriv, simplify, render.text)")
mcalc.parse.parser().parse("x^T A x", start="start"); mark("first parse (lark compiles its lexers' regular expressions)")
out, sys.stdout = sys.stdout, io.StringIO()
mcalc.main.run_argv(%r); mark("the command (main.read, the first derivative, the output)")
mcalc.main.run_argv(%r); mark("the same command again (warm)")
sys.stdout = out
print(json.dumps({b[0]: b[1] - a[1] for a, b in zip(T, T[1:])}))
""" % (MCALC_ARGS, MCALC_ARGS),
    "typer, rich, lark": r"""
import json, time
T = [("start", time.perf_counter())]
def mark(name):
    T.append((name, time.perf_counter()))
import click; mark("import click")
import typer; mark("import typer (beyond click)")
import rich; mark("import rich")
import lark; mark("import lark")
print(json.dumps({b[0]: b[1] - a[1] for a, b in zip(T, T[1:])}))
""",
    "check": r"""
import io, json, sys, time
T = [("start", time.perf_counter())]
def mark(name):
    T.append((name, time.perf_counter()))
import numpy; mark("import numpy")
import mcalc.main, mcalc.parse, mcalc.api, mcalc.commands, mcalc.deriv.derive, mcalc.render.text; mark("import mcalc's modules of the one-liner")
import mcalc.claims; mark("import mcalc.claims, verify, evaluate (and numpy.random)")
out, sys.stdout = sys.stdout, io.StringIO()
mcalc.main.run_argv(%r); mark("the check (parse and type both sides, derive, sample)")
mcalc.main.run_argv(%r); mark("the same check again (warm)")
sys.stdout = out
print(json.dumps({b[0]: b[1] - a[1] for a, b in zip(T, T[1:])}))
""" % (CHECK_ARGS, CHECK_ARGS),
}


def phases(runs: int = 7) -> dict:
    """Where each start-up goes, phase by phase, in fresh processes (median ms)."""
    out = {}
    for name, code in PHASES.items():
        samples: dict[str, list[float]] = {}
        for _ in range(runs):
            p = subprocess.run([PYTHON, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=ENV, cwd=NEUTRAL)
            if p.returncode != 0:
                return {"error": p.stderr.strip()[-300:]}
            for k, v in json.loads(p.stdout.strip().splitlines()[-1]).items():
                samples.setdefault(k, []).append(v * 1000)
        out[name] = {k: round(median(v), 1) for k, v in samples.items()}
    return out


def floors(med: dict, ph: dict) -> list[str]:
    """For each goal, what its two sides are made of (the phases above, medians in ms)."""
    if "error" in ph:
        return []
    one, ref, chk = ph["one-liner"], ph["typer, rich, lark"], ph["check"]
    py = med[PY] * 1000
    own = sum(v for k, v in one.items() if "again" not in k)
    ref_all = sum(ref.values())
    lines = [
        f"one-liner ≤ 1.0× typer+rich+lark: both pay `python -c pass` ({py:.0f} ms wall); beyond it the "
        f"reference spends {ref_all:.0f} ms in-process (click {ref['import click']:.0f}, typer "
        f"{ref['import typer (beyond click)']:.0f}, rich {ref['import rich']:.0f}, lark {ref['import lark']:.0f}), "
        f"mcalc {own:.0f} ms (its modules, the parser, the first parse, the derivative; no click or typer: "
        f"main.read reads the command line)",
        f"one-liner ≤ 0.2× SymPy: the interpreter alone is about {py:.0f} ms, "
        f"{py / (med[SYMPY] * 1000):.2f}× the SymPy one-liner ({med[SYMPY] * 1000:.0f} ms)",
    ]
    np_ = chk["import numpy"]
    mc = sum(v for k, v in chk.items() if k != "import numpy" and "again" not in k)
    lines.append(
        f"check ≤ 1.2× numpy+typer: both pay the interpreter and numpy ({np_:.0f} ms); beyond them the reference "
        f"pays typer+click ({ref['import click'] + ref['import typer (beyond click)']:.0f} ms) and the check "
        f"{mc:.0f} ms (mcalc's modules, numpy.random, two parses, the derivative, sampling)")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21, help="measured rounds (each runs every command once)")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--before", metavar="DIR", help="also run the mcalc commands from this checkout")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    keys = list(KEYS)
    if args.before:
        home = os.path.join(os.path.abspath(args.before), ".bench-home")
        os.makedirs(home, exist_ok=True)
        before_env = dict(ENV, PYTHONPATH=os.path.abspath(args.before), HOME=home)
        # `python -m mcalc` (the console script's module moved from mcalc.cli to mcalc.main)
        # (and so the after side too, to compare like with like)
        COMMANDS[BEFORE_CMD] = COMMANDS[AFTER_CMD] = [PYTHON, "-m", "mcalc"] + MCALC_ARGS
        COMMANDS[BEFORE_CHECK] = COMMANDS[AFTER_CHECK] = [PYTHON, "-m", "mcalc"] + CHECK_ARGS
        ENVS[BEFORE_CMD] = ENVS[BEFORE_CHECK] = before_env
        keys += [BEFORE_CMD, BEFORE_CHECK, AFTER_CMD, AFTER_CHECK]

    times: dict[str, list[float]] = {k: [] for k in keys}
    # warm-up round (page cache, .pyc files), discarded; also checks the outputs
    for k in keys:
        _, out = run_once(k, COMMANDS[k])
        if k in EXPECTED and out != EXPECTED[k]:
            raise SystemExit(f"{k!r} printed {out!r}, expected {EXPECTED[k]!r}")
    rounds = []
    for r in range(args.runs):
        order = keys[:]
        rng.shuffle(order)
        this = {}
        for k in order:
            this[k], _ = run_once(k, COMMANDS[k])
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
    r_chk, r_chk_paired = ratios(CHECK, NUMPY_TYPER)
    rows = []
    for k in keys:
        v = sorted(times[k])
        rows.append([k, fmt_s(med[k]), fmt_s(v[0]), fmt_s(v[-1]), fmt_ratio(med[k] / med[IMPORTS]),
                     fmt_ratio(med[k] / med[NUMPY_TYPER]), fmt_ratio(med[k] / med[SYMPY])])
    print(table(["command", "median", "min", "max", "÷ typer+rich+lark", "÷ numpy+typer", "÷ SymPy one-liner"],
                rows, title=f"Start-up, wall time, {args.runs} interleaved runs each (medians)"))
    print()
    g1 = r_imp <= 1.0
    g2 = r_sym <= 0.2
    g3 = r_chk <= 1.2
    print(goal_line("mcalc ≤ 1.0× typer+rich+lark import", g1,
                    f"{fmt_ratio(r_imp)} (median of per-round ratios {fmt_ratio(r_imp_paired)})"))
    print(goal_line("mcalc ≤ 0.2× SymPy one-liner", g2,
                    f"{fmt_ratio(r_sym)} (median of per-round ratios {fmt_ratio(r_sym_paired)})"))
    print(goal_line("mcalc check ≤ 1.2× numpy+typer import", g3,
                    f"{fmt_ratio(r_chk)} (median of per-round ratios {fmt_ratio(r_chk_paired)})"))
    before = {}
    if args.before:
        for now, then in ((AFTER_CMD, BEFORE_CMD), (AFTER_CHECK, BEFORE_CHECK)):
            r, rp = ratios(now, then)
            before[now] = {"after/before": r, "after/before_paired": rp,
                           "before/typer_rich_lark": med[then] / med[IMPORTS],
                           "before/numpy_typer": med[then] / med[NUMPY_TYPER], "before/sympy": med[then] / med[SYMPY]}
            print(f"after ÷ before, {now}: {fmt_ratio(r)} (median of per-round ratios {fmt_ratio(rp)})")
    print(f"mcalc's own work beyond the bare typer+rich+lark import: {fmt_s(med[MCALC_CMD] - med[IMPORTS])}; "
          f"beyond `import mcalc.main`: {fmt_s(med[MCALC_CMD] - med[MCALC_IMPORT])}")

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
        for name, rows in ph.items():
            print(table(["phase", "median"], [[k, f"{v:.1f} ms"] for k, v in rows.items()],
                        title=f"Where it goes: {name} (in-process, 7 fresh processes, medians)"))
            print()
        print("What each goal's two sides are made of:")
        for line in floors(med, ph):
            print(f"- {line}")

    path = write_json("startup", {
        "phases_ms": ph,
        "floors": floors(med, ph),
        "runs": args.runs,
        "commands": {k: COMMANDS[k] for k in keys},
        "before": {"dir": args.before, **before} if args.before else None,
        "times_s": times,
        "median_s": med,
        "ratios": {"mcalc/typer_rich_lark": r_imp, "mcalc/typer_rich_lark_paired": r_imp_paired,
                   "mcalc/sympy": r_sym, "mcalc/sympy_paired": r_sym_paired,
                   "check/numpy_typer": r_chk, "check/numpy_typer_paired": r_chk_paired},
        "goals": {"mcalc <= 1.0x typer+rich+lark": g1, "mcalc <= 0.2x sympy one-liner": g2,
                  "mcalc check <= 1.2x numpy+typer": g3},
        "importtime": it,
    })
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
