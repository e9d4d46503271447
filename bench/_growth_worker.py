"""One growth measurement in a fresh process (so neither engine's caches carry over):

    python bench/_growth_worker.py ENGINE FAMILY K

ENGINE is mcalc or sympy, FAMILY quad, trace or net. Imports and a warm-up derivative of an
unrelated formula come first, untimed; then one timed derivative (including rendering it
as text). Prints one JSON line: {"ok", "seconds", "chars", "nodes", "text" (start), "error"}.
"""
from __future__ import annotations

import json
import sys
import time


# ---- the three families, in mcalc's language -------------------------------------------
def mcalc_formula(family: str, k: int) -> tuple[str, str]:
    if family == "quad":
        return " + ".join(f"x^T A{i} x" for i in range(1, k + 1)), "x"
    if family == "trace":
        return "tr(" + " ".join(f"A{i} X" for i in range(1, k + 1)) + ")", "X"
    if family == "net":
        lines = ["h1 = tanh(W1 x)"] + [f"h{i} = tanh(W{i} h{i - 1})" for i in range(2, k + 1)]
        lines.append(f"L = ||W{k + 1} h{k} - y||^2")
        return "; ".join(lines), "W1"
    raise ValueError(family)


def run_mcalc(family: str, k: int) -> dict:
    from mcalc.api import diff
    from mcalc.simplify import size
    diff("z^T B z + tr(C Z D Z)", "z").text          # warm-up: imports, grammar, first-call costs
    expr, wrt = mcalc_formula(family, k)
    t0 = time.perf_counter()
    r = diff(expr, wrt)
    text = r.text
    dt = time.perf_counter() - t0
    nodes = size(r.node) + sum(size(v) for _, v in r.bindings)
    return {"ok": True, "seconds": dt, "chars": len(text), "nodes": nodes, "text": text[:160]}


# ---- the same in SymPy's MatrixSymbol ---------------------------------------------------
def sympy_expr(family: str, k: int):
    import sympy as sp
    from sympy import MatMul, MatrixSymbol, Trace
    n = sp.Symbol("n", integer=True, positive=True)
    x, X, y = MatrixSymbol("x", n, 1), MatrixSymbol("X", n, n), MatrixSymbol("y", n, 1)
    if family == "quad":
        A = [MatrixSymbol(f"A{i}", n, n) for i in range(1, k + 1)]
        return sp.Add(*[x.T * a * x for a in A]), x
    if family == "trace":
        A = [MatrixSymbol(f"A{i}", n, n) for i in range(1, k + 1)]
        factors = []
        for a in A:
            factors += [a, X]
        return Trace(MatMul(*factors)), X
    if family == "net":
        W = [MatrixSymbol(f"W{i}", n, n) for i in range(1, k + 2)]
        h = x
        for i in range(k):
            h = (W[i] * h).applyfunc(sp.tanh)
        d = W[k] * h - y
        return d.T * d, W[0]
    raise ValueError(family)


def run_sympy(family: str, k: int) -> dict:
    import sympy as sp
    from sympy import MatrixSymbol
    m = sp.Symbol("m")
    z, B = MatrixSymbol("z", m, 1), MatrixSymbol("B", m, m)
    C, Z = MatrixSymbol("C", m, m), MatrixSymbol("Z", m, m)
    str((z.T * B * z).diff(z))                        # warm-up: lazy imports
    str(sp.Trace(C * Z * B * Z).diff(Z))
    expr, wrt = sympy_expr(family, k)
    t0 = time.perf_counter()
    r = expr.diff(wrt)
    text = str(r)
    dt = time.perf_counter() - t0
    nodes = sum(1 for _ in sp.preorder_traversal(r))
    return {"ok": True, "seconds": dt, "chars": len(text), "nodes": nodes, "text": text[:160]}


def main() -> int:
    engine, family, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    try:
        out = (run_mcalc if engine == "mcalc" else run_sympy)(family, k)
    except Exception as e:  # noqa: BLE001 - an engine's failure is a result here
        out = {"ok": False, "error": f"{type(e).__name__}: {str(e)[:200]}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
