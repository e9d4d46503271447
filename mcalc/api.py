"""The pipeline: parse → infer → differentiate → simplify → Result. The CLI is a thin
layer over these functions."""
from __future__ import annotations

import functools
import re
import sys

from . import limits
from .bindings import inline, inline_bindings, refold  # noqa: F401 (the façade re-exports them)
from .errors import McalcError, UsageError
from .layout import LAYOUTS, f_dims, kind, result_shape, tensor_from_flat, x_dims  # noqa: F401
from .parse import parse_program
from .result import Result, ShapeResult
from .shapes import Typed, infer

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
    except RecursionError:
        raise limits.too_deep().with_source(expr) from None


@limits.budgeted
def shape(expr: str, where=None) -> ShapeResult:
    return ShapeResult(expr, typed(expr, where))


@limits.budgeted
def latex(expr: str, where=None) -> str:
    from .render.latex import render_latex_program
    return render_latex_program(typed(expr, where))


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
    r.engine, r.request = functools.partial(derive, t), (wrt, layout, order, flatten, stack)
    return r
