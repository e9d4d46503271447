"""The Python API as a notebook user meets it: real signatures and docstrings, short reprs,
LaTeX and HTML displays, errors that carry the caret, steps=True."""
from __future__ import annotations

import inspect
import traceback

import pytest

import mcalc
from mcalc.errors import McalcError, ShapeError


@pytest.mark.parametrize("name, params", [
    ("diff", ["expr", "wrt", "where", "layout", "order", "flatten", "stack", "steps"]),
    ("check", ["expr", "wrt", "claim", "where", "layout", "order", "flatten"]),
    ("shape", ["expr", "where"]),
    ("latex", ["expr", "where"]),
])
def test_real_signatures_and_docstrings(name, params):
    f = getattr(mcalc, name)
    assert list(inspect.signature(f).parameters)[:len(params)] == params
    assert len(inspect.getdoc(f)) > 60


def test_diff_repr_latex_and_steps():
    r = mcalc.diff("x^T A x", "x")
    assert repr(r) == "<mcalc.diff ∂f/∂x = (A + A^T) x  (n×1, mixed layout)>"
    assert r._repr_latex_() == r"$$\frac{\partial f}{\partial \mathbf{x}} = \left(A + A^{\top}\right)\,\mathbf{x}$$"
    s = mcalc.diff("y = X w; L = ||y - t||^2", "w", steps=True)
    assert repr(s).startswith("<mcalc.diff ∂L/∂w = ") and "\n  step 1: " in repr(s)
    assert s._repr_latex_().startswith("$$\\begin{aligned}")
    assert [st.rule for st in s.steps] == [st.rule for st in mcalc.diff("y = X w; L = ||y - t||^2", "w").steps]


def test_check_repr_and_latex_show_the_verdict_and_the_derivative():
    c = mcalc.check("x^T A x", "x", "2 A x")
    assert repr(c).startswith("<mcalc.check ✗ wrong: ") and "(A + A^T) x" in repr(c)
    assert len(repr(c)) < 200
    tex = c._repr_latex_()
    assert r"\text{wrong: " in tex and r"\left(A + A^{\top}\right)\,\mathbf{x}" in tex
    ok = mcalc.check("x^T x", "x", "2 x")
    assert repr(ok).startswith("<mcalc.check ✓ correct")


def test_shape_repr_latex_and_html_show_the_symbols():
    s = mcalc.shape("A x + b")
    assert repr(s) == "<mcalc.shape m×1 of A x + b; A: m×n, x: n×1, b: m×1>"
    assert r"A & m \times n & \text{inferred}" in s._repr_latex_()
    html = s._repr_html_()
    assert "<table>" in html and "<td><code>A</code></td><td>m×n</td>" in html


def test_errors_carry_the_caret_and_a_short_traceback():
    with pytest.raises(ShapeError) as info:
        mcalc.diff("x + A x", "x", where="A: R^(m×n)")
    assert str(info.value).splitlines() == ["cannot add x (n×1) and A x (m×1)", "  x + A x", "  ^^^^^^^"]
    frames = traceback.extract_tb(info.value.__traceback__)
    assert len(frames) <= 3, [f.name for f in frames]
    with pytest.raises(McalcError) as parse:
        mcalc.shape("x +")
    assert "^" in str(parse.value)
