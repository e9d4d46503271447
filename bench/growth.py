"""Growth: time and result size of a derivative as the formula grows, beside SymPy.

    /work/venv/bin/python bench/growth.py [--ks 1,2,4,8,16,32,64] [--timeout 60]
    /work/venv/bin/python bench/growth.py --profile net:32     # cProfile one mcalc call

Three families, k = 1 … 64:
  quad   sum of k quadratic forms  x^T A1 x + … + x^T Ak x        w.r.t. x   (output Θ(k))
  trace  tr(A1 X A2 X … Ak X)                                     w.r.t. X   (output Θ(k²): k terms of 2k-1 factors)
  net    h1 = tanh(W1 x); …; hk = tanh(Wk h(k-1)); L = ||W(k+1) hk - y||^2  w.r.t. W1  (output Θ(k))

Each measurement is one derivative (parse … simplify … text) timed inside a fresh process
after an untimed warm-up, so no cache carries over; mcalc and SymPy's MatrixSymbol `.diff`
runs are interleaved, SymPy's capped by --timeout per call (a timed-out or failing size
stops SymPy's runs of that family). Medians over --runs (mcalc) / --sympy-runs (SymPy, one
run once a call takes over 2 s).

Goals (issue 8): quad at k=32 ≤ 1/20 of SymPy's time; trace at k=32 ≤ 1/100; net at k=32
under 1 s; time and size growing no faster than the output must (log-log slope over
k ≥ 16 — the asymptotic end — within 0.25 of the output's exponent for time, 0.1 for size).
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time

from _common import BENCH, CHILD_ENV, PYTHON, fmt_ratio, fmt_s, goal_line, median, progress, progress_done, table, write_json

WORKER = str(BENCH / "_growth_worker.py")
FAMILIES = {
    "quad": {"title": "(i) sum of k quadratic forms x^T Ai x, w.r.t. x", "output_exponent": 1, "sympy": True},
    "trace": {"title": "(ii) tr(A1 X A2 X … Ak X), w.r.t. X", "output_exponent": 2, "sympy": True},
    "net": {"title": "(iii) k-layer tanh network loss, w.r.t. W1", "output_exponent": 1, "sympy": True},
}


def measure(engine: str, family: str, k: int, timeout: float) -> dict:
    t0 = time.perf_counter()
    try:
        p = subprocess.run([PYTHON, WORKER, engine, family, str(k)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout, env=CHILD_ENV)
    except subprocess.TimeoutExpired:
        return {"ok": False, "timeout": True, "error": f"timed out after {timeout:g} s"}
    wall = time.perf_counter() - t0
    try:
        out = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        out = {"ok": False, "error": f"worker exit {p.returncode}: {p.stderr.strip()[-300:]}"}
    out["process_wall"] = wall
    return out


def slope(ks, ys):
    """Least-squares slope of log y against log k."""
    pts = [(math.log(k), math.log(y)) for k, y in zip(ks, ys) if y]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def profile(spec: str, top: int = 30) -> None:
    import cProfile
    import pstats
    sys.path.insert(0, str(BENCH))
    from _growth_worker import mcalc_formula
    from mcalc.api import diff
    family, k = spec.split(":")
    diff("z^T B z + tr(C Z D Z)", "z").text
    expr, wrt = mcalc_formula(family, int(k))
    pr = cProfile.Profile()
    pr.enable()
    diff(expr, wrt).text
    pr.disable()
    st = pstats.Stats(pr)
    st.sort_stats("tottime").print_stats(top)
    st.sort_stats("cumulative").print_stats(r"mcalc", top)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ks", default="1,2,4,8,16,32,64")
    ap.add_argument("--families", default="quad,trace,net")
    ap.add_argument("--runs", type=int, default=7, help="mcalc runs per point")
    ap.add_argument("--sympy-runs", type=int, default=3, help="SymPy runs per point (1 once a call takes > 2 s)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per SymPy call")
    ap.add_argument("--mcalc-timeout", type=float, default=120.0, help="seconds per mcalc call")
    ap.add_argument("--fit-from", type=int, default=16, help="fit growth exponents over k >= this")
    ap.add_argument("--no-sympy", action="store_true")
    ap.add_argument("--profile", metavar="FAMILY:K", help="print a cProfile of one mcalc call and exit")
    args = ap.parse_args()
    if args.profile:
        profile(args.profile)
        return 0
    ks = [int(k) for k in args.ks.split(",")]
    families = args.families.split(",")
    results: dict = {}
    started = time.perf_counter()
    for fam in families:
        sympy_on = FAMILIES[fam]["sympy"] and not args.no_sympy
        sympy_stop = None
        mcalc_stop = None
        rows = []
        for k in ks:
            m_runs, s_runs = [], []
            n_sym = args.sympy_runs if sympy_on and sympy_stop is None else 0
            for rep in range(max(args.runs, n_sym)):
                if rep < args.runs and mcalc_stop is None:
                    r = measure("mcalc", fam, k, args.mcalc_timeout)
                    m_runs.append(r)
                    if not r["ok"]:
                        mcalc_stop = f"k={k}: {r['error']}"
                if rep < n_sym:
                    r = measure("sympy", fam, k, args.timeout)
                    s_runs.append(r)
                    if not r["ok"]:
                        sympy_stop = f"k={k}: {r['error']}"
                        n_sym = rep + 1
                    elif r["seconds"] > 2.0:
                        n_sym = rep + 1
                progress(f"{fam} k={k} run {rep + 1}")

            def summary(runs):
                ok = [r for r in runs if r["ok"]]
                if not runs:
                    return None
                if not ok:
                    return {"ok": False, "error": runs[-1]["error"], "timeout": runs[-1].get("timeout", False)}
                return {"ok": True, "median_s": median([r["seconds"] for r in ok]),
                        "times_s": [r["seconds"] for r in ok], "chars": ok[0]["chars"],
                        "nodes": ok[0]["nodes"], "text": ok[0]["text"]}

            rows.append({"k": k, "mcalc": summary(m_runs), "sympy": summary(s_runs)})
        results[fam] = {"rows": rows, "sympy_stopped": sympy_stop, "mcalc_stopped": mcalc_stop}
    progress_done()

    # ---- tables ----
    goals = {}
    for fam in families:
        rows = results[fam]["rows"]
        body = []
        for row in rows:
            m, s = row["mcalc"], row["sympy"]
            ms = m["median_s"] if m and m["ok"] else None
            if s is None:
                s_cell, s_chars, ratio = "not run", None, None
            elif not s["ok"]:
                s_cell, s_chars, ratio = ("timeout" if s.get("timeout") else "error: " + s["error"][:60]), None, None
            else:
                s_cell, s_chars = fmt_s(s["median_s"]), s["chars"]
                ratio = s["median_s"] / ms if ms else None
            body.append([row["k"], fmt_s(ms) if m and m["ok"] else ("error: " + m["error"][:40] if m else "—"),
                         m["chars"] if m and m["ok"] else None, m["nodes"] if m and m["ok"] else None,
                         s_cell, s_chars, fmt_ratio(ratio) if ratio else None])
        print(table(["k", "mcalc", "chars", "nodes", "SymPy", "SymPy chars", "SymPy ÷ mcalc"], body,
                    title=FAMILIES[fam]["title"] + " — median in-process time of one derivative"))
        if results[fam]["sympy_stopped"]:
            print(f"SymPy stopped at {results[fam]['sympy_stopped']}")
        # growth exponents over the largest sizes (k >= --fit-from)
        big = [r for r in rows if r["k"] >= args.fit_from and r["mcalc"] and r["mcalc"]["ok"]]
        kk = [r["k"] for r in big]
        t_exp = slope(kk, [r["mcalc"]["median_s"] for r in big])
        c_exp = slope(kk, [r["mcalc"]["chars"] for r in big])
        n_exp = slope(kk, [r["mcalc"]["nodes"] for r in big])
        need = FAMILIES[fam]["output_exponent"]
        local = []
        for a, b in zip(rows, rows[1:]):
            if a["mcalc"] and b["mcalc"] and a["mcalc"]["ok"] and b["mcalc"]["ok"]:
                f = math.log(b["k"] / a["k"])
                local.append(f"{a['k']}→{b['k']}: time ×{b['mcalc']['median_s'] / a['mcalc']['median_s']:.2f}"
                             f" (k^{math.log(b['mcalc']['median_s'] / a['mcalc']['median_s']) / f:.2f})")
        print("mcalc time per doubling: " + "; ".join(local))
        results[fam]["exponents"] = {"time": t_exp, "chars": c_exp, "nodes": n_exp, "output_must": need,
                                     "fit_ks": kk}
        if t_exp is not None:
            g = t_exp <= need + 0.25 and c_exp <= need + 0.1 and n_exp <= need + 0.1
            goals[f"{fam}: growth no faster than output (k^{need})"] = g
            print(goal_line(f"{fam} growth ≤ output's k^{need}", g,
                            f"log-log slope over k={kk[0]}…{kk[-1]}: time k^{t_exp:.2f}, chars k^{c_exp:.2f}, "
                            f"nodes k^{n_exp:.2f}"))

        def at(k):
            for r in rows:
                if r["k"] == k:
                    return r
            return None

        r32 = at(32)
        if r32 and r32["mcalc"] and r32["mcalc"]["ok"]:
            m32 = r32["mcalc"]["median_s"]
            if fam in ("quad", "trace"):
                want = 20 if fam == "quad" else 100
                s = r32["sympy"]
                if s and s["ok"]:
                    ratio = m32 / s["median_s"]
                    g = ratio <= 1 / want
                    detail = f"mcalc {fmt_s(m32)} vs SymPy {fmt_s(s['median_s'])}: {fmt_ratio(ratio)} (1/{1 / ratio:.0f})"
                elif s and s.get("timeout"):
                    g = m32 <= args.timeout / want
                    detail = f"mcalc {fmt_s(m32)}; SymPy timed out (> {args.timeout:g} s), so ≤ 1/{args.timeout / m32:.0f}"
                else:
                    g, detail = None, "SymPy gave no time at k=32"
                goals[f"{fam}: k=32 ≤ 1/{want} of SymPy"] = g
                print(goal_line(f"{fam} at k=32 ≤ 1/{want} of SymPy", g, detail))
            else:
                g = m32 < 1.0
                goals[f"{fam}: k=32 under 1 s"] = g
                print(goal_line(f"{fam} at k=32 under 1 s", g, f"mcalc {fmt_s(m32)}"))
        print()
    print(f"total benchmark time {time.perf_counter() - started:.0f} s")
    path = write_json("growth", {"ks": ks, "runs": args.runs, "sympy_runs": args.sympy_runs,
                                 "sympy_timeout_s": args.timeout, "families": results, "goals": goals})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
