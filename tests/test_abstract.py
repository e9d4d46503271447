"""Issue 16: the chain rule with functions left abstract (seed 000's L = f(g(x)), seed 004's
f(x(t))). Each case is checked against finite differences on random smooth functions with
exact derivatives, in three layouts, through the generated NumPy (which takes the functions
as callables), and its text is read back as a claim."""
import numpy as np
import pytest

import mcalc.api as api
from mcalc.claims import check
from mcalc.errors import DiffError, McalcError, ParseError
from mcalc.verify import dim_value, pick_sizes, result_value, sample, verify

LAYOUTS = ("mixed", "numerator", "denominator")
F = "f: R^m -> R"
G = "g: R^n -> R^m"
CURVE = "x: R -> R^n"

CASES = [
    # where, formula, wrt, order, mixed text, numerator text
    (F, "f(A x + b)", "x", 1, "A^T grad_f(A x + b)", "grad_f(A x + b)^T A"),
    (f"{F}; {G}", "f(g(x))", "x", 1, "J_g(x)^T grad_f(g(x))", "grad_f(g(x))^T J_g(x)"),
    ("f: R^n -> R; " + CURVE, "f(x(t))", "t", 1, None, None),
    (F, "f(A x + b)", "x", 2, "A^T hess_f(A x + b) A", "A^T hess_f(A x + b) A"),
    (G, "g(A x)", "x", 1, "J_g(A x) A", "J_g(A x) A"),
    (F, "f(X w)", "X", 1, "grad_f(X w) w^T", None),
    (F, "f(X w)", "w", 2, "X^T hess_f(X w) X", None),
    (F, "f(X w)", "X", 2, None, None),
    (F, "f(A x) x", "x", 1, None, None),
    ("h: R -> R", "h(x^T x)", "x", 2, None, None),
    (F, "f(A x)^2 + ||x||^2", "x", 1, None, None),
    (f"{F}; {G}", "y = g(x); L = f(y) + y^T y", "x", 1, None, None),
    (F, "exp(f(A x))", "x", 2, None, None),
    # second derivatives through a vector-valued g (its components' Hessians stacked, hess_g)
    # and of a curve (hess_x(t) = x''(t))
    (f"{F}; {G}", "f(g(x))", "x", 2, "(grad_f(g(x))^T ⊗ I_n) hess_g(x) + J_g(x)^T hess_f(g(x)) J_g(x)",
     "(grad_f(g(x))^T ⊗ I_n) hess_g(x) + J_g(x)^T hess_f(g(x)) J_g(x)"),
    ("f: R^n -> R; " + CURVE, "f(x(t))", "t", 2, "grad_f(x(t))^T hess_x(t) + J_x(t)^T hess_f(x(t)) J_x(t)", None),
    (CURVE, "a^T x(t)", "t", 2, "a^T hess_x(t)", None),
    (CURVE, "x(t)", "t", 1, "J_x(t)", None),
    (G, "g(x)^T g(x)", "x", 2, "2 ((g(x)^T ⊗ I_n) hess_g(x) + J_g(x)^T J_g(x))", None),
    ("g: R^n -> R^n", "sum(g(A x))", "x", 2, "A^T (ones_n^T ⊗ I_n) hess_g(A x) A", None),
    (f"{F}; {G}", "f(g(A x + b))", "x", 2, None, None),
    (f"{F}; {G}", "f(g(X w))", "w", 2, None, None),
    (f"{F}; {G}", "f(g(X w))", "X", 2, None, None),              # p×q×p×q
    (G, "a^T J_g(x) v", "x", 1, None, None),                       # through dJ_g, by the adjoint
    (G, "J_g(x) v", "x", 1, None, None),                           # a Jacobian through dJ_g
    (f"{F}; {G}", "f(g(x)) + sin(y^T g(x))", "x", 2, None, None),
    (f"{F}; {G}", "f(g(x)) + y^T g(x)", "(x,y)", 2, None, None),    # joint: the mixed blocks J_g(x)^T
]


def numpy_with_callables(r, seed=5):
    """Run the generated derivative on random data, the abstract functions as callables."""
    ns = {}
    exec(r.numpy, ns)  # generated code, not user text
    rng = np.random.default_rng(seed)
    sizes = pick_sizes(r.typed.dims, rng)
    env = sample(r.typed, rng, sizes, [r.function])
    args = {}
    for name, info in r.symbols.items():
        a = env[name]
        args[name] = a.item() if info.shape == (1, 1) else (a[:, 0] if info.shape[1] == 1 else a)
    for sig in r.typed.program.functions:
        fn, d1, d2 = env[sig.name]
        args[sig.name] = fn
        args[("grad_" if sig.codomain == 1 else "J_") + sig.name] = d1
        args["hess_" + sig.name] = d2
    import inspect
    wanted = inspect.signature(ns["derivative"]).parameters
    args.update({k: v for k, v in sizes.items() if k in wanted and k not in args})   # sizes no argument carries
    out = ns["derivative"](**{k: v for k, v in args.items() if k in wanted})
    want = result_value(r, env, sizes)
    shape = tuple(dim_value(d, sizes) for d in r.shape)
    return np.reshape(out, shape), np.reshape(want, shape)


@pytest.mark.parametrize("where, expr, wrt, order, mixed, numerator", CASES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_chain_rule_with_abstract_functions(where, expr, wrt, order, mixed, numerator, layout):
    r = api.diff(expr, wrt, where=where, layout=layout, order=order)
    v = verify(r, trials=2)
    assert v.ok and v.conclusive, (r.text, v.max_rel_error)
    got, want = numpy_with_callables(r)
    assert np.allclose(got, want, rtol=1e-9, atol=1e-9)
    expected = {"mixed": mixed, "numerator": numerator}.get(layout)
    if expected:
        assert r.text == expected
    if len(r.shape) == 2:
        c = check(expr, wrt, r.text, where=where, layout=layout, order=order)
        assert c.ok, c.message


def test_inline_declaration_and_where_agree():
    a = api.diff("f: R^m -> R; f(A x + b)", "x")
    b = api.diff("f(A x + b)", "x", where="f: R^m → R")
    assert a.text == b.text == "A^T grad_f(A x + b)"


def test_curve_derivative_reads_as_a_paper_would():
    r = api.diff("f(x(t))", "t", where="f: R^n -> R; x: R -> R^n")
    from mcalc.render.unicode import render_unicode
    assert "x'(t)" in render_unicode(r.node) and "∇f(x(t))" in render_unicode(r.node)
    assert r"\nabla f" in r.latex and "x'" in r.latex


def test_latex_and_unicode_of_gradient_and_hessian():
    r = api.diff("f(A x + b)", "x", where=F, order=2)
    assert r.latex.count(r"\nabla^2 f") == 1
    r = api.diff("f(g(x))", "x", where=f"{F}; {G}")
    assert "J_{g}" in r.latex and r"\nabla f" in r.latex


def test_a_wrong_claim_fails_on_random_functions():
    c = check("f(A x + b)", "x", "2 A^T grad_f(A x + b)", where=F)
    assert not c.ok
    c = check("f(g(x))", "x", "J_g(x)^T grad_f(g(x)) + J_g(x)^T grad_f(x)", where=f"f: R^n -> R; g: R^n -> R^n")
    assert not c.ok


@pytest.mark.parametrize("expr, where, error", [
    ("f x", F, ParseError),                       # a function is called
    ("f + 1", F, ParseError),
    ("grad_g(x)", G, ParseError),                 # g is vector-valued: J_g
    ("J_f(x)", F, ParseError),                    # f is scalar-valued: grad_f
    ("f(X)", "f: R^(m×n) -> R", ParseError),      # functions map R^n, not matrices
])
def test_misuse_is_an_error(expr, where, error):
    with pytest.raises(error):
        api.diff(expr, "x", where=where)


def test_third_derivatives_are_refused_by_name():
    with pytest.raises(DiffError, match="hess_f|∇²f"):
        api.diff("grad_f(A x)^T c", "x", where=F, order=2)
    with pytest.raises(DiffError, match="∇²g"):
        api.diff("sum(J_g(x))", "x", where="g: R^n -> R^n", order=2)
    with pytest.raises(DiffError, match="∇²x"):
        api.diff("a^T hess_x(t)", "t", where=CURVE)


def test_stacked_hessians_are_explained_and_have_their_shape():
    r = api.diff("f(g(x))", "x", where=f"{F}; {G}", order=2)
    assert any("stacks the Hessians" in n and "Σ_k c_k ∇²g_k(u)" in n for n in r.notes), r.notes
    assert tuple(map(str, api.typed("hess_g(x)", where=G).body.shape)) == ("m*n", "n")
    assert api.typed("hess_x(t)", where=CURVE).body.shape == ("n", 1)
    r = api.diff("f(x(t))", "t", where="f: R^n -> R; " + CURVE, order=2)
    assert any("x''(t)" in n for n in r.notes)
    from mcalc.render.unicode import render_unicode
    assert "x''(t)" in render_unicode(r.node) and "x''" in r.latex


def test_a_wrong_second_derivative_through_g_fails():
    where = f"{F}; {G}"
    good = "(grad_f(g(x))^T ⊗ I_n) hess_g(x) + J_g(x)^T hess_f(g(x)) J_g(x)"
    assert check("f(g(x))", "x", good, where=where, order=2).ok
    assert not check("f(g(x))", "x", "J_g(x)^T hess_f(g(x)) J_g(x)", where=where, order=2).ok   # Gauss-Newton only
    assert not check("f(g(x))", "x", "(grad_f(g(x))^T ⊗ I_n) hess_g(x)", where=where, order=2).ok
    assert not check("f(x(t))", "t", "J_x(t)^T hess_f(x(t)) J_x(t)", where="f: R^n -> R; " + CURVE, order=2).ok


def test_argument_shape_is_checked():
    with pytest.raises(McalcError, match="takes R\\^m"):
        api.diff("f(x) + f(y)", "x", where="f: R^m -> R; x: R^3; y: R^2")
