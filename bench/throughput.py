"""Throughput: 1,000 formulas on standard input, one result per line.

    /work/venv/bin/python bench/throughput.py [--n 1000] [--runs 5]

Runs `mcalc diff - --wrt x --format text` with N distinct formulas (25 templates — quadratic
forms, least squares, logistic loss, softplus, Mahalanobis, a 1-layer network, … — each
instantiated with fresh symbol names A1, b1, …) on standard input, checks that it prints
exactly one result per line, and reports formulas per second: gross (N / wall time) and
net of start-up (N / (wall time − the wall time of the same command with 1 formula)). The
N-formula and 1-formula runs are interleaved; medians over --runs. Also the in-process
rate through the Python API (mcalc.api.diff + .text, fresh process, no start-up), and where
that time goes, stage by stage (parse, shapes, differentiation, tidying, the zero test, naming
repeats, rendering): what the floor is made of.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from _common import CHILD_ENV, MCALC, PYTHON, fmt_s, median, progress, progress_done, table, write_json

TEMPLATES = [
    "x^T A{i} x",
    "a{i}^T x",
    "||A{i} x - b{i}||^2",
    "x^T A{i} x + a{i}^T x + c{i}",
    "sum(exp(A{i} x))",
    "log(sum(exp(A{i} x)))",
    "-sum(y{i} .* log(sigmoid(A{i} x)) + (ones - y{i}) .* log(ones - sigmoid(A{i} x)))",
    "A{i} x + b{i}",
    "tanh(A{i} x)",
    "c{i} x^T x + a{i}^T x",
    "||x||",
    "(x - m{i})^T S{i}^-1 (x - m{i})",
    "h{i} = tanh(A{i} x + b{i}); L = ||B{i} h{i} - y{i}||^2",
    "sum(softplus(A{i} x))",
    "exp(-x^T A{i} x)",
    "x .* x + b{i}",
    "sigmoid(A{i} x) .* x",
    "tr(x x^T A{i})",
    "x^T A{i}^T A{i} x",
    "a{i}^T x x^T b{i}",
    "sqrt(x^T x + c{i})",
    "1/N ||X{i} x - y{i}||^2",
    "lambda ||x||^2 + ||A{i} x - b{i}||^2",
    "B{i} (A{i} x + b{i})",
    "sin(a{i}^T x) + cos(b{i}^T x)",
]


def formulas(n: int) -> list[str]:
    return [TEMPLATES[j % len(TEMPLATES)].format(i=j // len(TEMPLATES) + 1) for j in range(n)]


CMD = [MCALC, "diff", "-", "--wrt", "x", "--format", "text"]


def run_cli(lines: list[str]) -> tuple[float, list[str]]:
    data = "\n".join(lines) + "\n"
    t0 = time.perf_counter()
    p = subprocess.run(CMD, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"mcalc exited {p.returncode}: {p.stderr.strip()[:500]}")
    return dt, p.stdout.splitlines()


IN_PROCESS = r"""
import sys, time, json
from mcalc.api import diff
lines = sys.stdin.read().splitlines()
diff("z^T B z", "z").text
t0 = time.perf_counter()
for line in lines:
    diff(line, "x").text
print(json.dumps(time.perf_counter() - t0))
"""


def run_api(lines: list[str]) -> float:
    p = subprocess.run([PYTHON, "-c", IN_PROCESS], input="\n".join(lines), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    if p.returncode != 0:
        raise SystemExit(f"in-process run failed: {p.stderr.strip()[-500:]}")
    return float(p.stdout.strip().splitlines()[-1])


# Where an in-process derivative's time goes, stage by stage: each stage's function is wrapped
# with a timer (outermost call only, so a stage called inside another counts once, in the
# outer one). The stages are the calls of api.diff_one and derive_var, in order.
STAGES = r"""
import sys, time, json, functools
import mcalc.api as api
from mcalc.deriv import derive as dv
from mcalc.render import text as text_render
spent = {}
depth = [0]
def timed(mod, name, label):
    f = getattr(mod, name)
    @functools.wraps(f)
    def g(*a, **k):
        if depth[0]:
            return f(*a, **k)
        depth[0] += 1
        t0 = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - t0
            depth[0] -= 1
    setattr(mod, name, g)
for mod, name, label in [(api, "parse_program", "parse"), (api, "infer", "infer (shapes)"),
                         (dv, "inline", "inline bindings"), (dv, "simplify", "simplify the function"),
                         (dv, "first_derivative", "differentiate + simplify"),
                         (dv, "tidy", "tidy (factor, expand, present)"),
                         (dv, "drop_zero_terms", "numerical zero test"),
                         (dv, "refold", "name repeats (refold)")]:
    timed(mod, name, label)
lines = sys.stdin.read().splitlines()
api.diff("z^T B z", "z").text
spent.clear()
total = 0.0
for line in lines:
    t0 = time.perf_counter()
    r = api.diff(line, "x")
    t1 = time.perf_counter()
    r.text
    t2 = time.perf_counter()
    spent["render text"] = spent.get("render text", 0.0) + t2 - t1
    total += t2 - t0
print(json.dumps({"total": total, "stages": spent}))
"""


# The named rules' own time (mcalc.rewrite.timing), split by whether the rule fired: a rule that
# does not fire only looked, and what all of them spend looking bounds what an index of which
# rules can fire on a node could save. Timing every rule call slows the run, so the shares are
# of this run's own total.
RULES = r"""
import sys, time, json
from mcalc.api import diff
from mcalc import rewrite
lines = sys.stdin.read().splitlines()
diff("z^T B z", "z").text
with rewrite.timing() as times:
    t0 = time.perf_counter()
    for line in lines:
        diff(line, "x").text
    total = time.perf_counter() - t0
print(json.dumps({"total": total, "rules": times}))
"""


def run_rules(lines: list[str]) -> dict:
    p = subprocess.run([PYTHON, "-c", RULES], input="\n".join(lines), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    if p.returncode != 0:
        raise SystemExit(f"rule timing run failed: {p.stderr.strip()[-500:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_stages(lines: list[str]) -> dict:
    p = subprocess.run([PYTHON, "-c", STAGES], input="\n".join(lines), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    if p.returncode != 0:
        raise SystemExit(f"stage run failed: {p.stderr.strip()[-500:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


CHECK = r"""
import sys, json
from mcalc.api import diff
bad = {}
for line in sys.stdin.read().splitlines():
    try:
        diff(line, "x").text
    except BaseException as e:  # noqa: BLE001
        bad[line] = f"{type(e).__name__}: {str(e)[:80]}"
print(json.dumps(bad))
"""


def failing_formulas(lines: list[str]) -> dict[str, str]:
    """The formulas mcalc cannot do (an mcalc bug or limit): checked through the API."""
    p = subprocess.run([PYTHON, "-c", CHECK], input="\n".join(lines), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    return json.loads(p.stdout.strip().splitlines()[-1]) if p.returncode == 0 else {}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    lines = formulas(args.n)
    failing = failing_formulas(lines)
    if failing:
        print(f"warning: {len(failing)} of the {len(lines)} formulas fail in mcalc and are left out "
              f"(one failing line fails the whole run): {sorted(set(failing.values()))[:3]}")
        for f, err in list(failing.items())[:5]:
            print(f"  {f!r}: {err}")
        lines = [f for f in lines if f not in failing]
    one = lines[:1]
    # warm-up, and check one result per input line
    _, out = run_cli(lines)
    if len(out) != len(lines):
        raise SystemExit(f"{len(lines)} formulas in, {len(out)} lines out")
    big, small, api, stages = [], [], [], []
    for r in range(args.runs):
        big.append(run_cli(lines)[0])
        small.append(run_cli(one)[0])
        api.append(run_api(lines))
        stages.append(run_stages(lines))
        progress(f"round {r + 1}/{args.runs}")
    progress_done()
    mb, ms, ma = median(big), median(small), median(api)
    n = len(lines)
    gross = n / mb
    net = n / (mb - ms)
    rate_api = n / ma
    rows = [
        [f"CLI, {n} formulas on stdin", fmt_s(mb), f"{gross:.0f}", fmt_s(mb / n)],
        ["CLI, 1 formula (start-up)", fmt_s(ms), "—", "—"],
        ["CLI, net of start-up", fmt_s(mb - ms), f"{net:.0f}", fmt_s((mb - ms) / n)],
        [f"API in-process, {n} × mcalc.api.diff(…).text", fmt_s(ma), f"{rate_api:.0f}", fmt_s(ma / n)],
    ]
    print(table(["run", "median wall", "formulas/s", "per formula"], rows,
                title=f"Throughput: `mcalc diff - --wrt x --format text`, {n} formulas "
                      f"({len(TEMPLATES)} templates), {args.runs} interleaved runs"))
    print(f"\nsample: {lines[6]!r} → {out[6]!r}")
    # each stage's share of the in-process time (medians over the runs of each stage's share)
    labels = list(stages[0]["stages"])
    share = {k: median([s["stages"].get(k, 0.0) / s["total"] for s in stages]) for k in labels}
    per = {k: median([s["stages"].get(k, 0.0) for s in stages]) / n for k in labels}
    rest = 1 - sum(share.values())
    srows = [[k, f"{100 * share[k]:.0f}%", fmt_s(per[k]), f"{1 / per[k]:.0f}" if per[k] else "—"]
             for k in sorted(labels, key=lambda k: -share[k])]
    srows.append(["everything else (checks, notes, results)", f"{100 * rest:.0f}%", "", ""])
    print()
    print(table(["stage", "share", "per formula", "formulas/s if only this ran"], srows,
                title="Where the in-process time goes (timed stage by stage, medians over the runs)"))
    timed = run_rules(lines)
    rules = timed["rules"]
    looked = sum(v[2] for v in rules.values()) / timed["total"]
    fired = sum(v[3] for v in rules.values()) / timed["total"]
    top = sorted(rules.items(), key=lambda kv: -kv[1][2])[:8]
    print(f"\nnamed rules, own time (one run with every rule call timed): {100 * looked:.0f}% of the run "
          f"in rules that looked and did not fire, {100 * fired:.0f}% in rules that fired; the most "
          f"looking: " + ", ".join(f"{k} {100 * v[2] / timed['total']:.1f}% ({v[1]}/{v[0]} fired)" for k, v in top))
    path = write_json("throughput", {
        "n": args.n, "n_run": len(lines), "left_out_failing": failing, "runs": args.runs, "command": CMD, "templates": TEMPLATES,
        "times_s": {"cli_n": big, "cli_1": small, "api_n": api},
        "median_s": {"cli_n": mb, "cli_1": ms, "api_n": ma},
        "formulas_per_s": {"gross": gross, "net_of_startup": net, "api_in_process": rate_api},
        "stage_share": share, "stage_s_per_formula": per,
        "rules_share": {"looked_not_fired": looked, "fired": fired},
        "rules": {k: dict(zip(["calls", "fired", "s_not_fired", "s_fired"], v)) for k, v in rules.items()},
        "sample_outputs": dict(zip(lines[:len(TEMPLATES)], out[:len(TEMPLATES)])),
    })
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
