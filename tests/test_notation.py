"""Issue 14: the language people type (SPEC §1). Misreads refused or noted, the notations of
papers and of matrixcalculus.org, LaTeX input; each spelling is tested for its error
messages (exit code, message, caret, hint) as much as for its success."""
from __future__ import annotations

import pytest

from mcalc import api
from mcalc.errors import McalcError
from mcalc.nodes import Size, Sym, walk

from test_errors import assert_clean_failure, caret, hint, invoke, message


def shape_cli(expr: str, *extra: str):
    return invoke(["shape", expr, "--format", "text", *extra])


def notes_of(r) -> list[str]:
    return [ln.removeprefix("note: ") for ln in r.stderr.splitlines() if ln.startswith("note: ")]


def same(a: str, b: str, where=None) -> bool:
    return api.typed(a, where).body == api.typed(b, where).body


# ---- a name before '(' -------------------------------------------------------------------------
@pytest.mark.parametrize("expr, name, guess, col", [
    ("exq(x)", "exq", "exp", 0),
    ("sigma(W1 x + b1)", "sigma", "sigmoid", 0),
    ("phi(x)", "phi", None, 0),
    ("x^T foo(A x)", "foo", None, 4),
    ("2 sigmod(x)", "sigmod", "sigmoid", 2),
])
def test_unknown_function_is_refused_with_a_did_you_mean(expr, name, guess, col):
    for r in (shape_cli(expr), invoke(["diff", expr, "--wrt", "x", "--format", "text"])):
        assert_clean_failure(r)
        assert message(r).startswith(f"unknown function {name}")
        assert (f"did you mean {guess}?" in message(r)) == (guess is not None), message(r)
        assert caret(r)[1:] == (col, len(name))
        assert "space" in hint(r) and f"{name} (…)" in hint(r) and "declare" in hint(r)


def test_unknown_function_did_you_mean_comes_from_the_function_names():
    from mcalc.parse import FUNCTION_NAMES
    from mcalc.reading import did_you_mean
    assert did_you_mean("sigma", FUNCTION_NAMES) == "sigmoid"
    assert did_you_mean("exq", FUNCTION_NAMES) == "exp"
    assert did_you_mean("tanhh", FUNCTION_NAMES) == "tanh"
    assert did_you_mean("phi", FUNCTION_NAMES) is None


@pytest.mark.parametrize("expr", ["phi (x)", "phi: R; phi(x)", "A(x + b)", "X(X^T X)^-1", "y(1 - y)",
                                  "W1(x + b)", "x_1(y + z)", "s = x^T x; s(x + y)"])
def test_products_before_a_bracket_stay_products(expr):
    t = api.typed(expr)
    assert not [n for n in t.notes if "function" in n]


def test_a_space_or_a_declaration_makes_a_product():
    assert same("phi (x)", "phi x")
    assert same("phi: R; phi(x)", "phi: R; phi x")


def test_single_greek_letter_before_a_bracket_is_a_product_with_a_note():
    r = shape_cli("σ(z)")
    assert r.exit_code == 0
    assert notes_of(r) == ["read σ(…) as the product σ · (…); for the logistic function write sigmoid(…)"]
    assert same("σ(z)", "σ z")
    r = shape_cli("θ(x + y)")
    assert notes_of(r) == ["read θ(…) as the product θ · (…)"]
    assert notes_of(shape_cli("σ: R; σ(z)")) == []       # declared: the user said so


def test_the_misreads_of_the_issue_are_refused():
    """ln(...) and sigma(...) were a symbol times a bracket, r^T softmax(z) a product."""
    for expr in ["sigma(W1 x + b1)", "phi(x)", "exq(x)"]:
        with pytest.raises(McalcError, match="unknown function"):
            api.typed(expr)


# ---- run-together names ---------------------------------------------------------------------------
@pytest.mark.parametrize("expr, where, wrt, note", [
    ("x'Ax", None, "x", "read 'Ax' as one symbol; write 'A x' for a product"),
    ("Xw", "X: R^(n×m); w: R^m", "Xw", "read 'Xw' as one symbol; write 'X w' for a product"),
    ("X w + Xb", None, "w", "read 'Xb' as one symbol; write 'X b' for a product"),
])
def test_run_together_names_get_a_note(expr, where, wrt, note):
    extra = ["--where", where] if where else []
    r = shape_cli(expr, *extra)
    assert r.exit_code == 0, r.stderr
    assert note in notes_of(r)
    r = invoke(["diff", expr, "--wrt", wrt, "--format", "text", *extra])
    assert r.exit_code == 0, r.stderr
    assert note in notes_of(r)


@pytest.mark.parametrize("expr", ["X_train w", "lr x", "Xtrain w", "W1 x + b1", "x^T A x", "alpha x"])
def test_ordinary_names_get_no_note(expr):
    assert not any("one symbol" in n for n in api.typed(expr).notes)


# ---- declarations that do not parse as written -------------------------------------------------
@pytest.mark.parametrize("decl, want, col", [("A: R^nxn", "R^(n×n)", 5), ("A: R^mxn", "R^(m×n)", 5),
                                             ("A: R^3x3", "R^(3×3)", 5), ("A: R^n×n", "R^(n×n)", 5),
                                             ("A: R^n,n", "R^(n×n)", 5)])
def test_unbracketed_matrix_shape_is_an_error_with_a_did_you_mean(decl, want, col):
    r = shape_cli("A x", "--where", decl)
    assert_clean_failure(r)
    assert f"did you mean {want}?" in message(r)
    assert caret(r)[0] == decl and caret(r)[1] == col
    assert "brackets" in hint(r)
    r = shape_cli(f"{decl}; A x")
    assert_clean_failure(r)
    assert f"did you mean {want}?" in message(r)


# ---- a symbol needed as a number ------------------------------------------------------------------
def test_a_divisor_no_array_carries_is_a_positive_constant():
    t = api.typed("1/N ||X w - y||^2")
    assert t.symbols["N"].kind == "size"
    assert any(isinstance(m, Size) and m.name == "N" for m in walk(t.body))
    assert "N" in t.dims
    assert any(n.startswith("N is read as a positive constant") for n in t.notes)
    r = api.diff("1/N ||X w - y||^2", "w")
    assert r.text == "2/N X^T (X w - y)"
    assert any(n.startswith("N is read as a positive constant") for n in r.notes)


def test_a_declared_divisor_stays_a_variable():
    t = api.typed("N: R; 1/N ||X w - y||^2")
    assert t.symbols["N"].kind == "symbol" and t.symbols["N"].shape == (1, 1)
    assert not t.notes
    assert api.typed("x: R^n; x^T x / n").symbols["n"].kind == "size"      # a dimension name: no note
    assert not api.typed("x: R^n; x^T x / n").notes
    assert api.typed("x / lambda").symbols["lambda"].kind == "symbol"       # Greek: a scalar variable


def test_the_constant_is_verified_numerically():
    from mcalc.verify import verify
    v = verify(api.diff("1/N ||X w - y||^2", "w"))
    assert v.conclusive and v.ok
