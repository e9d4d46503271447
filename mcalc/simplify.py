"""Canonical forms. Smart constructors (add, mul, transpose, ...) build every node in
simplified form; `simplify` rebuilds a tree bottom-up through them (REWRITES names one
constructor per node class), and `factor` is the final, presentational pass that pulls
common factors out of sums: A x + Aᵀ x → (A + Aᵀ) x.

Each constructor preserves shape and returns its input unchanged when nothing applies.
"""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Callable

from . import limits
from .errors import LimitError
from .nodes import (SCALAR, Apply, HCat, Add, Commutation, Delta, Det, Diag, Dim, Div, Elementwise, EPow, HadDiv,
                    Hadamard, Identity, Inverse, Kron, LogDet, Mul, Neg, Node, Norm, Num, Ones, Power,
                    Shape, Size, Sum, Sym, Trace, Transpose, Vec, Zero, children, map_children, walk)
from .shapes import dim_product, dim_sum

ONE = Fraction(1)


# ---- small helpers ------------------------------------------------------------------
def num(v, shape: Shape = SCALAR) -> Node:
    v = Fraction(v)
    return Zero(shape=shape) if v == 0 else Num(v, shape=SCALAR)


def zero(shape: Shape) -> Node:
    return Zero(shape=shape)


def ones(shape: Shape) -> Node:
    return Num(ONE, shape=SCALAR) if shape == SCALAR else Ones(shape=shape)


def identity(n: Dim) -> Node:
    return Num(ONE, shape=SCALAR) if n == 1 else Identity(shape=(n, n))


def is_zero(n: Node) -> bool:
    return isinstance(n, Zero)


def is_one(n: Node) -> bool:
    return isinstance(n, Num) and n.value == 1


def is_scalar(n: Node) -> bool:
    return n.shape == SCALAR


def is_column(n: Node) -> bool:
    return n.shape[1] == 1 and n.shape[0] != 1


def is_row(n: Node) -> bool:
    return n.shape[0] == 1 and n.shape[1] != 1


def numel(shape: Shape) -> Dim:
    return dim_product(shape)


def size_value(d: Dim) -> Node:
    """A dimension as a number: 3, n, or m n for m·n."""
    if isinstance(d, int):
        return num(d)
    return mul(*[num(int(p)) if p.isdigit() else Size(p, shape=SCALAR) for p in d.split("*")])


class IdentityMemo:
    """A cache keyed on object identity (the node is kept alive with its value): a tree built
    from known subtrees costs only its own new nodes, with no deep equality tests."""

    def __init__(self, compute, limit: int = 400_000):
        self.compute, self.limit, self.memo = compute, limit, {}

    def __call__(self, n: Node):
        hit = self.memo.get(id(n))
        if hit is not None and hit[0] is n:
            return hit[1]
        value = self.compute(n)
        if len(self.memo) > self.limit:
            self.memo.clear()
        self.memo[id(n)] = (n, value)
        return value


def _key_renderer():
    from .render.text import TextRenderer

    class KeyRenderer(TextRenderer):
        def render(self, node):
            return key(node)

        def own(self, node):
            return TextRenderer.render(self, node)
    return KeyRenderer()


_KEYS = None


def _key(n: Node) -> str:
    global _KEYS
    if _KEYS is None:
        _KEYS = _key_renderer()
    return _KEYS.own(n)


key = IdentityMemo(_key)
key.__doc__ = "A deterministic sort key: the text form, built from the children's cached keys."
size = IdentityMemo(lambda n: 1 + sum(size(c) for c in children(n)))


def _count_transposes(n: Node) -> int:
    own = 0
    if isinstance(n, Transpose):
        own = 1 if isinstance(n.arg, (Sym, Delta)) else 2
    return own + sum(count_transposes(c) for c in children(n))


count_transposes = IdentityMemo(_count_transposes)
count_transposes.__doc__ = "Transposes, a transposed compound counting double: aᵀ (b + c) beats (b + c)ᵀ a."


def hadamard_factors(n: Node) -> list[Node]:
    if isinstance(n, Hadamard):
        return hadamard_factors(n.left) + hadamard_factors(n.right)
    return [n]


def chain_shape(chain) -> Shape:
    return (chain[0].shape[0], chain[-1].shape[1])


def split_coef(n: Node) -> tuple[Fraction, Node | None]:
    """n = c · core, core None for a plain number."""
    if isinstance(n, Num):
        return n.value, None
    if isinstance(n, Mul) and isinstance(n.args[0], Num):
        rest = n.args[1:]
        return n.args[0].value, rest[0] if len(rest) == 1 else Mul(rest, shape=n.shape)
    return ONE, n


def split_scalars(n: Node) -> tuple[list[Node], Node]:
    """n = (product of scalars) · core, with core free of scalar factors."""
    if isinstance(n, Mul) and not is_scalar(n):
        scalars = [a for a in n.args if is_scalar(a)]
        chain = [a for a in n.args if not is_scalar(a)]
        if scalars:
            return scalars, chain[0] if len(chain) == 1 else Mul(tuple(chain), shape=n.shape)
    return [], n


# ---- sums -----------------------------------------------------------------------------
def add(*terms: Node) -> Node:
    limits.tick()
    flat: list[Node] = []
    for t in terms:
        if isinstance(t, Add):
            flat.extend(t.args)
        elif isinstance(t, Neg):
            flat.append(mul(num(-1), t.arg))
        elif not is_zero(t):
            flat.append(t)
    shape = terms[0].shape if terms else SCALAR
    diags = [t for t in flat if is_diag_term(t)]
    if len(diags) > 1:                 # Σ cᵢ diag(vᵢ) = diag(Σ cᵢ vᵢ)
        inner = add(*[diag_parts(t) for t in diags])
        flat = [t for t in flat if not is_diag_term(t)] + [diag(inner)]
    coefs: dict[Node | None, Fraction] = {}
    for t in flat:
        c, core = split_coef(t)
        coefs[core] = coefs.get(core, Fraction(0)) + c
    out = []
    for core, c in coefs.items():
        if c == 0:
            continue
        if core is None:
            out.append(Num(c, shape=SCALAR))
        else:
            out.append(core if c == 1 else mul(Num(c, shape=SCALAR), core))
    if not out:
        return zero(shape)
    if len(out) == 1:
        return out[0]
    out.sort(key=term_order)
    return Add(tuple(out), shape=shape)


def is_diag_term(t: Node) -> bool:
    c, core = split_coef(t)
    return isinstance(core, Diag) and is_column(core.arg)


def diag_parts(t: Node) -> Node:
    c, core = split_coef(t)
    return mul(num(c), core.arg)


def term_order(t: Node):
    """Positive terms first, constants and bare symbols last: X w - y, t a + b, A + Aᵀ."""
    c, core = split_coef(t)
    leaf = core is None or isinstance(core, (Sym, Num, Ones, Identity, Size)) or \
        (isinstance(core, Transpose) and isinstance(core.arg, Sym))
    return (c < 0, isinstance(core, (Num, Ones, Identity)) or core is None, leaf, key(t))


def neg(x: Node) -> Node:
    return mul(num(-1), x)


def sub(a: Node, b: Node) -> Node:
    return add(a, neg(b))


# ---- products -------------------------------------------------------------------------
def mul(*factors: Node) -> Node:
    limits.tick()
    coef = Fraction(1)
    exps: dict[Node, Fraction] = {}
    chain: list[Node] = []
    zero_shape = None

    def take(f: Node):
        nonlocal coef, zero_shape
        if isinstance(f, Zero):
            zero_shape = True
            if not is_scalar(f):
                chain.append(f)            # it still decides the product's shape
        elif isinstance(f, Num):
            coef *= f.value
        elif isinstance(f, Neg):
            coef *= -1
            take(f.arg)
        elif isinstance(f, Mul) and (not is_scalar(f) or all(is_scalar(a) for a in f.args)
                                     or not chain_free(f)):
            for a in f.args:
                take(a)
        elif is_scalar(f):
            if isinstance(f, Mul):          # a 1×1 chain such as xᵀ A x, kept whole
                take_scalar_chain(f)
            elif isinstance(f, Power):
                exps[f.arg] = exps.get(f.arg, Fraction(0)) + f.exp
            else:
                exps[f] = exps.get(f, Fraction(0)) + 1
        else:
            chain.append(f)

    def take_scalar_chain(f: Mul):
        nonlocal coef
        for a in f.args:
            if is_scalar(a):
                take(a)
        inner = tuple(a for a in f.args if not is_scalar(a))
        if inner:
            c = canonical_scalar_chain(inner)
            exps[c] = exps.get(c, Fraction(0)) + 1

    for f in factors:
        take(f)
    result_shape = chain_shape(chain) if chain else SCALAR
    if zero_shape or coef == 0:
        return zero(result_shape)
    merged: list[Node] = []
    for c in chain:                      # ones(a×k) ones(k×b) = k ones(a×b): onesᵀ ones is a size
        if merged and isinstance(c, Ones) and isinstance(merged[-1], Ones):
            take(size_value(c.shape[0]))
            both = ones((merged[-1].shape[0], c.shape[1]))
            merged.pop()
            if not is_scalar(both):
                merged.append(both)
        else:
            merged.append(c)
    chain = simplify_chain(merged)
    if chain and result_shape == SCALAR and len(chain) > 1:
        chain = list(canonical_scalar_chain(tuple(chain)).args)
    # 1×1 stretches inside the chain are scalars: a xᵀ y bᵀ = (xᵀ y) a bᵀ
    if len(chain) > 1:
        pieces = split_chain(chain)
        if pieces is not None:
            chain, scalars = pieces
            for s in scalars:
                c = canonical_scalar_chain(tuple(s))
                exps[c] = exps.get(c, Fraction(0)) + 1
    scal = []
    for base, e in exps.items():
        if e == 0:
            continue
        if isinstance(base, Num) and e.denominator == 1:
            coef *= base.value ** int(e)
            continue
        if isinstance(base, Num) and base.value == 1:
            continue
        scal.append(base if e == 1 else Power(base, e, shape=SCALAR))
    scal.sort(key=lambda s: (isinstance(s, Power) and s.exp < 0, key(s)))
    if chain and all(isinstance(c, Identity) for c in chain) and len(chain) > 1:
        chain = chain[:1]
    if not chain:
        chain_atoms = [s for s in scal if isinstance(s, Mul)]
        if len(chain_atoms) == 1 and len(scal) >= 1:
            scal.remove(chain_atoms[0])
            chain = list(chain_atoms[0].args)
    args = ([Num(coef, shape=SCALAR)] if coef != 1 else []) + scal + chain
    if not args:
        return Num(ONE, shape=SCALAR)
    if len(args) == 1:
        return args[0]
    if any(isinstance(a, Zero) for a in args):
        return zero(result_shape)
    return Mul(tuple(args), shape=result_shape)


def chain_free(f: Mul) -> bool:
    """A 1×1 product whose non-scalar factors form a chain (xᵀ A x) stays one factor."""
    return any(not is_scalar(a) for a in f.args)


def canonical_scalar_chain(chain: tuple[Node, ...]) -> Node:
    """xᵀ A x and its transpose xᵀ Aᵀ x are one number; pick one spelling."""
    if len(chain) == 1:
        return chain[0]
    a = Mul(chain, shape=SCALAR)
    rev = tuple(transpose(c) for c in reversed(chain))
    b = Mul(rev, shape=SCALAR)
    if count_transposes(b) < count_transposes(a) or (count_transposes(b) == count_transposes(a) and key(b) < key(a)):
        return b
    return a


def split_chain(chain: list[Node]):
    """Cut the chain at inner dimensions equal to 1; return (remaining chain, scalar pieces)."""
    dims = [chain[0].shape[0]] + [c.shape[1] for c in chain]
    cuts = [t for t in range(len(dims)) if dims[t] == 1]
    if len(cuts) < 2 or (cuts[0] == 0 and cuts[-1] == len(chain)) and len(cuts) == 2:
        return None
    pieces = []
    # segments between consecutive cuts are scalars
    keep = [True] * len(chain)
    for a, b in zip(cuts, cuts[1:]):
        if b - a >= 1 and not (a == 0 and b == len(chain)):
            pieces.append(chain[a:b])
            for i in range(a, b):
                keep[i] = False
    rest = [c for c, k in zip(chain, keep) if k]
    if not rest:
        return None
    return rest, pieces


def simplify_chain(chain: list[Node]) -> list[Node]:
    out: list[Node] = []
    for c in chain:
        if isinstance(c, Identity) and (out or len(chain) > 1):
            continue
        if out:
            prev = out[-1]
            base_p, e_p = power_parts(prev)
            base_c, e_c = power_parts(c)
            if base_p == base_c and base_p.shape[0] == base_p.shape[1] and (e_p > 0 and e_c > 0 or
                                                                          e_p < 0 or e_c < 0):
                out.pop()                      # X^a X^b = X^(a+b), for invertible X when a or b < 0
                if e_p + e_c != 0:
                    out.append(power(base_p, e_p + e_c))
                continue
        out.append(c)
    if not out and chain:
        return [identity(chain[0].shape[0])]
    return out


def power_parts(n: Node) -> tuple[Node, Fraction]:
    if isinstance(n, Power) and isinstance(n.arg, Inverse) and not is_scalar(n):
        return n.arg.arg, -n.exp
    if isinstance(n, Power):
        return n.arg, n.exp
    if isinstance(n, Inverse):
        return n.arg, -ONE
    return n, ONE


def check_exponent(e: Fraction) -> Fraction:
    """Exponents that grow past the input bound (x.^2 squared 60 times) are refused, not printed."""
    if abs(e.numerator) > limits.MAX_EXPONENT or e.denominator > limits.MAX_EXPONENT:
        raise LimitError(f"an exponent in the result grew to {str(e)[:24]}, past the limit of {limits.MAX_EXPONENT}")
    return e


def power(x: Node, e) -> Node:
    e = check_exponent(Fraction(e))
    if is_scalar(x):
        if e == 0:
            return num(1)
        if e == 1:
            return x
        if isinstance(x, Num):
            if e.denominator == 1:
                if x.value == 0 and e < 0:
                    return Power(x, e, shape=SCALAR)
                return num(x.value ** int(e))
            return Power(x, e, shape=SCALAR)
        if isinstance(x, Zero):
            return x if e > 0 else Power(x, e, shape=SCALAR)
        if isinstance(x, Power) and e.denominator == 1 and x.exp.denominator == 1:
            return power(x.arg, x.exp * e)
        if isinstance(x, Mul) and all(is_scalar(a) for a in x.args) and e.denominator == 1:
            return mul(*[power(a, e) for a in x.args])
        return Power(x, e, shape=SCALAR)
    if e == 0:
        return identity(x.shape[0])
    if e == 1:
        return x
    if e == -1:
        return inverse(x)
    if isinstance(x, Identity):
        return x
    if e < 0:
        return Power(inverse(x), -e, shape=x.shape)      # X^-2 is (X^-1)^2
    return Power(x, e, shape=x.shape)


def div(a: Node, b: Node) -> Node:
    return mul(a, power(b, -1))


# ---- transposes and inverses ----------------------------------------------------------
def transpose(x: Node) -> Node:
    if is_scalar(x):
        return x
    match x:
        case Transpose(arg=a):
            return a
        case Sym(symmetric=True) | Identity() :
            return x
        case Zero() | Ones():
            return type(x)(shape=(x.shape[1], x.shape[0]))
        case Mul(args=args):
            scal = [a for a in args if is_scalar(a)]
            chain = [transpose(a) for a in reversed(args) if not is_scalar(a)]
            return mul(*scal, *chain)
        case Add(args=args):
            pushed = add(*[transpose(a) for a in args])
            if pushed == x or count_transposes(pushed) < 1 + count_transposes(x):
                return pushed
        case Inverse(arg=a):
            return inverse(transpose(a))
        case Power(arg=a, exp=e):
            return power(transpose(a), e)
        case Hadamard(left=a, right=b):
            return hadamard(transpose(a), transpose(b))
        case HadDiv(left=a, right=b):
            return haddiv(transpose(a), transpose(b))
        case Kron(left=a, right=b):
            return kron(transpose(a), transpose(b))
        case Elementwise(fn=fn, arg=Transpose(arg=a)):
            return elementwise(fn, a)
        case EPow(arg=a, exp=e):
            return epow(transpose(a), e)
        case Diag(arg=a) if is_column(a):
            return x
        case Commutation(m=m, n=n):
            return Commutation(n, m, shape=x.shape)
    return Transpose(x, shape=(x.shape[1], x.shape[0]))


def inverse(x: Node) -> Node:
    if is_scalar(x):
        return power(x, -1)
    match x:
        case Inverse(arg=a):
            return a
        case Identity():
            return x
        case Power(arg=a, exp=e):
            return power(a, -e)
        case Kron(left=a, right=b):
            return kron(inverse(a), inverse(b))
        case Mul(args=args) if any(is_scalar(a) for a in args):
            scal = [power(a, -1) for a in args if is_scalar(a)]
            rest = [a for a in args if not is_scalar(a)]
            core = rest[0] if len(rest) == 1 else Mul(tuple(rest), shape=x.shape)
            return mul(*scal, inverse(core))
        case Mul(args=args) if all(a.shape[0] == a.shape[1] for a in args):
            return mul(*[inverse(a) for a in reversed(args)])     # (A B)⁻¹ = B⁻¹ A⁻¹, all square
    return Inverse(x, shape=x.shape)


# ---- elementwise ------------------------------------------------------------------------
def pull_scalars(f: Callable[[Node, Node], Node], a: Node, b: Node) -> Node | None:
    sa, ca = split_scalars(a)
    sb, cb = split_scalars(b)
    if sa or sb:
        return mul(*sa, *sb, f(ca, cb))
    return None


def hadamard(a: Node, b: Node) -> Node:
    """Elementwise product, flattened: equal bases add exponents, ones drop, scalars move out."""
    if is_zero(a) or is_zero(b):
        return zero(a.shape)
    if is_scalar(a) and is_scalar(b):
        return mul(a, b)
    scalars: list[Node] = []
    exps: dict[Node, Fraction] = {}

    def take(f: Node):
        if isinstance(f, Hadamard):
            take(f.left)
            take(f.right)
            return
        sc, core = split_scalars(f)
        scalars.extend(sc)
        if isinstance(core, Ones):
            return
        base, e = epow_parts(core)
        exps[base] = exps.get(base, Fraction(0)) + e

    take(a)
    take(b)
    for num_fn, den_fn, quotient in QUOTIENTS:      # sinh(u) ⊘ cosh(u) = tanh(u)
        for base in [b for b in exps if isinstance(b, Elementwise) and b.fn == num_fn]:
            other = Elementwise(den_fn, base.arg, shape=base.shape)
            e = exps.get(base, 0)
            if other in exps and exps[other] == -e and e != 0:
                del exps[base], exps[other]
                q = Elementwise(quotient, base.arg, shape=base.shape)
                exps[q] = exps.get(q, Fraction(0)) + e
    factors = [epow(base, e) for base, e in exps.items() if e != 0]
    factors = [f for f in factors if not isinstance(f, Ones)]
    factors.sort(key=lambda f: (isinstance(f, EPow) and f.exp < 0, isinstance(f, Add), key(f)))
    if not factors:
        core = ones(a.shape)
    else:
        core = factors[0]
        for f in factors[1:]:
            core = Hadamard(core, f, shape=a.shape)
    return mul(*scalars, core) if scalars else core


QUOTIENTS = (("sinh", "cosh", "tanh"), ("sin", "cos", "tan"))


def epow_parts(n: Node):
    if isinstance(n, EPow):
        return n.arg, n.exp
    return n, ONE


def haddiv(a: Node, b: Node) -> Node:
    if is_zero(a):
        return a
    if isinstance(b, Ones):
        return a
    if is_scalar(a) and is_scalar(b):
        return div(a, b)
    sa, ca = split_scalars(a)
    if sa:
        return mul(*sa, haddiv(ca, b))
    if a == b:
        return ones(a.shape)
    if isinstance(a, Ones):
        return epow(b, -1)
    return HadDiv(a, b, shape=a.shape)


def epow(x: Node, e) -> Node:
    e = check_exponent(Fraction(e))
    if is_scalar(x):
        return power(x, e)
    if e == 1:
        return x
    if e == 0:
        return ones(x.shape)
    if is_zero(x) and e > 0:
        return x
    if isinstance(x, EPow) and (e.denominator == 1 and x.exp.denominator == 1):
        return epow(x.arg, x.exp * e)
    if isinstance(x, Ones):
        return x
    return EPow(x, e, shape=x.shape)


AT_ZERO = {"sin": 0, "tan": 0, "sinh": 0, "tanh": 0, "sqrt": 0, "abs": 0, "relu": 0, "step": 0,
           "exp": 1, "cos": 1, "cosh": 1, "sigmoid": Fraction(1, 2)}
AT_ONE = {"sqrt": 1, "abs": 1, "relu": 1, "step": 1, "log": 0}


def elementwise(fn: str, x: Node) -> Node:
    if is_zero(x) and fn in AT_ZERO:           # tanh(0) = 0, exp(0) = 1: no stray literal 0 in results
        v = AT_ZERO[fn]
        return zero(x.shape) if v == 0 else mul(num(v), ones(x.shape))
    if isinstance(x, Ones) and fn in AT_ONE:     # sqrt(ones) = ones, log(ones) = 0 (C ./ C is ones)
        return mul(num(AT_ONE[fn]), x) if AT_ONE[fn] else zero(x.shape)
    if is_zero(x) and fn == "softplus":        # softplus(0) = log 2
        return mul(Elementwise("log", Num(Fraction(2), shape=SCALAR), shape=SCALAR), ones(x.shape))
    return Elementwise(fn, x, shape=x.shape)


def kron(a: Node, b: Node) -> Node:
    shape = (dim_product((a.shape[0], b.shape[0])), dim_product((a.shape[1], b.shape[1])))
    if is_zero(a) or is_zero(b):
        return zero(shape)
    if is_scalar(a) or is_scalar(b):
        return mul(a, b)
    if is_column(a) and is_row(b):
        return mul(a, b)
    if is_row(a) and is_column(b):
        return mul(b, a)
    if isinstance(a, Identity) and isinstance(b, Identity):
        return identity(shape[0])
    pulled = pull_scalars(kron, a, b)
    if pulled is not None:
        return pulled
    return Kron(a, b, shape=shape)


# ---- matrix functions ------------------------------------------------------------------
def trace(x: Node) -> Node:
    if is_scalar(x):
        return x
    match x:
        case Zero():
            return num(0)
        case Identity() | Ones():              # tr(I_n) = tr(ones_n ones_n^T) = n
            return size_value(x.shape[0])
        case Add(args=args):
            return add(*[trace(a) for a in args])
        case Transpose(arg=a):
            return trace(a)
        case Kron(left=a, right=b):
            return mul(trace(a), trace(b))
        case Mul(args=args):
            scal = [a for a in args if is_scalar(a)]
            chain = [a for a in args if not is_scalar(a)]
            if scal:
                return mul(*scal, trace(chain[0] if len(chain) == 1 else Mul(tuple(chain), shape=x.shape)))
            dims = [c.shape[1] for c in chain]
            if 1 in dims[:-1]:           # tr(u vᵀ) = vᵀ u: rotate so the product is 1×1
                t = dims.index(1) + 1
                return mul(*chain[t:], *chain[:t])
    return Trace(x, shape=SCALAR)


def det(x: Node) -> Node:
    if is_scalar(x):
        return x
    match x:
        case Identity():
            return num(1)
        case Transpose(arg=a):
            return det(a)
        case Inverse(arg=a):
            return power(det(a), -1)
    return Det(x, shape=SCALAR)


def logdet(x: Node) -> Node:
    match x:
        case Transpose(arg=a):
            return logdet(a)
        case Inverse(arg=a):
            return neg(logdet(a))
        case Identity():
            return num(0)
    return LogDet(x, shape=SCALAR)


def sum_(x: Node) -> Node:
    if is_scalar(x):
        return x
    match x:
        case Zero():
            return num(0)
        case Identity():                 # sum(I_n) = n, sum(ones_m ones_n^T) = m n
            return size_value(x.shape[0])
        case Ones():
            return size_value(numel(x.shape))
        case Add(args=args):
            return add(*[sum_(a) for a in args])
        case Transpose(arg=a):
            return sum_(a)
    scal, core = split_scalars(x)
    if scal:
        return mul(*scal, sum_(core))
    return Sum(x, shape=SCALAR)


def vec(x: Node) -> Node:
    shape = (numel(x.shape), 1)
    if x.shape[1] == 1:
        return x
    if is_row(x):
        return transpose(x)
    if is_zero(x):
        return zero(shape)
    scal, core = split_scalars(x)
    if scal:
        return mul(*scal, vec(core))
    return Vec(x, shape=shape)


def diag(x: Node) -> Node:
    if is_scalar(x):
        return x
    if is_column(x):
        shape = (x.shape[0], x.shape[0])
        if isinstance(x, Ones):
            return identity(x.shape[0])
    else:
        shape = (x.shape[0], 1)
        if isinstance(x, Identity):
            return Ones(shape=shape)
        if isinstance(x, Diag):
            return x.arg
    if is_zero(x):
        return zero(shape)
    scal, core = split_scalars(x)
    if scal:
        return mul(*scal, diag(core))
    return Diag(x, shape=shape)


def hcat(*args: Node) -> Node:
    if len(args) == 1:
        return args[0]
    cols = dim_sum([a.shape[1] for a in args])
    return HCat(tuple(args), shape=(args[0].shape[0], cols))


def norm(x: Node, kind) -> Node:
    return Norm(x, kind, shape=SCALAR)


# ---- simplify: rebuild bottom-up through the constructors ----------------------------------
REWRITES: dict[type, Callable[..., Node]] = {
    Add: lambda n, *a: add(*a),
    Neg: lambda n, a: neg(a),
    Mul: lambda n, *a: mul(*a),
    Div: lambda n, a, b: div(a, b),
    Power: lambda n, a: power(a, n.exp),
    Transpose: lambda n, a: transpose(a),
    Inverse: lambda n, a: inverse(a),
    Hadamard: lambda n, a, b: hadamard(a, b),
    HadDiv: lambda n, a, b: haddiv(a, b),
    EPow: lambda n, a: epow(a, n.exp),
    Kron: lambda n, a, b: kron(a, b),
    Trace: lambda n, a: trace(a),
    Det: lambda n, a: det(a),
    LogDet: lambda n, a: logdet(a),
    Sum: lambda n, a: sum_(a),
    Vec: lambda n, a: vec(a),
    Diag: lambda n, a: diag(a),
    Norm: lambda n, a: norm(a, n.kind),
    HCat: lambda n, *a: hcat(*a),
    Apply: lambda n, a: replace(n, arg=a) if a is not n.arg else n,
    Elementwise: lambda n, a: elementwise(n.fn, a),
    Identity: lambda n: identity(n.shape[0]),          # I_1 and a 1×1 ones are the number 1
    Ones: lambda n: ones(n.shape),
}


def simplify(n: Node, memo: dict | None = None) -> Node:
    memo = {} if memo is None else memo
    hit = memo.get(n)
    if hit is not None:
        return hit
    limits.tick()
    if isinstance(n, Add):                 # a + b + c + … parsed left-nested: one add, one sort
        terms, stack = [], list(reversed(n.args))
        while stack:
            t = stack.pop()
            if isinstance(t, Add) and t not in memo:
                stack.extend(reversed(t.args))
            else:
                terms.append(simplify(t, memo))
        out = add(*terms)
        memo[n] = out
        return out
    kids = [simplify(c, memo) for c in children(n)]
    r = REWRITES.get(type(n))
    if r is None:
        out = n
    else:
        out = r(n, *kids)
    if len(memo) > limits.MAX_RESULT_NODES:
        raise LimitError("the result grew too large to simplify")
    memo[n] = out
    return out


# ---- factor: the presentational pass -----------------------------------------------------
def factor(n: Node, memo: dict | None = None) -> Node:
    memo = {} if memo is None else memo
    hit = memo.get(n)
    if hit is not None:
        return hit
    limits.tick()
    m = map_children(n, lambda c: factor(c, memo))
    if isinstance(m, Add):
        m = factor_sum(m)
    memo[n] = m
    return m


def parts(t: Node) -> tuple[list[Node], list[Node]]:
    """A term as (scalar factors with coefficient, chain)."""
    if isinstance(t, Mul):
        return [a for a in t.args if is_scalar(a)], [a for a in t.args if not is_scalar(a)]
    if is_scalar(t):
        return [t], []
    return [], [t]


def factor_sum(s: Add) -> Node:
    terms = list(s.args)
    if len(terms) < 2 or is_scalar(s) and all(not parts(t)[1] for t in terms):
        return factor_common_scalars(s)
    if not is_scalar(s):                  # a - s² a → (1 - s²) a: same matrix part, scalar weights
        groups: dict[Node, list[Node]] = {}
        for t in terms:
            sc, ch = parts(t)
            core = mul(*ch) if ch else None
            groups.setdefault(core, []).append(mul(*sc) if sc else num(1))
        if any(len(v) > 1 for k, v in groups.items() if k is not None):
            out = [mul(factor_sum_or_same(add(*v)), k) if len(v) > 1 else mul(v[0], k)
                   for k, v in groups.items() if k is not None]
            return factor_sum_or_same(add(*out)) if len(out) > 1 else out[0]
    for side in (-1, 0):
        groups: dict[Node, list[int]] = {}
        for i, t in enumerate(terms):
            sc, ch = parts(t)
            if len(ch) > 1:              # a bare term would bring in an I: leave it outside
                groups.setdefault(ch[side], []).append(i)
        best = max(groups.items(), key=lambda kv: len(kv[1]), default=None)
        if best is None or len(best[1]) < 2:
            continue
        common, idx = best
        inner = []
        for i in idx:
            sc, ch = parts(terms[i])
            rest = ch[:-1] if side == -1 else ch[1:]
            inner.append(mul(*sc, *rest))
        inner_sum = factor_sum_or_same(add(*inner))
        grouped = mul(inner_sum, common) if side == -1 else mul(common, inner_sum)
        others = [t for i, t in enumerate(terms) if i not in idx]
        if not others:
            return grouped
        return factor_sum_or_same(add(grouped, *others))
    pulled = factor_hadamard(s)
    if pulled is not None:
        return pulled
    return factor_common_scalars(s)


def factor_hadamard(s: Add) -> Node | None:
    """σ - σ.^2 → σ .* (ones - σ): pull out elementwise factors common to every term."""
    if is_scalar(s):
        return None
    split = []
    for t in s.args:
        scal, core = split_scalars(t) if isinstance(t, Mul) else ([], t)
        fs: dict[Node, Fraction] = {}
        for f in hadamard_factors(core):
            base, e = epow_parts(f)
            fs[base] = fs.get(base, Fraction(0)) + e
        split.append((scal, fs))
    common = {b: min(fs.get(b, Fraction(0)) for _, fs in split) for b in split[0][1]}
    common = {b: e for b, e in common.items() if e > 0 and not isinstance(b, (Ones, Identity))}
    if not common or all(set(fs) <= set(common) and all(fs[b] == common[b] for b in fs) for _, fs in split):
        return None
    inner = []
    for scal, fs in split:
        rest = [epow(b, e - common.get(b, 0)) for b, e in fs.items() if e - common.get(b, 0) != 0]
        core = rest[0] if rest else ones(s.shape)
        for r in rest[1:]:
            core = hadamard(core, r)
        inner.append(mul(*scal, core))
    out = None
    for b, e in common.items():
        f = epow(b, e)
        out = f if out is None else hadamard(out, f)
    return Hadamard(out, factor_sum_or_same(add(*inner)), shape=s.shape)


def factor_sum_or_same(n: Node) -> Node:
    return factor_sum(n) if isinstance(n, Add) else n


def factor_common_scalars(s: Add) -> Node:
    """2 A + 2 Aᵀ → 2 (A + Aᵀ); c/N a + c/N b → c/N (a + b)."""
    coefs, scalar_sets = [], []
    for t in s.args:
        c, core = split_coef(t)
        coefs.append(c)
        sc = [] if core is None else (parts(core)[0] if isinstance(core, Mul) else [])
        scalar_sets.append(sc)
    common_scalars = [x for x in scalar_sets[0] if all(x in other for other in scalar_sets[1:])]
    g = coefs[0]
    for c in coefs[1:]:
        g = Fraction(gcd_frac(g, c))
    if all(c < 0 for c in coefs):
        g = -g
    if not (g.denominator == 1 and abs(g) > 1) and len({abs(c) for c in coefs}) > 1:
        g = Fraction(-1) if g < 0 else ONE     # 1/500 (500 a + w) reads worse than a + w/500
    if (g == 1 or g == 0) and not common_scalars:
        return s
    rest = []
    for t, c in zip(s.args, coefs):
        _, core = split_coef(t)
        if core is None:
            rest.append(num(c / g))
            continue
        sc, ch = parts(core) if isinstance(core, Mul) else ([], [core])
        sc = list(sc)
        for x in common_scalars:
            sc.remove(x)
        rest.append(mul(num(c / g), *sc, *ch))
    inner = add(*rest)
    if not isinstance(inner, Add):
        return mul(num(g), *common_scalars, inner)
    return Mul(tuple(([Num(g, shape=SCALAR)] if g != 1 else []) + common_scalars + [inner]), shape=s.shape) \
        if (g != 1 or common_scalars) else inner


def gcd_frac(a: Fraction, b: Fraction) -> Fraction:
    from math import gcd
    a, b = Fraction(a), Fraction(b)
    num_ = gcd(a.numerator, b.numerator)
    den = a.denominator * b.denominator // gcd(a.denominator, b.denominator)
    return Fraction(num_, den)


def tidy(n: Node) -> Node:
    """simplify, then factor: what a person would write. Small results are also tried fully
    expanded (σ∘(1-y) - y∘(1-σ) = σ - y), and the shorter form wins."""
    a = factor(simplify(n))
    if size(a) > 300 or not any(isinstance(m, (Hadamard, HadDiv, Diag, Elementwise)) for m in walk(a)):
        return a                       # expansion pays off only around elementwise functions
    b = factor(simplify(expand(a)))
    return b if size(b) < 0.75 * size(a) else a


def expand(n: Node, memo: dict | None = None) -> Node:
    """Distribute products over sums, everywhere: for differences, where cancellation matters
    more than compactness."""
    memo = {} if memo is None else memo
    hit = memo.get(n)
    if hit is not None:
        return hit
    limits.tick()
    m = map_children(n, lambda c: expand(c, memo))
    if isinstance(m, Mul):
        terms = [[]]
        for a in m.args:
            options = a.args if isinstance(a, Add) else (a,)
            terms = [t + [o] for t in terms for o in options]
            if len(terms) > 256:
                memo[n] = m
                return m
        out = add(*[mul(*t) for t in terms])
    elif isinstance(m, Transpose) and isinstance(m.arg, Add):
        out = add(*[transpose(t) for t in m.arg.args])
    elif isinstance(m, (Hadamard, Kron)) and (isinstance(m.left, Add) or isinstance(m.right, Add)):
        make = hadamard if isinstance(m, Hadamard) else kron
        ls = m.left.args if isinstance(m.left, Add) else (m.left,)
        rs = m.right.args if isinstance(m.right, Add) else (m.right,)
        out = add(*[expand(make(a, b), memo) for a in ls for b in rs]) if len(ls) * len(rs) <= 64 else m
    elif isinstance(m, Diag) and isinstance(m.arg, Add):
        out = add(*[diag(t) for t in m.arg.args])
    else:
        out = REWRITES[type(m)](m, *children(m)) if type(m) in REWRITES else m
    memo[n] = out
    return out
