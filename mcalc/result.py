"""The values the pipeline hands to its readers: a derivative (Result) and a shape
(ShapeResult). Their text form is rendered here; LaTeX, NumPy, JSON and the steps are
imported when asked for, so a one-liner loads none of them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .nodes import HCat, Node, contains
from .present import Presented, as_text
from .render.text import render_result_text
from .shapes import SymbolInfo, Typed, fmt_shape


@dataclass(repr=False)
class Result(Presented):
    input: str
    wrt: str
    layout: str
    order: int
    typed: Typed
    node: Node
    shape: tuple
    bindings: list[tuple[str, Node]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flatten: bool = False
    function: Node | None = None       # the formula with bindings inlined
    var_shape: tuple = ()
    tensor: tuple | None = None        # (f dims, x dims) when node is ∂vec F/∂(vec X)ᵀ of a tensor
    index: tuple | None = None         # index notation (text, unicode, latex) of a tensor
    entry: tuple | None = None         # --wrt x[i] / X[i,j]: the index names
    stack: bool = False                # --stack: node is ∂F/∂x_k, to be stacked over k
    joint: tuple | None = None         # --wrt "(t,s)": the scalar names
    show_steps: bool = False           # mcalc.diff(..., steps=True): display the derivation too
    chain: Callable | None = field(default=None, repr=False, compare=False)   # --steps: the engine's chain rule
    # --steps' trace of fired rules: the engine on this result's typed program, (wrt, layout, order,
    # flatten, stack) -> Result, and the arguments this result was asked with
    engine: Callable | None = field(default=None, repr=False, compare=False)
    request: tuple = field(default=(), repr=False, compare=False)

    @property
    def steps(self) -> list:
        """The derivation, step by step (see mcalc.steps)."""
        from .steps import derivation
        return derivation(self)

    @property
    def flat_text(self) -> str:
        sized = bool(self.bindings) and contains(self.node, lambda n: isinstance(n, HCat))
        lets = "".join(f"{name} = {render_result_text(v, sized)}; " for name, v in self.bindings)
        return lets + render_result_text(self.node)

    @property
    def symbols(self) -> dict[str, SymbolInfo]:
        return self.typed.free_symbols()

    @property
    def text(self) -> str:
        if self.tensor is not None and self.index is not None:
            return self.index[0]
        return self.flat_text

    @property
    def latex(self) -> str:
        from .render.latex import render_latex_result
        return render_latex_result(self)

    @property
    def numpy(self) -> str:
        from .render.numpy import render_numpy
        return render_numpy(self)

    def to_json(self) -> dict:
        from .render.json import result_json
        return result_json(self)

    def to_sympy(self):
        """(derivative, function) as SymPy matrix expressions over MatrixSymbols with symbolic
        sizes, for work that continues in SymPy; needs the sympy extra (pip install "mcalc[sympy]")."""
        from .render.to_sympy import to_sympy
        return to_sympy(self)

    def __str__(self) -> str:
        return self.text


@dataclass(repr=False)
class ShapeResult(Presented):
    input: str
    typed: Typed

    @property
    def shape(self) -> tuple:
        return self.typed.body.shape

    @property
    def notes(self) -> tuple[str, ...]:
        return self.typed.notes

    @property
    def symbols(self) -> dict[str, SymbolInfo]:
        return self.typed.symbols

    @property
    def text(self) -> str:
        return fmt_shape(self.shape)

    @property
    def latex(self) -> str:
        from .render.latex import render_latex
        return render_latex(self.typed.body)

    def to_json(self) -> dict:
        from .render.json import shape_json
        return shape_json(self)

    def _repr_html_(self) -> str:
        return as_text(self, "html")
