"""Numerical verification: central finite differences on random data of random sizes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import limits, ops
from .evaluate import evaluate
from .layout import arrange, kind, tensor_from_flat
from .dims import dim_names, eval_dim
from .nodes import (Call, Det, Elementwise, EPow, Inverse, LogDet, Node, Power, Sym, children, walk)
from .shapes import Typed


def domains(nodes: list[Node]) -> tuple[set[str], set[str]]:
    """Symbols that must be positive (under log, sqrt, fractional powers) and square
    symbols that must be well conditioned with positive determinant (inv, det, logdet)."""
    positive, spd = set(), set()
    small: set[str] = set()       # under arcsin, arccos: |u| < 1 (a draw outside is redrawn)
    for root in nodes:
        for n in walk(root):
            inside = None
            if isinstance(n, Elementwise) and ops.lookup(n.fn).domain == "positive":
                inside = positive
            elif isinstance(n, Elementwise) and ops.lookup(n.fn).domain == "unit":
                inside = small
            elif isinstance(n, (Power, EPow)) and (n.exp.denominator != 1 or n.exp < 0):
                inside = positive if n.arg.shape == (1, 1) or isinstance(n, EPow) else spd
            elif isinstance(n, (LogDet, Det, Inverse)) or (isinstance(n, Power) and n.exp < 0):
                inside = spd
            if inside is not None:
                inside.update(m.name for m in walk(n) if isinstance(m, Sym))
    return positive, spd, small


def pick_sizes(dims, rng, lo=2, hi=5) -> dict[str, int]:
    names = [p for d in dims for p in dim_names(d)]
    values = list(range(lo, hi + 1))
    rng.shuffle(values)
    out = {}
    for i, name in enumerate(sorted(set(names))):
        out[name] = values[i] if i < len(values) else int(rng.integers(lo, hi + 1))
    return out


def dim_value(d, sizes) -> int:
    return eval_dim(d, sizes)


def sample(t: Typed, rng, sizes: dict[str, int], nodes: list[Node]) -> dict[str, np.ndarray]:
    positive, spd, small = domains(nodes)
    env = {}
    for name, info in t.free_symbols().items():
        shape = tuple(dim_value(d, sizes) for d in info.shape)
        if name in positive:
            a = rng.uniform(0.5, 2.0, size=shape)
        elif name in small:
            a = rng.uniform(-0.4, 0.4, size=shape)
        else:
            a = rng.standard_normal(shape)
        if name in spd and shape[0] == shape[1]:
            # well conditioned, positive determinant, and NOT symmetric (transposes must show)
            n = shape[0]
            if name in positive:
                a = np.eye(n) * n + rng.uniform(0.1, 0.5, size=shape)
            else:
                a = np.eye(n) + 0.4 * rng.standard_normal(shape) / np.sqrt(n)
        if info.symmetric:
            a = (a + a.T) / 2
        if getattr(info, "diagonal", False):
            a = np.diag(np.diag(a))
        if info.probability:          # positive entries summing to 1
            a = rng.uniform(0.2, 1.0, size=shape)
            a = a / a.sum()
        env[name] = a
    for sig in t.program.functions:
        env[sig.name] = random_function(dim_value(sig.domain, sizes), dim_value(sig.codomain, sizes), rng)
    return env


def random_function(m: int, k: int, rng) -> tuple:
    """A random smooth f: R^m -> R^k with its exact derivatives, (f, ∇f or J_f, ∇²f):
    k = 1: f(u) = ½ uᵀ Q u + cᵀ sin(u) + bᵀ u, ∇f = Q u + c ∘ cos(u) + b, ∇²f = Q − diag(c ∘ sin(u)) (Q symmetric);
    k > 1: g(u) = tanh(M u + c), J_g = diag(1 − tanh²(M u + c)) M (no Hessian: it is a tensor)."""
    def flat(u):                    # a float (R) or a vector
        return np.asarray(u, dtype=float).reshape(-1)
    if k == 1:
        Q = rng.standard_normal((m, m))
        Q = (Q + Q.T) / 2
        c, b = rng.standard_normal(m), rng.standard_normal(m)
        return (lambda u: 0.5 * flat(u) @ Q @ flat(u) + c @ np.sin(flat(u)) + b @ flat(u),
                lambda u: Q @ flat(u) + c * np.cos(flat(u)) + b,
                lambda u: Q - np.diag(c * np.sin(flat(u))))
    M, c = rng.standard_normal((k, m)) / np.sqrt(m), rng.standard_normal(k)
    return (lambda u: np.tanh(M @ flat(u) + c),
            lambda u: (1 - np.tanh(M @ flat(u) + c) ** 2)[:, None] * M,
            None)


KINK_MARGIN = 1e-3      # far beyond the finite-difference step (1e-6): no difference straddles a kink


def near_kink(nodes: list[Node], env, sizes) -> bool:
    """Is some argument of a non-smooth function (abs, relu, sign, max, ...) within KINK_MARGIN
    of where it is not differentiable? Such a draw is redrawn: the derivative is the a.e. one."""
    for root in nodes:
        for n in walk(root):
            if isinstance(n, (Elementwise, Call)) and ops.lookup(n.fn).kink is not None:
                with np.errstate(all="ignore"):
                    args = [evaluate(a, env, sizes) for a in children(n)]
                if np.min(np.abs(ops.lookup(n.fn).kink(np, *args)), initial=np.inf) < KINK_MARGIN:
                    return True
    return False


def f_axes(value: np.ndarray, fshape) -> np.ndarray:
    """The function's value with its own axes: () scalar, (m,) vector (column or row), (m, n)."""
    if fshape == (1, 1):
        return value.reshape(())
    if fshape[1] == 1 or fshape[0] == 1:
        return value.reshape(-1)
    return value


def x_axes_shape(xshape, sizes):
    s = tuple(dim_value(d, sizes) for d in xshape)
    if s == (1, 1) and xshape == (1, 1):
        return ()
    if xshape[1] == 1:
        return (s[0],)
    return s


def numeric_tensor(fn, x0: np.ndarray, xshape, fshape, h=1e-6) -> np.ndarray:
    """T[f axes..., x axes...] by central differences."""
    xs = x0.shape
    xaxes = () if kind(xshape) == "scalar" else (xs[0],) if kind(xshape) == "vector" else xs
    base = f_axes(fn(x0), fshape)
    T = np.zeros(base.shape + xaxes)
    for idx in np.ndindex(*xaxes) if xaxes else [()]:
        limits.tick()
        full = (idx + (0,)) if len(idx) == 1 else (idx if idx else (0, 0))
        step = h * max(1.0, abs(x0[full]))

        def central(s):
            xp = x0.copy()
            xp[full] += s
            xm = x0.copy()
            xm[full] -= s
            return (f_axes(fn(xp), fshape) - f_axes(fn(xm), fshape)) / (2 * s)
        # one Richardson step: the O(h²) error of a central difference cancels
        T[(Ellipsis,) + idx] = (4 * central(step / 2) - central(step)) / 3
    return T


@dataclass
class Verification:
    ok: bool
    max_rel_error: float
    trials: int
    sizes: list[dict]
    conclusive: bool = True     # False when no valid random data could be drawn
    reason: str = "no valid random data could be drawn for this formula"


def result_value(result, env, sizes) -> np.ndarray:
    env = dict(env)
    for name, value in result.bindings:
        env[name] = evaluate(value, env, sizes)
    value = evaluate(result.node, env, sizes)
    if result.tensor is not None and not result.flatten:
        fs = tuple(dim_value(d, sizes) for d in result.tensor[0])
        xs = tuple(dim_value(d, sizes) for d in result.tensor[1])
        return tensor_from_flat(np.asarray(value), fs, xs, result.layout)
    return value


def too_large(t: Typed, var, sizes) -> str | None:
    """Why finite differences on these sizes would take too long (integer sizes such as R^200000
    are used as given), or None."""
    entries = {name: int(np.prod([dim_value(d, sizes) for d in info.shape], dtype=float))
               for name, info in t.free_symbols().items()}
    if var is not None and entries.get(var, 0) > limits.MAX_VERIFY_ENTRIES // 100:
        return (f"{var} has {entries[var]:,} entries; finite differences take at most "
                f"{limits.MAX_VERIFY_ENTRIES // 100:,} (limits.MAX_VERIFY_ENTRIES / 100)")
    if sum(entries.values()) > limits.MAX_VERIFY_ENTRIES:
        return (f"the random data would have {sum(entries.values()):,} entries; at most "
                f"{limits.MAX_VERIFY_ENTRIES:,} (limits.MAX_VERIFY_ENTRIES)")
    return None


@limits.budgeted
def verify(result, trials: int = 3, seed: int = 0, tol: float = 1e-5) -> Verification:
    """Compare the result with finite differences on `trials` random draws of sizes and data."""
    rng = np.random.default_rng(seed)
    t = result.typed
    f = result.function
    var = result.wrt if not result.joint else None
    if var is not None and var not in t.free_symbols():
        # a bound name as the variable: its value is a formula, so there is nothing to sample
        return Verification(False, float("nan"), 0, [], conclusive=False,
                            reason=f"{var} is bound to a formula, so it has no random values of its own")
    worst = 0.0
    used = []
    # a numbered entry (x[3]) needs sizes that have it
    lowest = max([2] + [int(ix) for ix in result.entry or () if ix.isdigit()])
    for _ in range(trials):
        sizes = pick_sizes(t.dims, rng, lo=lowest, hi=max(5, lowest + 3))
        used.append(sizes)
        too_big = too_large(t, var, sizes)
        if too_big:
            return Verification(False, float("nan"), 0, used, conclusive=False, reason=too_big)
        for attempt in range(20):
            env = sample(t, rng, sizes, [f])
            if near_kink([f], env, sizes):
                continue
            try:
                with np.errstate(all="raise"):
                    got, want = compare(result, f, var, env, sizes)
                break
            except (FloatingPointError, np.linalg.LinAlgError):
                continue
            except MemoryError:
                return Verification(False, float("nan"), trials, used, conclusive=False,
                                    reason="the random data does not fit in memory")
        else:
            return Verification(False, float("inf"), trials, used, conclusive=False)
        scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
        if got.shape != want.shape:      # a wrong shape of the right size is still wrong
            return Verification(False, float("inf"), trials, used)
        err = float(np.max(np.abs(got - want))) / scale if want.size else 0.0
        worst = max(worst, err)
    return Verification(worst < tol, worst, trials, used)


def entry_positions(xshape, sizes):
    """Every entry of X in column-major order, as index tuples."""
    s = [dim_value(d, sizes) for d in xshape]
    if xshape[1] == 1:
        return [(k,) for k in range(s[0])]
    return [(k, l) for l in range(s[1]) for k in range(s[0])]


def with_indices(env, names, pos):
    e = dict(env)
    for name, k in zip(names, pos):
        e["_index_" + name] = k
    return e


def compare(result, f, var, env, sizes):
    if result.joint:
        return compare_joint(result, f, env, sizes)
    x0 = env[var]
    info = result.typed.symbols[var]

    def fn_of(node):
        def fn(x):
            e = dict(env)
            e[var] = x
            return evaluate(node, e, sizes)
        return fn

    if result.entry is not None:
        positions = entry_positions(result.var_shape, sizes)
        if result.stack:
            got = np.vstack([result_value(result, with_indices(env, result.entry, p), sizes) for p in positions])
        else:                           # one entry: the numbered one, or one in the middle
            s = [dim_value(d, sizes) for d in result.var_shape]
            pick = tuple(int(ix) - 1 if ix.isdigit() else s[axis] // 2 for axis, ix in enumerate(result.entry))
            got = result_value(result, with_indices(env, result.entry, pick), sizes)
            positions = [pick]
        blocks = []
        for p in positions:
            full = p + (0,) if len(p) == 1 else p
            h = 1e-6 * max(1.0, abs(x0[full]))
            E = np.zeros_like(x0)
            E[full] = 1.0
            if symmetric_matrix(info):              # the symmetric direction (E + Eᵀ)/2
                E = (E + E.T) / 2
            blocks.append((fn_of(f)(x0 + h * E) - fn_of(f)(x0 - h * E)) / (2 * h))
        return got, np.vstack(blocks)

    got = result_value(result, env, sizes)
    if info.symmetric and result.order == 1 and f.shape == (1, 1):
        return got, symmetric_gradient(fn_of(f), x0)
    if result.order == 2:
        from .deriv.derive import gradient_of
        G = gradient_of(f, var, result.var_shape, symmetric_matrix(info))
        T = symmetrized(numeric_tensor(fn_of(G), x0, result.var_shape, G.shape), info)
        if T.ndim == 4 and result.flatten:
            p, q = T.shape[2], T.shape[3]
            H = np.transpose(T, (1, 0, 3, 2)).reshape(p * q, p * q)
            return got, H
        if T.ndim == 4:
            return got, T
        return got, T.reshape(got.shape) if T.size == got.size else T
    T = symmetrized(numeric_tensor(fn_of(f), x0, result.var_shape, f.shape), info)
    want = arrange(T, f.shape, result.var_shape, result.layout, result.flatten)
    if getattr(info, "diagonal", False) and f.shape == (1, 1) and want.ndim == 2 and want.shape[0] == want.shape[1]:
        want = want * np.eye(want.shape[0])       # along diagonal directions only
    return got, want


def symmetric_matrix(info) -> bool:
    return bool(info.symmetric) and info.shape[1] != 1 and info.shape[0] == info.shape[1]


def symmetrized(T: np.ndarray, info) -> np.ndarray:
    """The derivative along symmetric directions: the X axes (last two) averaged with their transpose."""
    return (T + np.swapaxes(T, -1, -2)) / 2 if symmetric_matrix(info) and T.ndim >= 2 else T


def compare_joint(result, f, env, sizes, h=1e-6):
    """∂F/∂zᵀ by central differences along every entry of the stacked z = (vec x, vec y, ...);
    F is f (vec F for a matrix) or, for a Hessian, the stacked gradient the engine computes."""
    targets = [f]
    if result.order == 2:
        from .deriv.derive import gradient_of
        targets = [gradient_of(f, name, result.typed.symbols[name].shape) for name in result.joint]

    def F(e):
        return np.concatenate([np.asarray(evaluate(g, e, sizes)).reshape(-1, order="F") for g in targets])

    cols = []
    for name in result.joint:
        x0 = np.asarray(env[name], dtype=float)
        for idx in np.ndindex(*x0.shape[::-1]):
            idx = idx[::-1]                              # column-major: vec order
            limits.tick()
            step = h * max(1.0, abs(x0[idx]))

            def central(s, idx=idx, name=name, x0=x0):
                ep, em = dict(env), dict(env)
                xp, xm = x0.copy(), x0.copy()
                xp[idx] += s
                xm[idx] -= s
                ep[name], em[name] = xp, xm
                return (F(ep) - F(em)) / (2 * s)
            cols.append((4 * central(step / 2) - central(step)) / 3)
    J = np.stack(cols, axis=1)
    got = result_value(result, env, sizes)
    fk = kind(f.shape, True)
    if result.order == 1 and (result.layout == "denominator" or (fk == "scalar" and result.layout == "mixed")):
        J = J.T
    return got, J


def symmetric_gradient(fn, x0, h=1e-6):
    """sym(G) from directional differences along symmetric unit directions."""
    n = x0.shape[0]
    G = np.zeros_like(x0)
    for i in range(n):
        for j in range(i, n):
            E = np.zeros_like(x0)
            E[i, j] = E[j, i] = 1.0
            d = (fn(x0 + h * E) - fn(x0 - h * E)).item() / (2 * h)
            if i == j:
                G[i, i] = d
            else:
                G[i, j] = G[j, i] = d / 2
    return G
