"""`mcalc functions`: what a formula may call, read from the tables that define the language
(the parser's function names, the differential rules), so the list cannot drift from them."""
from __future__ import annotations

from . import ops
from .nodes import Sym
from .present import FunctionList
from .render.text import render_text
from .simplify import simplify

# The operators are grammar, not functions: (spelling, meaning).
OPERATORS = [
    ("A + B, A - B", "sum, difference (same shapes; a scalar broadcasts)"),
    ("A B, A * B, A @ B", "matrix product (a scalar scales)"),
    ("a / s", "division by a scalar"),
    ("A .* B, A ⊙ B", "elementwise (Hadamard) product"),
    ("A ./ B", "elementwise division"),
    ("A .^ p", "elementwise power"),
    ("A ⊗ B", "Kronecker product, also kron(A, B)"),
    ("A^k, s^p", "matrix power (integer k), scalar power"),
    ("A^T, A', Aᵀ", "transpose"),
    ("A^-1, A^-T", "inverse, inverse transpose"),
    ("||x||, ||x||_1, ||X||_F", "2-norm, 1-norm, Frobenius norm"),
    ("[a, b]", "side-by-side concatenation"),
    ("K_(m,n)", "commutation matrix: K vec(A) = vec(Aᵀ)"),
    ("x: R^n; A: R^(m×n)", "declarations (symmetric after a square matrix)"),
    ("y = A x; ...", "a bound name"),
]


def function_list():
    """One row per spelling, from its record (mcalc/ops.py): arguments and the derivative."""

    u = Sym("u", shape=("n", 1))
    rows = []
    for name in ops.function_names():
        op = ops.lookup(name)
        if op.node is not None:
            arity = "(A, B)" if name == "kron" else "(x, p)" if name == "norm" else "(X)"
            rows.append((f"{name}{arity}", op.identity))
        elif op.elementwise:
            rows.append((f"{name}(X)", f"elementwise; f'(u) = {render_text(simplify(op.derivative(u)))}"))
        else:
            arity = "(X)" if op.arity == (1,) else "(a, b)"
            rows.append((f"{name}{arity}", op.identity))
    return FunctionList(rows, OPERATORS)
