"""Numerical verification: central finite differences on random data of random sizes, and the
random data itself (shared with `check` and `equal`).

Random data is drawn over the widest domain on which the formulas are defined: every symbol
with both signs first; only where a value is not defined on a draw (a logarithm or a root of a
non-positive number, the inverse of a singular matrix, logdet of a matrix with det ≤ 0) are
the symbols that feed that argument drawn from a restricted domain (positive entries; square
matrices near I, invertible with det > 0 and not symmetric). Sizes differ from each other on
the first draw and reach 9; where an argument is undefined for every choice of data (XᵀX with
fewer rows than columns) other sizes are drawn. Everything is seeded: verdicts are reproducible."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import limits, ops
from .deriv.derive import gradient_of
from .dims import dim_names, eval_dim, factors
from .errors import LimitError, McalcError
from .evaluate import Evaluator, evaluate
from .layout import arrange, kind, tensor_from_flat
from .nodes import Add, Call, EPow, Elementwise, Inverse, LogDet, Mul, Neg, Node, Num, Power, Size, Sym, children, walk
from .render.text import render_text
from .shapes import Typed

COND_MAX = 1e8          # a matrix worse conditioned than this counts as singular
SIZE_LO, SIZE_HI = 2, 9
ATTEMPTS = 40           # draws tried for one trial before giving up
MAX_NODE_ENTRIES = 2_000_000


class Undefined(Exception):
    """The value of `node` is not defined on a draw: its argument needs to be `need`
    ("positive" entries, "unit" entries |u| < 1, or "invertible" with det > 0); `why` says
    what went wrong."""

    def __init__(self, node: Node, need: str, why: str):
        super().__init__(why)
        self.node, self.need, self.why = node, need, why


class NoValidData(McalcError):
    """No random data was found on which every value of the formula is defined (exit 2)."""


def short_text(node: Node) -> str:
    s = render_text(node)
    return s if len(s) <= 40 else s[:39] + "…"


class Checked(Evaluator):
    """The evaluator, refusing (Undefined) where a value is not defined, instead of returning
    nan, inf, or the inverse of a numerically singular matrix."""

    def render(self, node):
        try:
            return super().render(node)
        except FloatingPointError:
            raise Undefined(node, "positive", f"{short_text(node)} overflows or divides by zero") from None
        except np.linalg.LinAlgError:
            raise Undefined(node, "invertible", f"{short_text(node)} needs an invertible matrix") from None

    def positive(self, n, arg):
        a = self.render(arg)
        if not np.all(a > 0):
            raise Undefined(n, "positive", f"{short_text(n)} needs {short_text(arg)} > 0")
        return a

    def invertible(self, n, arg, det_positive=False):
        a = self.render(arg)
        if a.shape[0] != a.shape[1] or not np.all(np.isfinite(a)) or np.linalg.cond(a) > COND_MAX:
            raise Undefined(n, "invertible", f"{short_text(arg)} is singular in {short_text(n)}")
        if det_positive and np.linalg.slogdet(a)[0] <= 0:
            raise Undefined(n, "invertible", f"{short_text(n)} needs det({short_text(arg)}) > 0")
        return a

    def unit(self, n, arg):
        a = self.render(arg)
        if not np.all(np.abs(a) < 1):
            raise Undefined(n, "unit", f"{short_text(n)} needs |{short_text(arg)}| < 1")
        return a

    def _render_Elementwise(self, n):
        """The domain is the operation record's (ops.py): the logarithm needs a positive argument."""
        op = ops.OPS.get(n.fn)
        domain = op.domain if op is not None else None
        if domain == "positive":
            self.positive(n, n.arg)
        elif domain == "unit":
            self.unit(n, n.arg)
        return super()._render_Elementwise(n)

    def _render_Inverse(self, n):
        self.invertible(n, n.arg)
        return super()._render_Inverse(n)

    def _render_LogDet(self, n):
        self.invertible(n, n.arg, det_positive=True)
        return super()._render_Function(n)

    def _render_Power(self, n):
        if n.arg.shape == (1, 1) and n.exp.denominator != 1:
            self.positive(n, n.arg)
        elif n.arg.shape != (1, 1) and n.exp < 0:
            self.invertible(n, n.arg)
        return super()._render_Power(n)

    def _render_VarPow(self, n):
        if not integer_valued(n.exp):          # a real power of a negative base is not real
            try:
                self.positive(n, n.arg)
            except Undefined as u:             # the base's symbols are narrowed, not the exponent's
                raise Undefined(n.arg, u.need, u.why) from None
        return super()._render_VarPow(n)

    def _render_EPow(self, n):
        if n.exp.denominator != 1:
            self.positive(n, n.arg)
        return super()._render_EPow(n)


def integer_valued(n: Node) -> bool:
    """An exponent that is an integer for all data: integers and sizes, with + - and products."""
    if isinstance(n, Num):
        return n.value.denominator == 1
    if isinstance(n, Size):
        return True
    return isinstance(n, (Add, Mul, Neg)) and all(integer_valued(c) for c in children(n))


def evaluate_checked(node: Node, env: dict, sizes: dict) -> np.ndarray:
    """The value of node, or Undefined; never nan or inf. An underflow to 0 is a value (a stable
    formula of a large argument underflows a term to 0 on the way); overflow, division by zero
    and invalid operations are not."""
    with np.errstate(all="raise", under="ignore"):
        v = Checked(env, sizes).render(node)
    if not np.all(np.isfinite(v)):
        raise Undefined(node, "positive", f"{short_text(node)} is not finite")
    return v


def value_checked(pair, env, sizes) -> np.ndarray:
    bindings, node = pair
    env = dict(env)
    for name, value in bindings:
        env[name] = evaluate_checked(value, env, sizes)
    return evaluate_checked(node, env, sizes)


def size_names(dims) -> list[str]:
    return sorted({p for d in dims for p in dim_names(d)})


def pick_sizes(dims, rng, lo=SIZE_LO, hi=SIZE_HI, trial: int | None = None) -> dict[str, int]:
    """Sizes for one draw. Trial 0: every size differs from every other and the largest is hi;
    trial 1: every size in the upper half; other trials (and trial None): anything in lo..hi."""
    names = size_names(dims)
    if not names:
        return {}
    hi = max(hi, lo + len(names) - 1)
    if trial == 0:
        values = [hi] + [int(v) for v in rng.choice(np.arange(lo, hi), size=len(names) - 1, replace=False)]
        rng.shuffle(values)
    elif trial == 1:
        values = [int(v) for v in rng.integers(max(lo, (lo + hi) // 2 + 1), hi + 1, size=len(names))]
    else:
        values = [int(v) for v in rng.integers(lo, hi + 1, size=len(names))]
    return dict(zip(names, values))


def dim_value(d, sizes) -> int:
    return eval_dim(d, sizes)


def draw_value(info, rng, sizes, how: frozenset) -> np.ndarray:
    shape = tuple(dim_value(d, sizes) for d in info.shape)
    square = len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1
    if "invertible" in how and square:
        # invertible with det > 0, well conditioned, and NOT symmetric (transposes must show)
        n = shape[0]
        if "positive" in how:
            a = np.eye(n) * n + rng.uniform(0.1, 0.5, size=shape)
        else:
            a = np.eye(n) + 0.4 * rng.standard_normal(shape) / np.sqrt(n)
    elif "small" in how:         # |a| < 1 for sums and products of entries too
        a = rng.uniform(-0.9, 0.9, size=shape) / max(1, int(np.prod(shape)))
    elif "unit" in how:
        a = rng.uniform(-0.9, 0.9, size=shape)
        if "positive" in how:
            a = np.abs(a) + 0.05
    elif how:
        a = rng.uniform(0.5, 2.0, size=shape)
    else:
        a = rng.standard_normal(shape)
    if info.symmetric:
        a = (a + a.T) / 2
    if getattr(info, "diagonal", False):
        a = np.diag(np.diag(a))
    if getattr(info, "probability", False):          # positive entries summing to 1 (a matrix: each row)
        a = rng.uniform(0.2, 1.0, size=shape)
        a = a / (a.sum(axis=1, keepdims=True) if a.ndim == 2 and a.shape[1] != 1 else a.sum())
    return a


KINK_MARGIN = 1e-3      # far beyond the finite-difference step (1e-6): no difference straddles a kink


def near_kink(nodes: list[Node], env, sizes) -> bool:
    """Is some argument of a non-smooth function (a record with a `kink`: |u|, max, ...) within KINK_MARGIN
    of where it is not differentiable? Such a draw is redrawn: the derivative is the a.e. one."""
    for root in nodes:
        for n in walk(root):
            if isinstance(n, (Elementwise, Call)) and ops.lookup(n.fn).kink is not None:
                with np.errstate(all="ignore"):
                    args = [evaluate(a, env, sizes) for a in children(n)]
                if np.min(np.abs(ops.lookup(n.fn).kink(np, *args)), initial=np.inf) < KINK_MARGIN:
                    return True
    return False


@dataclass
class Draw:
    sizes: dict[str, int]
    env: dict[str, np.ndarray]
    values: list[np.ndarray]          # of the programs, in order


@dataclass
class Sampler:
    """Random data on which every program (bindings, node) has a defined value.

    `restricted` grows as draws fail: a symbol feeding a logarithm's argument becomes positive, a
    square matrix under an inverse becomes invertible; it is never narrowed back, so a later
    draw is drawn as the earlier ones were."""
    typed: Typed
    programs: list
    seed: int = 0
    lo: int = SIZE_LO
    hi: int = SIZE_HI
    dims: tuple = ()
    indices: tuple = ()               # (name, dimension) of free entry indices (--wrt X[i,j])
    fixed_sizes: dict | None = None   # draw at these sizes only
    restricted: dict = field(default_factory=dict)
    used: list = field(default_factory=list)

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)
        self.bound = dict(self.typed.bindings)
        for bindings, _ in self.programs:
            self.bound.update(dict(bindings))

    def symbols_of(self, node: Node) -> set[str]:
        """The free symbols that feed node (through bound names too)."""
        free = self.typed.free_symbols()
        out, seen, todo = set(), set(), [node]
        while todo:
            n = todo.pop()
            for m in walk(n):
                if isinstance(m, Sym):
                    if m.name in free:
                        out.add(m.name)
                    elif m.name in self.bound and m.name not in seen:
                        seen.add(m.name)
                        todo.append(self.bound[m.name])
        return out

    def restrict(self, u: Undefined) -> bool:
        """Narrow the domain of the symbols feeding u's argument; False if nothing is left to narrow."""
        free = self.typed.free_symbols()
        changed = False
        for name in sorted(self.symbols_of(u.node)):
            how = self.restricted.get(name, frozenset())
            shape = free[name].shape
            if u.need == "invertible":
                want = "invertible" if len(shape) == 2 and shape[0] == shape[1] and shape != (1, 1) else \
                    "positive" if shape == (1, 1) else None
            elif u.need == "unit":
                want = "unit" if "unit" not in how else "small"
            else:
                want = "positive"
            if want is not None and want not in how:
                self.restricted[name] = how | {want}
                changed = True
        return changed

    def too_big(self, sizes) -> bool:
        seen = set()
        for _, node in self.programs:
            for n in walk(node):
                if n.shape is not None and n.shape not in seen:
                    seen.add(n.shape)
                    if dim_value_product(n.shape, sizes) > MAX_NODE_ENTRIES:
                        return True
        return False

    def sizes_for(self, trial: int) -> dict[str, int]:
        if self.fixed_sizes is not None:
            return self.fixed_sizes
        dims = tuple(self.typed.dims) + tuple(self.dims)
        hi, count = self.hi, len(size_names(dims))
        while True:
            # sizes too large for the formula's biggest array: smaller ones, distinct while they can be
            scheme = trial if hi >= self.lo + count - 1 else None
            sizes = pick_sizes(dims, self.rng, self.lo, hi, scheme)
            if hi <= self.lo or not self.too_big(sizes):
                return sizes
            hi -= 1

    def draw(self, trial: int) -> Draw:
        sizes = self.sizes_for(trial)
        last = None
        for attempt in range(ATTEMPTS):
            too = too_large(self.typed, None, sizes)
            if too:
                raise LimitError(f"cannot compare the claim on random data: {too}")
            env = {name: draw_value(info, self.rng, sizes, self.restricted.get(name, frozenset()))
                   for name, info in self.typed.free_symbols().items()}
            for sig in getattr(self.typed.program, "functions", ()):     # abstract f: R^m -> R^k
                env[sig.name] = random_function(dim_value(sig.domain, sizes), dim_value(sig.codomain, sizes), self.rng)
            for name, d in self.indices:
                env["_index_" + name] = int(self.rng.integers(dim_value(d, sizes)))
            try:
                for name, value in self.typed.bindings:
                    env[name] = evaluate_checked(value, env, sizes)
                values = [value_checked(p, env, sizes) for p in self.programs]
            except MemoryError:
                raise LimitError("cannot compare on random data: its values do not fit in memory") from None
            except Undefined as u:
                last = u
                if not self.restrict(u) and attempt % 2:
                    sizes = self.sizes_for(trial)     # the data cannot help: other sizes
                continue
            self.used.append(sizes)
            return Draw(sizes, env, values)
        raise NoValidData(f"no random data found on which the formula is defined: {last.why} "
                          f"on each of {ATTEMPTS} draws",
                          hint="declare sizes (--where) on which every inverse, logarithm and root is defined")

    def describe(self, n: int) -> str:
        """What was sampled, for a numerical verdict: `3 random draws, both signs, sizes up to 9`."""
        parts = [f"{n} random draw{'s' if n != 1 else ''}"]
        pos = sorted(k for k, v in self.restricted.items() if "positive" in v and not v & {"invertible", "unit"})
        inv = sorted(k for k, v in self.restricted.items() if "invertible" in v)
        unit = sorted(k for k, v in self.restricted.items() if v & {"unit", "small"})
        free = [k for k in self.typed.free_symbols() if k not in self.restricted]
        if not self.restricted:
            parts.append("both signs")
        else:
            limits_ = ([f"{', '.join(pos)} > 0"] if pos else []) + \
                ([f"{', '.join(inv)} invertible with det > 0"] if inv else []) + \
                ([", ".join(f"|{u}|" for u in unit) + " < 1"] if unit else [])
            parts.append(("both signs except " if free else "") + " and ".join(limits_))
        sizes = [v for s in self.used for v in s.values()]
        if sizes:
            parts.append(f"sizes up to {max(sizes)}")
        return ", ".join(parts)


def dim_value_product(shape, sizes) -> int:
    v = 1
    for d in shape:
        try:
            v *= dim_value(d, sizes)
        except KeyError:
            return 0
    return v


def sample(t: Typed, rng, sizes: dict[str, int], nodes: list[Node]) -> dict[str, np.ndarray]:
    """Random data at the given sizes on which every node is defined (see Sampler)."""
    return Sampler(t, [((), n) for n in nodes], seed=int(rng.integers(2**31)), fixed_sizes=sizes).draw(0).env


def random_function(m: int, k: int, rng) -> tuple:
    """A random smooth f: R^m -> R^k with its exact derivatives, (f, ∇f or J_f, ∇²f):
    k = 1: f(u) = ½ uᵀ Q u + cᵀ s(u) + bᵀ u with s the sine and s' the cosine entrywise,
    ∇f = Q u + c ∘ s'(u) + b, ∇²f = Q − diag(c ∘ s(u)) (Q symmetric);
    k > 1: g(u) = t(M u + c) with t the hyperbolic tangent entrywise, J_g = diag(1 − t²(M u + c)) M,
    and the Hessians of its components stacked (km×m): ∇²g_i = −2 t(z_i)(1 − t²(z_i)) M_iᵀ M_i
    with z = M u + c."""
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
    def stacked_hessians(u):
        t = np.tanh(M @ flat(u) + c)
        return np.vstack([-2 * t[i] * (1 - t[i] ** 2) * np.outer(M[i], M[i]) for i in range(k)])
    return (lambda u: np.tanh(M @ flat(u) + c),
            lambda u: (1 - np.tanh(M @ flat(u) + c) ** 2)[:, None] * M,
            stacked_hessians)


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
        half, whole = central(step / 2), central(step)
        T[(Ellipsis,) + idx] = (4 * half - whole) / 3
        note_spread(half, whole)
    return T


@dataclass
class Verification:
    ok: bool
    max_rel_error: float
    trials: int
    sizes: list[dict]
    conclusive: bool = True     # False when no valid random data could be drawn
    reason: str = "no valid random data could be drawn for this formula"
    sampled: str = ""           # what was drawn: "3 random draws, both signs, sizes up to 9"


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
    """Compare the result with finite differences on `trials` random draws of sizes and data
    (see Sampler: both signs wherever the formula is defined, sizes that differ and reach 9)."""
    t = result.typed
    f = result.function
    var = result.wrt if not result.joint else None
    if var is not None and var not in t.free_symbols():
        # a bound name as the variable: its value is a formula, so there is nothing to sample
        return Verification(False, float("nan"), 0, [], conclusive=False,
                            reason=f"{var} is bound to a formula, so it has no random values of its own")
    # a numbered entry (x[3]) needs sizes that have it
    lowest = max([SIZE_LO] + [int(ix) for ix in result.entry or () if ix.isdigit()])
    named = tuple((ix, d) for ix, d in zip(result.entry or (), result.var_shape) if not ix.isdigit())
    sampler = Sampler(t, [((), f), (tuple(result.bindings), result.node)], seed=seed, lo=lowest,
                      hi=max(SIZE_HI, lowest + 3), indices=named)
    worst, decided, noisy = 0.0, 0, 0
    for trial in range(trials):
        try:
            draw = sampler.draw(trial)
            for _ in range(20):             # finite differences must not straddle a kink
                if not near_kink([f], draw.env, draw.sizes):
                    break
                draw = sampler.draw(trial)
        except NoValidData as e:
            return Verification(False, float("nan"), trial, sampler.used, conclusive=False, reason=e.message)
        except McalcError as e:
            return Verification(False, float("nan"), trial, sampler.used, conclusive=False, reason=e.message)
        too_big = too_large(t, var, draw.sizes)
        if too_big:
            return Verification(False, float("nan"), 0, sampler.used, conclusive=False, reason=too_big)
        try:
            _spread[0] = 0.0
            with np.errstate(all="raise", under="ignore"):
                got, want = compare(result, f, var, draw.env, draw.sizes)
        except (FloatingPointError, np.linalg.LinAlgError):
            # a finite difference stepped out of the domain; this draw decides nothing
            continue
        except MemoryError:
            return Verification(False, float("nan"), trials, sampler.used, conclusive=False,
                                reason="the random data does not fit in memory")
        scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
        if got.shape != want.shape:      # a wrong shape of the right size is still wrong
            return Verification(False, float("inf"), trials, sampler.used)
        err = float(np.max(np.abs(got - want))) / scale if want.size else 0.0
        if err >= tol and (err * scale <= FD_SPREAD_FACTOR * _spread[0] or _spread[0] >= FD_UNRESOLVED * scale):
            noisy += 1       # the differences do not agree with themselves this closely: undecided
            continue
        worst = max(worst, err)
        decided += 1
    if not decided and noisy:
        return Verification(False, float("nan"), trials, sampler.used, conclusive=False,
                            reason="finite differences do not resolve this formula's derivative on any draw "
                                   "(steps h and h/2 disagree: it is ill-conditioned or varies too fast)")
    if not decided:      # every finite difference stepped out of the domain: nothing was compared
        return Verification(False, float("nan"), trials, sampler.used, conclusive=False,
                            reason="every finite difference stepped out of the formula's domain")
    return Verification(worst < tol, worst, decided, sampler.used, sampled=sampler.describe(decided))


FD_SPREAD_FACTOR = 10.0   # a disagreement below this many times the differences' own spread decides nothing
FD_UNRESOLVED = 1e-2      # steps h and h/2 this far apart (relative to the derivative): no finite difference resolves it
_spread = [0.0]           # the largest |D(h/2) - D(h)| of the comparison under way


def note_spread(half, whole) -> None:
    """Record how far central differences at steps h/2 and h disagree: their truncation and
    rounding error, which the Richardson step reduces but cannot remove where the formula is
    ill-conditioned (det(P^-T (P + P + P)) = 3^n with P nearly singular: rounding) or varies
    faster than any step resolves (an oscillation of a degree-12 polynomial at size 9: truncation)."""
    with np.errstate(all="ignore"):
        d = np.abs(np.asarray(half, dtype=float) - np.asarray(whole, dtype=float))
    m = float(np.max(d)) if d.size else 0.0
    _spread[0] = max(_spread[0], m if np.isfinite(m) else float("inf"))


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
        G = gradient_of(f, var, result.var_shape, symmetric_matrix(info))
        T = symmetrized(numeric_tensor(fn_of(G), x0, result.var_shape, G.shape), info)
        if getattr(info, "diagonal", False):      # P H P: along diagonal directions, both sides
            T = along_diagonal(along_diagonal(T, 2), 4)
        if T.ndim == 4 and result.flatten:
            p, q = T.shape[2], T.shape[3]
            H = np.transpose(T, (1, 0, 3, 2)).reshape(p * q, p * q)
            return got, H
        if T.ndim == 4:
            return got, T
        return got, T.reshape(got.shape) if T.size == got.size else T
    T = symmetrized(numeric_tensor(fn_of(f), x0, result.var_shape, f.shape), info)
    if getattr(info, "diagonal", False):          # along diagonal directions only (the X axes, last)
        T = along_diagonal(T, 2)
    want = arrange(T, f.shape, result.var_shape, result.layout, result.flatten)
    return got, want


def along_diagonal(T: np.ndarray, last: int) -> np.ndarray:
    """T with the axes last-2, last-1 counted from the end (a diagonal matrix's two) kept on
    their diagonal: the derivative along diagonal directions."""
    n = T.shape[-last]
    mask = np.eye(n).reshape((n, n) + (1,) * (last - 2))
    return T * mask


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
            half, whole = central(step / 2), central(step)
            cols.append((4 * half - whole) / 3)
            note_spread(half, whole)
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
