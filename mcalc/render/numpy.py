"""NumPy source: `function(**symbols)` evaluates the formula, `derivative(**symbols)` the
result. Values are 2-D inside (a scalar 1×1, a vector n×1); matrix chains are ordered by
cost and repeated subexpressions are computed once."""
from __future__ import annotations

import keyword
from fractions import Fraction

from .. import ops
from ..dims import dim_names, factors, is_product, terms
from ..nodes import Apply, Call, Elementwise, Node, SCALAR, Sym, Transpose, children, walk
from ..simplify import size
from .base import Renderer

HELPERS = '''import numpy as _np


def _commutation(m, n):
    K = _np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1.0
    return K


def _tensor(J, fsizes, xsizes, denominator):
    """d vec F/d (vec X)^T (vec stacks columns) -> the derivative tensor of SPEC section 2."""
    nf, nx = len(fsizes), len(xsizes)
    T = _np.asarray(J).reshape(tuple(reversed(fsizes)) + tuple(reversed(xsizes)))
    T = _np.transpose(T, tuple(reversed(range(nf))) + tuple(reversed(range(nf, nf + nx))))
    if denominator:
        T = _np.transpose(T, tuple(range(nf, nf + nx)) + tuple(range(nf)))
    return T


def _apply(fn, u, shape):
    """A declared function's callable takes a float or a 1-D array and returns an array of shape."""
    u = _np.asarray(u, dtype=float)
    return _np.asarray(fn(u.item() if u.size == 1 else u.reshape(-1)), dtype=float).reshape(shape)

'''

def py_name(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) else name


def dim_code(d) -> str:
    if isinstance(d, int):
        return str(d)
    if "+" in str(d):                   # the length of a stacked vector, m+n
        return "(" + " + ".join(dim_code(t) for t in terms(d)) + ")"
    return " * ".join(str(p) if isinstance(p, int) else f"_d_{p}" for p in factors(d))


def number(v: Fraction) -> str:
    return repr(float(v)) if v.denominator != 1 else f"{v.numerator}.0"


class NumpyRenderer(Renderer):
    def __init__(self, temps: dict[Node, str] | None = None):
        self.temps = temps or {}

    def render(self, node):
        name = self.temps.get(node)
        if name is not None:
            return name
        return super().render(node)

    def _render_Sym(self, n):
        return py_name(n.name)

    def _render_Size(self, n):
        return f"float({dim_code(n.name)})"

    def _render_Constant(self, n):
        return f"_np.{n.name}"

    def _render_Num(self, n):
        return number(n.value)

    def _render_Identity(self, n):
        return f"_np.eye({dim_code(n.shape[0])})"

    def _render_Ones(self, n):
        return f"_np.ones(({dim_code(n.shape[0])}, {dim_code(n.shape[1])}))"

    def _render_Zero(self, n):
        return f"_np.zeros(({dim_code(n.shape[0])}, {dim_code(n.shape[1])}))"

    def _render_Unit(self, n):
        index = str(int(n.index) - 1) if n.index.isdigit() else py_name(n.index)
        return f"_np.eye({dim_code(n.shape[0])})[:, [{index}]]"

    def _render_Delta(self, n):
        return f"d{py_name(n.name)}"

    def _render_Commutation(self, n):
        return f"_commutation({dim_code(n.m)}, {dim_code(n.n)})"

    def _render_Add(self, n):
        return "(" + " + ".join(self.render(a) for a in n.args) + ")"

    def _render_Neg(self, n):
        return f"(-{self.render(n.arg)})"

    def _render_Mul(self, n):
        scal = [self.render(a) for a in n.args if a.shape == SCALAR]
        chain = [a for a in n.args if a.shape != SCALAR]
        if not chain:
            return "(" + " * ".join(scal) + ")" if len(scal) > 1 else scal[0]
        if not scal:
            return self.chain(chain)
        # scale the smallest factor, not the product: 2 g xᵀ costs a vector, not a matrix
        small = min(range(len(chain)), key=lambda i: estimate(chain[i].shape[0]) * estimate(chain[i].shape[1]))
        scaled = "(" + " * ".join(scal + [self.render(chain[small])]) + ")"
        return self.chain(chain, {small: scaled})

    def chain(self, chain: list[Node], rendered: dict | None = None) -> str:
        """Multiply in the cheapest order (dynamic programming on the chain's sizes); an outer
        product (inner dimension 1) is a broadcast, not a matrix product."""
        rendered = rendered or {}
        if len(chain) == 1:
            return rendered.get(0) or self.render(chain[0])
        size = estimate
        dims = [size(chain[0].shape[0])] + [size(c.shape[1]) for c in chain]
        k = len(chain)
        cost = [[0.0] * k for _ in range(k)]
        split = [[0] * k for _ in range(k)]
        for length in range(2, k + 1):
            for i in range(k - length + 1):
                j = i + length - 1
                cost[i][j] = float("inf")
                for s in range(i, j):
                    c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                    if c < cost[i][j]:
                        cost[i][j], split[i][j] = c, s

        def build(i, j):
            if i == j:
                return rendered.get(i) or self.render(chain[i])
            s = split[i][j]
            op = "*" if chain[s].shape[1] == 1 else "@"
            return f"({build(i, s)} {op} {build(s + 1, j)})"
        return build(0, k - 1)

    def _render_Apply(self, n):
        """The user's callable (f, grad_f, hess_f, J_g) on a 1-D argument, its value made 2-D."""
        rows, cols = (dim_code(d) for d in n.shape)
        return f"_apply({py_name(n.callable_name)}, {self.render(n.arg)}, ({rows}, {cols}))"

    def _render_HCat(self, n):
        return "_np.hstack([" + ", ".join(f"_np.atleast_2d({self.render(a)})" for a in n.args) + "])"

    def _render_Div(self, n):
        return f"({self.render(n.left)} / {self.render(n.right)})"

    def _render_Power(self, n):
        if n.arg.shape == SCALAR:
            return f"({self.render(n.arg)} ** {number(n.exp)})"
        k = int(n.exp)
        base = self.render(n.arg) if k > 0 else f"_np.linalg.inv({self.render(n.arg)})"
        return f"_np.linalg.matrix_power({base}, {abs(k)})"

    def _render_Transpose(self, n):
        return f"{self.render(n.arg)}.T"

    def _render_Inverse(self, n):
        return f"_np.linalg.inv({self.render(n.arg)})"

    def _render_Hadamard(self, n):
        return f"({self.render(n.left)} * {self.render(n.right)})"

    def _render_HadDiv(self, n):
        return f"({self.render(n.left)} / {self.render(n.right)})"

    def _render_VarPow(self, n):
        return f"({self.render(n.arg)} ** {self.render(n.exp)})"

    def _render_EPow(self, n):
        return f"({self.render(n.arg)} ** {number(n.exp)})"

    def _render_Kron(self, n):
        return f"_np.kron({self.render(n.left)}, {self.render(n.right)})"

    def _render_Function(self, n):
        """tr, det, logdet, sum, vec: the NumPy form of the class's record (diag's depends on the shape)."""
        return ops.BY_NODE[type(n)].numpy.format(self.render(n.arg))

    def _render_Diag(self, n):
        a = self.render(n.arg)
        if n.arg.shape[1] == 1 and n.arg.shape[0] != 1:
            return f"_np.diag({a}[:, 0])"
        return f"_np.diag({a}).reshape(-1, 1)"

    def _render_Norm(self, n):
        a = self.render(n.arg)
        vector = n.arg.shape[0] == 1 or n.arg.shape[1] == 1
        if n.kind == "1":
            return f"_np.sum({ops.ABS.numpy.format(a)})" if vector else f"_np.linalg.norm({a}, 1)"
        if n.kind == "2" and not vector:
            return f"_np.linalg.norm({a}, 2)"
        return f"_np.linalg.norm({a})"

    def _render_Elementwise(self, n):
        return ops.lookup(n.fn).numpy.format(self.render(n.arg))

    def _render_Call(self, n):
        return ops.lookup(n.fn).numpy.format(*(self.render(a) for a in n.args))


def record_helpers(roots: list[Node]) -> str:
    """The NumPy helpers (def _sigmoid ...) of the records the code calls, each once."""
    out: list[str] = []
    for root in roots:
        for n in walk(root):
            op = ops.lookup(n.fn) if isinstance(n, (Elementwise, Call)) else ops.BY_NODE.get(type(n))
            if op is not None:
                h = op.helpers
                if h and h not in out:
                    out.append(h)
    return "".join("\n\n" + h for h in out)


def estimate(d) -> int:
    """A size to plan with: named dimensions count as large."""
    return 1 if d == 1 else (d if isinstance(d, int) else 100)


def shared_subexpressions(roots: list[Node]) -> list[Node]:
    """Subtrees worth computing once: they occur more than once and are not trivial."""
    counts: dict[Node, int] = {}
    for root in roots:
        for n in walk(root):
            if list(children(n)) and not (isinstance(n, Transpose) and isinstance(n.arg, Sym)):
                counts[n] = counts.get(n, 0) + 1
    shared = [n for n, c in counts.items() if c > 1]
    shared.sort(key=size)
    return shared


def prologue(symbols: dict, used_dims: set[str]) -> list[str]:
    lines = []
    for name, info in symbols.items():
        p = py_name(name)
        shape = info.shape
        if shape == SCALAR:
            lines.append(f"    {p} = _np.full((1, 1), float({p}))")
        elif shape[1] == 1:
            lines.append(f"    {p} = _np.asarray({p}, dtype=float).reshape(-1, 1)")
        else:
            lines.append(f"    {p} = _np.asarray({p}, dtype=float).reshape({dim_code(shape[0]) if isinstance(shape[0], int) else -1}, "
                         f"{dim_code(shape[1]) if isinstance(shape[1], int) else -1})" if all(isinstance(d, int) for d in shape)
                         else f"    {p} = _np.atleast_2d(_np.asarray({p}, dtype=float))")
    sources, _ = dim_sources(symbols, used_dims)
    return lines + [f"    _d_{d} = {code}" for d, code in sources]


def dim_sources(symbols: dict, used_dims: set[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """How the generated code learns each size it uses, in order: from an argument's shape,
    from a product (y: R^(m*n) with n known gives m = y.shape[0] // n), or, for a size no
    argument carries (p in tr(I_p ⊗ B)), from a keyword argument. Returns the (size, code)
    pairs and those keyword arguments."""
    known: dict[str, str] = {}
    products: list[tuple[list[str], str]] = []
    for name, info in symbols.items():
        for axis, d in enumerate(info.shape):
            if isinstance(d, str) and not is_product(d) and d not in known:
                known[d] = f"{py_name(name)}.shape[{axis}]"
            elif isinstance(d, str):
                products.append(([str(p) for p in factors(d)], f"{py_name(name)}.shape[{axis}]"))
    needed = {q for d in used_dims for q in dim_names(d)}
    order = [d for d in sorted(known) if d in needed or any(d in parts for parts, _ in products)]
    params: list[str] = []
    while True:
        progress = True
        while progress:
            progress = False
            for parts, size in products:
                unknown = [q for q in parts if not q.isdigit() and q not in known]
                if len(unknown) == 1:
                    rest = [q if q.isdigit() else f"_d_{q}" for q in parts if q != unknown[0]]
                    known[unknown[0]] = f"{size} // ({' * '.join(rest) or '1'})"
                    order.append(unknown[0])
                    progress = True
        missing = sorted(needed - set(known))
        if not missing:
            return [(d, known[d]) for d in order], params
        known[missing[0]] = f"int({py_name(missing[0])})"
        order.append(missing[0])
        params.append(missing[0])


def needed_dims(nodes: list[Node], symbols) -> set[str]:
    out = set()
    for info in symbols.values():
        out.update(d for d in info.shape if isinstance(d, str))
    for root in nodes:
        for n in walk(root):
            for d in n.shape or ():
                if isinstance(d, str):
                    out.update(dim_names(d))
            if hasattr(n, "name") and type(n).__name__ == "Size":
                out.add(n.name)
    return out


def body_lines(bindings, result: Node, final: str) -> list[str]:
    """Bindings in order, each shared subexpression computed once as soon as its inputs exist."""
    roots = [v for _, v in bindings] + [result]
    bound = {name for name, _ in bindings}
    temps: dict[Node, str] = {}
    lines: list[str] = []
    pending = shared_subexpressions(roots)
    defined: set[str] = set()

    def flush():
        nonlocal pending
        keep = []
        for n in pending:
            needs = {m.name for m in walk(n) if isinstance(m, Sym) and m.name in bound}
            if needs <= defined:
                name = f"_t{len(temps) + 1}"
                lines.append(f"    {name} = {NumpyRenderer(temps).render(n)}")
                temps[n] = name
            else:
                keep.append(n)
        pending = keep

    for name, value in bindings:
        flush()
        lines.append(f"    {py_name(name)} = {NumpyRenderer(temps).render(value)}")
        defined.add(name)
    flush()
    lines.append(f"    return {final.format(NumpyRenderer(temps).render(result))}")
    return lines


def callables(nodes: list[Node]) -> list[str]:
    """The names of the abstract functions' callables the code calls (f, grad_f, hess_f, J_g)."""
    return sorted({m.callable_name for root in nodes for m in walk(root) if isinstance(m, Apply)})


def render_numpy(result) -> str:
    t = result.typed
    symbols = t.free_symbols()
    raw_bindings = list(t.bindings)
    dims = needed_dims([v for _, v in raw_bindings] + [t.body, result.node] + [v for _, v in result.bindings], symbols)
    _, params = dim_sources(symbols, dims)
    fns = callables([v for _, v in raw_bindings] + [t.body, result.node] + [v for _, v in result.bindings])
    args = ", ".join([py_name(s) for s in symbols] + (["*"] if params or fns else []) +
                     [py_name(d) for d in params] + [f"{py_name(c)}=None" for c in fns])
    pro = prologue(symbols, dims)
    fshape = t.body.shape
    if fshape == SCALAR:
        fret = "_np.asarray({}, dtype=float).reshape(1, 1)[0, 0]"
    elif fshape[1] == 1 or fshape[0] == 1:
        fret = "_np.asarray({}, dtype=float).reshape(-1)"
    else:
        fret = "_np.asarray({}, dtype=float)"
    shape = ", ".join(dim_code(d) for d in result.shape)
    dret = "_np.reshape(_np.asarray({}, dtype=float), (" + shape + ("," if len(result.shape) == 1 else "") + "))"
    if result.tensor is not None and not result.flatten:
        fs = ", ".join(dim_code(d) for d in result.tensor[0]) + ","
        xs = ", ".join(dim_code(d) for d in result.tensor[1]) + ","
        dret = f"_tensor({{}}, ({fs}), ({xs}), {result.layout == 'denominator'})"
    helpers = record_helpers([v for _, v in raw_bindings] + [t.body, result.node] + [v for _, v in result.bindings])
    out = [HELPERS + helpers, "", f"def function({args}):"] + pro + body_lines(raw_bindings, t.body, fret)
    if result.entry is not None and result.stack:
        idx = [py_name(i) for i in result.entry]
        xs = [dim_code(d) for d in result.var_shape[:len(idx)]]
        inner = body_lines(list(result.bindings), result.node, "_np.atleast_2d(_np.asarray({}, dtype=float))")
        loops = " ".join(f"for {i} in range({n})" for i, n in reversed(list(zip(idx, xs))))
        out += ["", "", f"def derivative({args}):"] + pro
        out += [f"    def _partial({', '.join(idx)}):"] + ["    " + ln for ln in inner]
        out += [f"    return _np.vstack([_partial({', '.join(idx)}) {loops}])"]
    else:
        extra = "".join(f", {py_name(i)}=0" for i in (result.entry or ()) if not i.isdigit())
        out += ["", "", f"def derivative({args}{extra}):"] + pro + body_lines(list(result.bindings), result.node, dret)
    return "\n".join(out) + "\n"
