"""Every concrete node class has a shape rule, a differentiation rule and a method in every
renderer (STYLE.md: one rule per operation, one renderer method per node)."""
from fractions import Fraction

import pytest

from mcalc.deriv.rules import DIFF_RULES
from mcalc.evaluate import Evaluator
from mcalc.nodes import NODE_CLASSES, Call, Diag, Elementwise, Function
from mcalc.render.latex import LatexRenderer
from mcalc.render.numpy import NumpyRenderer
from mcalc.render.text import ResultRenderer, TextRenderer
from mcalc.render.unicode import UnicodeRenderer
from mcalc.shapes import SHAPE_RULES

RENDERERS = [TextRenderer, ResultRenderer, UnicodeRenderer, LatexRenderer, NumpyRenderer, Evaluator]


@pytest.mark.parametrize("cls", NODE_CLASSES, ids=lambda c: c.__name__)
def test_every_node_has_its_rules(cls):
    assert cls in SHAPE_RULES
    assert cls in DIFF_RULES


@pytest.mark.parametrize("renderer", RENDERERS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("cls", NODE_CLASSES, ids=lambda c: c.__name__)
def test_every_renderer_renders_every_node(renderer, cls):
    assert any(hasattr(renderer, f"_render_{k.__name__}") for k in cls.__mro__)


def test_rules_state_their_identity():
    documented = {c.__name__ for c, r in DIFF_RULES.items() if (r.__doc__ or "").strip()}
    for name in ("Mul", "Inverse", "Det", "LogDet", "Hadamard", "Kron", "Norm", "Elementwise", "Trace"):
        assert name in documented


# ---- operation records (mcalc/ops.py) ---------------------------------------------------
import numpy as np  # noqa: E402

from mcalc import ops  # noqa: E402
from mcalc.parse import grammar_text, parse_program  # noqa: E402

CALLABLE = [op for op in ops.RECORDS if op.node is None]
# matrix functions with a node class of their own whose NumPy form and evaluator are the record's
# (diag's forms depend on its argument's shape and stay with its class)
MATRIX = [op for op in ops.RECORDS if op.node is not None and issubclass(op.node, Function) and op.node is not Diag]


@pytest.mark.parametrize("op", ops.RECORDS, ids=lambda op: op.name)
def test_every_record_has_its_forms(op):
    """A record lacking a form fails here: names, identity, LaTeX; and, for a function
    without a node class of its own, NumPy code, an evaluator and a differential rule."""
    assert op.name and op.identity.strip() and op.latex.count("{0}") == 1
    if op.node is None:
        assert all(f"{{{i}}}" in op.latex for i in range(max(op.arity)))
        assert op.numpy and all(f"{{{i}}}" in op.numpy for i in range(max(op.arity)))
        assert callable(op.evaluate)
        assert (op.derivative is not None) != (op.differential is not None)
        assert op.elementwise or callable(op.shape)
        assert not op.elementwise or callable(op.sympy)       # to_sympy() of an elementwise function
        assert op.domain in (None, "positive", "unit") and op.parity in (None, "odd", "even")
    if op in MATRIX:
        assert op.numpy and "{0}" in op.numpy and callable(op.evaluate)


def test_the_grammar_lists_every_spelling_and_nothing_else():
    line = next(ln for ln in grammar_text().splitlines() if ln.startswith("FUNC"))
    listed = set(line.split("/(", 1)[1].split(")(?!", 1)[0].replace("\\", "").split("|"))
    assert listed == set(ops.OPS)


def test_the_grammar_lists_the_prefix_functions_of_the_records():
    """tr X, det X, log det X: the names that may omit brackets come from the records too."""
    line = next(ln for ln in grammar_text().splitlines() if ln.startswith("PREFIX_FUNC"))
    listed = set(line.split("/(", 1)[1].split(")(?!", 1)[0].replace("\\", "").split("|"))
    assert listed == set(ops.prefix_names()) and {"tr", "det", "logdet", "log"} <= listed


@pytest.mark.parametrize("name", sorted(ops.OPS))
def test_every_spelling_parses_as_its_call(name):
    op = ops.lookup(name)
    args = ", ".join(["x"] * max(op.arity)) if name != "norm" else "x"
    body = parse_program(f"{name}({args})").body
    expected = op.node or (Elementwise if op.elementwise else Call)
    assert isinstance(body, expected)
    if op.node is None:
        assert body.fn == name          # the spelling is kept: ln(x) prints ln(x)


def sample_for(op, rng, shape=(4, 1)):
    if op.domain == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if op.domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    return rng.standard_normal(shape)


def test_the_matrix_records_are_those_of_the_function_classes():
    assert {op.name for op in MATRIX} == {"tr", "det", "logdet", "sum", "vec"}
    from mcalc.evaluate import Evaluator
    from mcalc.render.numpy import NumpyRenderer
    for cls in (op.node for op in MATRIX):              # no method of the class's own: the record's forms
        assert f"_render_{cls.__name__}" not in vars(NumpyRenderer) and f"_render_{cls.__name__}" not in vars(Evaluator)


@pytest.mark.parametrize("op", CALLABLE + MATRIX, ids=lambda op: op.name)
def test_numpy_code_and_evaluator_agree(op):
    """The record's NumPy form (what generated code runs) and its evaluator (what verify
    runs) compute the same values; a matrix function on a well-conditioned square matrix."""
    rng = np.random.default_rng(len(op.name))
    args = [sample_for(op, rng) for _ in range(max(op.arity))]
    if op in MATRIX:
        args = [np.eye(4) + 0.3 * rng.standard_normal((4, 4))]
    ns: dict = {"_np": np}
    exec(op.helpers, ns)                                    # the record's own helper source
    names = [f"a{i}" for i in range(len(args))]
    ns.update(zip(names, args))
    code = eval(op.numpy.format(*names), ns)  # noqa: S307 - the record's code, not user text
    assert np.allclose(np.asarray(code, dtype=float).reshape(-1),
                       np.asarray(op.evaluate(np, *args), dtype=float).reshape(-1))


@pytest.mark.parametrize("op", [op for op in CALLABLE if op.elementwise], ids=lambda op: op.name)
def test_elementwise_facts_hold(op):
    """Value at 0 and 1, parity: the simplifier relies on them."""
    rng = np.random.default_rng(1)
    x = sample_for(op, rng)
    value = lambda a: np.asarray(op.evaluate(np, np.asarray(a, dtype=float)), dtype=float)  # noqa: E731
    if isinstance(op.at_zero, Fraction):
        assert np.allclose(value(np.zeros((2, 1))), float(op.at_zero))
    if op.at_one is not None:
        assert np.allclose(value(np.ones((2, 1))), float(op.at_one))
    if op.parity == "odd":
        assert np.allclose(value(-x), -value(x))
    if op.parity == "even":
        assert np.allclose(value(-x), value(x))
    if op.scalar is not None:                 # the zero test's float form agrees with NumPy's
        assert np.allclose([op.scalar(float(v)) for v in x.reshape(-1)], value(x).reshape(-1))
    if op.quotient:
        top, bottom = (ops.lookup(n) for n in op.quotient)
        assert np.allclose(value(x), top.evaluate(np, x) / bottom.evaluate(np, x))
