"""The language (SPEC §1): every fixture formula parses and infers, the text renderer
round-trips, and the grammar's precedence is the one people write on paper."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcalc import api
from mcalc.nodes import (Add, Det, Diag, Div, Elementwise, EPow, HadDiv, Hadamard, Identity, Inverse,
                         Kron, LogDet, Mul, Neg, Node, Norm, Num, Ones, Power, Size, Sum, Sym, Trace,
                         Transpose, Vec, Zero, map_children, replace)
from mcalc.parse import Program, parse_program
from mcalc.render.text import render_text

FIXTURES = Path(__file__).parent / "fixtures"


def load_formulas() -> list[str]:
    out = []
    for raw in (FIXTURES / "formulas.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            out.append(line.replace("\\n", "\n"))
    return out


ALL_LINES = load_formulas()
FORMULAS = list(dict.fromkeys(ALL_LINES))  # the seeds repeat some operator examples


def ids(f: str) -> str:
    return f.replace("\n", "⏎")


# ---- helpers -----------------------------------------------------------------------------
def decl_text(d) -> str:
    dims = tuple(d.dims) if d.dims else (1, 1)
    if dims == (1, 1):
        shape = "R"
    elif dims[1] == 1:
        shape = f"R^{dims[0]}"
    else:
        shape = f"R^({dims[0]}×{dims[1]})"
    return f"{d.name}: {shape}" + (" symmetric" if d.symmetric else "")


def rerender(t) -> str:
    """The whole program again, from the typed tree: declarations, bindings, body."""
    parts = [decl_text(d) for d in t.program.decls]
    parts += [f"{name} = {render_text(value)}" for name, value in t.bindings]
    parts.append(render_text(t.body))
    return "; ".join(parts)


def body(text: str) -> Node:
    return parse_program(text).body


def flat_sums(n: Node) -> Node:
    """The tree with nested sums flattened: a + (b + c) and (a + b) + c are one sum.
    The text renderer writes both as `a + b + c`, which is the same formula; likewise
    (M^-1)^2 and M^-2."""
    n = map_children(n, flat_sums)
    if isinstance(n, Power) and isinstance(n.arg, Inverse) and not isinstance(n.arg.arg, Transpose) \
            and n.shape != (1, 1) and n.exp > 0:
        return replace(n, arg=n.arg.arg, exp=-n.exp)       # (M^-1)^2 is written M^-2, one formula
    if isinstance(n, Add):
        args = []
        for a in n.args:
            args.extend(a.args if isinstance(a, Add) else (a,))
        return replace(n, args=tuple(args))
    return n


def factors(n: Node) -> list[Node]:
    """The factors of a (possibly nested, binary) product, in order."""
    if isinstance(n, Mul):
        out = []
        for a in n.args:
            out.extend(factors(a))
        return out
    return [n]


# ---- fixtures ----------------------------------------------------------------------------
def test_fixture_file_is_substantial():
    assert len(FORMULAS) >= 250


@pytest.mark.parametrize("formula", FORMULAS, ids=ids)
def test_fixture_parses_and_infers(formula):
    program = parse_program(formula)
    assert isinstance(program, Program)
    assert program.body is not None
    t = api.typed(formula)
    assert t.body.shape is not None and len(t.body.shape) == 2
    for info in t.symbols.values():
        assert len(info.shape) == 2
        assert all(isinstance(d, (int, str)) for d in info.shape), info


@pytest.mark.parametrize("formula", FORMULAS, ids=ids)
def test_fixture_round_trips_through_text(formula):
    t1 = api.typed(formula)
    again = rerender(t1)
    t2 = api.typed(again)
    assert t2.body == t1.body, f"{formula!r} was rendered as {again!r}"
    assert t2.bindings == t1.bindings, f"{formula!r} was rendered as {again!r}"
    # and the rendering is a fixpoint
    assert rerender(t2) == again


@pytest.mark.parametrize("formula", FORMULAS, ids=ids)
def test_fixture_untyped_tree_round_trips(formula):
    """parse(text(parse(f))) == parse(f) on the raw tree (before inference)."""
    p = parse_program(formula)
    text = render_text(p.body)
    assert body(text) == p.body, f"{formula!r} was rendered as {text!r}"


def test_every_spelling_of_the_spec_table_is_in_the_fixtures():
    blob = "\n".join(FORMULAS)
    spellings = [
        "W1", "x_1", "X_train", "lambda", "λ", "alpha", "α", "sigma", "σ",
        "0.5", "1e-3", "1/2", "A x", "*", "@", "+", " - ", "-x", "/ s",
        "x^T", "x'", "x^⊤", "transpose(", "X^-1", "X^{-1}", "inv(", "X^-T",
        "s^2", "A^3", "x.^2", ".*", "⊙", "∘", "./", ".^", "⊗", "kron(",
        "‖x‖", "||x||", "norm(", "||x||_1", "||x||_2", "||X||_F", "||x||^2",
        "tr(", "Tr(", "trace(", "det(", "logdet(", "diag(", "sum(", "vec(",
        "exp(", "log(", "sin(", "cos(", "tan(", "sinh(", "cosh(", "tanh(", "sqrt(",
        "abs(", "sigmoid(", "softplus(", "relu(",
        "I", "ones", "𝟏", "0", "(", "{", "=",
        "R^n", "R^(n×n)", "R^{n x n}", "R^(n,n)", ": R;", "R^3", "ℝ", "symmetric",
    ]
    missing = [s for s in spellings if s not in blob]
    assert not missing
    assert any("\n" in f and "=" in f for f in FORMULAS), "a binding split by a new line"


def test_greek_letters_and_names_are_one_symbol():
    for letter, name in (("λ", "lambda"), ("α", "alpha"), ("σ", "sigma")):
        assert body(f"{letter} x") == body(f"{name} x")
        t = api.typed(f"{letter} + {name}")
        assert list(t.symbols) == [name]


# ---- precedence --------------------------------------------------------------------------
def test_quadratic_form_is_a_product_of_three_factors():
    b = body("x^T A x")
    assert isinstance(b, Mul)
    assert factors(b) == [Transpose(Sym("x")), Sym("A"), Sym("x")]


def test_negation_applies_to_the_whole_product():
    b = body("-x^T x")
    assert isinstance(b, Neg)
    assert factors(b.arg) == [Transpose(Sym("x")), Sym("x")]


def test_number_in_front_scales_the_product():
    b = body("2 A x")
    assert factors(b) == [Num(Fraction(2)), Sym("A"), Sym("x")]
    t = api.typed("x: R^n; A: R^(m×n); 2 A x")
    assert t.body.shape == ("m", 1)


def test_sum_binds_after_the_product():
    b = body("A x + b")
    assert isinstance(b, Add)
    assert b.args == (Mul((Sym("A"), Sym("x"))), Sym("b"))


def test_difference_is_a_sum_with_a_negated_term():
    b = body("A x - b")
    assert isinstance(b, Add)
    assert b.args == (Mul((Sym("A"), Sym("x"))), Neg(Sym("b")))


def test_one_over_n_scales_the_squared_norm():
    b = body("1/N ||X w - y||^2")
    assert isinstance(b, Mul)
    scale, sq = factors(b)
    assert scale == Div(Num(Fraction(1)), Sym("N"))
    assert isinstance(sq, Power) and sq.exp == 2
    assert isinstance(sq.arg, Norm) and sq.arg.kind is None
    assert sq.arg.arg == Add((Mul((Sym("X"), Sym("w"))), Neg(Sym("y"))))
    # with X declared, N is the dimension: a positive scalar constant
    t = api.typed("X: R^(N×D); 1/N ||X w - y||^2")
    assert t.body.shape == (1, 1)
    assert t.body.args[0] == Div(Num(Fraction(1), shape=(1, 1)), Size("N", shape=(1, 1)), shape=(1, 1))


def test_prime_binds_tighter_than_juxtaposition():
    assert factors(body("x' A x")) == [Transpose(Sym("x")), Sym("A"), Sym("x")]
    assert factors(body("A x'")) == [Sym("A"), Transpose(Sym("x"))]
    assert body("x' y") == body("x^T y")


def test_postfix_operators_bind_to_the_nearest_operand():
    assert factors(body("A B^T")) == [Sym("A"), Transpose(Sym("B"))]
    assert factors(body("A B^-1")) == [Sym("A"), Inverse(Sym("B"))]
    assert factors(body("2 x.^2")) == [Num(Fraction(2)), EPow(Sym("x"), Fraction(2))]
    assert body("-s^2") == Neg(Power(Sym("s"), Fraction(2)))
    assert body("(A B)^T") == Transpose(Mul((Sym("A"), Sym("B"))))


def test_spellings_build_the_same_tree():
    same = [
        ("x^T y", "x' y", "x^⊤ y", "transpose(x) y", "xᵀ y", "x^{T} y"),
        ("X^-1", "X^{-1}", "inv(X)"),
        ("X^-T", "X^{-T}", "inv(X^T)", "(X^T)^-1"),
        ("x .* y", "x ⊙ y", "x ∘ y"),
        ("A ⊗ B", "kron(A, B)"),
        ("||x||", "‖x‖", "norm(x)"),
        ("tr(A)", "Tr(A)", "trace(A)"),
        ("A x", "A * x", "A @ x"),
        ("(x + y)^T z", "{x + y}^T z"),
        ("ones^T x", "𝟏^T x"),
        ("||x||_1", "norm(x, 1)"),
    ]
    for group in same:
        first = body(group[0])
        for other in group[1:]:
            assert body(other) == first, (group[0], other)


def test_inverse_transpose_is_the_inverse_of_the_transpose():
    assert body("X^-T") == Inverse(Transpose(Sym("X")))


def test_constants_are_their_own_nodes():
    assert body("I") == Identity()
    assert body("ones") == Ones()
    assert body("𝟏") == Ones()
    assert body("0") == Zero()


def test_elementwise_and_matrix_functions():
    assert body("exp(x)") == Elementwise("exp", Sym("x"))
    assert body("relu(x)") == Elementwise("relu", Sym("x"))
    assert body("tr(A)") == Trace(Sym("A"))
    assert body("det(A)") == Det(Sym("A"))
    assert body("logdet(A)") == LogDet(Sym("A"))
    assert body("diag(x)") == Diag(Sym("x"))
    assert body("sum(x)") == Sum(Sym("x"))
    assert body("vec(X)") == Vec(Sym("X"))
    assert body("||X||_F") == Norm(Sym("X"), "F")
    assert body("x ./ y") == HadDiv(Sym("x"), Sym("y"))
    assert body("x .^ 3") == EPow(Sym("x"), Fraction(3))
    assert body("A ⊗ B") == Kron(Sym("A"), Sym("B"))
    assert body("x ⊙ y") == Hadamard(Sym("x"), Sym("y"))


def test_bindings_split_by_semicolons_and_new_lines_are_the_same_program():
    a = parse_program("y = X w; L = 1/N ||y - t||^2")
    b = parse_program("y = X w\nL = 1/N ||y - t||^2")
    assert [(x.name, x.value) for x in a.bindings] == [(x.name, x.value) for x in b.bindings]
    assert a.body == b.body == Sym("L")
    assert [x.name for x in a.bindings] == ["y", "L"]


def test_declarations_in_every_spelling_give_the_same_shape():
    for decl in ("A: R^(n×n)", "A: R^{n x n}", "A: R^(n,n)", "A: ℝ^(n×n)", "A: R^(n x n)"):
        t = api.typed(f"{decl}; A")
        assert t.symbols["A"].shape == ("n", "n"), decl
        assert not t.symbols["A"].inferred
    assert api.typed("t: R; t").symbols["t"].shape == (1, 1)
    assert api.typed("x: R^3; x").symbols["x"].shape == (3, 1)
    assert api.typed("x: ℝ^n; x").symbols["x"].shape == ("n", 1)
    assert api.typed("A: R^(n×n) symmetric; A").symbols["A"].symmetric


def test_where_declarations_equal_inline_ones():
    inline = api.typed("x: R^n; A: R^(n×n); x^T A x")
    where = api.typed("x^T A x", where="x: R^n; A: R^(n×n)")
    where2 = api.typed("x^T A x", where=["x: R^n", "A: R^(n×n)"])
    assert inline.body == where.body == where2.body


def test_comments_are_ignored():
    assert body("x^T A x  # a quadratic form") == body("x^T A x")


# ---- text round trip of specific shapes ----------------------------------------------------
ROUND_TRIP = [
    "0.5 x", "1e-3 x", "1 x", "x s^-2", "s^-2 x", "(X^-1)^T", "det(X) (X^-1)^T",
    "(X^-1)'", "(X^-T)^-1", "(A^-1)^-1", "(A^-1).^2", "(2).^3 s", "1 2 x",
    "(A ⊗ B)^T", "x - -y", "-(2 x)", "(-2) x", "x^T^T", "(A^-T)^T", "(A^2)^-1",
]


@pytest.mark.parametrize("formula", ROUND_TRIP)
def test_text_round_trip(formula):
    t1 = api.typed(formula)
    text = render_text(t1.body)
    t2 = api.typed(text)
    assert t2.body == t1.body, f"{formula!r} was rendered as {text!r}"


# ---- hypothesis: random well-typed trees ----------------------------------------------------
# Declared symbols, by kind: S scalar, N/M vectors R^n/R^m, R row 1×n, NN/MN/NM matrices.
DECLS = "s: R; t: R; x: R^n; y: R^n; z: R^m; A: R^(n×n); B: R^(n×n); C: R^(m×n); D: R^(n×m)"
LEAVES = {
    "S": [Sym("s"), Sym("t"), Sym("alpha")],
    "N": [Sym("x"), Sym("y")],
    "M": [Sym("z")],
    "R": [],
    "NN": [Sym("A"), Sym("B")],
    "MN": [Sym("C")],
    "NM": [Sym("D")],
}
FUNCS = ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sqrt", "abs", "sigmoid",
         "softplus", "relu")
EXPONENTS = (Fraction(2), Fraction(3), Fraction(1, 2), Fraction(-2), Fraction(-1, 2))


@st.composite
def tree(draw, kind: str, depth: int = 4):
    """A parse-shaped tree (binary Add/Mul, a - b as Add(a, Neg(b))) of the given kind."""
    leaves = list(LEAVES[kind])
    if kind == "S":
        leaves.append(Num(Fraction(draw(st.integers(1, 12)))))
    if depth <= 0 or (leaves and draw(st.integers(0, 3)) == 0):
        if not leaves:  # the row kind has no leaf of its own
            return Transpose(draw(tree("N", 0)))
        return draw(st.sampled_from(leaves))
    sub = lambda k: tree(k, depth - 1)  # noqa: E731
    same = lambda: draw(sub(kind))  # noqa: E731
    options = [
        lambda: Add((same(), same())),
        lambda: Add((same(), Neg(same()))),
        lambda: Neg(same()),
        lambda: Mul((draw(sub("S")), same())),
        lambda: Div(same(), draw(sub("S"))),
    ]
    if kind in ("S", "N", "M", "NN", "MN"):
        options += [
            lambda: Hadamard(same(), same()),
            lambda: HadDiv(same(), same()),
            lambda: Elementwise(draw(st.sampled_from(FUNCS)), same()),
            lambda: EPow(same(), draw(st.sampled_from(EXPONENTS[:3]))),
        ]
    if kind == "S":
        options += [
            lambda: Mul((same(), same())),
            lambda: Power(same(), draw(st.sampled_from(EXPONENTS))),
            lambda: Mul((Mul((Transpose(draw(sub("N"))), draw(sub("NN")))), draw(sub("N")))),
            lambda: Mul((draw(sub("R")), draw(sub("N")))),
            lambda: Trace(draw(sub("NN"))),
            lambda: Det(draw(sub("NN"))),
            lambda: LogDet(draw(sub("NN"))),
            lambda: Sum(draw(sub(draw(st.sampled_from(["N", "M", "NN", "MN"]))))),
            lambda: Norm(draw(sub("N")), draw(st.sampled_from([None, "1", "2"]))),
            lambda: Norm(draw(sub("MN")), draw(st.sampled_from([None, "F"]))),
            lambda: Power(Norm(draw(sub("N"))), Fraction(2)),
            lambda: Sum(Kron(draw(sub("NN")), draw(sub("MN")))),
            lambda: Mul((Transpose(Ones()), draw(sub("N")))),
            lambda: Add((same(), Zero())),
        ]
    if kind == "N":
        options += [
            lambda: Mul((draw(sub("NN")), same())),
            lambda: Mul((same(), draw(sub("S")))),
            lambda: Mul((draw(sub("NM")), draw(sub("M")))),
            lambda: Mul((Inverse(draw(sub("NN"))), same())),
            lambda: Transpose(draw(sub("R"))),
            lambda: Diag(draw(sub("NN"))),
            lambda: Add((same(), Ones())),
        ]
    if kind == "M":
        options += [lambda: Mul((draw(sub("MN")), draw(sub("N"))))]
    if kind == "R":
        options += [
            lambda: Transpose(draw(sub("N"))),
            lambda: Mul((draw(sub("R")), draw(sub("NN")))),
        ]
    if kind == "NN":
        options += [
            lambda: Mul((same(), same())),
            lambda: Transpose(same()),
            lambda: Inverse(same()),
            lambda: Inverse(Transpose(same())),
            lambda: Power(same(), Fraction(draw(st.integers(2, 4)))),
            lambda: Diag(draw(sub("N"))),
            lambda: Mul((draw(sub("N")), draw(sub("R")))),
            lambda: Mul((draw(sub("NM")), draw(sub("MN")))),
            lambda: Add((same(), Identity())),
        ]
    if kind == "MN":
        options += [
            lambda: Mul((same(), draw(sub("NN")))),
            lambda: Transpose(draw(sub("NM"))),
            lambda: Mul((draw(sub("M")), draw(sub("R")))),
        ]
    if kind == "NM":
        options += [lambda: Transpose(draw(sub("MN")))]
    return draw(st.sampled_from(options))()


KINDS = ("S", "N", "M", "R", "NN", "MN", "NM")
EXPECTED_SHAPE = {"S": (1, 1), "N": ("n", 1), "M": ("m", 1), "R": (1, "n"),
                  "NN": ("n", "n"), "MN": ("m", "n"), "NM": ("n", "m")}


@st.composite
def typed_formula(draw):
    kind = draw(st.sampled_from(KINDS))
    return kind, draw(tree(kind))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typed_formula())
def test_random_trees_round_trip_through_text(case):
    kind, node = case
    text = render_text(node)
    parsed = parse_program(f"{DECLS}; {text}").body
    assert flat_sums(parsed) == flat_sums(node), f"rendered as {text!r}"
    t = api.typed(f"{DECLS}; {text}")
    assert t.body.shape == EXPECTED_SHAPE[kind], text
    again = render_text(t.body)
    assert api.typed(f"{DECLS}; {again}").body == t.body, f"{text!r} → typed → {again!r}"
