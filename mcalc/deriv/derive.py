"""From a typed program to a Result: choose the method by the shapes of f and x, apply
the layout, simplify, and name the input's bindings in the result."""
from __future__ import annotations

import functools
import re
from dataclasses import replace

from .. import layout as layouts
from .. import limits, ops
from ..bindings import inline, refold
from ..dims import dim_product, dim_sum
from ..errors import DiffError, McalcError, UsageError
from ..layout import f_dims, kind, result_shape, x_dims
from ..nodes import Add, Apply, Delta, HCat, Identity, Node, Num, SCALAR, Sym, Transpose, Unit, VarPow, children, map_children, walk
from ..program import canonical_name
from ..render.text import render_text
from ..result import Result
from ..shapes import fmt_shape
from ..simplify import add, diag, hadamard, hcat, mul, num, numel, simplify, tidy, trace, transpose, vec, zero
from ..zerotest import drop_zero_terms
from .engine import Differentiator, Linear, adjoint, backprop, free_names, is_symmetric, jac

# --wrt x, x[i], X[i,j] (a joint (t,s) is read apart)
WRT_RE = re.compile(r"^\s*([^\[\]\s,()]+)\s*(\[\s*([A-Za-z0-9_]+)\s*(,\s*([A-Za-z0-9_]+)\s*)?\])?\s*$")


def substitute_delta(n: Node, value: Node) -> Node:
    if isinstance(n, Delta):
        return value
    return map_children(n, lambda c: substitute_delta(c, value))


def gradient_of(f: Node, var: str, xshape, symmetric: bool = False) -> Node:
    """G with df = tr(Gᵀ dX), for scalar f (on symmetric directions: sym(G))."""
    df = Differentiator(var, xshape, symmetric)(f)
    g = backprop(var, df, num(1))
    return simplify(g) if g is not None else zero(xshape)


def jacobian_of(f: Node, var: str, xshape, symmetric: bool = False) -> Node:
    """J with vec(df) = J vec(dX) (on symmetric directions: J (I + K)/2)."""
    df = Differentiator(var, xshape, symmetric)(f)
    return simplify(jac(Linear(var), df, numel(xshape)))


def along_scalar(f: Node, var: str) -> Node:
    df = Differentiator(var, SCALAR)(f)
    return simplify(substitute_delta(df, num(1)))


def first_derivative(f: Node, var: str, xshape, layout: str, flatten: bool, notes: list[str],
                     sym: bool = False) -> Node:
    """∂f/∂x as the engine computes it (the mixed layout; a tensor as ∂vec F/∂(vec X)ᵀ),
    and whether the layout wants it transposed."""
    fk, xk = kind(f.shape, True), kind(xshape)
    transposed = layouts.transposed(f.shape, xshape, layout, flatten)
    if xk == "scalar":
        D = along_scalar(f, var)
        if fk == "vector" and f.shape[1] != 1:
            D = transpose(D)                    # a row function's derivative, as a column
        return D, transposed
    if fk == "scalar":
        return gradient_of(f, var, xshape, sym), transposed
    if fk == "vector" and xk == "vector" or flatten:
        J = jacobian_of(f, var, xshape, sym)
        if f.shape[1] != 1 and fk == "vector":
            notes.append(f"the function is a row vector (1×{f.shape[1]}); its derivative is arranged "
                         f"as for the column vector fᵀ")
        return J, transposed
    return jacobian_of(f, var, xshape, sym), False   # a tensor, kept as ∂vec F/∂(vec X)ᵀ


def len_dims(fshape, xshape) -> int:
    return len(f_dims(fshape)) + len(x_dims(xshape))


def derive(t, wrt: str, layout: str, order: int, flatten: bool, stack: bool):
    w = wrt.strip()
    if w.startswith("("):
        return derive_joint(t, w, layout, order, flatten)
    m = WRT_RE.match(w)
    if m is None:
        raise UsageError(f"cannot read --wrt {wrt!r}", hint="write x, x[i], X[i,j] or (t,s)")
    if m.group(2):
        indices = tuple(i for i in (m.group(3), m.group(5)) if i)
        return derive_entry(t, m.group(1), indices, order)
    if stack:
        return derive_stack(t, w, order)
    return derive_var(t, w, layout, order, flatten)


def variable(t, wrt: str):
    var = canonical_name(wrt.strip())
    info = t.symbols.get(var)
    if info is None:
        raise UsageError(f"unknown variable {wrt!r}: it does not occur in the formula",
                         hint="declare it with --where if the derivative should be zero")
    if info.kind == "size":
        raise UsageError(f"{var} is a dimension, not a variable")
    if info.probability:
        what = "its entries sum" if info.shape[1] == 1 else "each of its rows sums"
        raise UsageError(f"{var} is declared probability ({what} to 1), so it cannot vary freely",
                         hint="differentiate with respect to unconstrained parameters, e.g. the logits z of softmax(z)")
    keep = frozenset([var]) if var in dict(t.bindings) else frozenset()
    body, values = inline(t, keep)
    return var, info, body, {k: v for k, v in values.items() if k not in keep}


def units(var: str, xshape, indices: tuple) -> Node:
    """dX at one entry: e_i for a vector, e_i e_jᵀ for a matrix."""
    if xshape == SCALAR:
        raise UsageError(f"{var} is a scalar; differentiate with respect to {var} itself")
    if xshape[1] == 1:
        if len(indices) != 1:
            raise UsageError(f"{var} is a vector: write {var}[i]")
        return Unit(indices[0], shape=(xshape[0], 1))
    if len(indices) != 2:
        raise UsageError(f"{var} is a matrix: write {var}[i,j]")
    return mul(Unit(indices[0], shape=(xshape[0], 1)), transpose(Unit(indices[1], shape=(xshape[1], 1))))


def partial(f: Node, var: str, xshape, indices: tuple, symmetric: bool = False) -> Node:
    """∂f/∂x_i (or ∂f/∂X_ij): the differential with dX = e_i (e_i e_jᵀ); for a symmetric X the
    symmetric direction (e_i e_jᵀ + e_j e_iᵀ)/2."""
    df = Differentiator(var, xshape, symmetric)(f)
    return tidy(substitute_delta(df, units(var, xshape, indices)))


def derive_entry(t, name: str, indices: tuple, order: int):
    if order != 1:
        raise UsageError("a derivative with respect to one entry is of order 1")
    var, info, body, values = variable(t, name)
    for ix, d in zip(indices, info.shape):
        if ix.isdigit() and (int(ix) < 1 or isinstance(d, int) and int(ix) > d):
            raise UsageError(f"{var}[{','.join(indices)}] is not an entry of {var} ({fmt_shape(info.shape)})",
                             hint=f"entries count from 1: {var}[1{',1' * (len(indices) - 1)}] is the first")
    memo: dict = {}
    f = simplify(body, memo)
    D = partial(f, var, info.shape, indices, is_symmetric(info))
    node, lets = refold(D, values, lambda v: simplify(v, memo), taken=set(t.symbols) | set(t.dims),
                        spelled=dict(t.bindings))
    sub = ",".join(indices)
    notes = [f"the derivative with respect to the entry {var}[{sub}]: it has the shape of f; e_i is the i-th "
             f"unit vector"] + ([symmetric_note(var, "entry")] if is_symmetric(info) else [])
    return Result(t.source, var, "mixed", 1, t, node, tuple(f.shape), lets, notes, function=f,
                  var_shape=tuple(info.shape), entry=indices)


def derive_stack(t, name: str, order: int):
    """Seed 004's flattening: the partials ∂F/∂x_k (each m×n) stacked into an mp×n matrix."""
    if order != 1:
        raise UsageError("--stack is for first derivatives")
    var, info, body, values = variable(t, name)
    memo: dict = {}
    f = simplify(body, memo)
    xshape = info.shape
    indices = ("k",) if xshape[1] == 1 else ("k", "l")
    D = partial(f, var, xshape, indices, is_symmetric(info))
    node, lets = refold(D, values, lambda v: simplify(v, memo), taken=set(t.symbols) | set(t.dims),
                        spelled=dict(t.bindings))
    shape = (dim_product((f.shape[0], dim_product(xshape))), f.shape[1])
    order_note = "k = 1…p" if len(indices) == 1 else "(k, l) in column-major order"
    notes = [f"--stack: the partial derivatives ∂F/∂{var}_{''.join(indices)} below, stacked vertically for "
             f"{order_note}"] + ([symmetric_note(var, "entry")] if is_symmetric(info) else [])
    return Result(t.source, var, "mixed", 1, t, node, shape, lets, notes, function=f, var_shape=tuple(xshape),
                  entry=indices, stack=True)


def vcat(*blocks: Node) -> Node:
    """[a; b]: blocks stacked vertically, the tree [aᵀ, bᵀ]ᵀ (which the text prints and reads as [a; b])."""
    return transpose(hcat(*[transpose(b) for b in blocks])) if len(blocks) > 1 else blocks[0]


def derive_joint(t, wrt: str, layout: str, order: int, flatten: bool = False):
    """d f/d(t, s), d f/d(x, y): the derivative with respect to the stacked vector z of the
    variables (scalars, vectors, matrices by vec), seed 004's chain rule; order 2 gives the
    Hessian in blocks, its off-diagonal blocks the mixed derivatives ∂²f/∂x∂yᵀ."""
    names = [n.strip() for n in wrt.strip("() ").split(",") if n.strip()]
    if len(names) < 2:
        raise UsageError("a joint derivative needs at least two variables: --wrt \"(t,s)\" or \"(x,y)\"")
    vars_, f, values, memo = [], None, {}, {}
    for name in names:
        var, info, body, vals = variable(t, name)
        if any(v == var for v, _ in vars_):
            raise UsageError(f"--wrt {wrt}: {var} appears twice")
        if var in dict(t.bindings):
            raise UsageError(f"--wrt {wrt}: {var} is a bound name; a joint derivative takes variables",
                             hint="differentiate with respect to the symbols it is made of")
        values.update(vals)
        f = simplify(body, memo)
        vars_.append((var, info))
    fk = kind(f.shape, True)
    sizes = [numel(info.shape) for _, info in vars_]
    N = dim_sum(sizes)
    notes = [f"joint derivative with respect to z = ({', '.join(names)}), the stacked vector of "
             + (f"{len(names)} scalars" if all(s == 1 for s in sizes) else
                f"{' and '.join(('vec ' if kind(i.shape) == 'matrix' else '') + v for v, i in vars_)} "
                f"({' + '.join(map(str, sizes))}" + (f" = {N}" if isinstance(N, int) else "") + " entries)")]
    if any(is_symmetric(info) for _, info in vars_):
        raise UsageError(f"--wrt {wrt}: a symmetric matrix in a joint derivative is not supported",
                         hint="differentiate with respect to it alone")

    def grad(var, info):        # vec of the gradient, a column of numel(X) entries
        return vec(gradient_of(f, var, info.shape))

    def jac_of(g, var, info):   # ∂g/∂(vec X)ᵀ for a column g
        if info.shape == SCALAR:
            D = along_scalar(g, var)
            return transpose(D) if D.shape[0] == 1 and D.shape[1] != 1 else D
        return jacobian_of(g, var, info.shape)

    if order == 2:
        if fk != "scalar":
            raise DiffError("second derivatives of vector- or matrix-valued functions are not supported; "
                            "differentiate a scalar", operation="Hessian of a non-scalar")
        gs = [grad(v, i) for v, i in vars_]
        D = vcat(*[hcat(*[tidy(jac_of(g, v, i)) for v, i in vars_]) for g in gs])
        shape = (N, N)
        notes.append("the Hessian ∂²f/∂z∂zᵀ in blocks: row block i, column block j is ∂²f/∂z_i∂z_jᵀ "
                     "(the off-diagonal blocks are the mixed second derivatives)")
    elif fk == "scalar":
        columns = [tidy(grad(v, i)) for v, i in vars_]
        D = vcat(*columns)                                        # ∇_z f, N×1
        if layout == "numerator":
            D = transpose(D)
        shape = (1, N) if layout == "numerator" else (N, 1)
    else:
        if fk == "matrix" and not flatten:
            raise DiffError("a joint derivative of a matrix-valued function is a tensor; use --flatten "
                            "for ∂vec F/∂zᵀ, or differentiate with respect to each variable",
                            operation="joint derivative of a matrix")
        f_col = vec(f) if fk == "matrix" else (transpose(f) if f.shape[0] == 1 and f.shape[1] != 1 else f)
        J = hcat(*[tidy(jac_of(f_col, v, i)) for v, i in vars_])  # ∂f/∂zᵀ: m×N (numerator)
        m = f_col.shape[0]
        D = transpose(J) if layout == "denominator" else J
        shape = (N, m) if layout == "denominator" else (m, N)
    D = tidy(D)
    if order == 1 and fk == "scalar" and layout != "numerator":
        # the stacked [a; b] keeps its blocks as columns (A^T x, not (x^T A)^T), as it reads
        D = Transpose(HCat(tuple(Transpose(c, shape=(1, c.shape[0])) for c in columns),
                           shape=(1, N)), shape=(N, 1))
    notes.extend(stacked_hessian_notes(D))
    node, lets = refold(D, values, lambda v: simplify(v, memo), taken=set(t.symbols) | set(t.dims),
                        spelled=dict(t.bindings))
    return Result(t.source, wrt, layout, order, t, node, shape, lets, notes, function=f, var_shape=(N, 1),
                  joint=tuple(v for v, _ in vars_), flatten=flatten)


# a bound value whose inlined tree has more nodes than this, most of them repeats, stays a name
MAX_INLINED_TREE = 400


def tree_size(n: Node, memo: dict) -> int:
    hit = memo.get(n)
    if hit is None:
        hit = memo[n] = 1 + sum(tree_size(c, memo) for c in children(n))
    return hit


def distinct(n: Node) -> list[Node]:
    """The distinct subterms of n, each once, in the order walk meets them first: a graph that
    is an exponential tree (inlined residual layers) costs its own size, not the tree's."""
    seen: set[Node] = set()
    out, stack = [], [n]
    while stack:
        cur = stack.pop()
        if cur in seen:
            continue
        seen.add(cur)
        out.append(cur)
        stack.extend(reversed(children(cur)))
    return out


def kept_bindings(t, var: str, values: dict[str, Node]) -> dict[str, Node]:
    """The bound names a gradient keeps as names, with their values (in terms of each other):
    those whose inlined value is a tree of more than MAX_INLINED_TREE nodes that mostly repeats
    itself (h2 = h1 + f(W2 h1) holds h1 twice, so 14 residual layers inline to 2^14 copies
    of x); when one is, all are kept."""
    sizes: dict[Node, int] = {}
    heavy = {name for name, v in values.items()
             if name != var and tree_size(v, sizes) > MAX_INLINED_TREE and tree_size(v, sizes) > 4 * len(distinct(v))}
    if not heavy:
        return {}
    _, kept = inline(t, frozenset(dict(t.bindings)))        # then every name stays, as the user wrote the layers
    return {name: kept[name] for name, _ in t.bindings if name != var}


def frobenius(g: Node, v: Node) -> Node:
    """tr(gᵀ v): the scalar whose gradient in a name of v is the cotangent g pushed through v."""
    return mul(g, v) if v.shape == SCALAR else trace(mul(transpose(g), v))


def gradient_through(body: Node, var: str, xshape, sym: bool, bound: dict[str, Node], shapes: dict,
                     taken: set) -> tuple[Node, dict[str, Node]]:
    """Reverse mode through the kept bindings, as backpropagation is written: the cotangent of
    each bound name, g_h = ∂f/∂h, is gathered from every use of h (the formula's, and the later
    bindings' with their own cotangents), then pushed into the names h's value uses, last
    binding first. A compound cotangent gets a name (g_h4 = g_h5 + W5^T (g_h5 .*
    f'(W5 h4 + b5))), so the result is as long as the network, not 2^layers. Returns
    the gradient in var and the cotangents' bindings, in the order they are computed."""
    cot: dict[str, list[Node]] = {}
    names = set(bound) | {var}

    def pour(expr: Node, g: Node | None):
        f = expr if g is None else frobenius(g, expr)
        for m in sorted(free_names(expr) & names):
            part = gradient_of(f, m, xshape if m == var else shapes[m], sym and m == var)
            cot.setdefault(m, []).append(part)

    pour(body, None)
    lets: dict[str, Node] = {}
    for name in reversed(list(bound)):
        parts = cot.pop(name, None)
        if not parts:
            continue
        g = simplify(add(*parts))
        if list(children(g)):
            gname = fresh_name(f"g_{name}", taken)
            taken.add(gname)
            lets[gname] = g
            g = Sym(gname, shape=g.shape)
        pour(bound[name], g)
    parts = cot.get(var)
    return (simplify(add(*parts)) if parts else zero(xshape)), lets


def fresh_name(base: str, taken: set) -> str:
    if base not in taken:
        return base
    i = 2
    while f"{base}_{i}" in taken:
        i += 1
    return f"{base}_{i}"


def derive_var(t, wrt: str, layout: str, order: int, flatten: bool):
    var, info, body, values = variable(t, wrt)
    xshape = info.shape
    memo: dict = {}
    f = simplify(body, memo)
    notes: list[str] = []
    transposed = False
    sym = is_symmetric(info)
    bound = kept_bindings(t, var, values) if order == 1 and f.shape == SCALAR and kind(xshape) != "scalar" else {}
    if bound:
        kept = frozenset(bound) | ({var} if var in dict(t.bindings) else frozenset())
        g_body, _ = inline(t, kept)
        bound = {k: simplify(v, memo) for k, v in bound.items()}
        shapes = {k: v.shape for k, v in bound.items()}
        D, cotangents = gradient_through(simplify(g_body, memo), var, xshape, sym, bound, shapes,
                                         set(t.symbols) | set(t.dims) | set(dict(t.bindings)))
        values = {**values, **bound, **cotangents}
        transposed = layouts.transposed(f.shape, xshape, layout, flatten)
        rshape = result_shape(f.shape, xshape, layout, flatten)
    elif order == 1:
        D, transposed = first_derivative(f, var, xshape, layout, flatten, notes, sym)
        rshape = result_shape(f.shape, xshape, layout, flatten)
    else:
        D, rshape = second_derivative(f, var, xshape, layout, flatten, notes, sym)
    if sym:
        notes.append(symmetric_note(var, "hessian" if order == 2 else
                                    "gradient" if kind(f.shape) == "scalar" else "derivative"))
    if getattr(info, "diagonal", False):
        D = diagonal_part(D, xshape, kind(f.shape) == "scalar", order, var, notes)
    D = tidy(D)
    if transposed:
        D = tidy(transpose(D))
    notes.extend(power_notes(f, var))
    notes.extend(layouts.notes(f.shape, xshape, layout))
    D = drop_zero_terms(D, notes)
    notes.extend(stacked_hessian_notes(D))
    node, lets = refold(D, values, lambda v: simplify(v, memo), taken=set(t.symbols) | set(t.dims),
                        repeats=not bound, spelled=dict(t.bindings))     # backpropagation's names are the layers' own
    tensor, index = None, None
    if len(rshape) > 2:
        fd = tuple(xshape) if order == 2 else f_dims(f.shape)
        tensor = (fd, x_dims(xshape))
        source = gradient_of(f, var, xshape, sym) if order == 2 else f
        diagonal = getattr(info, "diagonal", False)       # the projection P has no index form here
        index = None if diagonal else index_strings(source, var, xshape, fd, order, sym)
        if index is None:
            notes.append("no index form for this tensor; the flattened form ∂vec F/∂(vec X)ᵀ is exact")
        notes.append("vec stacks columns; --flatten shows ∂vec F/∂(vec X)ᵀ as a matrix")
    return Result(t.source, var, layout, order, t, node, tuple(rshape), lets, notes, flatten=flatten,
                  function=f, var_shape=tuple(xshape), tensor=tensor, index=index,
                  chain=functools.partial(chain_parts, t, var) if order == 1 else None)


@limits.budgeted
def chain_parts(t, var: str):
    """For --steps through a binding, f(y(x)) with y a bound vector: (y, ∇_y f, ∂y/∂xᵀ) as
    Results (mixed layout), or None when the chain rule does not apply."""
    if not t.bindings or kind(t.symbols[var].shape) != "vector" or t.body.shape != SCALAR:
        return None
    # the first bound vector that depends on x directly
    candidates = [(i, name, v) for i, (name, v) in enumerate(t.bindings)
                  if var in free_names(v) and kind(v.shape) == "vector"]
    if not candidates:
        return None
    i, y, yval = candidates[0]
    inner = replace(t, body=Sym(y, shape=yval.shape), bindings=t.bindings[:i + 1])
    try:
        return y, derive_var(t, y, "mixed", 1, False), derive_var(inner, var, "mixed", 1, False)
    except McalcError:          # a step we cannot show falls back to the differential method
        return None


def latex_number(v) -> str:
    return str(v.numerator) if v.denominator == 1 else rf"\\frac{{{v.numerator}}}{{{v.denominator}}}"


def index_strings(f: Node, var: str, xshape, fd, order: int = 1, symmetric: bool = False):
    """(text, unicode, latex) of ∂F_ij/∂X_kl in index notation, or None."""
    from ..render.latex import render_latex, tex_name
    from ..render.unicode import render_unicode
    from .index import index_form, terms_text
    df = Differentiator(var, xshape, symmetric)(f)
    try:
        terms, fi, xi, splits = index_form(df, f.shape, xshape)
    except DiffError:
        return None
    keep = set(fi) | set(xi) | {p for s in splits.values() for p in s[:2]}
    name = "f" if len(fd) == 1 else "F"
    x = var
    text = terms_text(terms, keep, render_text, lambda s: f"({s})", lambda i: f"_{i}", lambda s: f"sum_{''.join(s)} ")
    uni = terms_text(terms, keep, render_unicode, lambda s: f"({s})", lambda i: f"_{i}", lambda s: f"Σ_{''.join(s)} ")
    tex = terms_text(terms, keep, render_latex, lambda s: rf"\left({s}\right)", lambda i: f"_{{{i}}}",
                     lambda s: rf"\sum_{{{''.join(s)}}} ")
    tex = tex.replace("δ", r"\delta")
    if splits:          # the rows and columns of A ⊗ B: i = (i1 − 1) p + i2
        said = [(i, a, b, str(size)) for i, (a, b, size) in splits.items()]
        text += " where " + ", ".join(f"{i} = ({a} - 1) {s} + {b}" for i, a, b, s in said)
        uni += " where " + ", ".join(f"{i} = ({a} − 1)·{s} + {b}" for i, a, b, s in said)
        tex += r",\quad " + r",\ ".join(rf"{i} = ({a} - 1)\,{s} + {b}" for i, a, b, s in said)
    I, K = "".join(fi), "".join(xi)
    if order == 2:
        lhs, ulhs = f"d2f/d{x}_{I} d{x}_{K}", f"∂²f/∂{x}_{I}∂{x}_{K}"
        tlhs = rf"\frac{{\partial^2 f}}{{\partial {tex_name(x)}_{{{I}}}\,\partial {tex_name(x)}_{{{K}}}}}"
    else:
        lhs, ulhs = f"d{name}_{I}/d{x}_{K}", f"∂{name}_{I}/∂{x}_{K}"
        tlhs = rf"\frac{{\partial {name}_{{{I}}}}}{{\partial {tex_name(x)}_{{{K}}}}}"
    return f"{lhs} = {text}", f"{ulhs} = {uni}", f"{tlhs} = {tex}"


def second_derivative(f, var, xshape, layout, flatten, notes, sym: bool = False):
    fk, xk = kind(f.shape, True), kind(xshape)
    if fk != "scalar":
        raise DiffError("second derivatives of vector- or matrix-valued functions are not supported; "
                        "differentiate a scalar", operation="Hessian of a non-scalar")
    G = gradient_of(f, var, xshape, sym)
    if xk == "scalar":
        return along_scalar(G, var), (1, 1)
    if xk == "vector":
        H = jacobian_of(G, var, xshape)
        return H, (xshape[0], xshape[0])
    H = jacobian_of(vec(G), var, xshape, sym)
    n = numel(xshape)
    return H, ((n, n) if flatten else tuple(xshape) + tuple(xshape))


def stacked_hessian_notes(D: Node) -> list[str]:
    """What hess_g(u) means for a vector-valued g (the stacked Hessians of its components) and
    hess_x(t) for a curve (x''(t)), once per function the result uses."""
    notes, seen = [], set()
    for n in walk(D):
        if not isinstance(n, Apply) or n.order != 2 or n.scalar_valued or n.fn in seen:
            continue
        seen.add(n.fn)
        g = n.fn
        if n.domain == 1:
            notes.append(f"hess_{g}(t) is the second derivative {g}''(t) of the curve {g}")
        else:
            notes.append(f"hess_{g}(u) stacks the Hessians ∇²{g}_k(u) of the components of {g} vertically "
                         f"(({n.codomain}·{n.domain})×{n.domain}), so that (cᵀ ⊗ I) hess_{g}(u) = Σ_k c_k ∇²{g}_k(u)")
    return notes


def symmetric_note(var: str, what: str) -> str:
    """The one convention for a symmetric variable (SPEC §1, §2; docs/symmetric.md)."""
    if what == "gradient":
        return (f"{var} is symmetric: this is the gradient on symmetric matrices, sym(G) = (G + Gᵀ)/2 "
                f"of the unconstrained gradient G (not G + Gᵀ − G∘I; Srinivasan & Panda, arXiv:1911.06491)")
    along = f"{var} is symmetric: derivatives are taken along symmetric directions, d{var} ↦ (d{var} + d{var}ᵀ)/2"
    if what == "hessian":
        return f"{along}: the Hessian of f on symmetric matrices, P H P flattened with P = (I + K)/2"
    if what == "entry":
        return f"{along}: ∂/∂{var}_ij is the derivative along (e_i e_jᵀ + e_j e_iᵀ)/2"
    return (f"{along}: J (I + K)/2 flattened (K the commutation matrix), so {var} and {var}ᵀ give the "
            f"same answer, as sym(G) does for gradients")


def power_notes(f: Node, var: str) -> list[str]:
    """a^b differentiated in its exponent has the logarithm of a: real for a positive base only. A number
    base (2^x) needs no word, nor does a power whose exponent does not hold the variable."""
    out = []
    for m in distinct(f):
        if isinstance(m, VarPow) and not (isinstance(m.arg, Num) and m.arg.value > 0) and any(
                isinstance(s, Sym) and s.name == var for s in distinct(m.exp)):
            base = render_text(m.arg)
            out.append(f"{render_text(m)} is differentiated for {base} > 0: its derivative in the exponent "
                       f"has {ops.LOG.name}({base})")
    return list(dict.fromkeys(out))


def terms_of(n: Node) -> list[Node]:
    return list(n.args) if isinstance(n, Add) else [n]


def diagonal_part(D, xshape, scalar: bool, order: int, var: str, notes: list[str]):
    """A diagonal variable: derivatives along diagonal directions only. The gradient is I ∘ G
    of the unconstrained G; a Jacobian J (∂vec F/∂(vec X)ᵀ) is J P and a Hessian P H P, with
    P = diag(vec(I)) the projection of vec X onto the diagonal matrices."""
    if scalar and order == 1:
        notes.append(f"{var} is diagonal: this is the gradient on diagonal matrices, I ∘ G of the unconstrained "
                     f"gradient G")
        return hadamard(Identity(shape=tuple(xshape)), D)
    P = diag(vec(Identity(shape=tuple(xshape))))
    if order == 2:
        notes.append(f"{var} is diagonal: the Hessian on diagonal matrices, P H P flattened with P = diag(vec(I)) "
                     f"(d{var} along diagonal directions)")
        return mul(P, D, P)
    notes.append(f"{var} is diagonal: the derivative along diagonal directions, J P flattened with "
                 f"P = diag(vec(I)) (the entries off the diagonal of {var} do not move)")
    return mul(D, P)
