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


# ---- to_sympy: the result and the function as SymPy matrix expressions ----------------------------------
SYMPY_CASES = [
    ("x^T A x", "x"), ("1/N ||X w - y||^2", "w"), ("tr(A X B)", "X"), ("logdet(X) + tr(X^-1)", "X"),
    ("sum(exp(X w))", "w"), ("h = tanh(W1 x + b1); L = ||W2 h + b2 - y||^2", "W1"), ("s x^T x + s^2", "s"),
    ("x .* sigmoid(x)", "x"),
]


def explicit(sp, e, dims: dict, subs: dict):
    """A SymPy matrix expression on concrete sizes and data, as a float array."""
    import numpy as np
    e = e.subs(dims).xreplace(subs)
    for _ in range(4):
        e = e.replace(lambda a: isinstance(a, (sp.OneMatrix, sp.Identity, sp.ZeroMatrix)),
                      lambda a: sp.ImmutableMatrix(a.as_explicit())).doit()
    if isinstance(e, sp.MatrixExpr):
        e = e.as_explicit()
    e = sp.N(e)
    return np.array(e.tolist() if hasattr(e, "tolist") else [[e]], dtype=float)


@pytest.mark.parametrize("expr, wrt", SYMPY_CASES)
def test_to_sympy_agrees_with_the_generated_numpy(expr, wrt):
    """The SymPy forms, evaluated by SymPy on random data, equal the generated NumPy."""
    sp = pytest.importorskip("sympy")
    import numpy as np
    r = mcalc.diff(expr, wrt)
    forms = r.to_sympy()
    assert isinstance(forms.derivative, sp.Basic) and isinstance(forms.function, sp.Basic)
    rng = np.random.default_rng(3)
    sizes: dict[str, int] = {}
    for info in r.symbols.values():
        for d in info.shape:
            if isinstance(d, str) and d not in sizes:
                sizes[d] = 2 + len(sizes)
    values, subs = {}, {}
    for name, info in r.symbols.items():
        if info.kind == "size":
            values[name] = float(sizes.setdefault(name, 2 + len(sizes)))
            continue
        shape = tuple(d if isinstance(d, int) else sizes[str(d)] for d in info.shape)
        v = rng.uniform(0.5, 1.5, shape)
        if shape[0] == shape[1] != 1:
            v = v + shape[0] * np.eye(shape[0])        # positive determinant, for logdet
        if shape == (1, 1):
            values[name] = float(v[0, 0])
            subs[sp.Symbol(name)] = values[name]
        else:
            values[name] = v[:, 0] if shape[1] == 1 else v
            subs[sp.MatrixSymbol(name, *shape)] = sp.ImmutableMatrix(v)
    dims = {sp.Symbol(d, integer=True, positive=True): n for d, n in sizes.items()}
    ns: dict = {}
    exec(r.numpy, ns)
    for name in inspect.signature(ns["derivative"]).parameters:      # a size used as a constant (1/N)
        if name not in values:
            values[name] = 3.0
            dims[sp.Symbol(name, integer=True, positive=True)] = 3
    got = explicit(sp, forms.derivative, dims, subs)
    assert np.allclose(got, np.asarray(ns["derivative"](**values), dtype=float).reshape(got.shape))
    assert np.allclose(explicit(sp, forms.function, dims, subs).ravel(), np.ravel(ns["function"](**values)))
    assert forms.function.atoms(sp.MatrixSymbol)


def test_to_sympy_symbolic_sizes_and_sympy_agrees():
    sp = pytest.importorskip("sympy")
    d, f = mcalc.diff("x^T A x", "x").to_sympy()
    n = sp.Symbol("n", integer=True, positive=True)
    x, A = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("A", n, n)
    assert d == (A + A.T) * x and d.shape == (n, 1)
    assert f == sp.Trace(x.T * A * x)
    assert sp.expand(f.diff(x) - d) == sp.ZeroMatrix(n, 1) or (f.diff(x) - d).subs(n, 3).as_explicit() == sp.zeros(3, 1)


def test_to_sympy_refuses_what_sympy_cannot_say():
    pytest.importorskip("sympy")
    r = mcalc.diff("X^T", "X", flatten=True)
    assert "K_" in r.text
    with pytest.raises(McalcError, match="commutation matrix"):
        r.to_sympy()


def test_core_does_not_import_sympy():
    import subprocess
    import sys
    code = ("import sys, mcalc; r = mcalc.diff('x^T A x', 'x'); r.text, r.latex, repr(r); "
            "mcalc.check('x^T x', 'x', '2 x'); print(sorted(m for m in sys.modules if m.split('.')[0] == 'sympy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_sympy_is_an_extra_that_the_tests_install():
    import tomllib
    from pathlib import Path
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("sympy") for d in project["dependencies"])
    assert any(d.startswith("sympy") for d in project["optional-dependencies"]["sympy"])
    assert any(d.startswith("sympy") for d in project["optional-dependencies"]["test"])


def test_equal_repr_latex_shows_both_sides_and_the_verdict():
    yes = mcalc.equal("tr(A B)", "tr(B A)")
    assert yes._repr_latex_().startswith(r"$$\operatorname{tr}") and " = " in yes._repr_latex_()
    no = mcalc.equal("(A B)^T", "A^T B^T")
    assert r"\neq" in no._repr_latex_()
