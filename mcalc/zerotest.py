"""The zero test (issue 15): is a simplified result identically zero, or is one term of its
sum? Decided numerically, in pure Python (no NumPy on the one-liner path): the result is
evaluated with floats on two random draws of small sizes (2 to 4) and data over the widest
domain where it is defined (both signs wherever allowed; positive entries under logarithms, roots,
fractional or negative powers and divisions; well-conditioned matrices with det > 0 under
det, logdet and inverses). It runs only for the rare candidates where cancellation can hide:
sums of at most MAX_NODES nodes. Piecewise functions (the records with a kink: |u|, max, …) are never
judged (max(x - 10, 0) is zero on every small draw, not everywhere), nor is anything the evaluator
does not know: the answer is then "undecided" and the result stays as it is.
"""
from __future__ import annotations

import math
import random
from fractions import Fraction

from . import ops
from .nodes import (Add, Commutation, Det, Diag, Div, Elementwise, EPow, HadDiv, Hadamard, HCat, Identity, Inverse,
                    Kron, LogDet, Mul, Neg, Node, Norm, Num, Ones, Power, Size, Sum, Sym, Trace, Transpose, Vec,
                    Zero, children, walk)
from .render.base import Renderer
from .render.text import render_result_text
from .simplify import add, identity, mul, num, ones, zero

MAX_NODES = 400          # larger results are not tested (the test must stay cheap)
REL_TOL = 1e-9           # |value| ≤ REL_TOL × (sum of the terms' magnitudes) is zero
PIECEWISE = {name for name, op in ops.OPS.items() if op.kink is not None}   # |u|, max, ...


class Undecided(Exception):
    pass


FUNCTIONS = {name: op.scalar for name, op in ops.OPS.items() if op.scalar is not None}   # each record's float form


# ---- small dense matrices as lists of rows ----------------------------------------------------
def full(r: int, c: int, v: float) -> list[list[float]]:
    return [[v] * c for _ in range(r)]


def eye(n: int) -> list[list[float]]:
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def matmul(a, b):
    if len(a) == 1 and len(a[0]) == 1:
        return [[a[0][0] * x for x in row] for row in b]
    if len(b) == 1 and len(b[0]) == 1:
        return [[x * b[0][0] for x in row] for row in a]
    if len(a[0]) != len(b):
        raise Undecided("shapes")
    bt = list(zip(*b))
    return [[sum(x * y for x, y in zip(row, col)) for col in bt] for row in a]


def elementwise(f, a, b=None):
    if b is None:
        return [[f(x) for x in row] for row in a]
    if len(b) == 1 and len(b[0]) == 1:
        return [[f(x, b[0][0]) for x in row] for row in a]
    return [[f(x, y) for x, y in zip(ra, rb)] for ra, rb in zip(a, b)]


def transpose(a):
    return [list(col) for col in zip(*a)]


def inverse(a):
    n = len(a)
    m = [list(row) + e for row, e in zip(a, eye(n))]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        if abs(m[p][c]) < 1e-12:
            raise Undecided("singular")
        m[c], m[p] = m[p], m[c]
        pivot = m[c][c]
        m[c] = [x / pivot for x in m[c]]
        for r in range(n):
            if r != c and m[r][c]:
                f = m[r][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [row[n:] for row in m]


def det(a) -> float:
    n = len(a)
    m = [list(row) for row in a]
    d = 1.0
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        if m[p][c] == 0:
            return 0.0
        if p != c:
            m[c], m[p] = m[p], m[c]
            d = -d
        d *= m[c][c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return d


def real_power(x: float, e: Fraction) -> float:
    """x^e where it is real: a negative base takes an integer exponent only."""
    if x < 0 and e.denominator != 1:
        raise Undecided("a negative base under a fractional power")
    return x ** int(e) if e.denominator == 1 else x ** float(e)


def unsaturated(f, x: float) -> float:
    """f(x), unless f is flat at x in floating point (the hyperbolic tangent of 231 and of
    231.0002 are both 1.0, e^-800 is 0.0): such a draw has lost what the data says, and
    1 - t(u)^2 (t that tangent) would read as zero there. A function of a smooth record is never constant near a point, so flatness is
    rounding."""
    y = f(x)
    if f(x + 1e-6 * max(1.0, abs(x))) == y:
        raise Undecided("saturated")
    return y


def scalar(v: float):
    return [[v]]


class Evaluator(Renderer):
    """One method per node class, as the renderers: a node's value as a list of rows."""

    def __init__(self, env: dict, sizes: dict):
        self.env, self.sizes, self.memo = env, sizes, {}

    def render(self, node):
        hit = self.memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        for cls in type(node).__mro__:
            method = getattr(self, f"_render_{cls.__name__}", None)
            if method is not None:
                value = method(node)
                self.memo[id(node)] = (node, value)
                return value
        raise Undecided(type(node).__name__)

    def dim(self, d) -> int:
        if isinstance(d, int):
            return d
        return math.prod(int(p) if p.isdigit() else self.sizes[p] for p in str(d).split("*"))

    def shape(self, n):
        return self.dim(n.shape[0]), self.dim(n.shape[1])

    def _render_Sym(self, n):
        return self.env[n.name]

    def _render_Size(self, n):
        return scalar(float(self.sizes[n.name]))

    def _render_Num(self, n):
        return scalar(float(n.value))

    def _render_Zero(self, n):
        return full(*self.shape(n), 0.0)

    def _render_Ones(self, n):
        return full(*self.shape(n), 1.0)

    def _render_Identity(self, n):
        return eye(self.dim(n.shape[0]))

    def _render_Commutation(self, n):
        m, k = self.dim(n.m), self.dim(n.n)
        K = full(m * k, m * k, 0.0)
        for i in range(m):
            for j in range(k):
                K[i * k + j][j * m + i] = 1.0
        return K

    def _render_Add(self, n):
        out = None
        for a in n.args:
            v = self.render(a)
            out = v if out is None else elementwise(lambda x, y: x + y, out, v)
        return out

    def _render_Neg(self, n):
        return elementwise(lambda x: -x, self.render(n.arg))

    def _render_Mul(self, n):
        out = None
        for a in n.args:
            v = self.render(a)
            out = v if out is None else matmul(out, v)
        return out

    def _render_Div(self, n):
        return elementwise(lambda x, y: x / y, self.render(n.left), self.render(n.right))

    def _render_Power(self, n):
        v = self.render(n.arg)
        e = n.exp
        if len(v) == 1 and len(v[0]) == 1:
            return scalar(real_power(v[0][0], e))
        if e.denominator != 1:
            raise Undecided("matrix root")
        base = inverse(v) if e < 0 else v
        out = eye(len(v))
        for _ in range(abs(int(e))):
            out = matmul(out, base)
        return out

    def _render_Transpose(self, n):
        return transpose(self.render(n.arg))

    def _render_Inverse(self, n):
        return inverse(self.render(n.arg))

    def _render_Hadamard(self, n):
        return elementwise(lambda x, y: x * y, self.render(n.left), self.render(n.right))

    def _render_HadDiv(self, n):
        return elementwise(lambda x, y: x / y, self.render(n.left), self.render(n.right))

    def _render_VarPow(self, n):
        a, b = self.render(n.arg), self.render(n.exp)

        def pw(x, y):
            if x < 0 and y != int(y):
                raise Undecided("a negative base under a real power")
            return x ** y
        if len(a) == 1 and len(a[0]) == 1 and not (len(b) == 1 and len(b[0]) == 1):
            return [[pw(a[0][0], y) for y in row] for row in b]
        return elementwise(pw, a, b)

    def _render_EPow(self, n):
        return elementwise(lambda x: real_power(x, n.exp), self.render(n.arg))

    def _render_Kron(self, n):
        a, b = self.render(n.left), self.render(n.right)
        return [[x * y for x in ra for y in rb] for ra in a for rb in b]

    def _render_Trace(self, n):
        a = self.render(n.arg)
        return scalar(sum(a[i][i] for i in range(len(a))))

    def _render_Det(self, n):
        return scalar(det(self.render(n.arg)))

    def _render_LogDet(self, n):
        return scalar(math.log(det(self.render(n.arg))))

    def _render_Sum(self, n):
        return scalar(sum(sum(row) for row in self.render(n.arg)))

    def _render_Vec(self, n):
        a = self.render(n.arg)
        return [[a[i][j]] for j in range(len(a[0])) for i in range(len(a))]

    def _render_Diag(self, n):
        a = self.render(n.arg)
        if len(a[0]) == 1:
            return [[a[i][0] if i == j else 0.0 for j in range(len(a))] for i in range(len(a))]
        return [[a[i][i]] for i in range(len(a))]

    def _render_Norm(self, n):
        a = self.render(n.arg)
        if n.kind == "1":
            return scalar(sum(abs(x) for row in a for x in row))
        if n.kind == "2" and len(a[0]) != 1:
            raise Undecided("spectral norm")
        return scalar(math.sqrt(sum(x * x for row in a for x in row)))

    def _render_HCat(self, n):
        parts = [self.render(a) for a in n.args]
        return [sum((p[i] for p in parts), []) for i in range(len(parts[0]))]

    def _render_Call(self, n):
        """softmax, log_softmax (of a vector; of a matrix row by row) and logsumexp (of all entries)."""
        if n.fn not in ("softmax", "log_softmax", "logsumexp") or len(n.args) != 1:
            raise Undecided(n.fn)
        a = self.render(n.args[0])
        if n.fn == "logsumexp":
            m = max(x for row in a for x in row)
            return scalar(m + math.log(sum(math.exp(x - m) for row in a for x in row)))
        rows = transpose(a) if len(a[0]) == 1 else a
        out = []
        for row in rows:
            m = max(row)
            lse = m + math.log(sum(math.exp(x - m) for x in row))
            out.append([x - lse if n.fn == "log_softmax" else math.exp(x - lse) for x in row])
        return transpose(out) if len(a[0]) == 1 else out

    def _render_Elementwise(self, n):
        f = FUNCTIONS.get(n.fn)
        if f is None:
            raise Undecided(n.fn)
        return elementwise(lambda x: unsaturated(f, x), self.render(n.arg))


# ---- domains and draws ----------------------------------------------------------------------------
def domains(n: Node) -> tuple[list[tuple[Node, str]], set[str], set[str]]:
    """What the draws must respect: (the arguments that must be positive or nonzero, with
    which; names always drawn positive, under a matrix's root or negative power; names drawn
    as well-conditioned matrices with det > 0, under det, logdet and inverses)."""
    args, always, invertible = [], set(), set()
    for m in walk(n):
        if isinstance(m, Elementwise) and ops.lookup(m.fn).domain == "positive":
            args.append((m.arg, "positive"))
        elif isinstance(m, EPow) or isinstance(m, Power) and m.is_scalar:
            if m.exp.denominator != 1:
                args.append((m.arg, "positive"))
            elif m.exp < 0:
                args.append((m.arg, "nonzero"))
        elif isinstance(m, Power) and (m.exp.denominator != 1 or m.exp < 0):
            always |= names(m.arg)
        if isinstance(m, (HadDiv, Div)):
            args.append((m.right, "nonzero"))
        if isinstance(m, (Det, LogDet, Inverse)) or isinstance(m, Power) and m.exp < 0 and not m.is_scalar:
            invertible |= names(m.arg)
    return args, always, invertible


def names(n: Node) -> set[str]:
    return {m.name for m in walk(n) if isinstance(m, Sym)}


def draw(n: Node, rng: random.Random, sizes: dict) -> dict:
    """Data of both signs wherever the result is defined there: a name is drawn positive only
    once a draw has put an argument it feeds outside its domain (a logarithm's argument not
    positive, a divisor 0). Drawing positive every name under a root would hide a sign: x
    over the root of x.^2 is 1 for positive x, and is the sign of x."""
    args, always, invertible = domains(n)
    positive = set(always)
    while True:
        env = draw_once(n, rng, sizes, positive, invertible)
        bad = outside(args, env, sizes) - positive
        if not bad:
            return env
        positive |= bad


def outside(args: list[tuple[Node, str]], env: dict, sizes: dict) -> set[str]:
    """The names under each argument the draw puts outside its domain (every name of an
    argument that cannot be evaluated there)."""
    ev = Evaluator(env, sizes)
    bad: set[str] = set()
    for arg, need in args:
        try:
            flat = [x for row in ev.render(arg) for x in row]
        except (Undecided, ArithmeticError, ValueError, TypeError, KeyError, IndexError):
            bad |= names(arg)
            continue
        if any(not x > 0 if need == "positive" else x == 0 for x in flat):
            bad |= names(arg)
    return bad


def draw_once(n: Node, rng: random.Random, sizes: dict, positive: set[str], invertible: set[str]) -> dict:
    env = {}
    ev = Evaluator({}, sizes)
    for m in walk(n):
        if not isinstance(m, Sym) or m.name in env:
            continue
        r, c = ev.shape(m)
        if m.name in invertible and r == c and r > 1:
            a = [[(1.0 if i == j else 0.0) + 0.3 * rng.gauss(0, 1) / math.sqrt(r) for j in range(c)] for i in range(r)]
            if det(a) <= 0:
                a[0] = [-x for x in a[0]]
        elif m.name in positive or m.name in invertible:
            a = [[rng.uniform(0.5, 2.0) for _ in range(c)] for _ in range(r)]
        else:
            a = [[rng.gauss(0, 1) for _ in range(c)] for _ in range(r)]
        if m.symmetric:
            a = [[(a[i][j] + a[j][i]) / 2 for j in range(c)] for i in range(r)]
        env[m.name] = a
    return env


def dim_names(n: Node) -> set[str]:
    out = set()
    for m in walk(n):
        if isinstance(m, Size):
            out.add(m.name)
        for d in m.shape or ():
            if isinstance(d, str):
                out.update(p for p in d.split("*") if not p.isdigit())
    return out


# ---- the test ----------------------------------------------------------------------------------------
MAX_FIXED_SIZE = 8       # a declared size beyond this (x: R^1000) is not evaluated in pure Python


def small(n: Node) -> bool:
    """Every size the formula fixes is small: named sizes are drawn small, integers are as given."""
    for m in walk(n):
        for d in m.shape or ():
            if any(p.isdigit() and int(p) > MAX_FIXED_SIZE for p in str(d).split("*")):
                return False
    return True


def candidate(n: Node) -> bool:
    """Only a sum can hide a cancellation the rules missed (diag(s) ones - s sᵀ ones, with s =
    softmax(z)); small ones are cheap to test."""
    count, summed, data = 0, False, False
    for m in walk(n):
        count += 1
        summed = summed or isinstance(m, Add)
        data = data or isinstance(m, Sym)
        if count > MAX_NODES or isinstance(m, Elementwise) and m.fn in PIECEWISE:
            return False
    return summed and data          # without symbols it is a constant already (1/n + 2), written so


def draw_sizes(dims: list[str], rng: random.Random) -> dict[str, int]:
    """Different sizes for different dimension names (an identity of square matrices only, such
    as tr((XᵀCX)⁻¹ XᵀBX) = tr(C⁻¹B), must not pass for X n×m)."""
    pool = list(range(2, max(5, len(dims) + 2) + 1))
    rng.shuffle(pool)
    return dict(zip(dims, pool))


def judge(n: Node, seed: int = 0):
    """(zero, zero_terms, constant) for n: is it identically zero, which terms of its sum are,
    and its value when it is a constant, or None when the test cannot decide. Two draws of
    sizes (each dimension its own size) decide zero; a third draw of data on the second's
    sizes decides constant."""
    if not candidate(n) or not small(n):
        return None
    rng = random.Random(seed)
    dims = sorted(dim_names(n))
    terms_of = n.args if isinstance(n, Add) else ()
    whole, zero, seen = True, [True] * len(terms_of), []
    try:
        first = draw_sizes(dims, rng)
        second = draw_sizes(dims, rng)
        for sizes in (first, second, second):
            ev = Evaluator(draw(n, rng, sizes), sizes)
            terms = [ev.render(t) for t in terms_of]
            total = ev.render(n)
            flat = [x for row in total for x in row]
            if not all(math.isfinite(x) for x in flat):
                return None
            tol = REL_TOL * max(sum(abs(x) for v in terms for row in v for x in row),
                                sum(abs(x) for x in flat), 1.0)
            whole = whole and max(abs(x) for x in flat) <= tol
            zero = [z and max(abs(x) for row in v for x in row) <= tol for z, v in zip(zero, terms)]
            seen.append((total, tol))
    except (Undecided, ArithmeticError, ValueError, TypeError, KeyError, IndexError):
        return None
    (a, tol), (b, _) = seen[1], seen[2]
    same = all(abs(x - y) <= tol for ra, rb in zip(a, b) for x, y in zip(ra, rb))
    constant = None
    if same and not whole:            # a constant must not depend on the sizes either (1/n + 2 does)
        c1, c2 = uniform(seen[0][0]), uniform(a)
        if c1 is not None and c2 is not None and c1 == c2:
            constant = a
    return whole, [i for i, z in enumerate(zero) if z], constant


def uniform(value) -> tuple | None:
    """(c, pattern) when value is c·ones or c·I (pattern "ones" or "I") with c a simple fraction."""
    flat = [x for row in value for x in row]
    c = Fraction(flat[0]).limit_denominator(12)
    close = lambda x, y: abs(x - y) <= 1e-9 * max(1.0, abs(y))      # noqa: E731
    if all(close(x, float(c)) for x in flat):
        return c, "ones"
    if len(value) == len(value[0]) and len(value) > 1:
        d = Fraction(value[0][0]).limit_denominator(12)
        if all(close(value[i][j], float(d) if i == j else 0.0) for i in range(len(value)) for j in range(len(value))):
            return d, "I"
    return None


def constant_node(n: Node, value) -> Node | None:
    """c ones, c I or c for a constant value whose entries are one simple fraction c (or c on
    the diagonal and 0 elsewhere)."""
    flat = [x for row in value for x in row]
    c = Fraction(flat[0]).limit_denominator(12)
    if abs(float(c) - flat[0]) > 1e-9 * max(1.0, abs(flat[0])):
        return None
    if all(abs(x - float(c)) <= 1e-9 * max(1.0, abs(x)) for x in flat):
        return mul(num(c), ones(n.shape))
    square = len(value) == len(value[0])
    if square and all(abs(value[i][j] - (float(c) if i == j else 0.0)) <= 1e-9 * max(1.0, abs(float(c)))
                      for i in range(len(value)) for j in range(len(value))) and n.shape[0] == n.shape[1]:
        return mul(num(c), identity(n.shape[0]))
    return None


def drop_zero_terms(n: Node, notes: list[str]) -> Node:
    """The result with its identically zero terms dropped (0 when all of it is, c ones when it is
    that constant), saying so in a note."""
    verdict = judge(n)
    if verdict is None:
        return n
    whole, dropped, constant = verdict
    was = shorten(render_result_text(n))
    if whole:
        notes.append(f"the result is identically zero: {was} is 0 on random data (checked numerically)")
        return zero(n.shape)
    if constant is not None:
        c = constant_node(n, constant)
        if c is not None:
            notes.append(f"the result is constant: {was} is {render_result_text(c)} on random data "
                         "(checked numerically)")
            return c
        notes.append(f"the result is constant: {was} took the same value on random data (checked numerically)")
    if dropped:
        notes.append("dropped terms that are identically zero (checked numerically on random data): "
                     + ", ".join(shorten(render_result_text(n.args[i])) for i in dropped))
        return add(*[t for i, t in enumerate(n.args) if i not in dropped])
    return n


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
