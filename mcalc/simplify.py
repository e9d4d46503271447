"""Canonical forms, by named rewrite rules. Each identity is a small function
`Node -> Node | None` whose docstring is the identity, registered in order for its node
class (`@rule(Mul)`, machinery in rewrite.py). A smart constructor (add, mul, transpose, ...)
builds its node, then applies its class's rules to a fixpoint, so every node it returns is
canonical; `simplify` rebuilds a tree bottom-up through the constructors (REWRITES), and
`factor` is the final, presentational pass (rules of the "factor" pass) that pulls common
factors out of sums: A x + Aᵀ x → (A + Aᵀ) x. Terms and factors are ordered by `key`, a
structural key computed from the tree, never from rendered text.

tests/fixtures/simplify.txt holds one block per rule: an input and the output it gives.
"""
from __future__ import annotations

from fractions import Fraction
from math import gcd
from typing import Callable

from . import limits, ops
from .dims import factors
from .dims import dim_product, dim_sum
from .errors import LimitError
from .nodes import (SCALAR, Apply, Call, HCat, Add, Commutation, Delta, Det, Diag, Dim, Div, Elementwise, EPow, HadDiv,
                    Hadamard, Identity, Inverse, Kron, LogDet, Mul, Neg, Node, Norm, Num, Ones, Power,
                    Shape, Size, Sum, Sym, Trace, Transpose, Unit, VarPow, Vec, Zero, PRECEDENCE, children, map_children,
                    precedence, walk)
from .nodes import replace as node_replace
from .rewrite import normalize, rule

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
    return mul(*[num(p) if isinstance(p, int) else Size(p, shape=SCALAR) for p in factors(d)])


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


# ---- the structural key ------------------------------------------------------------------
# A node's key is a tuple of tokens read off the tree in infix order: its leaves' names and
# each operation's own mark. It depends on the tree alone, so a change of spelling in a
# renderer reorders nothing; the marks are chosen so that a bare symbol sorts before its
# transpose and a product before its longer relatives (A x, A^T x; A, A + B).
INFIX = {Add: " +", Mul: " ", Hadamard: " .*", HadDiv: " ./", Kron: " ⊗", Div: "/"}
POSTFIX = {Transpose: "^T", Inverse: "^-1"}


def _key(n: Node) -> tuple:
    if isinstance(n, (Sym, Size)):
        return (n.name,)
    if isinstance(n, Num):
        return (str(n.value),)
    if isinstance(n, Delta):
        return ("d" + n.name,)
    if isinstance(n, Unit):
        return ("e_" + n.index,)
    if isinstance(n, Identity):
        return ("I",)
    if isinstance(n, Ones):
        return ("ones",) + (("^T",) if n.shape[1] != 1 else ())
    if isinstance(n, Zero):
        return ("0",)
    if isinstance(n, Commutation):
        return ("K", str(n.m), str(n.n))
    cls = type(n)
    kids = list(children(n))
    if cls in INFIX:
        level = PRECEDENCE.get(cls, 0)
        out = grouped(kids[0], level)
        for k in kids[1:]:
            out = out + (INFIX[cls],) + grouped(k, level + (cls is not Add))
        return out
    if cls in POSTFIX:
        return grouped(kids[0], PRECEDENCE[Transpose]) + (POSTFIX[cls],)
    if cls is VarPow:                  # a power is ordered by its base, as a^2 is
        return grouped(kids[0], PRECEDENCE[Transpose] + 1) + ("^",) + key(kids[1])
    if cls in (Power, EPow):
        return grouped(kids[0], PRECEDENCE[Transpose] + (cls is Power)) + (("^" if cls is Power else ".^"), str(n.exp))
    if cls is Neg:
        return ("-",) + grouped(kids[0], PRECEDENCE[Neg] + 1)
    label = n.fn if isinstance(n, Elementwise) else cls.__name__.lower()
    if isinstance(n, Norm):
        return ("||",) + key(kids[0]) + ("||", n.kind or "")
    out = (label, "(")
    for k in kids:
        out = out + key(k) + (",",)
    return out + (")",)


def grouped(child: Node, level: int) -> tuple:
    """A child's key, bracketed where it binds more weakly than its place (the tree's own precedence)."""
    return ("(",) + key(child) + (")",) if precedence(child) < level else key(child)


key = IdentityMemo(_key)
key.__doc__ = "A deterministic structural sort key (a tuple of tokens), built from the children's cached keys."
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
    shape = terms[0].shape if terms else SCALAR
    return normalize(Add(tuple(terms), shape=shape))


def respelled(n: Node, names: dict[str, str]) -> Node:
    if isinstance(n, Elementwise) and n.fn in names:
        return node_replace(n, fn=names[n.fn], arg=respelled(n.arg, names))
    return map_children(n, lambda c: respelled(c, names))


function_names = IdentityMemo(lambda n: frozenset().union(*map(function_names, children(n)))
                              | ({n.fn} if isinstance(n, Elementwise) else frozenset()))
function_names.__doc__ = "The elementwise functions a node applies, from its children's cached sets."


@rule(Add)
def add_one_spelling(n: Add):
    """log(u) - ln(u) = 0: a sum that spells one function two ways (ln, log) spells it once"""
    names = frozenset().union(*map(function_names, n.args))
    both = {a: ops.ALIAS_OF[a] for a in names if ops.ALIAS_OF.get(a) in names}
    if not both:
        return None
    return Add(tuple(respelled(t, both) for t in n.args), shape=n.shape)


@rule(Add)
def add_flatten(n: Add):
    """a + (b + c) = a + b + c;  a + (-b) = a + (-1) b"""
    if not any(isinstance(t, (Add, Neg)) for t in n.args):
        return None
    flat: list[Node] = []
    for t in n.args:
        if isinstance(t, Add):
            flat.extend(t.args)
        elif isinstance(t, Neg):
            flat.append(mul(num(-1), t.arg))
        else:
            flat.append(t)
    return Add(tuple(flat), shape=n.shape)


@rule(Add)
def add_zero(n: Add):
    """a + 0 = a"""
    if not any(is_zero(t) for t in n.args):
        return None
    return Add(tuple(t for t in n.args if not is_zero(t)), shape=n.shape)


@rule(Add)
def add_diagonals(n: Add):
    """c diag(u) + d diag(v) = diag(c u + d v)"""
    diags = [t for t in n.args if is_diag_term(t)]
    if len(diags) < 2:
        return None
    inner = add(*[diag_parts(t) for t in diags])
    return Add(tuple(t for t in n.args if not is_diag_term(t)) + (diag(inner),), shape=n.shape)


@rule(Add)
def add_like_terms(n: Add):
    """c a + d a = (c + d) a;  2 + 3 = 5"""
    coefs: dict[Node | None, Fraction] = {}
    for t in n.args:
        c, core = split_coef(t)
        coefs[core] = coefs.get(core, Fraction(0)) + c
    if len(coefs) == len(n.args):
        return None
    out = []
    for core, c in coefs.items():
        if c == 0:
            continue
        if core is None:
            out.append(Num(c, shape=SCALAR))
        else:
            out.append(core if c == 1 else mul(Num(c, shape=SCALAR), core))
    return Add(tuple(out), shape=n.shape)


@rule(Add)
def add_few_terms(n: Add):
    """+(a) = a;  +() = 0: a sum of one term is that term, of none 0"""
    if len(n.args) == 1:
        return n.args[0]
    if not n.args:
        return zero(n.shape)
    return None


@rule(Add)
def add_order(n: Add):
    """y + X w = X w + y: terms in canonical order, positive first, constants and bare symbols last (A + Aᵀ)"""
    ordered = tuple(sorted(n.args, key=term_order))
    return None if ordered == n.args else Add(ordered, shape=n.shape)


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
# A canonical product is [coefficient] scalars… chain…: one leading number, the other 1×1
# factors (a 1×1 chain such as xᵀ A x kept whole as one factor), then the conformable
# chain of the non-scalar factors in order.
def mul(*factors: Node) -> Node:
    limits.tick()
    if not factors:
        return Num(ONE, shape=SCALAR)
    return normalize(Mul(tuple(factors), shape=product_shape(factors)))


def product_shape(factors) -> Shape:
    chain = [f for f in factors if not is_scalar(f)]
    return chain_shape(chain) if chain else SCALAR


def is_scalar_chain(f: Node) -> bool:
    """A 1×1 product whose non-scalar factors form a chain (xᵀ A x): it stays one factor."""
    return isinstance(f, Mul) and is_scalar(f) and any(not is_scalar(a) for a in f.args)


def spliced(f: Node) -> bool:
    return isinstance(f, Neg) or isinstance(f, Mul) and not is_scalar_chain(f)


def scalar_args(n: Mul) -> list[Node]:
    return [a for a in n.args if is_scalar(a)]


def chain_args(n: Mul) -> list[Node]:
    return [a for a in n.args if not is_scalar(a)]


def with_chain(n: Mul, chain: list[Node], extra: list[Node] = ()) -> Mul:
    return Mul(tuple(list(extra) + scalar_args(n) + list(chain)), shape=n.shape)


@rule(Mul)
def mul_flatten(n: Mul):
    """a (b c) = a b c;  (-a) b = -1 a b"""
    if not any(spliced(f) for f in n.args):
        return None
    flat: list[Node] = []

    def take(f):
        if isinstance(f, Neg):
            flat.append(Num(-ONE, shape=SCALAR))
            take(f.arg)
        elif spliced(f):
            for a in f.args:
                take(a)
        else:
            flat.append(f)
    for f in n.args:
        take(f)
    return Mul(tuple(flat), shape=n.shape)


@rule(Mul)
def mul_zero(n: Mul):
    """0 a = 0"""
    if any(is_zero(f) for f in n.args):
        return zero(n.shape)
    return None


@rule(Mul)
def mul_scalar_chain_factor(n: Mul):
    """(c xᵀ y) a = c (xᵀ y) a: numbers and scalars leave a 1×1 chain factor"""
    inner = [f for f in n.args if is_scalar_chain(f) and any(is_scalar(a) for a in f.args)]
    if not inner:
        return None
    out: list[Node] = []
    for f in n.args:
        if f in inner:
            out.extend(a for a in f.args if is_scalar(a))
            out.append(canonical_scalar_chain(tuple(a for a in f.args if not is_scalar(a))))
        else:
            out.append(f)
    return Mul(tuple(out), shape=n.shape)


@rule(Mul)
def mul_numbers(n: Mul):
    """2 (3 a) = 6 a;  1 a = a: one leading coefficient"""
    nums = [f for f in n.args if isinstance(f, Num)]
    if not nums or len(nums) == 1 and n.args[0] is nums[0] and nums[0].value != 1:
        return None
    coef = ONE
    for f in nums:
        coef *= f.value
    rest = tuple(f for f in n.args if not isinstance(f, Num))
    if coef == 0:
        return zero(n.shape)
    if not rest:
        return Num(coef, shape=SCALAR)
    return Mul(((Num(coef, shape=SCALAR),) if coef != 1 else ()) + rest, shape=n.shape)


def scalar_power_parts(f: Node) -> tuple[Node, Fraction]:
    if isinstance(f, Power) and is_scalar(f):
        return f.arg, f.exp
    return f, ONE


@rule(Mul)
def mul_scalar_powers(n: Mul):
    """s s^2 = s^3;  s s^-1 = 1;  2^2 a = 4 a: powers of one scalar base add"""
    bases: dict[Node, Fraction] = {}
    count = 0
    numeric = False
    for f in n.args:
        if is_scalar(f) and not isinstance(f, Num):
            base, e = scalar_power_parts(f)
            bases[base] = bases.get(base, Fraction(0)) + e
            count += 1
            numeric = numeric or isinstance(base, Num) and (e.denominator == 1 or base.value == 1) or e == 0
    if len(bases) == count and not numeric:
        return None
    coef: list[Node] = [f for f in n.args if isinstance(f, Num)]
    scal: list[Node] = []
    for base, e in bases.items():
        if e == 0 or isinstance(base, Num) and base.value == 1:
            continue
        if isinstance(base, Num) and e.denominator == 1:
            coef.append(Num(base.value ** int(e), shape=SCALAR))
            continue
        scal.append(base if e == 1 else Power(base, e, shape=SCALAR))
    out = tuple(coef + scal + chain_args(n))
    return Mul(out, shape=n.shape) if out else Num(ONE, shape=SCALAR)


@rule(Mul)
def mul_ones_ones(n: Mul):
    """ones(a×k) ones(k×b) = k ones(a×b): onesᵀ ones is a size"""
    chain = chain_args(n)
    for i in range(len(chain) - 1):
        a, b = chain[i], chain[i + 1]
        if isinstance(a, Ones) and isinstance(b, Ones):
            both = ones((a.shape[0], b.shape[1]))
            merged = chain[:i] + ([] if is_scalar(both) else [both]) + chain[i + 2:]
            return with_chain(n, merged, [size_value(b.shape[0])])
    return None


@rule(Mul)
def mul_identity(n: Mul):
    """A I = I A = A"""
    chain = chain_args(n)
    if len(chain) < 2 or not any(isinstance(c, Identity) for c in chain):
        return None
    kept = [c for c in chain if not isinstance(c, Identity)] or chain[:1]
    return with_chain(n, kept)


def probability_rows(f: Node) -> bool:
    return isinstance(f, Sym) and f.probability and f.shape[1] != 1


@rule(Mul)
def mul_probability_rows(n: Mul):
    """T ones = ones (and onesᵀ Tᵀ = onesᵀ) for T (N×K) whose rows are probability vectors"""
    chain = chain_args(n)
    for i in range(len(chain) - 1):
        a, b = chain[i], chain[i + 1]
        if probability_rows(a) and isinstance(b, Ones):
            return with_chain(n, chain[:i] + [ones((a.shape[0], b.shape[1]))] + chain[i + 2:])
        if isinstance(a, Ones) and isinstance(b, Transpose) and probability_rows(b.arg):
            return with_chain(n, chain[:i] + [ones((a.shape[0], b.shape[1]))] + chain[i + 2:])
    return None


@rule(Mul)
def mul_matrix_powers(n: Mul):
    """X^a X^b = X^(a+b) (X square; invertible when a or b < 0);  X X^-1 = I"""
    chain = chain_args(n)
    for i in range(len(chain) - 1):
        base_p, e_p = power_parts(chain[i])
        base_c, e_c = power_parts(chain[i + 1])
        if base_p == base_c and base_p.shape[0] == base_p.shape[1] and (e_p > 0 and e_c > 0 or
                                                                        e_p < 0 or e_c < 0):
            merged = [] if e_p + e_c == 0 else [power(base_p, e_p + e_c)]
            rest = chain[:i] + merged + chain[i + 2:]
            return with_chain(n, rest or [identity(base_p.shape[0])])
    return None


def ones_sum(chain) -> Node | None:
    """onesᵀ v (or vᵀ ones) as sum(v); None for any other chain."""
    if len(chain) == 2 and sum(isinstance(c, Ones) for c in chain) == 1:
        return sum_(chain[1] if isinstance(chain[0], Ones) else chain[0])
    return None


@rule(Mul)
def mul_ones_sum(n: Mul):
    """onesᵀ v = vᵀ ones = sum(v)"""
    if n.shape == SCALAR and ones_sum(chain_args(n)) is not None:
        return with_chain(n, [], [ones_sum(chain_args(n))])
    for f in n.args:
        if is_scalar_chain(f) and ones_sum(chain_args(f)) is not None:
            rest = [g for g in n.args if g is not f]
            return Mul(tuple(rest + scalar_args(f) + [ones_sum(chain_args(f))]), shape=n.shape)
    return None


@rule(Mul)
def mul_chain_spelling(n: Mul):
    """xᵀ Aᵀ y = yᵀ A x: a 1×1 product is spelled with the fewest transposes"""
    if n.shape != SCALAR:
        return None
    chain = chain_args(n)
    if len(chain) < 2:
        return None
    c = canonical_scalar_chain(tuple(chain))
    return None if c.args == tuple(chain) else with_chain(n, list(c.args))


@rule(Mul)
def mul_inner_scalars(n: Mul):
    """a xᵀ y bᵀ = (xᵀ y) a bᵀ: a 1×1 stretch inside a chain is a scalar factor"""
    chain = chain_args(n)
    if len(chain) < 2:
        return None
    pieces = split_chain(chain)
    if pieces is None:
        return None
    rest, scalars = pieces
    return with_chain(n, rest, [canonical_scalar_chain(tuple(s)) for s in scalars])


@rule(Mul)
def mul_unwrap_scalar_chain(n: Mul):
    """c (xᵀ y) = c xᵀ y: a 1×1 chain that is the product's only chain is written inline"""
    if chain_args(n):
        return None
    atoms = [f for f in n.args if is_scalar_chain(f)]
    if len(atoms) != 1:
        return None
    out = []
    for f in n.args:
        if f is atoms[0]:
            continue
        out.append(f)
    return Mul(tuple(out) + atoms[0].args, shape=n.shape)


def factor_order(f: Node):
    return (not isinstance(f, Num), not is_scalar(f), isinstance(f, Power) and f.exp < 0, key(f))


@rule(Mul)
def mul_order(n: Mul):
    """b 2 a A = 2 a b A: the coefficient first, then the 1×1 factors (negative powers last), then the chain in order"""
    scal = sorted(scalar_args(n), key=factor_order)
    ordered = tuple(scal + chain_args(n))
    return None if ordered == n.args else Mul(ordered, shape=n.shape)


@rule(Mul)
def mul_few_factors(n: Mul):
    """·(a) = a;  ·() = 1: a product of one factor is that factor, of none 1"""
    if len(n.args) == 1:
        return n.args[0]
    if not n.args:
        return Num(ONE, shape=SCALAR)
    return None


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


# ---- powers ------------------------------------------------------------------------------
def power(x: Node, e) -> Node:
    e = check_exponent(Fraction(e))
    return normalize(Power(x, e, shape=x.shape))


@rule(Power)
def power_zero(n: Power):
    """x^0 = 1;  X^0 = I"""
    if n.exp != 0:
        return None
    return num(1) if is_scalar(n.arg) else identity(n.arg.shape[0])


@rule(Power)
def power_one(n: Power):
    """x^1 = x"""
    return n.arg if n.exp == 1 else None


@rule(Power)
def power_of_number(n: Power):
    """2^3 = 8 (an integer power of a number)"""
    x, e = n.arg, n.exp
    if isinstance(x, Num) and e.denominator == 1 and not (x.value == 0 and e < 0):
        return num(x.value ** int(e))
    return None


@rule(Power)
def power_of_zero(n: Power):
    """0^k = 0 for k > 0"""
    return n.arg if is_zero(n.arg) and is_scalar(n.arg) and n.exp > 0 else None


@rule(Power)
def power_of_power(n: Power):
    """(x^a)^b = x^(a b) for a scalar x and integers a, b"""
    x, e = n.arg, n.exp
    if is_scalar(x) and isinstance(x, Power) and e.denominator == 1 and x.exp.denominator == 1:
        return power(x.arg, x.exp * e)
    return None


@rule(Power)
def power_of_product(n: Power):
    """(a b)^k = a^k b^k for scalars a, b and an integer k"""
    x, e = n.arg, n.exp
    if isinstance(x, Mul) and all(is_scalar(a) for a in x.args) and e.denominator == 1:
        return mul(*[power(a, e) for a in x.args])
    return None


@rule(Power)
def power_minus_one(n: Power):
    """X^-1 = inv(X) for a matrix"""
    return inverse(n.arg) if not is_scalar(n.arg) and n.exp == -1 else None


@rule(Power)
def power_of_identity(n: Power):
    """I^k = I"""
    return n.arg if isinstance(n.arg, Identity) else None


@rule(Power)
def power_negative(n: Power):
    """X^-k = (X^-1)^k for a matrix"""
    if is_scalar(n.arg) or n.exp > 0:
        return None
    return Power(inverse(n.arg), -n.exp, shape=n.shape)


def div(a: Node, b: Node) -> Node:
    return mul(a, power(b, -1))


# ---- transposes and inverses ----------------------------------------------------------
def transpose(x: Node) -> Node:
    return normalize(Transpose(x, shape=(x.shape[1], x.shape[0])))


@rule(Transpose)
def transpose_scalar(n: Transpose):
    """aᵀ = a for a 1×1 a"""
    return n.arg if is_scalar(n.arg) else None


@rule(Transpose)
def transpose_transpose(n: Transpose):
    """(Aᵀ)ᵀ = A"""
    return n.arg.arg if isinstance(n.arg, Transpose) else None


@rule(Transpose)
def transpose_symmetric(n: Transpose):
    """Aᵀ = A for a symmetric A;  Iᵀ = I"""
    x = n.arg
    return x if isinstance(x, Sym) and x.symmetric or isinstance(x, Identity) else None


@rule(Transpose)
def transpose_constant(n: Transpose):
    """0ᵀ = 0;  (ones ones^T)ᵀ = ones ones^T, of the transposed shape"""
    x = n.arg
    return type(x)(shape=n.shape) if isinstance(x, (Zero, Ones)) else None


@rule(Transpose)
def transpose_product(n: Transpose):
    """(c A B)ᵀ = c Bᵀ Aᵀ"""
    if not isinstance(n.arg, Mul):
        return None
    args = n.arg.args
    return mul(*[a for a in args if is_scalar(a)], *[transpose(a) for a in reversed(args) if not is_scalar(a)])


@rule(Transpose)
def transpose_sum(n: Transpose):
    """(A + B)ᵀ = Aᵀ + Bᵀ, where that has fewer transposes"""
    x = n.arg
    if not isinstance(x, Add):
        return None
    pushed = add(*[transpose(a) for a in x.args])
    if pushed == x or count_transposes(pushed) < 1 + count_transposes(x):
        return pushed
    return None


@rule(Transpose)
def transpose_inverse(n: Transpose):
    """(A⁻¹)ᵀ = (Aᵀ)⁻¹"""
    return inverse(transpose(n.arg.arg)) if isinstance(n.arg, Inverse) else None


@rule(Transpose)
def transpose_power(n: Transpose):
    """(A^k)ᵀ = (Aᵀ)^k"""
    return power(transpose(n.arg.arg), n.arg.exp) if isinstance(n.arg, Power) else None


@rule(Transpose)
def transpose_elementwise_binary(n: Transpose):
    """(A ∘ B)ᵀ = Aᵀ ∘ Bᵀ;  (A ⊘ B)ᵀ = Aᵀ ⊘ Bᵀ;  (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ"""
    x = n.arg
    make = {Hadamard: hadamard, HadDiv: haddiv, Kron: kron}.get(type(x))
    return make(transpose(x.left), transpose(x.right)) if make else None


@rule(Transpose)
def transpose_function(n: Transpose):
    """f(Aᵀ)ᵀ = f(A) for an elementwise f"""
    x = n.arg
    if isinstance(x, Elementwise) and isinstance(x.arg, Transpose):
        return elementwise(x.fn, x.arg.arg)
    return None


@rule(Transpose)
def transpose_epow(n: Transpose):
    """(A.^p)ᵀ = (Aᵀ).^p"""
    return epow(transpose(n.arg.arg), n.arg.exp) if isinstance(n.arg, EPow) else None


@rule(Transpose)
def transpose_diag(n: Transpose):
    """diag(v)ᵀ = diag(v)"""
    return n.arg if isinstance(n.arg, Diag) and is_column(n.arg.arg) else None


@rule(Transpose)
def transpose_commutation(n: Transpose):
    """K_(m,n)ᵀ = K_(n,m)"""
    x = n.arg
    return Commutation(x.n, x.m, shape=n.shape) if isinstance(x, Commutation) else None


def inverse(x: Node) -> Node:
    return normalize(Inverse(x, shape=x.shape))


@rule(Inverse)
def inverse_scalar(n: Inverse):
    """a⁻¹ = a^-1 for a 1×1 a"""
    return power(n.arg, -1) if is_scalar(n.arg) else None


@rule(Inverse)
def inverse_inverse(n: Inverse):
    """(A⁻¹)⁻¹ = A;  I⁻¹ = I"""
    x = n.arg
    return x.arg if isinstance(x, Inverse) else x if isinstance(x, Identity) else None


@rule(Inverse)
def inverse_power(n: Inverse):
    """(A^k)⁻¹ = A^-k"""
    return power(n.arg.arg, -n.arg.exp) if isinstance(n.arg, Power) else None


@rule(Inverse)
def inverse_kron(n: Inverse):
    """(A ⊗ B)⁻¹ = A⁻¹ ⊗ B⁻¹"""
    return kron(inverse(n.arg.left), inverse(n.arg.right)) if isinstance(n.arg, Kron) else None


@rule(Inverse)
def inverse_scaled(n: Inverse):
    """(c A)⁻¹ = c⁻¹ A⁻¹"""
    x = n.arg
    if not (isinstance(x, Mul) and any(is_scalar(a) for a in x.args)):
        return None
    scal = [power(a, -1) for a in x.args if is_scalar(a)]
    rest = [a for a in x.args if not is_scalar(a)]
    core = rest[0] if len(rest) == 1 else Mul(tuple(rest), shape=x.shape)
    return mul(*scal, inverse(core))


@rule(Inverse)
def inverse_product(n: Inverse):
    """(A B)⁻¹ = B⁻¹ A⁻¹ for square A, B"""
    x = n.arg
    if isinstance(x, Mul) and all(a.shape[0] == a.shape[1] for a in x.args):
        return mul(*[inverse(a) for a in reversed(x.args)])
    return None


# ---- elementwise ------------------------------------------------------------------------
def hadamard(a: Node, b: Node) -> Node:
    """Elementwise product, flattened: equal bases add exponents, ones drop, scalars move out."""
    return normalize(Hadamard(a, b, shape=a.shape))


def hadamard_of(factors: list[Node], shape: Shape) -> Node:
    """f1 ∘ f2 ∘ … nested to the left, as built (no rules applied)."""
    if not factors:
        return ones(shape)
    core = factors[0]
    for f in factors[1:]:
        core = Hadamard(core, f, shape=shape)
    return core


@rule(Hadamard)
def hadamard_zero(n: Hadamard):
    """0 ∘ A = A ∘ 0 = 0"""
    return zero(n.shape) if is_zero(n.left) or is_zero(n.right) else None


@rule(Hadamard)
def hadamard_scalars(n: Hadamard):
    """a ∘ b = a b for 1×1 a, b"""
    return mul(n.left, n.right) if is_scalar(n.left) and is_scalar(n.right) else None


@rule(Hadamard)
def hadamard_scaled(n: Hadamard):
    """(c A) ∘ B = c (A ∘ B)"""
    fs = hadamard_factors(n)
    split = [split_scalars(f) for f in fs]
    if not any(sc for sc, _ in split):
        return None
    scalars = [s for sc, _ in split for s in sc]
    return mul(*scalars, normalize(hadamard_of([core for _, core in split], n.shape)))


@rule(Hadamard)
def hadamard_ones(n: Hadamard):
    """ones ∘ A = A"""
    fs = hadamard_factors(n)
    if not any(isinstance(f, Ones) for f in fs):
        return None
    return hadamard_of([f for f in fs if not isinstance(f, Ones)], n.shape)


@rule(Hadamard)
def hadamard_quotient(n: Hadamard):
    """A ∘ (B ⊘ C) = A ∘ B ∘ C.^-1, where B or C shares a base with A (sinh(u) ∘ (sinh(u) ⊘ cosh(u).^2))"""
    fs = hadamard_factors(n)
    for i, f in enumerate(fs):
        if isinstance(f, HadDiv):
            others = {epow_parts(g)[0] for j, g in enumerate(fs) if j != i}
            parts_ = [epow_parts(g)[0] for g in hadamard_factors(f.left) + hadamard_factors(f.right)]
            if any(p in others for p in parts_):
                return hadamard_of(fs[:i] + hadamard_factors(f.left) + [epow(f.right, -1)] + fs[i + 1:], n.shape)
    return None


@rule(Hadamard)
def hadamard_powers(n: Hadamard):
    """A.^p ∘ A.^q = A.^(p+q);  A ∘ A = A.^2"""
    fs = hadamard_factors(n)
    exps: dict[Node, Fraction] = {}
    for f in fs:
        base, e = epow_parts(f)
        exps[base] = exps.get(base, Fraction(0)) + e
    if len(exps) == len(fs):
        return None
    out = [epow(base, e) for base, e in exps.items() if e != 0]
    return hadamard_of([f for f in out if not isinstance(f, Ones)], n.shape)


@rule(Hadamard, HadDiv)
def hadamard_roots(n: Hadamard | HadDiv):
    """A ∘ sqrt(A).^-1 = sqrt(A);  A ⊘ sqrt(A) = sqrt(A);  sqrt(A) ∘ sqrt(A) = A (where A is a factor too)"""
    fs = hadamard_factors(n) if isinstance(n, Hadamard) else \
        hadamard_factors(n.left) + [epow(f, -1) for f in hadamard_factors(n.right)]
    plain = {epow_parts(f)[0] for f in fs}
    def parts(f):
        base, e = epow_parts(f)
        if isinstance(base, Elementwise) and base.fn == "sqrt" and \
                (base.arg in plain or sum(epow_parts(g)[0] == base for g in fs) > 1):
            return base.arg, e / 2
        return base, e
    if all(parts(f)[0] == epow_parts(f)[0] for f in fs):
        return None                     # no square root meets its radicand: other rules' business
    exps: dict[Node, Fraction] = {}
    for f in fs:
        base, e = parts(f)
        exps[base] = exps.get(base, Fraction(0)) + e
    if len(exps) == len(fs) or any(e.denominator not in (1, 2) or (e.denominator == 2 and abs(e) != Fraction(1, 2))
                                   for e in exps.values()):
        return None
    def power_of(base, e):
        if e.denominator == 2:
            root = elementwise("sqrt", base)
            return root if e > 0 else epow(root, -1)
        return epow(base, e)
    out = [power_of(base, e) for base, e in exps.items() if e != 0]
    return hadamard_of([f for f in out if not isinstance(f, Ones)], n.shape)


def quotient_rule(num_fn: str, den_fn: str, quotient: str):
    def fold(n: Hadamard):
        fs = hadamard_factors(n)
        exps: dict[Node, Fraction] = {}
        for f in fs:
            base, e = epow_parts(f)
            exps[base] = exps.get(base, Fraction(0)) + e
        for base, e in exps.items():
            if isinstance(base, Elementwise) and base.fn == num_fn and e != 0:
                other = Elementwise(den_fn, base.arg, shape=base.shape)
                if exps.get(other) == -e:
                    rest = [f for f in fs if epow_parts(f)[0] not in (base, other)]
                    return hadamard_of(rest + [epow(elementwise(quotient, base.arg), e)], n.shape)
        return None
    fold.__name__ = f"{quotient}_from_{num_fn}_{den_fn}"
    fold.__doc__ = f"{num_fn}(u).^p ∘ {den_fn}(u).^-p = {quotient}(u).^p"
    return rule(Hadamard)(fold)


QUOTIENT_RULES = [quotient_rule(*op.quotient, op.name) for op in ops.RECORDS if op.quotient]   # tanh = sinh/cosh


def hadamard_key(f: Node):
    return (isinstance(f, EPow) and f.exp < 0, isinstance(f, Add), key(f))


@rule(Hadamard)
def hadamard_order(n: Hadamard):
    """A ∘ B = B ∘ A: factors in canonical order (negative powers last, sums last), nested to the left"""
    fs = hadamard_factors(n)
    ordered = sorted(fs, key=hadamard_key)
    out = hadamard_of(ordered, n.shape)
    return None if out == n else out


def epow_parts(n: Node):
    if isinstance(n, EPow):
        return n.arg, n.exp
    return n, ONE


def haddiv(a: Node, b: Node) -> Node:
    return normalize(HadDiv(a, b, shape=a.shape))


@rule(HadDiv)
def haddiv_zero(n: HadDiv):
    """0 ⊘ B = 0"""
    return n.left if is_zero(n.left) else None


@rule(HadDiv)
def haddiv_by_ones(n: HadDiv):
    """A ⊘ ones = A"""
    return n.left if isinstance(n.right, Ones) else None


@rule(HadDiv)
def haddiv_scalars(n: HadDiv):
    """a ⊘ b = a / b for 1×1 a, b"""
    return div(n.left, n.right) if is_scalar(n.left) and is_scalar(n.right) else None


@rule(HadDiv)
def haddiv_scaled(n: HadDiv):
    """(c A) ⊘ B = c (A ⊘ B)"""
    sa, ca = split_scalars(n.left)
    return mul(*sa, haddiv(ca, n.right)) if sa else None


@rule(HadDiv)
def haddiv_same(n: HadDiv):
    """A ⊘ A = ones"""
    return ones(n.shape) if n.left == n.right else None


@rule(HadDiv)
def haddiv_ones(n: HadDiv):
    """ones ⊘ B = B.^-1"""
    return epow(n.right, -1) if isinstance(n.left, Ones) else None


def epow(x: Node, e) -> Node:
    e = check_exponent(Fraction(e))
    return normalize(EPow(x, e, shape=x.shape))


@rule(EPow)
def epow_scalar(n: EPow):
    """a.^p = a^p for a 1×1 a"""
    return power(n.arg, n.exp) if is_scalar(n.arg) else None


@rule(EPow)
def epow_one(n: EPow):
    """A.^1 = A"""
    return n.arg if n.exp == 1 else None


@rule(EPow)
def epow_zero(n: EPow):
    """A.^0 = ones;  0.^p = 0 for p > 0"""
    if n.exp == 0:
        return ones(n.shape)
    return n.arg if is_zero(n.arg) and n.exp > 0 else None


@rule(EPow)
def epow_of_epow(n: EPow):
    """(A.^p).^q = A.^(p q) for integers p, q"""
    x, e = n.arg, n.exp
    if isinstance(x, EPow) and e.denominator == 1 and x.exp.denominator == 1:
        return epow(x.arg, x.exp * e)
    return None


@rule(EPow)
def epow_of_ones(n: EPow):
    """ones.^p = ones"""
    return n.arg if isinstance(n.arg, Ones) else None


def varpow(a: Node, b: Node) -> Node:
    """a^b, a.^b with an expression b; a 1×1 side is broadcast."""
    return normalize(VarPow(a, b, shape=b.shape if is_scalar(a) else a.shape))


@rule(VarPow)
def varpow_number(n: VarPow):
    """a^(e) = a^e when the exponent is a number (x.^(p - 1) with p = 3 is x.^2); a^0 = 1"""
    a, b = n.arg, n.exp
    if is_zero(b):
        return ones(n.shape)
    if not isinstance(b, Num) or not is_scalar(b):
        return None
    return power(a, b.value) if is_scalar(a) else epow(a, b.value)


def elementwise(fn: str, x: Node) -> Node:
    return normalize(Elementwise(fn, x, shape=x.shape))


@rule(Elementwise)
def function_at_zero(n: Elementwise):
    """f(0) = f(0)·ones where f's record knows f(0): tanh(0) = 0, exp(0) = ones, softplus(0) = log(2) ones (no stray literal 0 in results)"""
    v = ops.lookup(n.fn).at_zero
    if not is_zero(n.arg) or v is None:
        return None
    if callable(v):
        return mul(simplify(v()), ones(n.shape))
    return zero(n.shape) if v == 0 else mul(num(v), ones(n.shape))


@rule(Elementwise)
def function_at_one(n: Elementwise):
    """f(ones) = f(1) ones where f's record knows f(1): sqrt(ones) = ones, log(ones) = 0"""
    v = ops.lookup(n.fn).at_one
    if not isinstance(n.arg, Ones) or v is None:
        return None
    return mul(num(v), n.arg) if v else zero(n.shape)


@rule(Elementwise)
def function_of_filled(n: Elementwise):
    """f(c ones) = f(c) ones for a scalar c: sqrt(1/2 ones ones^T) = sqrt(1/2) ones ones^T (a constant array's size then folds in sum and tr)"""
    if is_scalar(n) or not isinstance(n.arg, Mul):
        return None
    scalars, rest = split_scalars(n.arg)
    if not scalars or not isinstance(rest, Ones):
        return None
    return mul(elementwise(n.fn, mul(*scalars)), rest)


@rule(Elementwise)
def log_of_softmax(n: Elementwise):
    """log(softmax(z)) = log_softmax(z)"""
    op = ops.lookup(n.fn)
    if op.domain == "positive" and op.at_one == 0 and isinstance(n.arg, Call) and n.arg.fn == "softmax":
        return call("log_softmax", *n.arg.args, shape=n.shape)
    return None


def call(fn: str, *args: Node, shape: Shape) -> Node:
    return normalize(Call(fn, tuple(args), shape=shape))


def kron(a: Node, b: Node) -> Node:
    shape = (dim_product((a.shape[0], b.shape[0])), dim_product((a.shape[1], b.shape[1])))
    return normalize(Kron(a, b, shape=shape))


@rule(Kron)
def kron_zero(n: Kron):
    """0 ⊗ B = A ⊗ 0 = 0"""
    return zero(n.shape) if is_zero(n.left) or is_zero(n.right) else None


@rule(Kron)
def kron_scalar(n: Kron):
    """c ⊗ B = c B for a 1×1 c"""
    return mul(n.left, n.right) if is_scalar(n.left) or is_scalar(n.right) else None


@rule(Kron)
def kron_outer(n: Kron):
    """u ⊗ vᵀ = u vᵀ;  uᵀ ⊗ v = v uᵀ"""
    a, b = n.left, n.right
    if is_column(a) and is_row(b):
        return mul(a, b)
    if is_row(a) and is_column(b):
        return mul(b, a)
    return None


@rule(Kron)
def kron_identity(n: Kron):
    """I_m ⊗ I_n = I_mn"""
    return identity(n.shape[0]) if isinstance(n.left, Identity) and isinstance(n.right, Identity) else None


@rule(Kron)
def kron_scaled(n: Kron):
    """(c A) ⊗ (d B) = c d (A ⊗ B)"""
    sa, ca = split_scalars(n.left)
    sb, cb = split_scalars(n.right)
    return mul(*sa, *sb, kron(ca, cb)) if sa or sb else None


# ---- matrix functions ------------------------------------------------------------------
def trace(x: Node) -> Node:
    return normalize(Trace(x, shape=SCALAR))


@rule(Trace)
def trace_scalar(n: Trace):
    """tr(a) = a for a 1×1 a"""
    return n.arg if is_scalar(n.arg) else None


@rule(Trace)
def trace_constant(n: Trace):
    """tr(0) = 0;  tr(I_n) = tr(ones_n ones_n^T) = n"""
    x = n.arg
    if isinstance(x, Zero):
        return num(0)
    return size_value(x.shape[0]) if isinstance(x, (Identity, Ones)) else None


@rule(Trace)
def trace_sum(n: Trace):
    """tr(A + B) = tr(A) + tr(B)"""
    return add(*[trace(a) for a in n.arg.args]) if isinstance(n.arg, Add) else None


@rule(Trace)
def trace_transpose(n: Trace):
    """tr(Aᵀ) = tr(A)"""
    return trace(n.arg.arg) if isinstance(n.arg, Transpose) else None


@rule(Trace)
def trace_kron(n: Trace):
    """tr(A ⊗ B) = tr(A) tr(B)"""
    return mul(trace(n.arg.left), trace(n.arg.right)) if isinstance(n.arg, Kron) else None


@rule(Trace)
def trace_scaled(n: Trace):
    """tr(c A) = c tr(A)"""
    x = n.arg
    if not isinstance(x, Mul):
        return None
    scal, chain = scalar_args(x), chain_args(x)
    if not scal:
        return None
    return mul(*scal, trace(chain[0] if len(chain) == 1 else Mul(tuple(chain), shape=x.shape)))


@rule(Trace)
def trace_cyclic(n: Trace):
    """tr(A u vᵀ) = vᵀ A u: rotate so the product is 1×1"""
    x = n.arg
    if not isinstance(x, Mul):
        return None
    chain = chain_args(x)
    dims = [c.shape[1] for c in chain]
    if 1 in dims[:-1]:
        t = dims.index(1) + 1
        return mul(*chain[t:], *chain[:t])
    return None


def det(x: Node) -> Node:
    return normalize(Det(x, shape=SCALAR))


@rule(Det)
def det_scalar(n: Det):
    """det(a) = a for a 1×1 a;  det(I) = 1"""
    if is_scalar(n.arg):
        return n.arg
    return num(1) if isinstance(n.arg, Identity) else None


@rule(Det)
def det_transpose(n: Det):
    """det(Aᵀ) = det(A)"""
    return det(n.arg.arg) if isinstance(n.arg, Transpose) else None


@rule(Det)
def det_inverse(n: Det):
    """det(A⁻¹) = det(A)^-1"""
    return power(det(n.arg.arg), -1) if isinstance(n.arg, Inverse) else None


def logdet(x: Node) -> Node:
    return normalize(LogDet(x, shape=SCALAR))


@rule(LogDet)
def logdet_transpose(n: LogDet):
    """logdet(Aᵀ) = logdet(A)"""
    return logdet(n.arg.arg) if isinstance(n.arg, Transpose) else None


@rule(LogDet)
def logdet_inverse(n: LogDet):
    """logdet(A⁻¹) = -logdet(A);  logdet(I) = 0"""
    if isinstance(n.arg, Inverse):
        return neg(logdet(n.arg.arg))
    return num(0) if isinstance(n.arg, Identity) else None


def sum_(x: Node) -> Node:
    return normalize(Sum(x, shape=SCALAR))


@rule(Sum)
def sum_constant(n: Sum):
    """sum(a) = a for a 1×1 a;  sum(0) = 0;  sum(I_n) = n;  sum(ones_m ones_n^T) = m n"""
    x = n.arg
    if is_scalar(x):
        return x
    if isinstance(x, Zero):
        return num(0)
    if isinstance(x, Identity):
        return size_value(x.shape[0])
    return size_value(numel(x.shape)) if isinstance(x, Ones) else None


@rule(Sum)
def sum_probability(n: Sum):
    """sum(y) = 1 for a probability vector y; sum(T) = N for T (N×K) whose rows are probability vectors"""
    if not (isinstance(n.arg, Sym) and n.arg.probability):
        return None
    return num(1) if is_column(n.arg) else size_value(n.arg.shape[0])


@rule(Sum)
def sum_sum(n: Sum):
    """sum(A + B) = sum(A) + sum(B)"""
    return add(*[sum_(a) for a in n.arg.args]) if isinstance(n.arg, Add) else None


@rule(Sum)
def sum_transpose(n: Sum):
    """sum(Aᵀ) = sum(A)"""
    return sum_(n.arg.arg) if isinstance(n.arg, Transpose) else None


@rule(Sum)
def sum_scaled(n: Sum):
    """sum(c A) = c sum(A)"""
    scal, core = split_scalars(n.arg)
    return mul(*scal, sum_(core)) if scal else None


def vec(x: Node) -> Node:
    return normalize(Vec(x, shape=(numel(x.shape), 1)))


@rule(Vec)
def vec_vector(n: Vec):
    """vec(x) = x for a column x;  vec(xᵀ) = x"""
    x = n.arg
    if x.shape[1] == 1:
        return x
    return transpose(x) if is_row(x) else None


@rule(Vec)
def vec_zero(n: Vec):
    """vec(0) = 0"""
    return zero(n.shape) if is_zero(n.arg) else None


@rule(Vec)
def vec_scaled(n: Vec):
    """vec(c A) = c vec(A)"""
    scal, core = split_scalars(n.arg)
    return mul(*scal, vec(core)) if scal else None


def diag(x: Node) -> Node:
    if is_scalar(x):
        return x
    shape = (x.shape[0], x.shape[0]) if is_column(x) else (x.shape[0], 1)
    return normalize(Diag(x, shape=shape))


@rule(Diag)
def diag_constant(n: Diag):
    """diag(ones) = I;  diag(I) = ones;  diag(0) = 0"""
    x = n.arg
    if isinstance(x, Ones) and is_column(x):
        return identity(x.shape[0])
    if isinstance(x, Identity):
        return Ones(shape=n.shape)
    return zero(n.shape) if is_zero(x) else None


@rule(Diag)
def diag_diag(n: Diag):
    """diag(diag(v)) = v for a vector v"""
    x = n.arg
    return x.arg if not is_column(x) and isinstance(x, Diag) else None


@rule(Diag)
def diag_of_outer(n: Diag):
    """diag(u vᵀ) = u ∘ v: the diagonal of an outer product (u, v columns, each perhaps a product)"""
    x = n.arg
    if not isinstance(x, Mul) or is_column(x) or x.shape[0] != x.shape[1]:
        return None
    scal, chain = scalar_args(x), chain_args(x)
    if len(chain) < 2:
        return None
    if is_row(chain[-1]):
        u, v = mul(*chain[:-1]), transpose(chain[-1])
    elif is_column(chain[0]):
        u, v = chain[0], transpose(mul(*chain[1:]))
    else:
        return None
    if not (is_column(u) and is_column(v)):
        return None
    return mul(*scal, hadamard(u, v))


@rule(Diag)
def diag_scaled(n: Diag):
    """diag(c v) = c diag(v)"""
    scal, core = split_scalars(n.arg)
    return mul(*scal, diag(core)) if scal else None


# ---- functions recognised (issue 15) ----------------------------------------------------------
def exp_plus_one(d: Node) -> Node | None:
    """u when d is exp(u) + 1 (exp(u) + ones for an array), else None."""
    if not (isinstance(d, Add) and len(d.args) == 2):
        return None
    for e, o in (d.args, reversed(d.args)):
        if isinstance(e, Elementwise) and e.fn == "exp" and (isinstance(o, Ones) or is_one(o)):
            return e.arg
    return None


def reciprocal_parts(fs: list[Node], base_of, negative_one) -> tuple[int, Node] | None:
    for i, f in enumerate(fs):
        base, e = base_of(f)
        if e == -1:
            u = exp_plus_one(base)
            if u is not None:
                return i, u
    return None


def sigmoid_fold(fs: list[Node], base_of):
    """Factors f1 ∘ … with one (exp(u) + 1)^-1: exp(u) among the others gives sigmoid(u),
    else the reciprocal alone is sigmoid(-u)."""
    hit = reciprocal_parts(fs, base_of, -1)
    if hit is None:
        return None
    i, u = hit
    rest = fs[:i] + fs[i + 1:]
    top = Elementwise("exp", u, shape=u.shape)
    if top in rest:
        rest.remove(top)
        return rest, elementwise("sigmoid", u)
    return rest, elementwise("sigmoid", neg(u))


@rule(Hadamard)
def sigmoid_from_exp(n: Hadamard):
    """exp(u) ∘ (exp(u) + ones).^-1 = sigmoid(u);  A ∘ (exp(u) + ones).^-1 = A ∘ sigmoid(-u)"""
    hit = sigmoid_fold(hadamard_factors(n), epow_parts)
    if hit is None:
        return None
    rest, s = hit
    return hadamard_of(rest + [s], n.shape)


@rule(HadDiv)
def sigmoid_from_exp_quotient(n: HadDiv):
    """exp(u) ⊘ (exp(u) + ones) = sigmoid(u);  A ⊘ (exp(u) + ones) = A ∘ sigmoid(-u)"""
    if exp_plus_one(n.right) is None:
        return None
    return hadamard(n.left, epow(n.right, -1))


@rule(Mul)
def sigmoid_from_exp_scalar(n: Mul):
    """exp(u)/(exp(u) + 1) = sigmoid(u);  1/(exp(u) + 1) = sigmoid(-u) for a 1×1 u"""
    scal = scalar_args(n)
    hit = sigmoid_fold(scal, scalar_power_parts)
    if hit is None:
        return None
    rest, s = hit
    return Mul(tuple(rest + [s] + chain_args(n)), shape=n.shape)


@rule(Elementwise)
def softplus_from_log(n: Elementwise):
    """log(exp(u) + ones) = softplus(u)"""
    if n.fn != "log":
        return None
    u = exp_plus_one(n.arg)
    return elementwise("softplus", u) if u is not None else None


def exp_pair(d: Node, sign: int) -> Node | None:
    """u when d is exp(u) + sign·exp(-u), else None."""
    if not (isinstance(d, Add) and len(d.args) == 2):
        return None
    for a, b in (d.args, reversed(d.args)):
        cb, b_core = split_coef(b)
        if isinstance(a, Elementwise) and a.fn == "exp" and cb == sign and isinstance(b_core, Elementwise) \
                and b_core.fn == "exp" and b_core.arg == neg(a.arg):
            return a.arg
    return None


@rule(HadDiv)
def tanh_from_exp(n: HadDiv):
    """(exp(u) - exp(-u)) ⊘ (exp(u) + exp(-u)) = tanh(u)"""
    u = exp_pair(n.left, -1)
    return elementwise("tanh", u) if u is not None and exp_pair(n.right, 1) in (u, neg(u)) else None


@rule(HadDiv)
def haddiv_cancel(n: HadDiv):
    """A ⊘ B = A ∘ B.^-1 where factors cancel or combine: (a ∘ b) ⊘ a = b, sinh(u) ⊘ cosh(u) = tanh(u)"""
    num_fs = hadamard_factors(n.left)
    den_fs = hadamard_factors(n.right)
    num_bases = {epow_parts(f)[0] for f in num_fs}
    shared = [f for f in den_fs if epow_parts(f)[0] in num_bases]
    quotient = any(isinstance(f, Elementwise) and any(
        isinstance(g, Elementwise) and g.arg == f.arg and (f.fn, g.fn) in QUOTIENT_PAIRS for g in den_fs)
        for f in num_fs)
    if not shared and not quotient:
        return None
    return hadamard(n.left, epow(n.right, -1))


QUOTIENT_PAIRS = {("sinh", "cosh"), ("sin", "cos")}


@rule(Power)
def abs_even_power(n: Power):
    """abs(a)^(2k) = a^(2k) for a real 1×1 a: |det X|² = det(X)²"""
    x, e = n.arg, n.exp
    if isinstance(x, Elementwise) and x.fn == "abs" and e.denominator == 1 and e.numerator % 2 == 0:
        return power(x.arg, e)
    return None


@rule(EPow)
def abs_even_epow(n: EPow):
    """abs(A).^(2k) = A.^(2k)"""
    x, e = n.arg, n.exp
    if isinstance(x, Elementwise) and x.fn == "abs" and e.denominator == 1 and e.numerator % 2 == 0:
        return epow(x.arg, e)
    return None


@rule(Mul)
def abs_power_merge(n: Mul):
    """a^(2k) abs(a)^p = abs(a)^(2k+p) for a real 1×1 a: det(X)^2/abs(det(X)) = abs(det(X))"""
    scal = scalar_args(n)
    parts_ = [scalar_power_parts(f) for f in scal]
    for i, (base, p) in enumerate(parts_):
        if isinstance(base, Elementwise) and base.fn == "abs" and is_scalar(base.arg):
            for j, (other, e) in enumerate(parts_):
                if other == base.arg and e.denominator == 1 and e.numerator % 2 == 0:
                    rest = [f for k, f in enumerate(scal) if k not in (i, j)]
                    return Mul(tuple(rest + [power(base, p + e)] + chain_args(n)), shape=n.shape)
    return None


def is_fn(n: Node, name: str) -> bool:
    """n is the function name, in any of its spellings (ln is log, asin is arcsin)."""
    return isinstance(n, Elementwise) and (n.fn == name or ops.ALIAS_OF.get(n.fn) == name)


def sign_or_abs(factors: list[Node], parts_of) -> tuple[list[Node], Node] | None:
    """The step sign_scalar and sign_elementwise share: among factors (split by parts_of into
    base and exponent), a times sign(a) becomes abs(a) and a over abs(a) becomes sign(a);
    (the other factors, the new one), or None."""
    for i, f in enumerate(factors):
        base, e = parts_of(f)
        if e == 1 and is_fn(base, "sign") and base.arg in factors:
            made = elementwise("abs", base.arg)
        elif e == -1 and is_fn(base, "abs") and base.arg in factors:
            made = elementwise("sign", base.arg)
        else:
            continue
        rest = list(factors)
        rest.pop(i)
        rest.remove(base.arg)
        return rest, made
    return None


@rule(Mul)
def sign_scalar(n: Mul):
    """a sign(a) = abs(a);  a/abs(a) = sign(a) for a 1×1 a"""
    found = sign_or_abs(scalar_args(n), scalar_power_parts)
    return None if found is None else Mul(tuple(found[0] + [found[1]] + chain_args(n)), shape=n.shape)


@rule(Hadamard)
def sign_elementwise(n: Hadamard):
    """A ∘ sign(A) = abs(A);  A ∘ abs(A).^-1 = sign(A)"""
    found = sign_or_abs(hadamard_factors(n), epow_parts)
    return None if found is None else hadamard_of(found[0] + [found[1]], n.shape)


@rule(Hadamard)
def relu_times_step(n: Hadamard):
    """relu(u).^k ∘ step(u) = relu(u).^k for k > 0 (step is 1 where relu is not 0)"""
    fs = hadamard_factors(n)
    for i, f in enumerate(fs):
        if is_fn(f, "step") and any(is_fn(b, "relu") and b.arg == f.arg and e > 0
                                    for b, e in map(epow_parts, fs)):
            return hadamard_of(fs[:i] + fs[i + 1:], n.shape)
    return None


@rule(HadDiv)
def sign_from_abs(n: HadDiv):
    """A ⊘ abs(A) = sign(A):  w ./ abs(w) = sign(w)"""
    if is_fn(n.right, "abs") and n.right.arg in hadamard_factors(n.left):
        return hadamard(n.left, epow(n.right, -1))
    return None


@rule(Mul)
def softmax_from_exp(n: Mul):
    """exp(z)/sum(exp(z)) = softmax(z) for a vector z"""
    scal, chain = scalar_args(n), chain_args(n)
    if len(chain) != 1 or not is_fn(chain[0], "exp") or not is_column(chain[0]):
        return None
    total = Power(Sum(chain[0], shape=SCALAR), Fraction(-1), shape=SCALAR)
    if total not in scal:
        return None
    rest = list(scal)
    rest.remove(total)
    return Mul(tuple(rest) + (call("softmax", chain[0].arg, shape=chain[0].shape),), shape=n.shape) \
        if rest else call("softmax", chain[0].arg, shape=chain[0].shape)


@rule(Mul)
def diag_times_vector(n: Mul):
    """diag(u) v = u ∘ v;  vᵀ diag(u) = (u ∘ v)ᵀ for vectors u, v"""
    chain = chain_args(n)
    for i in range(len(chain) - 1):
        a, b = chain[i], chain[i + 1]
        if isinstance(a, Diag) and is_column(a.arg) and is_column(b) and not isinstance(b, Ones):
            return with_chain(n, chain[:i] + [hadamard(a.arg, b)] + chain[i + 2:])
        if isinstance(b, Diag) and is_column(b.arg) and is_row(a) and not isinstance(a, Ones):
            return with_chain(n, chain[:i] + [transpose(hadamard(b.arg, transpose(a)))] + chain[i + 2:])
    return None


@rule(Mul)
def diag_times_ones(n: Mul):
    """diag(v) ones = v;  onesᵀ diag(v) = vᵀ;  diag(v) ones onesᵀ = v onesᵀ"""
    chain = chain_args(n)
    for i in range(len(chain) - 1):
        a, b = chain[i], chain[i + 1]
        if isinstance(a, Diag) and is_column(a.arg) and isinstance(b, Ones):
            rest = [a.arg] + ([ones((1, b.shape[1]))] if b.shape[1] != 1 else [])
            return with_chain(n, chain[:i] + rest + chain[i + 2:])
        if isinstance(a, Ones) and isinstance(b, Diag) and is_column(b.arg):
            rest = ([ones((a.shape[0], 1))] if a.shape[0] != 1 else []) + [transpose(b.arg)]
            return with_chain(n, chain[:i] + rest + chain[i + 2:])
    return None


@rule(Add)
def add_transposed_sum_spread(n: Add):
    """(A + B)ᵀ + A + B = A + Aᵀ + B + Bᵀ: a transposed sum beside its own terms is spread, so each matrix stands by its transpose"""
    terms = set(n.args)
    for t in n.args:
        c, core = split_coef(t)
        if isinstance(core, Transpose) and isinstance(core.arg, Add) and any(a in terms for a in core.arg.args):
            spread = mul(num(c), add(*[transpose(a) for a in core.arg.args]))
            return Add(tuple(a for a in n.args if a is not t) + (spread,), shape=n.shape)
    return None


@rule(Norm)
def norm_of_zero(n: Norm):
    """||0|| = 0: any norm of an identically zero argument (||y - y||) is 0, and so is its derivative"""
    return num(0) if is_zero(n.arg) else None


def hcat(*args: Node) -> Node:
    if len(args) == 1:
        return args[0]
    cols = dim_sum([a.shape[1] for a in args])
    return HCat(tuple(args), shape=(args[0].shape[0], cols))


def norm(x: Node, kind) -> Node:
    return normalize(Norm(x, kind, shape=SCALAR))


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
    VarPow: lambda n, a, b: varpow(a, b),
    Kron: lambda n, a, b: kron(a, b),
    Trace: lambda n, a: trace(a),
    Det: lambda n, a: det(a),
    LogDet: lambda n, a: logdet(a),
    Sum: lambda n, a: sum_(a),
    Vec: lambda n, a: vec(a),
    Diag: lambda n, a: diag(a),
    Norm: lambda n, a: norm(a, n.kind),
    HCat: lambda n, *a: hcat(*a),
    Apply: lambda n, a: node_replace(n, arg=a) if a is not n.arg else n,
    Elementwise: lambda n, a: elementwise(n.fn, a),
    Call: lambda n, *a: call(n.fn, *a, shape=n.shape),
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
    return normalize(s, "factor")


@rule(Add, pass_="factor")
def factor_same_chain(s: Add):
    """c a + d a = (c + d) a for scalar weights c, d of one matrix part: a - s² a = (1 - s²) a"""
    if is_scalar(s):
        return None
    groups: dict[Node, list[Node]] = {}
    for t in s.args:
        sc, ch = parts(t)
        core = mul(*ch) if ch else None
        groups.setdefault(core, []).append(mul(*sc) if sc else num(1))
    if not any(len(v) > 1 for k, v in groups.items() if k is not None):
        return None
    out = [mul(factor_sum_or_same(add(*v)), k) if len(v) > 1 else mul(v[0], k)
           for k, v in groups.items() if k is not None]
    return factor_sum_or_same(add(*out)) if len(out) > 1 else out[0]


def factor_chain_end(s: Add, side: int):
    groups: dict[Node, list[int]] = {}
    terms = s.args
    for i, t in enumerate(terms):
        sc, ch = parts(t)
        if len(ch) > 1:              # a bare term would bring in an I: leave it outside
            groups.setdefault(ch[side], []).append(i)
    best = max(groups.items(), key=lambda kv: len(kv[1]), default=None)
    if best is None or len(best[1]) < 2:
        return None
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


@rule(Add, pass_="factor")
def factor_right(s: Add):
    """A x + B x = (A + B) x"""
    return factor_chain_end(s, -1)


@rule(Add, pass_="factor")
def factor_left(s: Add):
    """x A + x B = x (A + B)"""
    return factor_chain_end(s, 0)


@rule(Add, pass_="factor")
def factor_hadamard(s: Add) -> Node | None:
    """σ - σ.^2 = σ ∘ (ones - σ): elementwise factors common to every term come out"""
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
    return hadamard(out, factor_sum_or_same(add(*inner)))


def factor_sum_or_same(n: Node) -> Node:
    return factor_sum(n) if isinstance(n, Add) else n


@rule(Add, pass_="factor")
def factor_common_scalars(s: Add) -> Node | None:
    """2 A + 2 Aᵀ = 2 (A + Aᵀ);  c/N a + c/N b = c/N (a + b)"""
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
        return None
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
    a, b = Fraction(a), Fraction(b)
    num_ = gcd(a.numerator, b.numerator)
    den = a.denominator * b.denominator // gcd(a.denominator, b.denominator)
    return Fraction(num_, den)


EXPAND_GROWTH = 2       # tidy's expanded try stops once a part of it outgrows the form tried this many times


def tidy(n: Node) -> Node:
    """simplify, factor, then the presentational rules: what a person would write. Small
    results are also tried fully expanded (σ∘(1-y) - y∘(1-σ) = σ - y), and the shorter form wins.
    The expanded try is abandoned once any part of it is EXPAND_GROWTH times the form's size: an
    expansion that wins cancels as it goes (on the tests' and benchmarks' 1,300 formulas every
    winner's expanded form was at most half the size of the form tried, and none of those that
    grew past 1.5× won), while one that does not can grow a hundredfold (the 8-layer network's
    derivative: 223 nodes to 21,127, two thirds of its time)."""
    a = factor(simplify(n))
    if size(a) > 300 or not any(isinstance(m, (Hadamard, HadDiv, Diag, Elementwise)) for m in walk(a)):
        return present(a)              # expansion pays off only around elementwise functions
    try:
        e = expand(a, limit=EXPAND_GROWTH * size(a))
    except ExpansionTooLarge:
        return present(a)
    b = factor(simplify(e))
    return present(b if size(b) < 0.75 * size(a) else a)


class ExpansionTooLarge(Exception):
    """A part of expand's result outgrew its limit (tidy then keeps the form it tried to expand)."""


def present(n: Node, memo: dict | None = None) -> Node:
    """The "present" pass, bottom-up: forms that read shorter but that the constructors
    would not keep (a gathered transpose (A B)ᵀ is pushed back in by transpose_product)."""
    memo = {} if memo is None else memo
    hit = memo.get(n)
    if hit is not None:
        return hit
    limits.tick()
    m = normalize(map_children(n, lambda c: present(c, memo)), "present")
    memo[n] = m
    return m


def tokens(n: Node) -> int:
    """The printed size of n, in tokens (names, numbers, operators, brackets): the length of its key."""
    return len(key(n))


GATHER_SEARCH = 12      # a longer product is gathered whole or not at all (the search is quadratic)


@rule(Mul, pass_="present")
def gather_transposes(n: Mul):
    """Bᵀ Aᵀ = (A B)ᵀ where that is shorter, for the stretch of the product that gains most:
    (B + X)ᵀ Fᵀ Eᵀ Gᵀ = (G E F (B + X))ᵀ; (B + X)ᵀ Fᵀ Eᵀ Gᵀ C = (G E F (B + X))ᵀ C; a factor
    not transposed goes inside transposed: Dᵀ Cᵀ Bᵀ Aᵀ E Fᵀ Gᵀ Hᵀ = (H G F Eᵀ A B C D)ᵀ"""
    scal, chain = scalar_args(n), chain_args(n)
    if len(chain) < 2 or not any(isinstance(c, Transpose) for c in chain):
        return None
    best, size = None, tokens(n)
    count = len(chain)
    before = [0]                        # before[i]: the transposes among chain[:i]
    for c in chain:
        before.append(before[-1] + isinstance(c, Transpose))
    stretches = ((i, j) for i in range(count - 1) for j in range(i + 2, count + 1)) \
        if count <= GATHER_SEARCH else [(0, count)]
    for i, j in stretches:
        run = chain[i:j]
        if not (isinstance(run[0], Transpose) and isinstance(run[-1], Transpose)) or \
                (before[j] - before[i]) * 2 <= len(run):
            continue                    # a stretch mostly not transposed only gains transposes
        inner_args = tuple(c.arg if isinstance(c, Transpose) else transpose(c) for c in reversed(run))
        inner = Mul(inner_args, shape=(run[-1].shape[1], run[0].shape[0]))
        gathered = Transpose(inner, shape=(run[0].shape[0], run[-1].shape[1]))
        rest = tuple(chain[:i]) + (gathered,) + tuple(chain[j:])
        out = Mul(tuple(scal) + rest, shape=n.shape) if scal or len(rest) > 1 else gathered
        t = tokens(out)
        if t < size:
            best, size = out, t
    return best


@rule(Add, pass_="present")
def gather_sum_transposes(n: Add):
    """Aᵀ + Bᵀ = (A + B)ᵀ where that is shorter, each term's transposes gathered:
    Bᵀ Xᵀ + Xᵀ Bᵀ = (X B + B X)ᵀ"""
    inner = []
    for t in n.args:
        if isinstance(t, Transpose):
            inner.append(t.arg)
        elif isinstance(t, Mul) and not scalar_args(t) and all(isinstance(c, Transpose) for c in t.args):
            inner.append(Mul(tuple(c.arg for c in reversed(t.args)), shape=(t.shape[1], t.shape[0])))
        else:
            return None
    out = Transpose(Add(tuple(inner), shape=(n.shape[1], n.shape[0])), shape=n.shape)
    return out if tokens(out) < tokens(n) else None


def expand(n: Node, memo: dict | None = None, limit: int | None = None) -> Node:
    """Distribute products over sums, everywhere: for differences, where cancellation matters
    more than compactness. limit: the size (nodes) no part of the result may exceed, else
    ExpansionTooLarge (None: no bound)."""
    memo = {} if memo is None else memo
    hit = memo.get(n)
    if hit is not None:
        return hit
    limits.tick()
    m = map_children(n, lambda c: expand(c, memo, limit))
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
        out = add(*[expand(make(a, b), memo, limit) for a in ls for b in rs]) if len(ls) * len(rs) <= 64 else m
    elif isinstance(m, Diag) and isinstance(m.arg, Add):
        out = add(*[diag(t) for t in m.arg.args])
    else:
        out = REWRITES[type(m)](m, *children(m)) if type(m) in REWRITES else m
    if limit is not None and size(out) > limit:
        raise ExpansionTooLarge
    memo[n] = out
    return out
