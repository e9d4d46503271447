"""Issue 15's examples: results come out as a textbook writes them, asserted as text in
each layout where the form differs (the rules behind them are in tests/fixtures/simplify.txt)."""
from __future__ import annotations

import pytest

import mcalc.api as api
from mcalc.render.text import render_result_text
from mcalc.simplify import tidy

CASES = [
    # (formula, wrt, where, {layout: text})
    ("sum(log(ones + exp(x)))", "x", "x: R^n", {"mixed": "sigmoid(x)", "numerator": "sigmoid(x)^T"}),
    ("sum(softplus(x))", "x", "x: R^n", {"mixed": "sigmoid(x)"}),
    ("log(1 + exp(s))", "s", "s: R", {"mixed": "sigmoid(s)"}),
    ("sum(log(ones + exp(-y .* (X w))))", "w", "X: R^(m×n); y: R^m; w: R^n",
     {"mixed": "-X^T (sigmoid(-(X w .* y)) .* y)"}),
    ("sum(sinh(x) ./ cosh(x))", "x", "x: R^n", {"mixed": "ones - tanh(x).^2"}),
    ("log(abs(det(X)))", "X", "X: R^(n×n)", {"mixed": "X^-T", "numerator": "X^-1"}),
    ("abs(det(X))", "X", "X: R^(n×n)", {"mixed": "abs(det(X)) X^-T"}),
    ("sum(abs(w))", "w", "w: R^n", {"mixed": "sign(w)", "numerator": "sign(w)^T"}),
    ("-y^T log(exp(z) / sum(exp(z)))", "z", "z: R^n; y: R^n probability", {"mixed": "softmax(z) - y"}),
    ("-sum(y .* log(exp(z) / sum(exp(z))))", "z", "z: R^n; y: R^n", {"mixed": "sum(y) softmax(z) - y"}),
    ("-sum(T .* log(softmax(Phi W)))", "W", "Phi: R^(N×D); W: R^(D×K); T: R^(N×K) probability",
     {"mixed": "Phi^T (softmax(Phi W) - T)", "numerator": "(softmax(Phi W) - T)^T Phi"}),
    ("x^T (A + B) x", "x", "x: R^n; A: R^(n×n); B: R^(n×n)",
     {"mixed": "(A + A^T + B + B^T) x", "numerator": "x^T (A + A^T + B + B^T)"}),
    ("tr(inv(X^T X))", "X", "X: R^(m×n)", {"mixed": "-2 X (X^T X)^-2", "numerator": "-2 (X^T X)^-2 X^T"}),
    ("exp(-||x - mu||^2 / (2 sigma^2))", "x", "x: R^n; mu: R^n; sigma: R",
     {"mixed": "-exp(-||x - mu||^2/(2 sigma^2)) (x - mu)/sigma^2",
      "numerator": "-exp(-||x - mu||^2/(2 sigma^2)) (x - mu)^T/sigma^2"}),
    ("tr(G E F (B + X) X)", "X", "X: R^(n×n)", {"mixed": "(G E F (B + X) + X G E F)^T"}),
    ("exp(-||x - mu||^2 / (2 sigma^2))", "sigma", "x: R^n; mu: R^n; sigma: R",
     {"mixed": "exp(-||x - mu||^2/(2 sigma^2)) ||x - mu||^2/sigma^3"}),
    # transposes gathered over the stretch of a product that gains (b^T G^T E^T F^T)
    ("a^T (B + X) F E G b", "X", "X: R^(n×n)", {"mixed": "a (F E G b)^T", "numerator": "F E G b a^T"}),
    # a reciprocal reads as a division where that is no longer: 1/sigma, ones ./ x, w ./ (b - A x);
    # in -A^T (b - A x).^-1 the brackets of -A^T (ones ./ (b - A x)) would make it longer
    ("n log(sigma) + 1/(2 sigma^2) ||x - mu||^2", "sigma", "x: R^k; mu: R^k; sigma: R; n: R",
     {"mixed": "n/sigma - ||x - mu||^2/sigma^3"}),
    ("sum(log(x))", "x", "x: R^n", {"mixed": "ones ./ x", "numerator": "x^T.^-1"}),
    ("w^T log(b - A x)", "x", "A: R^(m×n); b: R^m; w: R^m",
     {"mixed": "-A^T (w ./ (b - A x))", "numerator": "-(w^T ./ (b - A x)^T) A"}),
    ("sum(log(b - A x))", "x", "A: R^(m×n); b: R^m", {"mixed": "-A^T (b - A x).^-1"}),
]


@pytest.mark.parametrize("expr,wrt,where,forms", CASES, ids=[c[0] for c in CASES])
def test_textbook_form(expr, wrt, where, forms):
    for layout, text in forms.items():
        assert api.diff(expr, wrt, where=where, layout=layout).text == text, layout


@pytest.mark.parametrize("expr,where,text", [
    ("det(X)^2 X^-T/abs(det(X))^2", "X: R^(n×n)", "X^-T"),
    ("(B + X)^T F^T E^T G^T", "B: R^(n×n); X: R^(n×n); E: R^(n×n); F: R^(n×n); G: R^(n×n)", "(G E F (B + X))^T"),
    ("(B + X)^T F^T E^T G^T C", "B: R^(n×n); X: R^(n×n); E: R^(n×n); F: R^(n×n); G: R^(n×n); C: R^(n×n)",
     "(G E F (B + X))^T C"),
    ("sigma^-3 ||x||^2", "x: R^n; sigma: R", "||x||^2/sigma^3"),
    ("2 sigma^-3", "sigma: R", "2/sigma^3"),
    ("(b - A x).^-1", "A: R^(m×n); b: R^m", "ones ./ (b - A x)"),
    ("w .* (b - A x).^-1", "A: R^(m×n); b: R^m; w: R^m", "w ./ (b - A x)"),
    ("exp(x) ./ (exp(x) + ones)", "x: R^n", "sigmoid(x)"),
    ("w ./ abs(w)", "w: R^n", "sign(w)"),
    ("ones^T diag(v)", "v: R^n", "v^T"),
    ("diag(v) ones", "v: R^n", "v"),
    ("((X^T X)^-1)^2", "X: R^(m×n)", "(X^T X)^-2"),
    ("(exp(x) - exp(-x)) ./ (exp(x) + exp(-x))", "x: R^n", "tanh(x)"),
])
def test_textbook_rewrite(expr, where, text):
    assert render_result_text(tidy(api.typed(expr, where).body)) == text


# ---- shared subexpressions: named once, in every format ---------------------------------------
def test_a_repeated_subterm_is_named_in_text_latex_and_numpy():
    r = api.diff("||W2 sigmoid(W1 x + b1) - y||^2", "W1", where="W1: R^(m×n); W2: R^(k×m)")
    assert r.text == "s = sigmoid(W1 x + b1); 2 (W2^T (W2 s - y) .* s .* (ones - s)) x^T"
    assert r"\quad \text{where } \mathbf{s} = \sigma(" in r.latex
    assert r.numpy.split("def derivative(")[1].count("_sigmoid(") == 1      # computed once
    again = api.typed(r.text, where="W1: R^(m×n); W2: R^(k×m)")             # the text parses back
    assert [name for name, _ in again.bindings] == ["s"]


def test_softmax_jacobian_and_logsumexp_hessian_read_as_textbooks():
    assert api.diff("softmax(z)", "z", where="z: R^n").text == "s = softmax(z); diag(s) - s s^T"
    assert api.diff("logsumexp(x)", "x", where="x: R^n", order=2).text == "s = softmax(x); diag(s) - s s^T"
    assert api.diff("logsumexp(x)", "x", where="x: R^n").text == "softmax(x)"


def test_short_repeats_stay_written_out():
    assert api.diff("||x - a||_2", "x").text == "(x - a)/||x - a||_2"


def test_a_residual_net_keeps_the_users_bindings():
    parts = ["h0 = x"] + [f"h{i} = h{i - 1} + tanh(W{i} h{i - 1})" for i in range(1, 6)] + ["L = sum(h5)"]
    where = "x: R^n; " + "; ".join(f"W{i}: R^(n×n)" for i in range(1, 6))
    r = api.diff("; ".join(parts), "W5", where=where)
    assert r.text == ("h1 = tanh(W1 x) + x; h2 = h1 + tanh(W2 h1); h3 = h2 + tanh(W3 h2); h4 = h3 + tanh(W4 h3); "
                      "(ones - tanh(W5 h4).^2) h4^T")


def residual_net(layers: int) -> tuple[str, str]:
    parts = ["h1 = tanh(W1 x + b1)"] + [f"h{i} = h{i - 1} + tanh(W{i} h{i - 1} + b{i})" for i in range(2, layers + 1)]
    where = "x: R^n; y: R^n; " + "; ".join(f"W{i}: R^(n×n)" for i in range(1, layers + 1))
    return "; ".join(parts + [f"L = ||h{layers} - y||^2"]), where


def test_a_deep_residual_net_is_backpropagated_through_its_names():
    """14 layers inline to 2^14 copies of x: the gradient goes through the layers' names in
    reverse mode instead (g_h = ∂L/∂h, one line per layer), in well under a second or two."""
    import time

    from mcalc.verify import verify
    expr, where = residual_net(14)
    start = time.perf_counter()
    r = api.diff(expr, "W1", where=where)
    took = time.perf_counter() - start
    assert took < 5.0, took
    assert r.text.startswith("h1 = tanh(W1 x + b1); h2 = h1 + tanh(W2 h1 + b2); ")      # as the user wrote them
    assert ("; g_h14 = 2 (h14 - y); g_h13 = W14^T (g_h14 .* (ones - tanh(W14 h13 + b14).^2)) + g_h14; "
            in r.text)
    assert r.text.endswith("; g_h1 = W2^T (g_h2 .* (ones - tanh(W2 h1 + b2).^2)) + g_h2; (g_h1 .* (ones - h1.^2)) x^T")
    assert len(r.text) < 1300
    assert api.diff(expr, "W1", where=where, layout="numerator").text.endswith(
        "; g_h1 = W2^T (g_h2 .* (ones - tanh(W2 h1 + b2).^2)) + g_h2; x ((ones - h1.^2)^T .* g_h1^T)")
    for layout in ("mixed", "numerator", "denominator"):
        v = verify(api.diff(expr, "W1", where=where, layout=layout), trials=2)
        assert v.ok, (layout, v)
    assert verify(api.diff(expr, "x", where=where), trials=2).ok
    again = api.typed(r.text, where=where)          # the text parses back
    assert [name for name, _ in again.bindings][-1] == "g_h1"


def test_the_users_bindings_keep_their_spelling():
    """A bound value the result keeps as a name prints as the user wrote it."""
    r = api.diff("C = K + s^2 I; -1/2 y^T inv(C) y - 1/2 logdet(C)", "s", where="y: R^n; K: R^(n×n) symmetric; s: R")
    assert r.text == "C = K + s^2 I; s (y^T C^-2 y - tr(C^-1))"
    from mcalc.verify import verify
    assert verify(r, trials=2).ok


def test_gp_gradients_name_alpha_once():
    """Rasmussen & Williams (5.9): ∂/∂θ log p(y|X,θ) = 1/2 tr((α αᵀ - K^-1) ∂K/∂θ), α = K^-1 y:
    K^-1 y is named once, its transpose yᵀ K^-1 counting as a use (K symmetric)."""
    gp = "-1/2 y^T inv(K) y - 1/2 logdet(K)"
    r = api.diff(gp, "K", where="y: R^n; K: R^(n×n) symmetric")
    assert r.text == "alpha = K^-1 y; 1/2 (alpha alpha^T - K^-1)"
    assert r.latex.endswith(r"\quad \text{where } \boldsymbol{\alpha} = K^{-1} \mathbf{y}")
    assert r.numpy.split("def derivative(")[1].count("_np.linalg.inv(") == 1
    assert api.diff(gp, "K", where="y: R^n; K: R^(n×n) symmetric", layout="numerator").text == \
        "alpha = K^-1 y; 1/2 (alpha alpha^T - K^-1)"
    theta = "K = A + t B; " + gp
    where = "y: R^n; A: R^(n×n) symmetric; B: R^(n×n) symmetric; t: R"
    assert api.diff(theta, "t", where=where).text == "K = A + t B; alpha = K^-1 y; 1/2 (alpha^T B alpha - tr(K^-1 B))"
    # not symmetric: y^T K^-1 is not the transpose of K^-1 y, so nothing is named
    assert api.diff(gp, "K", where="y: R^n; K: R^(n×n)").text == "1/2 (K^-T y y^T K^-T - K^-T)"
    from mcalc.verify import verify
    for layout in ("mixed", "numerator", "denominator"):
        assert verify(api.diff(theta, "t", where=where, layout=layout), trials=2).ok
        assert verify(api.diff(gp, "K", where="y: R^n; K: R^(n×n) symmetric", layout=layout), trials=2).ok
