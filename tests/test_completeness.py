"""Every concrete node class has a shape rule, a differentiation rule and a method in every
renderer (STYLE.md: one rule per operation, one renderer method per node)."""
import pytest

from mcalc.deriv.rules import DIFF_RULES
from mcalc.evaluate import Evaluator
from mcalc.nodes import NODE_CLASSES
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
