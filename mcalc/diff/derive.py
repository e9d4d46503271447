"""From a typed program to a Result: choose the method by the shapes of f and x, apply
the layout, simplify, and name the input's bindings in the result."""
from __future__ import annotations

from fractions import Fraction

from ..errors import DiffError, UsageError
from ..nodes import SCALAR, Delta, Node, Num, Sym, map_children
from ..simplify import add, mul, num, simplify, tidy, transpose, vec
from .engine import Differentiator, Linear, adjoint, jac


def substitute_delta(n: Node, value: Node) -> Node:
    if isinstance(n, Delta):
        return value
    return map_children(n, lambda c: substitute_delta(c, value))


def gradient_of(f: Node, var: str, xshape) -> Node:
    """G with df = tr(Gᵀ dX), for scalar f."""
    df = Differentiator(var, xshape)(f)
    g = adjoint(Linear(var), df, num(1))
    return simplify(g) if g is not None else Zero(xshape)


def Zero(shape):
    from ..simplify import zero
    return zero(shape)


def jacobian_of(f: Node, var: str, xshape) -> Node:
    """J with vec(df) = J vec(dX)."""
    from ..simplify import numel
    df = Differentiator(var, xshape)(f)
    return simplify(jac(Linear(var), df, numel(xshape)))


def along_scalar(f: Node, var: str) -> Node:
    df = Differentiator(var, SCALAR)(f)
    return simplify(substitute_delta(df, num(1)))


def first_derivative(f: Node, var: str, xshape, layout: str, flatten: bool, notes: list[str]) -> Node:
    from ..api import kind
    fk, xk = kind(f.shape, True), kind(xshape)
    if xk == "scalar":
        D = along_scalar(f, var)
        if fk == "vector" and f.shape[1] != 1:
            D = transpose(D)                    # a row function's derivative, as a column
        return D, layout == "denominator"
    if fk == "scalar":
        G = gradient_of(f, var, xshape)
        return G, layout == "numerator"
    if fk == "vector" and xk == "vector" or flatten:
        J = jacobian_of(f, var, xshape)
        if f.shape[1] != 1 and fk == "vector":
            notes.append(f"the function is a row vector (1×{f.shape[1]}); its derivative is arranged "
                         f"as for the column vector fᵀ")
        return J, layout == "denominator"
    return jacobian_of(f, var, xshape), False   # a tensor, kept as ∂vec F/∂(vec X)ᵀ


def len_dims(fshape, xshape) -> int:
    from ..api import f_dims, x_dims
    return len(f_dims(fshape)) + len(x_dims(xshape))


def derive(t, wrt: str, layout: str, order: int, flatten: bool, stack: bool):
    from ..api import Result, inline, kind, refold, result_shape
    from ..parse import canonical_name
    var = canonical_name(wrt.strip())
    keep = frozenset([var]) if var in dict(t.bindings) else frozenset()
    body, values = inline(t, keep)
    info = t.symbols.get(var)
    if info is None:
        raise UsageError(f"unknown variable {wrt!r}: it does not occur in the formula",
                         hint="declare it with --where if the derivative should be zero")
    if info.kind == "size":
        raise UsageError(f"{var} is a dimension, not a variable")
    xshape = info.shape
    memo: dict = {}
    f = simplify(body, memo)
    notes: list[str] = []
    transposed = False
    if order == 1:
        D, transposed = first_derivative(f, var, xshape, layout, flatten, notes)
        rshape = result_shape(f.shape, xshape, layout, flatten)
    else:
        D, rshape = second_derivative(f, var, xshape, layout, flatten, notes)
    if info.symmetric and kind(f.shape) == "scalar" and order == 1:
        half = num(Fraction(1, 2))           # sym(G) = (G + Gᵀ)/2; symmetric, so layouts agree
        D = add(*[mul(half, t) for t in terms_of(D) + terms_of(transpose(D))])
        notes.append(f"{var} is symmetric: this is the gradient on symmetric matrices, sym(G) = (G + Gᵀ)/2 "
                     f"of the unconstrained gradient G (not G + Gᵀ − G∘I; Srinivasan & Panda, arXiv:1911.06491)")
    D = tidy(D)
    if transposed:
        D = tidy(transpose(D))
    notes.extend(layout_notes(f, xshape, layout))
    node, lets = refold(D, values, lambda v: simplify(v, memo))
    tensor, index = None, None
    if len(rshape) > 2:
        from ..api import f_dims, x_dims
        fd = tuple(xshape) if order == 2 else f_dims(f.shape)
        tensor = (fd, x_dims(xshape))
        source = gradient_of(f, var, xshape) if order == 2 else f
        index = index_strings(source, var, xshape, fd, order)
        if index is None:
            notes.append("no index form for this tensor; the flattened form ∂vec F/∂(vec X)ᵀ is exact")
        notes.append("vec stacks columns; --flatten shows ∂vec F/∂(vec X)ᵀ as a matrix")
    return Result(t.source, var, layout, order, t, node, tuple(rshape), lets, notes, flatten=flatten,
                  function=f, var_shape=tuple(xshape), tensor=tensor, index=index)


def latex_number(v) -> str:
    return str(v.numerator) if v.denominator == 1 else rf"\\frac{{{v.numerator}}}{{{v.denominator}}}"


def index_strings(f: Node, var: str, xshape, fd, order: int = 1):
    """(text, unicode, latex) of ∂F_ij/∂X_kl in index notation, or None."""
    from ..render.latex import render_latex
    from ..render.text import render_text
    from ..render.unicode import render_unicode
    from .index import index_form, terms_text
    df = Differentiator(var, xshape)(f)
    try:
        terms, fi, xi = index_form(df, f.shape, xshape)
    except DiffError:
        return None
    keep = set(fi) | set(xi)
    name = "f" if len(fd) == 1 else "F"
    x = var
    text = terms_text(terms, keep, render_text, lambda s: f"({s})", lambda i: f"_{i}", lambda s: f"sum_{''.join(s)} ")
    uni = terms_text(terms, keep, render_unicode, lambda s: f"({s})", lambda i: f"_{i}", lambda s: f"Σ_{''.join(s)} ")
    tex = terms_text(terms, keep, render_latex, lambda s: rf"\left({s}\right)", lambda i: f"_{{{i}}}",
                     lambda s: rf"\sum_{{{''.join(s)}}} ")
    tex = tex.replace("δ", r"\delta")
    from ..steps import tex_name
    I, K = "".join(fi), "".join(xi)
    if order == 2:
        lhs, ulhs = f"d2f/d{x}_{I} d{x}_{K}", f"∂²f/∂{x}_{I}∂{x}_{K}"
        tlhs = rf"\frac{{\partial^2 f}}{{\partial {tex_name(x)}_{{{I}}}\,\partial {tex_name(x)}_{{{K}}}}}"
    else:
        lhs, ulhs = f"d{name}_{I}/d{x}_{K}", f"∂{name}_{I}/∂{x}_{K}"
        tlhs = rf"\frac{{\partial {name}_{{{I}}}}}{{\partial {tex_name(x)}_{{{K}}}}}"
    return f"{lhs} = {text}", f"{ulhs} = {uni}", f"{tlhs} = {tex}"


def second_derivative(f, var, xshape, layout, flatten, notes):
    from ..api import kind, result_shape
    fk, xk = kind(f.shape, True), kind(xshape)
    if fk != "scalar":
        raise DiffError("second derivatives of vector- or matrix-valued functions are not supported; "
                        "differentiate a scalar")
    G = gradient_of(f, var, xshape)
    if xk == "scalar":
        return along_scalar(G, var), (1, 1)
    if xk == "vector":
        H = jacobian_of(G, var, xshape)
        return H, (xshape[0], xshape[0])
    H = jacobian_of(vec(G), var, xshape)
    from ..simplify import numel
    n = numel(xshape)
    return H, ((n, n) if flatten else tuple(xshape) + tuple(xshape))


def terms_of(n: Node) -> list[Node]:
    from ..nodes import Add
    return list(n.args) if isinstance(n, Add) else [n]


def layout_notes(f: Node, xshape, layout: str) -> list[str]:
    from ..api import kind
    fk, xk = kind(f.shape, True), kind(xshape)
    if fk == "vector" and xk == "vector":
        if layout == "denominator":
            return ["denominator layout: ∂f/∂x is n×m, the transpose of the Jacobian (seed 000's "
                    "\"denominator\" table is the mixed layout)"]
        return ["the Jacobian ∂f/∂xᵀ (m×n); in the denominator layout it is transposed"]
    if fk == "scalar" and xk != "scalar" and layout == "numerator":
        return ["numerator layout: the derivative of a scalar is the transpose of the gradient"]
    return []
