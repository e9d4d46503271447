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


# ---- broadcasting ---------------------------------------------------------------------------------
LOGISTIC = "X: R^(N×d); w: R^d; y: R^N"


def test_a_scalar_added_to_a_vector_is_the_scalar_times_ones():
    t = api.typed(f"{LOGISTIC}; log(1 + exp(-y .* (X w)))")
    assert t.body == api.typed(f"{LOGISTIC}; log(ones + exp(-y .* (X w)))").body or \
        t.body == api.typed(f"{LOGISTIC}; log(1 ones + exp(-y .* (X w)))").body
    assert t.body.shape == ("N", 1)
    assert "read 1 as ones: broadcast to every entry of exp(-y .* X w)" in t.notes
    assert same("x: R^n; c: R; x - c", "x: R^n; c: R; x - c ones")
    assert same("x: R^n; c: R; c + x", "x: R^n; c: R; c ones + x")


@pytest.mark.parametrize("expr, explicit", [
    ("X: R^(N×d); mu: R^d; X - mu^T", "X: R^(N×d); mu: R^d; X - ones mu^T"),
    ("X: R^(N×d); W: R^(d×k); b: R^k; X W + b^T", "X: R^(N×d); W: R^(d×k); b: R^k; X W + ones b^T"),
    ("X: R^(N×d); mu: R^d; mu^T + X", "X: R^(N×d); mu: R^d; ones mu^T + X"),
])
def test_a_row_added_to_a_matrix_is_added_to_every_row(expr, explicit):
    t = api.typed(expr)
    assert t.body == api.typed(explicit).body
    assert any("broadcast to every row of" in n for n in t.notes)


@pytest.mark.parametrize("expr, wrt", [
    (f"{LOGISTIC}; sum(log(1 + exp(-y .* (X w))))", "w"),
    ("X: R^(N×d); mu: R^d; ||X - mu^T||_F^2", "mu"),
    ("X: R^(N×d); W: R^(d×k); b: R^k; sum(tanh(X W + b^T))", "b"),
    ("x: R^n; c: R; ||x - c||^2", "c"),
])
def test_broadcast_derivatives_agree_with_finite_differences(expr, wrt):
    from mcalc.verify import verify
    for layout in api.LAYOUTS:
        v = verify(api.diff(expr, wrt, layout=layout))
        assert v.conclusive and v.ok, (layout, v.reason)


def test_a_scalar_added_to_a_square_matrix_stays_an_error():
    r = shape_cli("A: R^(n×n); c: R; A + c")
    assert_clean_failure(r)
    assert message(r) == "cannot add A (n×n) and c (1×1)"
    assert "c I" in hint(r) and "c ones ones^T" in hint(r)
    assert caret(r)[1] == len("A: R^(n×n); c: R; ")


def test_undeclared_logistic_loss_reads_y_a_vector_and_x_a_matrix():
    """Nothing declared: the number 1 carries no shape, so it does not make y a scalar and X a
    row; X stays a matrix by the case convention and 1 is broadcast to ones, with a note."""
    t = api.typed("sum(log(1 + exp(-y .* (X w))))")
    assert t.symbols["y"].shape == ("n", 1) and t.symbols["w"].shape == ("m", 1)
    assert t.symbols["X"].shape == ("n", "m")
    assert t.body == api.typed("X: R^(n×m); w: R^m; y: R^n; sum(log(ones + exp(-y .* (X w))))").body
    assert "read 1 as ones: broadcast to every entry of exp(-y .* X w)" in t.notes
    r = invoke(["diff", "sum(log(1 + exp(-y .* (X w))))", "--wrt", "w", "--format", "text"])
    assert r.exit_code == 0 and "note: read 1 as ones" in r.stderr


@pytest.mark.parametrize("expr, wrt", [
    ("sum(log(1 + exp(-y .* (X w))))", "w"), ("sum(log(1 + exp(-y .* (X w))))", "X"),
    ("sum(1 ./ (1 + exp(-X w)))", "w"), ("-y^T log(sigmoid(X w)) - (1 - y)^T log(1 - sigmoid(X w))", "w"),
    ("x: R^n; sum(1 ./ x)", "x"), ("x: R^n; c: R; sum(c ./ x)", "c"), ("x: R^n; c: R; c .* x", "x"),
    ("X: R^(n×m); sum(1 ./ X)", "X"), ("x: R^n; c: R; sum(x^T - c)", "c"), ("x: R^n; ||x^T - 1||^2", "x"),
])
def test_numbers_broadcast_and_are_checked_numerically(expr, wrt):
    from mcalc.verify import verify
    for layout in api.LAYOUTS:
        r = api.diff(expr, wrt, layout=layout)
        v = verify(r)
        assert v.conclusive and v.ok, (layout, r.text, v.reason)


@pytest.mark.parametrize("expr, shapes", [
    ("y(1 - y)", {"y": (1, 1)}), ("1/(1 + exp(-t))", {"t": (1, 1)}), ("log(1 + x)", {"x": (1, 1)}),
    ("(n - 2) x", {"n": (1, 1), "x": ("m", 1)}), ("1 - x^T x", {"x": ("n", 1)}),
    ("sigmoid(x)(1 - sigmoid(x))", {"x": (1, 1)}), ("1 + A x", {"A": ("m", "n"), "x": ("n", 1)}),
    ("x: R^n; 1 + x", {"x": ("n", 1)}), ("(1 + x)^2", {"x": (1, 1)}),
])
def test_a_number_is_a_scalar_term_where_that_keeps_every_capital_a_matrix(expr, shapes):
    """The readings that did not involve a capital stay as they were (1 - y is a scalar sum)."""
    t = api.typed(expr)
    assert {k: t.symbols[k].shape for k in shapes} == shapes


@pytest.mark.parametrize("expr, explicit, note", [
    ("x: R^n; 1 ./ x", "x: R^n; ones ./ x", "read 1 as ones: broadcast to every entry of x"),
    ("x: R^n; c: R; c ./ x", "x: R^n; c: R; (c ones) ./ x", "read c as c ones: broadcast to every entry of x"),
    ("X: R^(n×m); 1 ./ X", "X: R^(n×m); (ones ones^T) ./ X", "read 1 as ones ones^T: broadcast to every entry of X"),
    ("x: R^n; c: R; x^T - c", "x: R^n; c: R; x^T - c ones^T", "read c as c ones^T: broadcast to every entry of x^T"),
    ("x: R^n; x^T + 1", "x: R^n; x^T + ones^T", "read 1 as ones^T: broadcast to every entry of x^T"),
])
def test_numbers_and_scalars_in_entrywise_operations_broadcast_with_a_note(expr, explicit, note):
    t = api.typed(expr)
    assert t.body == api.typed(explicit).body
    assert note in t.notes


@pytest.mark.parametrize("expr, explicit", [
    ("x: R^n; 2 .* x", "x: R^n; 2 x"), ("x: R^n; x ./ 2", "x: R^n; x / 2"), ("x: R^n; c: R; c .* x", "x: R^n; c: R; c x"),
    ("x: R^n; c: R; x ./ c", "x: R^n; c: R; x / c"), ("X: R^(n×m); X .* 3", "X: R^(n×m); X 3"),
])
def test_a_scalar_times_an_array_entrywise_is_a_scaling(expr, explicit):
    assert api.typed(expr).body == api.typed(explicit).body


def test_a_number_added_to_an_undeclared_capital_is_an_error():
    r = shape_cli("1 + X")
    assert_clean_failure(r)
    assert message(r) == "cannot add 1 (1×1) and X (n×m)"
    assert "c I" in hint(r) and "c ones ones^T" in hint(r)
    r = shape_cli("A: R^(n×n); A - 2")
    assert_clean_failure(r)
    assert message(r) == "cannot subtract 2 (1×1) from A (n×n)" and "c ones ones^T" in hint(r)


def test_a_row_and_a_column_do_not_broadcast():
    r = shape_cli("x: R^n; y: R^m; x + y^T")
    assert_clean_failure(r)
    assert message(r).startswith("cannot add x")


# ---- |A|, tr X, log det X -----------------------------------------------------------------------
def test_bars_are_det_of_a_square_matrix_and_abs_of_a_scalar():
    assert same("log|Sigma|", "log(det(Sigma))")
    assert same("S: R^(n×n); |S|", "S: R^(n×n); det(S)")
    assert same("s: R; |s|", "s: R; abs(s)")
    assert api.typed("|s|").symbols["s"].shape == (1, 1)        # an undeclared s in bars is a scalar
    assert same("x: R^n; |x^T x - 1|", "x: R^n; abs(x^T x - 1)")
    assert same("t: R; ||x|| + |t|", "t: R; ||x|| + abs(t)")


def test_bars_of_a_vector_are_an_error_with_a_hint():
    r = shape_cli("x: R^n; |x|")
    assert_clean_failure(r)
    assert message(r) == "|x| of a vector is not defined: x (n×1)"
    assert "||x||" in hint(r) and "abs(x)" in hint(r)
    assert caret(r)[1:] == (8, 3)
    r = shape_cli("A: R^(m×n); |A|")
    assert_clean_failure(r)
    assert "square" in message(r)


@pytest.mark.parametrize("bars, full", [
    ("A: R^(n×n); B: R^(n×n); |A||B|", "A: R^(n×n); B: R^(n×n); det(A) det(B)"),
    ("a: R; b: R; |a||b|", "a: R; b: R; abs(a) abs(b)"),
    ("a: R; b: R; c: R; d: R; |a||b| + |c||d|", "a: R; b: R; c: R; d: R; abs(a) abs(b) + abs(c) abs(d)"),
    ("A: R^(n×n); b: R; |A||b|", "A: R^(n×n); b: R; det(A) abs(b)"),
    ("x: R^n; |x^T x - ||x||^2|", "x: R^n; abs(x^T x - ||x||^2)"),
    ("a: R; ||x|| |a|", "a: R; ||x|| abs(a)"),
])
def test_bars_that_touch_are_two_bars(bars, full):
    """|A||B| lexes as |A| |B|: a || right after an operand inside |…| closes it and opens the next."""
    assert same(bars, full)


def test_bars_that_touch_are_differentiated_and_checked():
    from mcalc.verify import verify
    for layout in api.LAYOUTS:
        r = api.diff("|A||B|", "A", where="A: R^(n×n); B: R^(n×n)", layout=layout)
        v = verify(r)
        assert v.conclusive and v.ok, (layout, v.reason)


@pytest.mark.parametrize("expr, col", [("|a||b||c|", 2), ("|a ||x|| |", 3), ("A: R^(n×n); |A||B||C|", 14)])
def test_truly_ambiguous_bars_are_an_error_with_a_caret(expr, col):
    r = shape_cli(expr)
    assert_clean_failure(r)
    assert message(r) == "ambiguous bars: || may close |…| and open another, or open a norm"
    assert caret(r)[1:] == (col, 2)
    assert "det(A) det(B)" in hint(r) and "norm(x)" in hint(r)


@pytest.mark.parametrize("short, full", [
    ("tr X", "tr(X)"), ("tr A X B", "tr(A X B)"), ("tr X + tr Y", "tr(X) + tr(Y)"),
    ("2 tr A B", "2 tr(A B)"), ("log det X", "log(det(X))"), ("logdet X", "logdet(X)"),
    ("det X^T", "det(X^T)"), ("log det X + tr(S X^-1)", "log(det(X)) + tr(S X^-1)"),
    ("Tr W^T W", "Tr(W^T W)"), ("trace A^T B", "trace(A^T B)"), ("log |Sigma|", "log(det(Sigma))"),
])
def test_functions_without_brackets_apply_to_the_following_product(short, full):
    assert same(short, full)


# ---- ln is log --------------------------------------------------------------------------------------
@pytest.mark.parametrize("expr, wrt, text", [
    ("t: R; log(t) - ln(t)", "t", "0"), ("x: R^n; sum(log(x) - ln(x))", "x", "0"),
    ("t: R; t (log(t) - ln(t))", "t", "0"), ("x: R^n; ln(x) - log(x)", "x", "0"),
    ("t: R; ln(t)^2", "t", "2 ln(t)/t"), ("t: R; t ln(t) + log(t)", "t", "log(t) + 1/t + 1"),
])
def test_log_and_ln_are_one_function(expr, wrt, text):
    """log(x) - ln(x) cancels in the simplifier (not only in the numerical zero test); ln alone keeps its spelling."""
    from mcalc.verify import verify
    r = api.diff(expr, wrt)
    assert r.text == text
    assert not any("identically zero" in n for n in r.notes), r.notes
    assert verify(r).ok


# ---- A : B, ⟨A, B⟩ --------------------------------------------------------------------------------
@pytest.mark.parametrize("frob, full", [
    ("A : B", "tr(A^T B)"), ("⟨A, B⟩", "tr(A^T B)"), ("G : X", "tr(G^T X)"),
    ("A : B C", "tr(A^T (B C))"), ("2 A : B", "tr((2 A)^T B)"), ("y = A : B; y^2", "y = tr(A^T B); y^2"),
    ("tr(A : B)", "tr(tr(A^T B))"), ("x : y", "tr(x^T y)"),
])
def test_frobenius_product(frob, full):
    assert same(frob, full)


@pytest.mark.parametrize("frob, full", [
    ("A : B + C : D", "tr(A^T B) + tr(C^T D)"), ("A : B - C : D", "tr(A^T B) - tr(C^T D)"),
    ("x^T y + A : B", "x^T y + tr(A^T B)"), ("-A : B + C : D", "tr((-A)^T B) + tr(C^T D)"),
    ("A .* B : C", "tr((A .* B)^T C)"), ("G : X + lambda tr(X)", "tr(G^T X) + lambda tr(X)"),
    ("A : B + C", "tr(A^T B) + C"), ("L = A : B + C : D; L", "L = tr(A^T B) + tr(C^T D); L"),
])
def test_frobenius_binds_tighter_than_a_sum_and_looser_than_a_product(frob, full):
    """':' sits between + and the products: A : B + C : D is a sum of two Frobenius products."""
    assert same(frob, full)


def test_a_sum_of_frobenius_products_is_differentiated_and_checked():
    from mcalc.verify import verify
    where = "A: R^(n×m); B: R^(n×m); C: R^(p×q); D: R^(p×q)"
    for wrt, want in (("A", "B"), ("D", "C")):
        for layout in api.LAYOUTS:
            r = api.diff("A : B + C : D", wrt, where=where, layout=layout)
            assert r.text in (want, want + "^T")
            v = verify(r)
            assert v.conclusive and v.ok, (layout, v.reason)


def test_frobenius_is_differentiated_and_checked():
    r = api.diff("A : X", "X")
    assert r.text == "A"
    r = api.diff("⟨X, X⟩", "X")
    assert r.text == "2 X"


def test_a_declaration_is_still_a_declaration():
    t = api.typed("A: R^(n×n); x : y")
    assert t.symbols["A"].shape == ("n", "n") and t.body.shape == (1, 1)
    r = shape_cli("x: Q^n; x")
    assert_clean_failure(r)
    assert message(r).startswith("unexpected 'Q'") and caret(r)[1] == 3


# ---- pi, X.T, Unicode --------------------------------------------------------------------------------
def test_pi_is_the_constant_unless_declared():
    from mcalc.nodes import Constant
    t = api.typed("exp(-x^T x / 2) / sqrt(2 pi)")
    assert any(isinstance(m, Constant) for m in walk(t.body)) and "pi" not in t.symbols
    assert same("π x", "pi x")
    t = api.typed("pi: R; pi x")
    assert t.symbols["pi"].kind == "symbol"
    r = api.diff("exp(-x^T x / 2) / sqrt(2 pi)", "x")
    assert r.text == "-exp(-1/2 x^T x) x/sqrt(2 pi)"
    assert "np.pi" in r.numpy
    from mcalc.verify import verify
    assert verify(r).ok


@pytest.mark.parametrize("unicode, ascii", [
    ("X.T X", "X^T X"), ("x.T A x", "x^T A x"), ("x − y", "x - y"), ("−x", "-x"), ("X⁻¹", "X^-1"),
    ("s² A", "s^2 A"), ("xᵀ A x", "x^T A x"), ("a · b", "a * b"), ("A × B", "A B"), ("X^{−1}", "X^{-1}"),
    ("A³", "A^3"), ("x^T (A − B)⁻¹ x", "x^T (A - B)^-1 x"),
])
def test_unicode_and_numpy_spellings(unicode, ascii):
    assert same(unicode, ascii)


# ---- the matrixcalculus.org dialect --------------------------------------------------------------
@pytest.mark.parametrize("dialect, ours", [
    ("norm1(x)", "||x||_1"), ("norm2(x)", "||x||"), ("norm2(X w - y)^2", "||X w - y||^2"),
    ("vector(1) + x", "ones + x"), ("vector(c)' x", "(c ones)^T x"), ("matrix(1) .* X", "(ones ones^T) .* X"),
    ("eye + A", "I + A"), ("x'*A*x", "x^T A x"), ("inv(X)", "X^-1"), ("logdet(X) - tr(S*inv(X))", "logdet(X) - tr(S X^-1)"),
    ("det(X)", "det(X)"), ("a'*exp(x)", "a^T exp(x)"),
])
def test_matrixcalculus_org_dialect(dialect, ours):
    assert same(dialect, ours)


def test_matrix_named_symbol_is_still_a_symbol():
    assert api.typed("matrix + x").symbols["matrix"].kind == "symbol"


# ---- scalar exponents that are variables --------------------------------------------------------
@pytest.mark.parametrize("expr, wrt, text, log_note", [
    ("a^b", "a", "a^(b - 1) b", False), ("a^b", "b", "a^b log(a)", True), ("2^x", "x", "2^x log(2)", False),
    ("x: R^n; sum(x.^p)", "x", "p x.^(p - 1)", False), ("x: R^n; sum(x.^p)", "p", "sum(log(x) .* x.^p)", True),
    ("x: R^n; sum(p.^x)", "x", "log(p) p.^x", True), ("x: R^n; sum(p.^x)", "p", None, False),
    ("s^(2 t)", "t", "2 log(s) s^(2 t)", True), ("x: R^n; (x^T x)^a", "x", "2 (x^T x)^(a - 1) a x", False),
    ("x: R^n; sum(x.^n)", "x", "n x.^(n - 1)", False), ("x: R^n; y: R^n; sum(x.^y)", "y", "log(x) .* x.^y", True),
    ("x: R^n; x.^p", "x", None, False), ("x: R^n; p.^x", "x", None, True), ("a^b", None, None, False),
])
def test_variable_exponents_keep_the_power_form_and_are_checked(expr, wrt, text, log_note):
    """d(a^b) = b a^(b-1) da + a^b log(a) db, printed in the power form; the log (and the note
    that it needs a positive base) only where the exponent holds the variable."""
    from mcalc.verify import verify
    wrts = [wrt] if wrt else ["a", "b"]
    for w in wrts:
        for layout in api.LAYOUTS:
            r = api.diff(expr, w, layout=layout)
            assert "exp(" not in r.text
            if text and layout == "mixed":
                assert r.text == text
            notes = [n for n in r.notes if "is differentiated for" in n]
            assert bool(notes) == log_note or wrt is None, (r.notes, log_note)
            v = verify(r)
            assert v.conclusive and v.ok, (layout, r.text, v.reason)
    if wrt is None:
        r = api.diff("a^b", "b", order=2)
        assert r.text == "a^b log(a)^2" and verify(r).ok


def test_a_positive_base_is_drawn_only_where_the_power_needs_it():
    """2^x and x.^n (n a size, an integer) take any sign; x.^p (p real) and log(x) need x > 0."""
    from mcalc.verify import verify
    for expr, wrt, positive in (("2^x", "x", False), ("x: R^n; sum(x.^n)", "x", False),
                                ("x: R^n; sum(x.^p)", "x", True), ("x: R^n; sum(p.^x)", "x", False),
                                ("a^b", "b", True)):
        v = verify(api.diff(expr, wrt))
        assert v.ok and v.conclusive
        assert ("> 0" in v.sampled) == positive, (expr, v.sampled)


def test_variable_exponent_reading_and_shapes():
    from mcalc.nodes import VarPow
    t = api.typed("a^b")
    assert isinstance(t.body, VarPow) and t.symbols["a"].shape == t.symbols["b"].shape == (1, 1)
    assert api.typed("x: R^n; x.^p").symbols["p"].shape == (1, 1)
    assert api.typed("x: R^n; p.^x").symbols["p"].shape == (1, 1)
    assert api.typed("x: R^n; p.^x").body.shape == ("n", 1)
    for expr, wrt in (("a^b", "a"), ("2^x", "x"), ("x: R^n; x.^p", "p"), ("x: R^n; p.^x", "x"), ("s^(2 t)", "s"),
                      ("x: R^n; y: R^n; x.^y", "x")):
        r = api.diff(expr, wrt)
        assert "exp(" not in r.text


@pytest.mark.parametrize("expr, words", [("A^n", "a matrix power needs a number exponent"),
                                         ("x: R^n; x^s", "a variable exponent needs a scalar base"),
                                         ("x: R^n; y: R^m; x.^y", "elementwise power needs equal shapes")])
def test_variable_exponent_errors(expr, words):
    r = shape_cli(expr)
    assert_clean_failure(r)
    assert message(r).startswith(words), message(r)


# ---- LaTeX input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("tex, ours", [
    (r"\mathbf{x}^\top A \mathbf{x}", "x^T A x"),
    (r"\frac{2}{N} X^\top (X \mathbf{w} - \mathbf{y})", "(2)/(N) X^T (X w - y)"),
    (r"\operatorname{tr}(A X)", "tr(A X)"), (r"\mathrm{tr}(A^\top X)", "tr(A^T X)"),
    (r"\log\det X", "logdet X"), (r"\log \det(X)", "logdet(X)"), (r"\|x\|_2^2", "||x||_2^2"),
    (r"\left( A + B \right)^{-1}", "(A + B)^-1"), (r"a^\top \cdot b", "a^T * b"), (r"x \odot y", "x .* y"),
    (r"A \otimes B", "A ⊗ B"), (r"X^{-1}", "X^-1"), (r"\sigma(W x + b)", "sigmoid(W x + b)"),
    (r"\Sigma^{-1} \mu", "Σ^-1 μ"), (r"\boldsymbol{\mu}^\top \mathbf{x}", "mu: R^n; mu^T x"), (r"x^{\top} y", "x^T y"),
    (r"x^\intercal y", "x^T y"), (r"W_{1} x", "W_1 x"), (r"\|X\|_F^2", "||X||_F^2"),
    (r"\|X \mathbf{w} - \mathbf{y}\|^2 + \lambda \, \|\mathbf{w}\|^2", "||X w - y||^2 + λ ||w||^2"),
    (r"\sqrt{\mathbf{x}^\top \mathbf{x}}", "sqrt(x^T x)"), (r"\exp\left(-\frac{1}{2} x^\top x\right)", "exp(-(1)/(2) x^T x)"),
    (r"\mathbf{x}^{\circ 2}", "x.^2"), (r"\mathbf{x} \oslash \mathbf{y}", "x ./ y"), (r"\mathbf{1}^\top x", "ones^T x"),
    (r"\lvert s \rvert", "abs(s)"), (r"\langle A, B \rangle", "⟨A, B⟩"), (r"\tfrac{1}{2}\,\|x\|^2", "(1)/(2) ||x||^2"),
    (r"X_{\mathrm{train}} w", "X_train w"), (r"\pi x", "pi x"),
    # every record's LaTeX form reads back as the record (latex_input.record_heads), and its latex_in
    (r"\operatorname{GELU}(x)", "gelu(x)"), (r"\sgn(x)", "sign(x)"), (r"\tr(A X)", "tr(A X)"),
    (r"\log\operatorname{softmax}(z)", "log_softmax(z)"), (r"\left\lvert s \right\rvert", "abs(s)"),
    (r"\sigma\left(x\right)", "sigmoid(x)"), (r"\arctan(x) + \max(x, y)", "arctan(x) + max(x, y)"),
])
def test_latex_reads_as_its_mcalc_spelling(tex, ours):
    assert same(tex, ours)


def test_latex_declarations_and_bindings():
    assert same(r"x \in \mathbb{R}^n; A \in \mathbb{R}^{n \times n}; \mathbf{x}^\top A \mathbf{x}",
                "x: R^n; A: R^(n×n); x^T A x")
    assert same(r"y = X w ,\quad \|y\|^2", "y = X w; ||y||^2")
    assert same(r"W_{1} \mathbf{x}", "W1 x", ["W1: R^(m×n)"])        # W_{1} is how mcalc prints a declared W1


def test_latex_derivative_and_claim():
    r = api.diff(r"\frac{1}{N} \|X \mathbf{w} - \mathbf{y}\|^2", "w")
    assert r.text == "2/N X^T (X w - y)"
    from mcalc.claims import check
    c = check(r"\frac{1}{N} \|X \mathbf{w} - \mathbf{y}\|^2", "w", r"\frac{2}{N} X^\top (X \mathbf{w} - \mathbf{y})")
    assert c.ok


@pytest.mark.parametrize("tex, words, col, width", [
    (r"\mathbf{x}^\top \foo \mathbf{x}", "unknown LaTeX command \\foo", 16, 4),
    (r"\frac{1}{2 x", "the brace after \\frac{…} is not closed", 8, 1),
    (r"\mathbf{x}^\top A \mathbf{x} +", "unexpected end of input", 29, 1),
    (r"\mathbf{x} + \mathbf{z}", "cannot add", 0, 23),
])
def test_latex_errors_point_into_the_latex(tex, words, col, width):
    r = invoke(["shape", tex, "--format", "text", "--where", "x: R^n; y: R^n; z: R^m"])
    assert_clean_failure(r)
    assert message(r).startswith(words), message(r)
    assert caret(r) == (tex, col, width)


def plain(n):
    """The tree with number spellings forgotten (0.5 and \\frac{1}{2} are one number)."""
    from mcalc.nodes import Div, Num, map_children, replace
    if isinstance(n, Div) and isinstance(n.left, Num) and isinstance(n.right, Num):
        return Num(n.left.value / n.right.value, shape=n.shape)         # \frac{1}{2} is the number 1/2
    return replace(n, decimal=False) if isinstance(n, Num) else map_children(n, plain)


def declarations(symbols) -> list[str]:
    return [f"{n}: R^({i.shape[0]}×{i.shape[1]})" + (" symmetric" if i.symmetric else "")
            for n, i in symbols.items() if i.kind == "symbol" and not any("*" in str(d) for d in i.shape)]


def formulas():
    from test_parse import FORMULAS
    return FORMULAS


@pytest.mark.parametrize("formula", formulas())
def test_every_fixture_formula_reads_back_from_its_latex(formula):
    try:
        t = api.typed(formula)
    except McalcError:
        return
    tex = api.latex(formula)
    back = api.typed(tex, declarations(t.symbols))
    assert plain(back.body) == plain(t.body), tex


def derivative_results():
    from derivative_cases import CASES, cached_diff
    out = []
    for c in CASES:
        r = cached_diff(c, "mixed")
        if not isinstance(r, str) and len(r.shape) == 2 and r.tensor is None and not r.bindings:
            out.append(pytest.param(r, id=c.id))
    return out


@pytest.mark.parametrize("r", derivative_results())
def test_every_derivative_result_reads_back_from_its_latex(r):
    from mcalc.render.latex import render_latex
    decls = declarations(r.symbols)
    want = api.typed(r.text, decls).body
    back = api.typed(render_latex(r.node), decls).body
    assert same_value(back, want), render_latex(r.node)


def abstract_results():
    """The abstract-function results of tests/test_abstract.py (∇f, J_g, ∇²f, stacked ∇²g, x'(t),
    x''(t)) that are matrices without bindings, with their declarations."""
    from test_abstract import CASES
    out = []
    for where, expr, wrt, order, _, _ in CASES:
        r = api.diff(expr, wrt, where=where, order=order)
        if len(r.shape) == 2 and not r.bindings:
            out.append(pytest.param(r, where, id=f"{expr} --wrt {wrt} --order {order}"))
    return out


@pytest.mark.parametrize("r, where", abstract_results())
def test_abstract_function_results_read_back_from_their_latex(r, where):
    """\nabla f(u), \nabla^2 f(u), J_{g}(u), x'(t), x''(t) read back as grad_f, hess_f, J_g, J_x, hess_x."""
    decls = declarations(r.symbols) + [where]
    want = api.typed(r.text, decls).body
    back = api.typed(r.latex, decls).body
    assert plain(back) == plain(want), r.latex


def same_value(a, b) -> bool:
    """Equal trees, up to how numbers and quotients are typeset (\frac{1}{N} X and X / N):
    else equal values on random data."""
    if plain(a) == plain(b):
        return True
    import numpy as np
    from mcalc.evaluate import evaluate
    from mcalc.nodes import Sym, walk
    rng = np.random.default_rng(0)
    nodes = list(walk(a)) + list(walk(b))
    sizes = {p: 3 for n in nodes for d in (n.shape or ()) if isinstance(d, str) for p in d.split("*")}
    sizes |= {n.name: 3 for n in nodes if isinstance(n, Size)}

    def size(d):
        return int(np.prod([sizes.get(p, 1) if not p.isdigit() else int(p) for p in d.split("*")])) \
            if isinstance(d, str) else d

    env = {}
    for n in nodes:
        if isinstance(n, Sym) and n.name not in env:
            shape = tuple(size(d) for d in n.shape)
            square = shape[0] == shape[1] and shape != (1, 1)
            env[n.name] = rng.uniform(0.1, 0.3, size=shape) + (np.eye(shape[0]) if square else 0)
    return np.allclose(evaluate(a, env, sizes), evaluate(b, env, sizes))


# ---- the seven misreads of the issue: refused or read as meant ------------------------------------
def test_the_seven_misreads_are_refused_or_read_as_meant():
    from mcalc.nodes import Call, Elementwise
    t = api.typed("S1: R^(n×n); S2: R^(n×n); ln(det(S2)/det(S1))")           # 1: a call, not ln · (...)
    assert isinstance(t.body, (Elementwise, Call)) and not any(isinstance(m, Sym) and m.name == "ln" for m in walk(t.body))
    with pytest.raises(McalcError, match="unknown function sigma; did you mean sigmoid"):   # 2
        api.typed("sigma(W1 x + b1)")
    t = api.typed("r^T softmax(z)")                                            # 3: a call
    assert "softmax" not in t.symbols
    assert "read 'Ax' as one symbol; write 'A x' for a product" in api.typed("x'Ax").notes        # 4
    assert "read 'Xw' as one symbol; write 'X w' for a product" in \
        api.typed("Xw", ["X: R^(n×m)", "w: R^m"]).notes                                             # 5
    with pytest.raises(McalcError, match=r"did you mean R\^\(n×n\)"):          # 6
        api.typed("A x", ["A: R^nxn"])
    assert api.typed("1/N ||X w - y||^2").symbols["N"].kind == "size"          # 7: a positive constant


@pytest.mark.parametrize("tex, shape", [
    (r"\boldsymbol{\mu}^\top A \boldsymbol{\mu}", ("n", 1)), (r"\bm{\mu}^\top \mathbf{x}", ("n", 1)),
    (r"\vec{\mu}^\top \mathbf{x}", ("n", 1)), (r"\boldsymbol{\varepsilon}^\top \boldsymbol{\varepsilon}", ("n", 1)),
    (r"\mu \mathbf{x}", (1, 1)), (r"\boldsymbol{\Sigma}^{-1} \mathbf{x}", ("n", "n")),
])
def test_a_bold_greek_letter_is_an_array_as_mathbf_is(tex, shape):
    r"""\boldsymbol{\mu} (\bm, \vec) is a vector μ, as \mathbf{x} is x; a plain \mu stays a scalar."""
    t = api.typed(tex)
    name = {"mu", "epsilon", "Sigma"} & set(t.symbols)
    assert t.symbols[name.pop()].shape == shape


def test_a_bold_greek_vector_is_differentiated_and_checked():
    from mcalc.verify import verify
    tex = r"(\mathbf{x} - \boldsymbol{\mu})^\top \Sigma^{-1} (\mathbf{x} - \boldsymbol{\mu})"
    for layout in api.LAYOUTS:
        r = api.diff(tex, "mu", where="Sigma: R^(n×n) symmetric", layout=layout)
        assert r.shape in (("n", 1), (1, "n"))
        v = verify(r)
        assert v.conclusive and v.ok, (layout, v.reason)


def test_latex_where_declarations():
    t = api.typed(r"\mathbf{x}^\top A \mathbf{x}", [r"x \in \mathbb{R}^n; A \in \mathbb{R}^{n \times n}"])
    assert t.symbols["A"].shape == ("n", "n") and not t.symbols["A"].inferred
    where = r"A \in \mathbb{Q}^{n \times n}"
    r = invoke(["shape", "x^T A x", "--format", "text", "--where", where])
    assert_clean_failure(r)
    assert message(r).startswith("unexpected 'Q'") and caret(r) == (where, 6, 10)


# ---- the diagonal attribute -------------------------------------------------------------------------
@pytest.mark.parametrize("expr", ["tr(A D)", "x^T D x", "logdet(D)", "tr(D^2)", "||D x - y||^2"])
def test_a_diagonal_variable_gets_the_gradient_on_diagonal_matrices(expr):
    from mcalc.verify import verify
    for layout in api.LAYOUTS:
        r = api.diff(expr, "D", where="D: R^(n×n) diagonal; A: R^(n×n); x: R^n; y: R^n", layout=layout)
        assert "I" in r.text and any(n.startswith("D is diagonal: this is the gradient on diagonal matrices")
                                     for n in r.notes)
        v = verify(r)
        assert v.conclusive and v.ok, (layout, r.text, v.reason)
    assert api.diff("tr(A D)", "D", where="D: R^(n×n) diagonal; A: R^(n×n)").text == "A^T .* I"


@pytest.mark.parametrize("expr, order, flatten", [
    ("D x", 1, False), ("D A", 1, True), ("D B", 1, False), ("exp(D x)", 1, False),
    ("x^T D A D x", 2, True), ("x^T D A D x", 2, False), ("logdet(D)", 2, True), ("sum(exp(D x))", 2, False),
])
def test_a_diagonal_variable_projects_jacobians_and_hessians(expr, order, flatten):
    """J P and P H P with P = diag(vec(I)): verify compares along diagonal directions only, so
    an unprojected answer (whose off-diagonal columns are not 0 here) would fail."""
    from mcalc.verify import verify
    where = "D: R^(n×n) diagonal; A: R^(n×n); x: R^n; B: R^(n×m)"
    for layout in api.LAYOUTS:
        r = api.diff(expr, "D", where=where, order=order, flatten=flatten, layout=layout)
        assert "diag(vec(I" in r.text
        assert any(n.startswith("D is diagonal: the " + ("Hessian" if order == 2 else "derivative along"))
                   for n in r.notes), r.notes
        v = verify(r)
        assert v.conclusive and v.ok, (layout, r.text, v.reason)


def test_the_projection_changes_the_answer():
    """The projected Jacobian differs from the unconstrained one (so the checks above can fail)."""
    import numpy as np
    from mcalc.evaluate import evaluate
    free, diagonal = (api.diff("D x", "D", where=f"D: R^(n×n){w}; x: R^n", flatten=True) for w in ("", " diagonal"))
    env = {"D": np.diag([1.0, 2.0, 3.0]), "x": np.array([[1.0], [2.0], [3.0]])}
    a, b = evaluate(free.node, env, {"n": 3}), evaluate(diagonal.node, env, {"n": 3})
    assert not np.allclose(a, b) and np.allclose(b, a * np.eye(3).reshape(1, 9))


def test_a_diagonal_declaration_must_be_square():
    r = shape_cli("D: R^(n×m) diagonal; D")
    assert_clean_failure(r)
    assert message(r) == "D is declared diagonal but is n×m, not a square matrix"
