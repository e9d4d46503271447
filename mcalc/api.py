"""The pipeline: parse → infer → differentiate → simplify → Result. The CLI is a thin
layer over these functions."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from . import limits
from .errors import McalcError, UsageError
from .nodes import SCALAR, Node, Sym, children, map_children
from .parse import parse_program
from .shapes import SymbolInfo, Typed, fmt_shape, infer

LAYOUTS = ("mixed", "numerator", "denominator")
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))


def as_where(where) -> list[str]:
    if where is None:
        return []
    if isinstance(where, str):
        return [where]
    return list(where)


def typed(expr: str, where=None) -> Typed:
    try:
        return infer(parse_program(expr, as_where(where)))
    except McalcError as e:
        raise e.with_source(expr)


# ---- kinds ------------------------------------------------------------------------------
def kind(shape, as_function: bool = False) -> str:
    """scalar, vector (a column; a row too when it is the function) or matrix."""
    if shape == SCALAR:
        return "scalar"
    if shape[1] == 1:
        return "vector"
    if shape[0] == 1 and as_function:
        return "vector"
    return "matrix"


def f_dims(shape) -> tuple:
    k = kind(shape, True)
    return () if k == "scalar" else ((shape[0] if shape[1] == 1 else shape[1]),) if k == "vector" else tuple(shape)


def x_dims(shape) -> tuple:
    k = kind(shape)
    return () if k == "scalar" else (shape[0],) if k == "vector" else tuple(shape)


def result_shape(fshape, xshape, layout: str, flatten: bool = False) -> tuple:
    """SPEC §2's table: the shape of ∂f/∂x in a layout."""
    F, X = f_dims(fshape), x_dims(xshape)
    fk, xk = kind(fshape, True), kind(xshape)
    if flatten and len(F) + len(X) > 2:
        from .shapes import dim_product
        J = (dim_product(F) if F else 1, dim_product(X) if X else 1)
        return J if layout != "denominator" else (J[1], J[0])
    if not F and not X:
        return (1, 1)
    if layout == "numerator":
        if fk == "scalar" and xk == "vector":
            return (1,) + X
        if fk == "scalar" and xk == "matrix":
            return (X[1], X[0])
        if xk == "scalar" and fk == "vector":
            return F + (1,)
        return F + X
    if layout == "denominator":
        if fk == "scalar" and xk == "vector":
            return X + (1,)
        if xk == "scalar" and fk == "vector":
            return (1,) + F
        if xk == "scalar" and fk == "matrix":
            return (F[1], F[0])
        return X + F
    # mixed
    if fk == "scalar":
        return X + ((1,) if xk == "vector" else ())
    if xk == "scalar":
        return F + ((1,) if fk == "vector" else ())
    return F + X


# ---- bindings ------------------------------------------------------------------------------
def inline(t: Typed, keep: frozenset = frozenset()) -> tuple[Node, dict[str, Node]]:
    """The body with every bound name replaced by its formula (except names in keep)."""
    return inline_bindings(t.bindings, t.body, keep)


def inline_bindings(bindings, body: Node, keep: frozenset = frozenset()) -> tuple[Node, dict[str, Node]]:
    values: dict[str, Node] = {}
    memo: dict[Node, Node] = {}

    def sub(n: Node) -> Node:
        hit = memo.get(n)
        if hit is not None:
            return hit
        if isinstance(n, Sym) and n.name in values and n.name not in keep:
            out = values[n.name]
        else:
            out = map_children(n, sub)
        memo[n] = out
        return out

    for name, value in bindings:
        values[name] = sub(value)
    return sub(body), values


def refold(result: Node, values: dict[str, Node], canon) -> tuple[Node, list[tuple[str, Node]]]:
    """Name the input's bound subexpressions where they occur in the result."""
    table: dict[Node, str] = {}
    folded: dict[str, Node] = {}
    order = list(values)

    memo: dict[int, tuple[Node, Node]] = {}

    def fold(n: Node) -> Node:
        name = table.get(n)            # first: a binding's own value may have been folded before it was named
        if name is not None:
            return Sym(name, shape=n.shape)
        hit = memo.get(id(n))
        if hit is not None and hit[0] is n:
            return hit[1]
        m = map_children(n, fold)
        name = table.get(m)
        out = Sym(name, shape=m.shape) if name is not None else m
        memo[id(n)] = (n, out)
        return out

    for name in order:
        c = canon(values[name])
        if not list(children(c)):
            continue
        f = fold(c)
        folded[name] = f
        table[c] = name
        table[f] = name
    out = fold(result)
    # a small binding used once reads better inlined: 2 aᵀ (t a + b)
    from collections import Counter
    inside = {name: Counter(m for m in walk_syms(v) if m in folded) for name, v in folded.items()}
    at_top = Counter(m for m in walk_syms(out) if m in folded)

    def reachable() -> set[str]:
        seen, todo = set(), [m for m, c in at_top.items() if c]
        while todo:
            m = todo.pop()
            if m not in seen and m in folded:
                seen.add(m)
                todo.extend(inside[m])
        return seen

    for name in reversed(order):
        if name not in folded:
            continue
        live = reachable()
        uses = at_top[name] + sum(inside[k][name] for k in live if k != name)
        if uses == 1 and at_top[name] == 1 and size_of(folded[name]) < 8:
            out = unfold(out, name, folded[name])
            at_top.update(inside[name])
            at_top[name] = 0
            del folded[name]
    used: list[str] = []

    def need(n: Node):
        for m in walk_syms(n):
            if m in folded and m not in used:
                need(folded[m])
                used.append(m)

    need(out)
    return out, [(name, folded[name]) for name in order if name in used]


def size_of(n: Node) -> int:
    from .simplify import size
    return size(n)


def unfold(n: Node, name: str, value: Node) -> Node:
    if isinstance(n, Sym) and n.name == name:
        return value
    return map_children(n, lambda c: unfold(c, name, value))


def walk_syms(n: Node):
    from .nodes import walk
    return [m.name for m in walk(n) if isinstance(m, Sym)]


# ---- results --------------------------------------------------------------------------------
@dataclass
class Result:
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

    @property
    def steps(self) -> list:
        """The derivation, step by step (see mcalc.steps)."""
        from .steps import derivation
        return derivation(self)

    @property
    def flat_text(self) -> str:
        from .render.text import render_result_text
        lets = "".join(f"{name} = {render_result_text(v)}; " for name, v in self.bindings)
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

    def _repr_latex_(self) -> str:
        from .present import as_text
        return as_text(self, "notebook")

    def __repr__(self) -> str:
        from .present import as_text
        return as_text(self, "repr")

    def __str__(self) -> str:
        return self.text


@dataclass
class ShapeResult:
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

    def __repr__(self) -> str:
        from .present import as_text
        return as_text(self, "repr")

    def _repr_latex_(self) -> str:
        from .present import as_text
        return as_text(self, "notebook")

    def _repr_html_(self) -> str:
        from .present import as_text
        return as_text(self, "html")


@limits.budgeted
def shape(expr: str, where=None) -> ShapeResult:
    return ShapeResult(expr, typed(expr, where))


@limits.budgeted
def latex(expr: str, where=None) -> str:
    from .render.latex import render_latex
    t = typed(expr, where)
    lets = "".join(f"{name} = {render_latex(v)}, \\quad " for name, v in t.bindings)
    return lets + render_latex(t.body)


WRT_RE = re.compile(r"^\s*([^\[\]\s,()]+)\s*(\[\s*([A-Za-z0-9_]+)\s*(,\s*([A-Za-z0-9_]+)\s*)?\])?\s*$")


def split_wrt(wrt) -> list[str]:
    """'x,y' or ['x', 'y'] → ['x', 'y']; a parenthesised tuple stays whole."""
    items = [wrt] if isinstance(wrt, str) else list(wrt)
    out = []
    for item in items:
        item = item.strip()
        if item.startswith("("):
            out.append(item)
            continue
        out.extend(p.strip() for p in re.split(r",(?![^\[]*\])", item) if p.strip())
    if not out:
        raise UsageError("--wrt needs a variable name")
    return out


def diff(expr: str, wrt, where=None, layout: str = "mixed", order: int = 1,
         flatten: bool = False, stack: bool = False) -> Result | list[Result]:
    """The derivative of expr with respect to wrt. Several names give a list of results."""
    names = split_wrt(wrt)
    results = [diff_one(expr, name, where, layout, order, flatten, stack) for name in names]
    singles = [n for n in names if not n.startswith("(")]
    if order == 2 and len(singles) > 1:
        tup = "(" + ",".join(singles) + ")"
        for r in results:
            r.notes.append(f"these are the pure second derivatives, one per variable; the mixed ones "
                           f"(∂²f/∂{singles[0]}∂{singles[1]}ᵀ) are the off-diagonal blocks of --wrt \"{tup}\"")
    return results if len(results) > 1 else results[0]


@limits.budgeted
def diff_one(expr: str, wrt: str, where, layout: str, order: int, flatten: bool, stack: bool) -> Result:
    from .deriv.derive import derive
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; choose mixed, numerator or denominator")
    if order not in (1, 2):
        raise UsageError(f"--order must be 1 or 2, not {order}")
    t = typed(expr, where)
    try:
        r = derive(t, wrt, layout, order, flatten, stack)
    except McalcError as e:
        raise e.with_source(expr)
    r.notes[:0] = [n for n in t.notes if n not in r.notes]     # how the input was read comes first
    return r


def tensor_from_flat(J, fsizes: tuple, xsizes: tuple, layout: str):
    """∂vec F/∂(vec X)ᵀ (vec stacks columns) → the tensor of SPEC §2 in a layout."""
    import numpy as np
    nf, nx = len(fsizes), len(xsizes)
    T = np.asarray(J).reshape(tuple(reversed(fsizes)) + tuple(reversed(xsizes)))
    T = np.transpose(T, tuple(reversed(range(nf))) + tuple(reversed(range(nf, nf + nx))))
    if layout == "denominator":
        T = np.transpose(T, tuple(range(nf, nf + nx)) + tuple(range(nf)))
    return T
