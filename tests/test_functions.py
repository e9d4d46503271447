"""The functions of machine learning (#14 "Functions"): each is a record in mcalc/ops.py.
Their derivatives are checked numerically in three layouts by tests/test_derivatives.py
(the cases under "functions (issue 14)" in tests/fixtures/derivatives.txt); here: the
textbook forms as text, the spellings kept, the notes, and misuse as exit 2."""
from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def text(expr: str, wrt: str, where: str | None = None, **kw) -> str:
    return mcalc.diff(expr, wrt, where=where, **kw).text


# ---- results read as people write them ---------------------------------------------------
@pytest.mark.parametrize("expr, wrt, where, expected", [
    ("softmax(z)", "z", "z: R^n", "s = softmax(z); diag(s) - s s^T"),
    ("-y^T log(softmax(z))", "z", "z: R^n; y: R^n", "sum(y) softmax(z) - y"),
    ("-y^T log_softmax(z)", "z", "z: R^n; y: R^n", "sum(y) softmax(z) - y"),
    ("-y^T log(softmax(z))", "z", "z: R^n; y: R^n probability", "softmax(z) - y"),
    ("-y^T log(softmax(W x))", "x", "W: R^(m×n); x: R^n; y: R^m probability", "W^T (softmax(W x) - y)"),
    ("logsumexp(z)", "z", "z: R^n", "softmax(z)"),
    ("log_softmax(z)", "z", "z: R^n", "I - ones softmax(z)^T"),
    ("dot(x, y)", "x", "x: R^n; y: R^n", "y"),
    ("dot(x, A x)", "x", "x: R^n", "(A + A^T) x"),
    ("sum(max(0, x))", "x", "x: R^n", "step(x)"),
    ("sum(max(x, y))", "x", "x: R^n; y: R^n", "step(x - y)"),
    ("sum(min(x, y))", "x", "x: R^n; y: R^n", "step(y - x)"),
    ("sum(abs(x))", "x", "x: R^n", "sign(x)"),
    ("||x||_1", "x", "x: R^n", "sign(x)"),
    ("mean(X)", "X", "X: R^(m×n)", "1/(m n) ones ones^T"),
    ("prod(x)", "x", "x: R^n", "prod(x) x.^-1"),
    ("sum(arctan(x))", "x", "x: R^n", "(x.^2 + ones).^-1"),
    ("sum(erf(x))", "x", "x: R^n", "2 exp(-x.^2)/sqrt(pi)"),
])
def test_textbook_forms(expr, wrt, where, expected):
    assert text(expr, wrt, where) == expected


def test_hessian_of_logsumexp_is_diag_s_minus_s_s_transpose():
    r = mcalc.diff("logsumexp(z)", "z", where="z: R^n", order=2)
    assert r.text == "s = softmax(z); diag(s) - s s^T"


@pytest.mark.parametrize("name", ["ln", "asin", "acos", "atan", "arcsin", "arccos", "arctan"])
def test_a_spelling_is_kept_in_the_output(name):
    out = run("diff", f"x: R^n; {name}(x) .* x", "--wrt", "x", "--format", "text")
    assert out.exit_code == 0 and f"{name}(x)" in out.stdout, out.stdout
    assert run("latex", f"x: R^n; {name}(x)").stdout.strip().startswith("\\" + name.replace("asin", "arcsin")
                                                                       .replace("acos", "arccos")
                                                                       .replace("atan", "arctan"))


def test_ln_is_log():
    assert text("ln(x^T x)", "x", "x: R^n") == text("log(x^T x)", "x", "x: R^n")
    assert run("latex", "x: R^n; ln(x)").stdout.strip() == r"\ln(\mathbf{x})"


def test_softmax_of_a_matrix_is_row_by_row_with_a_note():
    r = mcalc.diff("sum(softmax(Z) .* B)", "Z", where="Z: R^(m×n); B: R^(m×n)")
    assert any("row by row" in n for n in r.notes)
    assert r.text == "softmax(Z) .* (B - (B .* softmax(Z)) ones ones^T)"
    out = run("diff", "Z: R^(m×n); B: R^(m×n); sum(softmax(Z) .* B)", "--wrt", "Z", "--format", "text")
    assert out.exit_code == 0 and "row by row" in out.stderr


def test_softmax_of_a_vector_has_no_note():
    assert not any("row by row" in n for n in mcalc.diff("softmax(z)", "z", where="z: R^n").notes)


@pytest.mark.parametrize("expr, wrt", [
    ("softmax(z)", "z"), ("log_softmax(W x)", "x"), ("logsumexp(A x)", "x"), ("sum(softmax(Z) .* B)", "Z"),
    ("sum(log_softmax(Z) .* B)", "Z"), ("mean(X .* X)", "X"), ("prod(x)", "x"), ("dot(W x, y)", "W"),
    ("sum(max(W x, y))", "W"), ("min(x, y)", "y"), ("sign(x) .* x", "x"), ("arcsin(x)", "x"),
    ("acos(x)", "x"), ("atan(x)", "x"), ("ln(x)", "x"), ("sum(abs(x))", "x"), ("max(0, x)", "x"),
    ("erf(W x)", "x"), ("gelu(W x)", "W"),
])
@pytest.mark.parametrize("layout", ["mixed", "numerator", "denominator"])
def test_verify_agrees_with_finite_differences(expr, wrt, layout):
    """--verify (mcalc.verify: random data kept away from kinks and inside domains)."""
    out = run("diff", expr, "--wrt", wrt, "--layout", layout, "--verify", "--format", "text")
    assert out.exit_code == 0, out.stderr
    assert "FAILED" not in out.stderr and "verified" in out.stderr.lower(), out.stderr


# ---- misuse: a message, a caret, exit 2 ---------------------------------------------------
@pytest.mark.parametrize("expr, words", [
    ("t: R; softmax(t)", ["softmax", "scalar"]),
    ("t: R; log_softmax(t)", ["log_softmax", "scalar"]),
    ("X: R^(m×n); logsumexp(X)", ["logsumexp", "column vector"]),
    ("x: R^n; y: R^m; dot(x, y)", ["dot", "same length"]),
    ("x: R^n; A: R^(n×n); dot(x, A)", ["dot", "column vectors"]),
    ("x: R^n; y: R^m; max(x, y)", ["max", "equal shapes"]),
    ("x: R^n; max(x)", ["max", "2 arguments"]),
    ("x: R^n; softmax(x, x)", ["softmax", "1 argument"]),
    ("y: R^(1×n) probability; y", ["probability", "column"]),      # a row; a matrix probability has rows that sum to 1
])
def test_misuse_is_bad_input(expr, words):
    out = run("shape", expr, "--format", "text")
    assert out.exit_code == 2, (out.stdout, out.stderr)
    lines = out.stderr.splitlines()
    assert 1 <= len(lines) <= 4 and lines[0].startswith("mcalc: error: ") and "Traceback" not in out.stderr
    for w in words:
        assert w in lines[0], out.stderr
    assert any(set(ln.strip()) == {"^"} for ln in lines), out.stderr


def test_differentiating_with_respect_to_a_probability_vector_is_refused():
    out = run("diff", "y: R^n probability; z: R^n; -y^T log(softmax(z))", "--wrt", "y", "--format", "text")
    assert out.exit_code == 2 and "probability" in out.stderr


# ---- the generated NumPy ---------------------------------------------------------------------
def test_generated_numpy_runs_softmax_stably():
    ns: dict = {}
    exec(mcalc.diff("logsumexp(z)", "z", where="z: R^n").numpy, ns)  # our own generated code
    z = np.array([1000.0, 1001.0, 999.0])
    assert np.isfinite(ns["function"](z=z)) and np.allclose(np.sum(ns["derivative"](z=z)), 1.0)
