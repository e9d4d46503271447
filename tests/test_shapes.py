"""Shape inference (SPEC §1): the seeds' shapes, declared shapes win, inferred ones are
marked, dimensions unify across the formula, and the naming conventions for symbols
whose kind usage leaves open."""
from __future__ import annotations

import pytest

from mcalc import api
from mcalc.errors import ShapeError

SCALAR = (1, 1)


def shapes(expr: str, where=None) -> dict[str, tuple]:
    return {name: info.shape for name, info in api.typed(expr, where).symbols.items()}


def inferred(expr: str, where=None) -> dict[str, bool]:
    return {name: info.inferred for name, info in api.typed(expr, where).symbols.items()}


def dims_equal(a: tuple, b: tuple) -> bool:
    """Shapes equal up to a renaming of the inferred dimension names (n, m, ... are
    made up by the engine), but with the same pattern of equal and distinct names."""
    if len(a) != len(b):
        return False
    ren: dict = {}
    for x, y in zip(a, b):
        if isinstance(x, int) or isinstance(y, int):
            if x != y:
                return False
            continue
        if ren.setdefault(x, y) != y:
            return False
    return len(set(ren.values())) == len(ren)


# ---- seed 000 ----------------------------------------------------------------------------
def test_linear_form_a_t_x():
    s = shapes("a^T x")
    assert s["a"] == s["x"] and s["a"][1] == 1 and isinstance(s["a"][0], str)
    assert api.typed("a^T x").body.shape == SCALAR


def test_quadratic_form_with_declared_x_gives_square_a():
    t = api.typed("x: R^n; x^T A x")
    assert t.body.shape == SCALAR
    assert t.symbols["x"].shape == ("n", 1) and not t.symbols["x"].inferred
    assert t.symbols["A"].shape == ("n", "n") and t.symbols["A"].inferred


def test_quadratic_form_undeclared():
    s = shapes("x^T A x")
    n = s["x"][0]
    assert s["x"] == (n, 1) and s["A"] == (n, n)


def test_affine_map_infers_a_and_b():
    t = api.typed("x: R^n; A x + b")
    m = t.body.shape[0]
    assert t.body.shape == (m, 1) and m != "n" and isinstance(m, str)
    assert t.symbols["A"].shape == (m, "n") and t.symbols["A"].inferred
    assert t.symbols["b"].shape == (m, 1) and t.symbols["b"].inferred
    assert not t.symbols["x"].inferred


def test_affine_map_fully_declared():
    t = api.typed("A: R^(m×n); x: R^n; b: R^m; A x + b")
    assert t.body.shape == ("m", 1)
    assert not any(info.inferred for info in t.symbols.values())


def test_trace_makes_its_argument_square():
    s = shapes("Tr(X)")
    assert s["X"][0] == s["X"][1]
    assert api.typed("Tr(X)").body.shape == SCALAR


def test_linear_regression_loss():
    t = api.typed("X: R^(N×D); 1/N ||X W - y||^2")
    assert t.body.shape == SCALAR
    assert t.symbols["X"].shape == ("N", "D") and not t.symbols["X"].inferred
    assert t.symbols["W"].shape == ("D", 1) and t.symbols["W"].inferred
    assert t.symbols["y"].shape == ("N", 1) and t.symbols["y"].inferred
    # N is the dimension: a scalar constant, not a new symbol to differentiate
    assert t.symbols["N"].shape == SCALAR
    assert t.symbols["N"].kind == "size"
    assert "N" not in t.free_symbols()


def test_linear_regression_with_two_norm_subscript_and_weights_declared():
    t = api.typed("X: R^(N×D); W: R^(D×1); y: R^N; 1/N ||X W - y||_2^2")
    assert t.body.shape == SCALAR
    assert t.symbols["W"].shape == ("D", 1)


def test_dimension_may_also_be_declared_a_scalar():
    t = api.typed("X: R^(N×D); N: R; 1/N ||X w - y||^2")
    assert t.body.shape == SCALAR
    assert t.symbols["N"].shape == SCALAR
    assert t.symbols["w"].shape == ("D", 1)


def test_dimension_name_in_a_formula_is_a_scalar():
    t = api.typed("x: R^n; n x")
    assert t.body.shape == ("n", 1)
    assert t.symbols["n"].shape == SCALAR


def test_regression_chain_through_bindings():
    t = api.typed("X: R^(N×D); yhat = X W; e = yhat - y; L = 1/N e^T e")
    assert t.body.shape == SCALAR
    assert t.symbols["W"].shape == ("D", 1)
    assert t.symbols["y"].shape == ("N", 1)
    assert t.symbols["yhat"].kind == "bound" and t.symbols["yhat"].shape == ("N", 1)
    assert t.symbols["e"].kind == "bound"
    assert t.symbols["L"].kind == "bound" and t.symbols["L"].shape == SCALAR


def test_normal_equation_gradient():
    t = api.typed("X: R^(N×D); 2/N X^T (X W - y)")
    assert t.body.shape == ("D", 1)


def test_bilinear_form():
    t = api.typed("X: R^(m×n); a^T X b")
    assert t.symbols["a"].shape == ("m", 1)
    assert t.symbols["b"].shape == ("n", 1)
    assert t.body.shape == SCALAR


def test_outer_product():
    t = api.typed("a: R^m; b: R^n; a b^T")
    assert t.body.shape == ("m", "n")


def test_trace_of_a_product():
    t = api.typed("X: R^(m×n); Tr(A X)")
    assert t.symbols["A"].shape == ("n", "m")
    t = api.typed("X: R^(m×n); Tr(X^T A X)")
    assert t.symbols["A"].shape == ("m", "m")


def test_determinant_gradient_shape():
    t = api.typed("X: R^(n×n); det(X) (X^-1)^T")
    assert t.body.shape == ("n", "n")
    t = api.typed("X: R^(n×n); det(X) X^-T")
    assert t.body.shape == ("n", "n")


def test_symmetric_quadratic_form_gradient():
    t = api.typed("A: R^(n×n) symmetric; x: R^n; 2 A x")
    assert t.body.shape == ("n", 1)
    assert t.symbols["A"].symmetric
    assert not t.symbols["x"].symmetric


# ---- seed 004 -----------------------------------------------------------------------------
def test_chain_rule_binding_makes_t_a_scalar():
    t = api.typed("x = a t + b; f = x^T x")
    assert t.symbols["t"].shape == SCALAR
    n = t.symbols["a"].shape[0]
    assert t.symbols["a"].shape == (n, 1) and t.symbols["b"].shape == (n, 1)
    assert t.symbols["x"].kind == "bound" and t.symbols["x"].shape == (n, 1)
    assert t.body.shape == SCALAR


def test_chain_rule_in_two_scalars():
    t = api.typed("t: R; s: R; x = a t + c s + b; f = x^T A x")
    n = t.symbols["x"].shape[0]
    assert t.symbols["A"].shape == (n, n)
    assert t.symbols["t"].shape == t.symbols["s"].shape == SCALAR
    assert t.symbols["c"].shape == (n, 1)


def test_chain_rule_in_two_undeclared_scalars():
    t = api.typed("x = a t + c s + b\nf = x^T A x")
    assert t.symbols["t"].shape == SCALAR
    assert t.symbols["s"].shape == SCALAR


def test_vector_field_jacobian():
    t = api.typed("A: R^(m×n); A x")
    assert t.symbols["x"].shape == ("n", 1)
    assert t.body.shape == ("m", 1)


def test_matrix_with_respect_to_a_vector_shapes():
    t = api.typed("A: R^(m×n); x: R^p; A")
    assert t.body.shape == ("m", "n")


def test_row_vector_results():
    t = api.typed("x: R^n; x^T (A + A^T)")
    assert t.body.shape == (1, "n")
    t = api.typed("x: R^n; 2 x^T")
    assert t.body.shape == (1, "n")


# ---- declared shapes win; inferred ones are marked ---------------------------------------------
def test_declared_shape_wins_over_the_upper_case_convention():
    t = api.typed("A: R^n; A")
    assert t.symbols["A"].shape == ("n", 1)
    assert not t.symbols["A"].inferred


def test_declared_shape_wins_over_the_greek_convention():
    assert shapes("lambda: R^n; lambda")["lambda"] == ("n", 1)
    assert shapes("λ: R^n; lambda^T x")["lambda"] == ("n", 1)


def test_declared_shape_wins_over_the_lower_case_convention():
    t = api.typed("x: R^(n×m); x")
    assert t.symbols["x"].shape == ("n", "m")
    t = api.typed("x: R; x")
    assert t.symbols["x"].shape == SCALAR


def test_declared_integer_dimensions_propagate():
    t = api.typed("x: R^3; A x")
    assert t.symbols["x"].shape == (3, 1)
    assert t.symbols["A"].shape[1] == 3
    t = api.typed("A: R^(2×3); B: R^(3×4); A B")
    assert t.body.shape == (2, 4)


def test_declared_in_where_equals_inline():
    assert shapes("x^T A x", where="A: R^(n×n)") == {"x": ("n", 1), "A": ("n", "n")}
    assert inferred("x^T A x", where=["A: R^(n×n)"]) == {"x": True, "A": False}


def test_inferred_flags():
    flags = inferred("x: R^n; A x + b")
    assert flags == {"x": False, "A": True, "b": True}


def test_declared_shape_is_not_changed_by_usage():
    with pytest.raises(ShapeError):
        api.typed("x: R^n; x^2")
    with pytest.raises(ShapeError):
        api.typed("x: R^n; tr(x)")


# ---- conventions for kinds usage leaves open --------------------------------------------------
@pytest.mark.parametrize("name", ["lambda", "λ", "alpha", "α", "sigma", "σ", "beta", "theta", "eta", "mu"])
def test_greek_names_are_scalars(name):
    t = api.typed(f"{name} x")
    (greek,) = [k for k in t.symbols if k != "x"]
    assert t.symbols[greek].shape == SCALAR
    assert t.symbols["x"].shape[1] == 1 and t.symbols["x"].shape[0] != 1
    assert api.typed(name).body.shape == SCALAR


def test_greek_letter_and_name_are_one_symbol():
    t = api.typed("λ x + lambda y")
    assert [k for k in t.symbols if k.startswith("lambda") or k == "λ"] == ["lambda"]


@pytest.mark.parametrize("name", ["A", "X", "W1", "X_train", "M"])
def test_upper_case_undeclared_names_are_matrices(name):
    shape = api.typed(name).symbols[name].shape
    assert len(shape) == 2
    assert all(isinstance(d, str) for d in shape)
    assert shape[0] != shape[1], "nothing says the matrix is square"


@pytest.mark.parametrize("name", ["x", "b", "w", "x_1", "y_hat", "a2"])
def test_lower_case_undeclared_names_are_column_vectors(name):
    shape = api.typed(name).symbols[name].shape
    assert shape[1] == 1 and isinstance(shape[0], str)


def test_usage_decides_before_the_convention():
    # A used where a vector is needed is a vector
    s = shapes("A + x")
    assert s["A"] == s["x"] and s["A"][1] == 1
    # x used as an exponent base of a scalar power is a scalar
    assert shapes("x^2")["x"] == SCALAR


def test_dimensions_unify_across_the_formula():
    t = api.typed("x: R^n; y: R^m; x^T A y + x^T B y")
    assert t.symbols["A"].shape == ("n", "m")
    assert t.symbols["B"].shape == ("n", "m")
    s = shapes("A B C")
    assert s["A"][1] == s["B"][0] and s["B"][1] == s["C"][0]


def test_transpose_and_inverse_shapes():
    t = api.typed("A: R^(m×n); A^T")
    assert t.body.shape == ("n", "m")
    s = shapes("inv(X)")
    assert s["X"][0] == s["X"][1]
    t = api.typed("X: R^(n×n); X^-T")
    assert t.body.shape == ("n", "n")


def test_elementwise_keeps_the_shape():
    t = api.typed("x: R^n; exp(x) .* y ./ z + x.^2")
    assert t.body.shape == ("n", 1)
    assert t.symbols["y"].shape == ("n", 1)


def test_diag_goes_both_ways():
    assert api.typed("x: R^n; diag(x)").body.shape == ("n", "n")
    assert api.typed("A: R^(n×n); diag(A)").body.shape == ("n", 1)


def test_vec_and_sum_and_norms():
    t = api.typed("X: R^(m×n); vec(X)")
    assert t.body.shape[1] == 1
    assert set(str(t.body.shape[0]).split("*")) == {"m", "n"}
    assert api.typed("X: R^(m×n); sum(X)").body.shape == SCALAR
    assert api.typed("X: R^(m×n); ||X||_F").body.shape == SCALAR
    assert api.typed("x: R^n; ||x||_1").body.shape == SCALAR


def test_kronecker_of_declared_integers():
    assert api.typed("A: R^(2×3); B: R^(4×5); A ⊗ B").body.shape == (8, 15)
    assert api.typed("A: R^(2×3); B: R^(4×5); C: R^(2×2); kron(A ⊗ B, C)").body.shape == (16, 30)


def test_kronecker_of_named_dimensions():
    t = api.typed("A: R^(a×b); B: R^(c×d); A ⊗ B")
    rows, cols = t.body.shape
    assert set(str(rows).split("*")) == {"a", "c"}
    assert set(str(cols).split("*")) == {"b", "d"}


@pytest.mark.parametrize("expr", [
    "A: R^(a×b); B: R^(c×d); C: R^(e×f); A ⊗ B ⊗ C",
    "A ⊗ B ⊗ C",
    "A ⊗ (B ⊗ C)",
    "vec(A ⊗ B)",
])
def test_nested_kronecker_shapes_are_readable(expr):
    """A product of products of dimensions must come out as names joined by *, never
    as a Python object's repr."""
    t = api.typed(expr)
    for d in t.body.shape:
        assert isinstance(d, (int, str))
        assert "object" not in str(d) and "<" not in str(d), t.body.shape
    if expr.startswith("A: R^(a×b)"):
        rows, cols = t.body.shape
        assert sorted(str(rows).split("*")) == ["a", "c", "e"]
        assert sorted(str(cols).split("*")) == ["b", "d", "f"]


def test_identity_and_ones_take_their_size_from_the_context():
    t = api.typed("x: R^n; I x + ones")
    assert t.body.shape == ("n", 1)
    assert api.typed("A: R^(n×n); A + I").body.shape == ("n", "n")
    assert api.typed("x: R^n; 𝟏^T x").body.shape == SCALAR


def test_zero_takes_its_shape_from_the_context():
    assert api.typed("x: R^n; x + 0").body.shape == ("n", 1)
    assert api.typed("A: R^(m×n); A + 0").body.shape == ("m", "n")


def test_literal_zero_factor_scales():
    """`0 x` is the scalar 0 times x (a number in front scales), so it has x's shape."""
    assert api.typed("x: R^n; 2 x").body.shape == ("n", 1)
    assert api.typed("x: R^n; 0 x").body.shape == ("n", 1)


def test_numbers_are_scalars():
    for expr in ("2", "0.5", "1e-3", "1/2", "2.5e2"):
        assert api.typed(expr).body.shape == SCALAR, expr


def test_shape_api_matches_typed():
    r = api.shape("x: R^n; A x + b")
    assert r.shape == api.typed("x: R^n; A x + b").body.shape
    assert r.symbols["x"].shape == ("n", 1)


def test_shapes_are_stable_under_renaming():
    a = api.typed("x: R^n; A x + b")
    b = api.typed("u: R^n; M u + c")
    assert dims_equal(a.symbols["A"].shape, b.symbols["M"].shape)
    assert dims_equal(a.body.shape, b.body.shape)
