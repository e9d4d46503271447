"""`mcalc rules`: seed 000's cheat sheet, computed by the engine in the chosen layout, and
the differential rules it applies (their identities are the rule docstrings)."""
from __future__ import annotations

from dataclasses import dataclass

from . import ops
from .api import diff
from .deriv.rules import DIFF_RULES

SHEET = [
    # (section, name, formula, variable, declarations)
    ("vector", "linear form", "a^T x", "x", "a: R^n; x: R^n"),
    ("vector", "quadratic form", "x^T A x", "x", "x: R^n; A: R^(n×n)"),
    ("vector", "quadratic form, A symmetric", "x^T A x", "x", "x: R^n; A: R^(n×n) symmetric"),
    ("vector", "squared L2 norm", "x^T x", "x", "x: R^n"),
    ("vector", "affine map (Jacobian)", "A x + b", "x", "x: R^n; A: R^(m×n); b: R^m"),
    ("vector", "row-vector map", "x^T A", "x", "x: R^n; A: R^(n×m)"),
    ("vector", "elementwise function", f"{ops.TANH.name}(x)", "x", "x: R^n"),
    ("matrix", "linear form", "tr(A X)", "X", "A: R^(n×m); X: R^(m×n)"),
    ("matrix", "bilinear form", "a^T X b", "X", "a: R^m; X: R^(m×n); b: R^n"),
    ("matrix", "quadratic form", "tr(X^T A X)", "X", "X: R^(m×n); A: R^(m×m)"),
    ("matrix", "determinant", "det(X)", "X", "X: R^(n×n)"),
    ("matrix", "logarithm of the determinant", "logdet(X)", "X", "X: R^(n×n)"),
    ("matrix", "inverse (trace)", "tr(A X^-1)", "X", "X: R^(n×n); A: R^(n×n)"),
    ("matrix", "Frobenius norm squared", "||X||_F^2", "X", "X: R^(m×n)"),
    ("chain rule", "least squares", "y = X w; L = 1/N ||y - t||^2", "w", "X: R^(N×D); w: R^D"),
]


@dataclass
class Row:
    section: str
    name: str
    formula: str
    wrt: str
    result: object


def sheet(layout: str = "mixed") -> list[Row]:
    return [Row(sec, name, f, x, diff(f, x, where=w, layout=layout)) for sec, name, f, x, w in SHEET]


def differential_rules() -> list[tuple[str, str]]:
    """(node class or function, identity) for every rule with a stated identity."""
    seen, out = set(), []
    for cls, r in DIFF_RULES.items():
        doc = (r.__doc__ or "").strip()
        if doc and doc not in seen and not doc.startswith("dX for"):
            seen.add(doc)
            out.append((cls.__name__, doc.rpartition(": ")[2]))
    out += [(op.name, op.identity) for op in ops.RECORDS if op.node is None]   # f' of each function
    return out
