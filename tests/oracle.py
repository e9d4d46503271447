"""An independent finite-difference oracle for mcalc results (it does not use
mcalc.verify).

It runs the result's generated NumPy source (`function`, `derivative`), draws random
sizes for every dimension name and random data that respects each symbol's domain,
computes the tensor T[f indices..., x indices...] by central differences (with one
Richardson step) on `function`, arranges it as SPEC §2's table says for the layout, and
compares it with `derivative(...)`. A test-side NumPy evaluator of node trees
(`Evaluator`, `evaluate_program`) checks the *text* of a result the same way,
independently of the generated code, and the generated `function` against the formula.
"""
from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from mcalc import nodes as N

SIZES = (2, 3, 4, 5)
RTOL = 1e-6

# ---- kinds and SPEC §2's shape table ------------------------------------------------


def kind(shape, as_function: bool = False) -> str:
    """scalar (1×1), vector (n×1; a 1×n function counts as a vector) or matrix."""
    if tuple(shape) == (1, 1):
        return "scalar"
    if shape[1] == 1:
        return "vector"
    if shape[0] == 1 and as_function:
        return "vector"
    return "matrix"


def f_dims(shape) -> tuple:
    k = kind(shape, True)
    if k == "scalar":
        return ()
    if k == "vector":
        return (shape[0] if shape[1] == 1 else shape[1],)
    return tuple(shape)


def x_dims(shape) -> tuple:
    k = kind(shape)
    return () if k == "scalar" else (shape[0],) if k == "vector" else tuple(shape)


def expected_shape(fshape, xshape, layout: str) -> tuple:
    """SPEC §2's table, written out row by row."""
    fk, xk = kind(fshape, True), kind(xshape)
    F, X = f_dims(fshape), x_dims(xshape)
    if fk == "scalar" and xk == "scalar":
        return (1, 1)
    if layout == "numerator":
        if fk == "scalar" and xk == "vector":
            return (1, X[0])
        if fk == "scalar" and xk == "matrix":
            return (X[1], X[0])
        if fk == "vector" and xk == "scalar":
            return (F[0], 1)
        return F + X
    if layout == "denominator":
        if fk == "scalar" and xk == "vector":
            return (X[0], 1)
        if fk == "scalar" and xk == "matrix":
            return X
        if fk == "vector" and xk == "scalar":
            return (1, F[0])
        if fk == "matrix" and xk == "scalar":
            return (F[1], F[0])
        return X + F
    if layout == "mixed":
        if fk == "scalar" and xk == "vector":
            return (X[0], 1)
        if fk == "scalar" and xk == "matrix":
            return X
        if fk == "vector" and xk == "scalar":
            return (F[0], 1)
        if fk == "matrix" and xk == "scalar":
            return F
        return F + X
    raise ValueError(layout)


def arrange(T: np.ndarray, nf: int, fk: str, xk: str, layout: str) -> np.ndarray:
    """T[f..., x...] in the layout's index order (the shape is applied by the caller)."""
    if layout == "numerator" and fk == "scalar" and xk == "matrix":
        return T.T
    if layout == "denominator":
        if fk == "matrix" and xk == "scalar":
            return T.T
        return np.transpose(T, list(range(nf, T.ndim)) + list(range(nf)))
    return T


# ---- the variable ----------------------------------------------------------------------
WRT_ENTRY = re.compile(r"^\s*(\w+)\s*\[\s*(\w+)\s*(?:,\s*(\w+)\s*)?\]\s*$")


@dataclass
class Variable:
    """What is differentiated: one symbol, a tuple of scalars, or one entry of a symbol."""
    names: tuple[str, ...]
    index_names: tuple[str, ...] = ()

    @staticmethod
    def parse(wrt: str) -> "Variable":
        w = wrt.strip()
        if w.startswith("("):
            return Variable(tuple(p.strip() for p in w.strip("()").split(",") if p.strip()))
        m = WRT_ENTRY.match(w)
        if m:
            return Variable((m.group(1),), tuple(g for g in m.group(2, 3) if g))
        return Variable((w,))

    def shape(self, symbols) -> tuple:
        """The variable's shape as SPEC §2 sees it."""
        if len(self.names) > 1:
            return (len(self.names), 1)
        if self.index_names:
            return (1, 1)
        return tuple(symbols[self.names[0]].shape)


# ---- sizes -----------------------------------------------------------------------------


def dim_names(shapes) -> set[str]:
    out = set()
    for shape in shapes:
        for d in shape:
            if isinstance(d, str):
                out.update(p for p in d.split("*") if not p.isdigit())
    return out


def resolve(shape, sizes: dict) -> tuple[int, ...]:
    out = []
    for d in shape:
        if isinstance(d, int):
            out.append(d)
        else:
            out.append(math.prod(int(p) if p.isdigit() else sizes[p] for p in str(d).split("*")))
    return tuple(out)


ASSUME = re.compile(r"^(\w+)\s*(>=|<=|>|<|=|==)\s*(\w+)$")


def satisfies(sizes: dict, assume) -> bool:
    ops = {">": int.__gt__, ">=": int.__ge__, "<": int.__lt__, "<=": int.__le__,
           "=": int.__eq__, "==": int.__eq__}
    for a in assume:
        m = ASSUME.match(a.strip())
        if not m:
            raise ValueError(f"bad assume: {a!r}")
        val = lambda t: int(t) if t.isdigit() else sizes[t]
        if not ops[m.group(2)](val(m.group(1)), val(m.group(3))):
            return False
    return True


def draw_sizes(names, rng, assume=()) -> dict[str, int]:
    """A size in 2..5 for every dimension name, distinct where possible."""
    names = sorted(names)
    for _ in range(1000):
        pool = list(rng.permutation(SIZES))
        sizes = {}
        for i, n in enumerate(names):
            sizes[n] = int(pool[i]) if i < len(pool) else int(rng.choice(SIZES))
        if satisfies(sizes, assume):
            return sizes
    raise ValueError(f"no sizes satisfy {assume}")


# ---- domains ---------------------------------------------------------------------------
# Positive entries for symbols under log, sqrt, fractional or negative powers and
# divisions; for symbols under det, logdet or an inverse: square matrices well conditioned
# with det > 0 (symmetric positive-definite when declared symmetric, otherwise NOT
# symmetric, so that X^-1 / X^-T mix-ups show), scalars positive.


@dataclass
class Domains:
    positive: set = field(default_factory=set)     # entries > 0 (log, sqrt, division, …)
    small: set = field(default_factory=set)        # entries in (-0.4, 0.4) (arcsin, arccos)
    invertible: set = field(default_factory=set)   # under det / logdet / inverse


def syms_in(node, bound: dict) -> set[str]:
    out = set()
    for m in N.walk(node):
        if isinstance(m, N.Sym):
            if m.name in bound:
                out |= bound[m.name]
            else:
                out.add(m.name)
    return out


def positive_syms(node, bound_nodes: dict, seen=None) -> set[str]:
    """Symbols that, taken positive, make node positive. It does not look inside
    elementwise functions, norms and determinants: their positivity is their range's
    (exp, sigmoid, norms), the data's (det), or beyond what positive symbols give."""
    seen = seen if seen is not None else set()
    if isinstance(node, N.Sym):
        if node.name in bound_nodes and node.name not in seen:
            return positive_syms(bound_nodes[node.name], bound_nodes, seen | {node.name})
        return {node.name}
    if isinstance(node, (N.Elementwise, N.Norm, N.Det, N.LogDet)):
        return set()
    out = set()
    for c in N.children(node):
        out |= positive_syms(c, bound_nodes, seen)
    return out


def domains(typed) -> Domains:
    bound_nodes = dict(typed.bindings)
    bound: dict[str, set] = {}
    for name, value in typed.bindings:
        bound[name] = syms_in(value, bound)
    d = Domains()
    roots = [v for _, v in typed.bindings] + [typed.body]
    for root in roots:
        for m in N.walk(root):
            if isinstance(m, N.Elementwise) and m.fn in ("log", "ln", "sqrt"):
                d.positive |= positive_syms(m.arg, bound_nodes)
            if isinstance(m, N.Elementwise) and m.fn in UNIT:
                d.small |= syms_in(m.arg, bound)
            elif isinstance(m, N.EPow) or isinstance(m, N.Power) and m.arg.shape == (1, 1):
                if m.exp.denominator != 1 or m.exp < 0:
                    d.positive |= positive_syms(m.arg, bound_nodes)
            if isinstance(m, (N.Div, N.HadDiv)):
                d.positive |= positive_syms(m.right, bound_nodes)
            if isinstance(m, N.VarPow) and not isinstance(m.exp, N.Size):    # a real power: a > 0
                d.positive |= positive_syms(m.arg, bound_nodes)
            if isinstance(m, (N.Det, N.LogDet, N.Inverse)) or (
                    isinstance(m, N.Power) and m.arg.shape != (1, 1) and m.exp < 0):
                d.invertible |= syms_in(m.arg, bound)
    return d


def draw_value(info, sizes, dom: Domains, rng):
    shape = resolve(info.shape, sizes)
    name = info.name
    square = len(shape) == 2 and shape[0] == shape[1] and shape != (1, 1)
    if shape == (1, 1):
        if name in dom.positive or name in dom.invertible:
            return float(rng.uniform(0.5, 2.0))
        return float(rng.standard_normal())
    if name in dom.invertible and square:
        n = shape[0]
        if info.symmetric:
            Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
            return (Q * rng.uniform(0.5, 2.0, n)) @ Q.T
        # not symmetric (so transposition mistakes show), well conditioned, det > 0
        return rng.uniform(0.7, 1.5) * (np.eye(n) + 0.4 * rng.standard_normal((n, n)) / math.sqrt(n))
    if name in dom.positive:
        a = rng.uniform(0.5, 2.0, shape)
    elif name in dom.small:
        a = rng.uniform(-0.4, 0.4, shape)
    else:
        a = rng.standard_normal(shape)
    if info.symmetric:
        a = (a + a.T) / 2
    if getattr(info, "probability", False):         # positive entries summing to 1 (a matrix: each row)
        a = rng.uniform(0.2, 1.0, shape)
        a = a / (a.sum(axis=1, keepdims=True) if len(shape) == 2 and shape[1] != 1 else a.sum())
    if shape[1] == 1:
        return a[:, 0]
    return a


# ---- running the generated code --------------------------------------------------------


_LOADED: dict[str, tuple] = {}


def load_numpy(source: str):
    """`function` and `derivative` from a result's generated source (run once per source)."""
    hit = _LOADED.get(source)
    if hit is None:
        ns: dict = {}
        exec(compile(source, "<mcalc numpy>", "exec"), ns)  # the result's own generated code
        hit = _LOADED[source] = (ns["function"], ns["derivative"])
    return hit


def py_name(name: str) -> str:
    import keyword
    return name + "_" if keyword.iskeyword(name) else name


def call(fn, data: dict, extra: dict | None = None):
    kwargs = {py_name(k): v for k, v in data.items()}
    if extra:
        params = inspect.signature(fn).parameters
        kwargs.update({k: v for k, v in extra.items() if k in params})
    return np.asarray(fn(**kwargs), dtype=float)


def perturbed(data: dict, name: str, idx, delta: float) -> dict:
    out = dict(data)
    v = data[name]
    if np.ndim(v) == 0:
        out[name] = float(v) + delta
    else:
        w = np.array(v, dtype=float, copy=True)
        w[idx] += delta
        out[name] = w
    return out


def fd_tensor(f, data: dict, var: Variable, entry: tuple = ()) -> np.ndarray:
    """T[f..., x...] by central differences with one Richardson step (error O(h^4))."""
    def slot(name, idx):
        base = float(np.asarray(data[name])[idx]) if np.ndim(data[name]) else float(data[name])
        h = 1e-3 * max(1.0, abs(base))

        def central(step):
            return (f(perturbed(data, name, idx, step)) - f(perturbed(data, name, idx, -step))) / (2 * step)
        return (4 * central(h / 2) - central(h)) / 3

    if len(var.names) > 1:                           # a tuple of scalars, stacked
        cols = [slot(n, ()) for n in var.names]
        return np.stack(cols, axis=-1)
    name = var.names[0]
    if var.index_names:                              # one entry: the result has f's shape
        return slot(name, entry)
    v = data[name]
    if np.ndim(v) == 0:
        return slot(name, ())
    cols = [slot(name, idx) for idx in np.ndindex(np.shape(v))]
    F = np.shape(cols[0])
    return np.stack(cols, axis=-1).reshape(F + np.shape(v))


# ---- the check ---------------------------------------------------------------------------


def result_shape(fshape, var: Variable, symbols, layout: str) -> tuple:
    """The shape SPEC §2 gives the derivative (an entry x[i] gives f's own shape)."""
    if var.index_names:
        return tuple(fshape)
    return expected_shape(fshape, var.shape(symbols), layout)


def draw(result, var: Variable, rng, assume=()):
    """Sizes and data (and entry indices) for one draw, redrawn until f is finite."""
    f_gen, _ = load_numpy(result.numpy)
    symbols = result.symbols
    dom = domains(result.typed)
    names = dim_names([i.shape for i in symbols.values()] + [tuple(result.shape)]) | set(result.typed.dims)
    for _ in range(30):
        sizes = draw_sizes(names, rng, assume)
        data = {name: draw_value(info, sizes, dom, rng) for name, info in symbols.items()}
        entry, extra = (), {}
        if var.index_names:
            vshape = resolve(symbols[var.names[0]].shape, sizes)
            vshape = vshape[:1] if vshape[1] == 1 else vshape
            entry = tuple(int(rng.integers(0, s)) for s in vshape[:len(var.index_names)])
            extra = dict(zip(var.index_names, entry))
        with np.errstate(all="ignore"):
            f0 = call(f_gen, data)
        if np.all(np.isfinite(f0)) and not near_kink(result.typed, data, sizes):
            return sizes, data, entry, extra
    raise AssertionError("could not draw data where the function is finite")


KINK_MARGIN = 0.02      # well beyond the finite-difference steps (1e-3 relative)


def near_kink(typed, data: dict, sizes) -> bool:
    """An argument of abs/relu/step/sign near 0, or of max/min with a ≈ b: finite differences
    would straddle the kink, so the draw is redrawn (the derivative is the a.e. one)."""
    env = as_env(data)
    ev = Evaluator(env, sizes)
    with np.errstate(all="ignore"):
        for name, value in typed.bindings:
            env[name] = ev(value)
        for root in [v for _, v in typed.bindings] + [typed.body]:
            for m in N.walk(root):
                if isinstance(m, N.Elementwise) and m.fn in KINKS:
                    gap = ev(m.arg)
                elif isinstance(m, N.Call) and m.fn in PAIR_KINKS:
                    gap = ev(m.args[0]) - ev(m.args[1])
                else:
                    continue
                if np.min(np.abs(gap), initial=np.inf) < KINK_MARGIN:
                    return True
    return False


def reference(result, var: Variable, layout: str, sizes, data, entry) -> np.ndarray:
    """Finite differences of the generated `function`, arranged as SPEC §2 says."""
    f_gen, _ = load_numpy(result.numpy)
    symbols = result.symbols
    fshape = result.typed.body.shape
    fk, xk = kind(fshape, True), kind(var.shape(symbols))
    with np.errstate(all="ignore"):
        T = fd_tensor(lambda d: call(f_gen, d), data, var, entry)
    if not np.all(np.isfinite(T)):
        raise AssertionError(f"finite differences are not finite at sizes {sizes}")
    sym_var = len(var.names) == 1 and not var.index_names and symbols[var.names[0]].symmetric
    if sym_var and xk == "matrix":
        T = (T + np.swapaxes(T, -1, -2)) / 2  # SPEC §1, §2: along symmetric directions (sym(G) for a gradient)
    want = resolve(result_shape(fshape, var, symbols, layout), sizes)
    A = T if var.index_names else arrange(T, len(f_dims(fshape)), fk, xk, layout)
    assert A.size == math.prod(want), f"internal: {A.shape} vs {want}"
    return A.reshape(want)


def compare(got, want: np.ndarray, label: str, sizes, fscale: float = 1.0) -> str | None:
    """None when got matches want to RTOL relative to want's magnitude; else a message."""
    got = np.asarray(got, dtype=float)
    if got.size != want.size:
        return f"{label} has {got.shape}, SPEC's table wants {want.shape} (sizes {sizes})"
    got = got.reshape(want.shape)
    scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1e-9 * max(1.0, fscale))
    err = float(np.max(np.abs(got - want))) / scale if want.size else 0.0
    if err <= RTOL:
        return None
    return (f"{label}: max relative error {err:.3g} at sizes {sizes}\n"
            f"  expected (finite differences):\n{np.array2string(want, precision=5)}\n"
            f"  got:\n{np.array2string(got, precision=5)}")


def check(result, wrt: str, layout: str, rng, assume=(), text_program=None) -> list[str]:
    """One random size assignment: the generated `derivative` (and, given the typed text
    of the result with a map from its open dimensions to the result's, the test-side
    evaluation of that text) against finite differences, and
    the generated `function` against the test-side evaluation of the input formula.
    Returns the list of failures (empty when all agree)."""
    var = Variable.parse(wrt)
    sizes, data, entry, extra = draw(result, var, rng, assume)
    f_gen, d_gen = load_numpy(result.numpy)
    want = reference(result, var, layout, sizes, data, entry)
    problems = []
    with np.errstate(all="ignore"):
        f0 = call(f_gen, data)
        mine = evaluate_program(result.typed.bindings, result.typed.body, data, sizes)
    fscale = float(np.max(np.abs(f0))) if f0.size else 1.0
    msg = compare(f0, mine, "generated function() vs the formula", sizes, fscale)
    if msg:
        problems.append(msg)
    routes = [("generated derivative()", lambda: call(d_gen, data, extra))]
    if text_program is not None:
        typed_text, renamed = text_program
        text_sizes = dict(sizes) | {k: resolve((v,), sizes)[0] for k, v in renamed.items()}
        # the text may name the input's bound names (SPEC §3): they are in scope
        context = tuple(result.typed.bindings)
        routes.append(("the result's text", lambda: evaluate_program(
            context + tuple(typed_text.bindings), typed_text.body, data, text_sizes, extra)))
    for label, get in routes:
        try:
            with np.errstate(all="ignore"):
                got = get()
        except Exception as e:  # noqa: BLE001 - any failure of the code under test is reported
            problems.append(f"{label} raised {type(e).__name__}: {e}")
            continue
        msg = compare(got, want, label, sizes, fscale)
        if msg:
            problems.append(msg)
    return problems


# ---- a test-side NumPy evaluator of node trees (for the text of a result) -------------------


def _num(v: Fraction) -> float:
    return float(v)


def _mul(vals):
    scal = 1.0
    chain = []
    for v in vals:
        if v.shape == (1, 1):
            scal = scal * v[0, 0]
        else:
            chain.append(v)
    if not chain:
        return np.array([[scal]])
    out = chain[0]
    for c in chain[1:]:
        out = out @ c
    return scal * out


def _mpow(a, k):
    if a.shape == (1, 1):
        return a ** float(k)
    k = Fraction(k)
    if k.denominator != 1:
        raise ValueError("fractional matrix power")
    base = np.linalg.inv(a) if k < 0 else a
    return np.linalg.matrix_power(base, abs(int(k)))


def _norm(a, kind):
    vector = a.shape[0] == 1 or a.shape[1] == 1
    if kind == "1":
        return np.sum(np.abs(a)) if vector else np.max(np.sum(np.abs(a), axis=0))
    if kind == "2" and not vector:
        return np.linalg.svd(a, compute_uv=False)[0]
    return math.sqrt(float(np.sum(a * a)))


def _diag(a):
    if a.shape[1] == 1 and a.shape[0] != 1:
        return np.diag(a[:, 0])
    return np.diag(a).reshape(-1, 1)


def _commutation(m, n):
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1.0
    return K


def _logdet(a):
    sign, val = np.linalg.slogdet(a)
    return val if sign > 0 else float("nan")


ELEMENTWISE = {
    "exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "sqrt": np.sqrt, "abs": np.abs,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)), "softplus": lambda a: np.logaddexp(0.0, a),
    "relu": lambda a: np.maximum(a, 0.0), "step": lambda a: (a > 0).astype(float),
    "sign": np.sign, "ln": np.log, "arcsin": np.arcsin, "asin": np.arcsin, "arccos": np.arccos,
    "acos": np.arccos, "arctan": np.arctan, "atan": np.arctan,
    "erf": np.vectorize(math.erf, otypes=[float]),
    "gelu": lambda a: 0.5 * a * (1.0 + np.vectorize(math.erf, otypes=[float])(a / math.sqrt(2.0))),
}


def _softmax(a):
    axis = 0 if a.shape[1] == 1 else 1          # a matrix row by row
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


CALLS = {
    "softmax": _softmax,
    "log_softmax": lambda a: np.log(_softmax(a)),
    "logsumexp": lambda a: np.log(np.sum(np.exp(a))),
    "mean": np.mean, "prod": np.prod,
    "dot": lambda a, b: float(a[:, 0] @ b[:, 0]),
    "max": np.maximum, "min": np.minimum,
}
KINKS = {"abs", "relu", "step", "sign"}             # not differentiable at 0
PAIR_KINKS = {"max", "min"}                         # not differentiable where a = b
UNIT = {"arcsin", "asin", "arccos", "acos"}         # defined for |u| < 1


class Evaluator:
    """Node tree → 2-D NumPy array (a scalar is 1×1), one function per node class."""

    def __init__(self, env: dict, sizes: dict, indices: dict | None = None):
        self.env = env
        self.sizes = sizes
        self.indices = indices or {}
        self.memo: dict = {}
        self.table = {
            "Sym": self.symbol,
            "Size": lambda n: np.array([[float(self.dim(n.name))]]),
            "Constant": lambda n: np.array([[np.pi]]) if n.name == "pi" else None,
            "Num": lambda n: np.array([[_num(n.value)]]),
            "Identity": lambda n: np.eye(self.dim(n.shape[0])),
            "Ones": lambda n: np.ones((self.dim(n.shape[0]), self.dim(n.shape[1]))),
            "Zero": lambda n: np.zeros((self.dim(n.shape[0]), self.dim(n.shape[1]))),
            "Unit": lambda n: np.eye(self.dim(n.shape[0]))[:, [self.indices[n.index]]],
            "Commutation": lambda n: _commutation(self.dim(n.m), self.dim(n.n)),
            "Add": lambda n: sum(self(a) for a in n.args),
            "Neg": lambda n: -self(n.arg),
            "Mul": lambda n: _mul([self(a) for a in n.args]),
            "Div": lambda n: self(n.left) / self(n.right)[0, 0],
            "Power": lambda n: _mpow(self(n.arg), n.exp),
            "Transpose": lambda n: self(n.arg).T,
            "Inverse": lambda n: np.linalg.inv(self(n.arg)),
            "Hadamard": lambda n: self(n.left) * self(n.right),
            "HadDiv": lambda n: self(n.left) / self(n.right),
            "EPow": lambda n: self(n.arg) ** float(n.exp),
            "VarPow": lambda n: self(n.arg) ** self(n.exp),
            "Kron": lambda n: np.kron(self(n.left), self(n.right)),
            "Trace": lambda n: np.array([[np.trace(self(n.arg))]]),
            "Det": lambda n: np.array([[np.linalg.det(self(n.arg))]]),
            "LogDet": lambda n: np.array([[_logdet(self(n.arg))]]),
            "Sum": lambda n: np.array([[np.sum(self(n.arg))]]),
            "Vec": lambda n: self(n.arg).reshape(-1, 1, order="F"),
            "Diag": lambda n: _diag(self(n.arg)),
            "Norm": lambda n: np.array([[_norm(self(n.arg), n.kind)]]),
            "Elementwise": lambda n: ELEMENTWISE[n.fn](self(n.arg)),
            "Call": lambda n: CALLS[n.fn](*[self(a) for a in n.args]),
            "HCat": lambda n: np.hstack([self(a) for a in n.args]),
        }

    def symbol(self, n):
        if n.name in self.env:
            return self.env[n.name]
        base, _, index = n.name.partition("_")
        if base == "e" and index in self.indices:   # seed 004's unit vector e_i, read back
            return np.eye(self.dim(n.shape[0]))[:, [self.indices[index]]]
        raise KeyError(n.name)

    def dim(self, d) -> int:
        return resolve((d,), self.sizes)[0]

    def __call__(self, n):
        hit = self.memo.get(id(n))
        if hit is not None:
            return hit[1]
        fn = self.table.get(type(n).__name__)
        if fn is None:
            raise NotImplementedError(f"test evaluator: no rule for {type(n).__name__}")
        v = np.asarray(fn(n), dtype=float)
        if v.ndim == 0:
            v = v.reshape(1, 1)
        self.memo[id(n)] = (n, v)
        return v


def as_env(data: dict) -> dict:
    env = {}
    for name, v in data.items():
        a = np.asarray(v, dtype=float)
        env[name] = a.reshape(1, 1) if a.ndim == 0 else a.reshape(-1, 1) if a.ndim == 1 else a
    return env


def evaluate_program(bindings, body, data: dict, sizes: dict, indices=None) -> np.ndarray:
    env = as_env(data)
    ev = Evaluator(env, sizes, indices)
    for name, value in bindings:
        env[name] = ev(value)
    return ev(body)
