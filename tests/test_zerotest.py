"""The zero test (mcalc/zerotest.py): results identically zero or constant print as such,
with a note; zero terms of a sum are dropped; what it cannot judge stays; and the one-liner
path never imports numpy for it."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mcalc.api as api
from mcalc.render.text import render_result_text
from mcalc.simplify import tidy
from mcalc.verify import verify
from mcalc.zerotest import drop_zero_terms, judge

from oracle import Variable, check


@pytest.mark.parametrize("expr,wrt,where,text", [
    ("sum(exp(log(x)) - x)", "x", "x: R^n", "0"),
    ("sum(tanh(x) - 2 sigmoid(2 x))", "x", "x: R^n", "0"),
    ("x^T (sin(x).^2 + cos(x).^2)", "x", "x: R^n", "ones"),
    ("sum(softmax(x))", "x", "x: R^n", "0"),
    ("sum(softmax(X))", "X", "X: R^(m×n)", "0"),          # row by row: tensorgrad's test_zerograd
])
def test_identically_zero_or_constant_results_say_so(expr, wrt, where, text):
    r = api.diff(expr, wrt, where=where)
    assert r.text == text
    assert any("checked numerically" in n for n in r.notes), r.notes
    if text != "0":      # finite differences of a constant are rounding noise, nothing to compare against
        assert not check(r, wrt, "mixed", np.random.default_rng(0))


def test_zero_terms_of_a_sum_are_dropped():
    n = tidy(api.typed("A x + exp(log(x)) .* y - x .* y", "x: R^n; y: R^n; A: R^(n×n)").body)
    assert len(n.args) == 3        # the rules leave exp(log(x)) .* y - x .* y: not one term zero alone
    whole, dropped, constant = judge(n)
    assert not whole and dropped == [] and constant is None
    m = tidy(api.typed("A x + (exp(log(x)) - x) .* y", "x: R^n; y: R^n; A: R^(n×n)").body)
    notes: list[str] = []
    out = drop_zero_terms(m, notes)
    assert render_result_text(out) == "A x"
    assert notes and "identically zero" in notes[0]


@pytest.mark.parametrize("expr,where", [
    ("relu(x - 10 ones) + x", "x: R^n"),           # zero on every small draw, not everywhere
    # 1 - tanh(u)^2 is 0.0 in floating point where u is large: a saturated draw says nothing
    # (the soak found a gradient printed 0 that way)
    ("(ones - tanh(1000 (x^T x) ones).^2) .* A x", "x: R^n; A: R^(n×n)"),
    ("exp(-1000 (x^T x) ones) .* (A x + x)", "x: R^n; A: R^(n×n)"),
    ("abs(x) - x + A x", "x: R^n; A: R^(n×n)"),     # zero for positive x only
    ("x + A x", "x: R^n; A: R^(n×n)"),
])
def test_what_is_not_identically_zero_stays(expr, where):
    n = tidy(api.typed(expr, where).body)
    notes: list[str] = []
    assert drop_zero_terms(n, notes) == n and notes == []


def test_the_one_liner_does_not_import_numpy_for_the_zero_test():
    code = ("import sys; from mcalc.main import run_argv; "
            "code = run_argv(['diff', 'sum(exp(log(x)) - x)', '--wrt', 'x', '--format', 'text']); "
            "print('NUMPY' if 'numpy' in sys.modules else 'NO-NUMPY', code, file=sys.stderr)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "0"
    assert "NO-NUMPY 0" in r.stderr, r.stderr


def test_an_identity_of_square_matrices_is_not_taken_for_zero_on_rectangular_ones():
    """tr((XᵀCX)⁻¹ XᵀBX) is constant only for square X: sizes differ per dimension name."""
    r = api.diff("tr(inv(X^T C X) (X^T B X))", "X", where="X: R^(n×m); C: R^(n×n); B: R^(n×n)")
    assert r.text != "0" and not any("checked numerically" in n for n in r.notes)


@pytest.mark.parametrize("expr", [
    "y: R^n; y ./ sqrt(y .* y) + 2 ones",                   # sign(y) + 2: constant only for y > 0
    "x: R^n; y: R^n; log(x) - log(x) + y ./ sqrt(y .* y)",   # x must be positive; y need not
])
def test_a_root_does_not_make_the_draws_positive(expr):
    # the third 50k soak (seed 5, #41517): tr(sqrt(X .* X)) w.r.t. a symmetric X printed I, "the
    # result is constant … (checked numerically)": every name under a root was drawn positive,
    # where X ./ sqrt(X.^2) is 1
    verdict = judge(api.typed(expr).body)
    assert verdict is not None and verdict[2] is None and not verdict[0]


def test_the_derivative_of_a_trace_of_absolute_values_keeps_its_signs():
    r = api.diff("X: R^(n×n) symmetric; tr(sqrt(X .* X))", "X")
    assert r.text != "I" and verify(r).ok
