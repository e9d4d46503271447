"""Shape inference: one rule per node class in SHAPE_RULES, dimensions unified across
the formula. Returns a Typed program whose every node carries a resolved shape."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, count
from typing import Callable

from . import limits, ops
from .dims import dim_names, dim_product, dim_sum, factors, is_product
from .errors import LimitError, ShapeError
from .nodes import (Add, Apply, Call, Commutation, Constant, Delta, Det, Diag, Dim, Div, EPow, Elementwise, HCat,
                    HadDiv, Hadamard, Identity, Inverse, Kron, LogDet, Mul, Neg, Node, Norm, Num, Ones, Power, SCALAR,
                    Shape, Size, Sum, Sym, Trace, Transpose, Unit, VarPow, Vec, Zero, children, map_children, replace,
                    walk)
from .program import Decl, Program, is_greek
from .reading import Bars, VarPower
from .render.text import render_text


class Var:
    __slots__ = ("id",)

    def __init__(self, id: int):
        self.id = id

    def __repr__(self):
        return f"?{self.id}"


class Prod:
    """A product of dimensions (Kronecker, vec), kept symbolic until resolved."""
    __slots__ = ("factors",)

    def __init__(self, factors):
        self.factors = tuple(factors)


def as_term(d):
    """A declared dimension; 'm*n' becomes a product the unifier can match against A ⊗ B."""
    if is_product(d):
        return Prod(factors(d))
    return d


def fmt_dim(d) -> str:
    if isinstance(d, Var):
        return "?"
    if isinstance(d, Prod):
        return "·".join(fmt_dim(f) for f in d.factors)
    return str(d)


def fmt_shape(shape) -> str:
    return "×".join(fmt_dim(d) for d in shape)


@dataclass
class SymbolInfo:
    name: str
    shape: Shape
    inferred: bool
    symmetric: bool = False
    kind: str = "symbol"       # symbol | bound | size
    probability: bool = False  # a probability vector (entries > 0, summing to 1); a matrix: each row is one
    diagonal: bool = False     # a diagonal matrix variable


@dataclass
class Typed:
    program: Program
    body: Node
    bindings: tuple[tuple[str, Node], ...]
    symbols: dict[str, SymbolInfo]
    dims: tuple[str, ...]
    notes: tuple[str, ...] = ()        # how ambiguous input was read (parse, then inference)

    @property
    def source(self) -> str:
        return self.program.source

    @property
    def function_name(self) -> str:
        """The function as the user named it: `L` in "y = X w; L = ||y - t||^2", else f."""
        if self.bindings and isinstance(self.body, Sym) and self.body.name == self.bindings[-1][0]:
            return self.bindings[-1][0]
        return "f"

    def free_symbols(self) -> dict[str, SymbolInfo]:
        return {k: v for k, v in self.symbols.items() if v.kind == "symbol"}


class Unifier:
    def __init__(self):
        self.parent: dict[int, object] = {}
        self.count = 0

    def fresh(self) -> Var:
        self.count += 1
        return Var(self.count)

    def find(self, d):
        while isinstance(d, Var) and d.id in self.parent:
            d = self.parent[d.id]
        if isinstance(d, Prod):
            factors = [f for f in (self.find(f) for f in d.factors) if f != 1]
            if not factors:
                return 1
            if len(factors) == 1:
                return factors[0]          # n·1 is n
            if all(not isinstance(f, (Var, Prod)) for f in factors):
                return dim_product(factors)
            return Prod(factors)
        return d

    def unify(self, a, b) -> bool:
        a, b = self.find(a), self.find(b)
        if isinstance(a, Var) and isinstance(b, Var):
            if a.id != b.id:
                self.parent[a.id] = b
            return True
        if isinstance(a, Var):
            self.parent[a.id] = b
            return True
        if isinstance(b, Var):
            self.parent[b.id] = a
            return True
        if isinstance(a, Prod) or isinstance(b, Prod):
            return self.unify_products(self.factors(a), self.factors(b))
        return a == b

    def factors(self, d) -> list:
        d = self.find(d)
        if isinstance(d, Prod):
            return [x for f in d.factors for x in self.factors(f)]
        if is_product(d):
            return list(factors(d))
        return [d]

    def unify_products(self, a: list, b: list) -> bool:
        """m·n = m·? binds ? to n: cancel the known factors both sides share, then match the rest."""
        a, b = list(a), list(b)
        for f in list(a):
            if not isinstance(f, Var) and f in b:
                a.remove(f)
                b.remove(f)
        if not a and not b:
            return True
        for one, other in ((a, b), (b, a)):
            if len(one) == 1 and isinstance(one[0], Var):
                return self.unify(one[0], Prod(other) if len(other) > 1 else (other[0] if other else 1))
            unknown = [f for f in one if isinstance(f, Var)]
            if len(unknown) == 1 and all(isinstance(f, int) for f in one + other if f is not unknown[0]):
                known = 1                  # ?·4 = 16 gives ? = 4
                for f in one:
                    known *= 1 if f is unknown[0] else f
                total = 1
                for f in other:
                    total *= f
                if known and total % known == 0:
                    return self.unify(unknown[0], total // known)
        if len(a) == len(b):
            return all(self.unify(x, y) for x, y in zip(a, b))
        return False

    def prod_key(self, d):
        d = self.find(d)
        if isinstance(d, Prod):
            return tuple(sorted(repr(self.prod_key(f)) for f in d.factors))
        return d

    def is_one(self, d) -> bool:
        return self.find(d) == 1

    def shape(self, s) -> tuple:
        return tuple(self.find(d) for d in s)


SHAPE_RULES: dict[type, Callable] = {}


def rule(*classes):
    def register(f):
        for c in classes:
            SHAPE_RULES[c] = f
        return f
    return register


class Inference:
    def __init__(self, program: Program):
        self.program = program
        self.u = Unifier()
        self.shapes: dict[int, tuple] = {}
        self.symbols: dict[str, tuple] = {}
        self.declared: dict[str, Decl] = {}
        self.bound: dict[str, tuple] = {}
        self.order: list[str] = []
        self.deferred: list[tuple] = []
        self.dim_names: set[str] = set()
        self.notes: list[str] = []
        self.broadcasts: dict[int, dict[int, str]] = {}   # id(sum) → {id(term): 'scalar' | 'row'}
        self.numbers: list[tuple] = []                    # sums with a number term, widened at the end
        self.readings: dict[int, ops.Op] = {}             # id(|a|) → the record it reads as
        for d in program.decls:
            dims = tuple(d.dims) if d.dims else SCALAR
            # R^(m*n) names m and n too, so that no guessed size is called m or n
            self.dim_names.update(p for x in dims for p in dim_names(x))
            if d.name in self.declared and tuple(self.declared[d.name].dims or SCALAR) != dims:
                old = self.declared[d.name]
                raise ShapeError(f"{d.name} is declared twice: {fmt_shape(old.dims or SCALAR)} and {fmt_shape(dims)}",
                                 d.span).with_source(d.source or program.source)
            if d.probability and (len(dims) != 2 or dims[0] == 1):
                raise ShapeError(f"{d.name} is declared probability but is {fmt_shape(dims)}; a probability "
                                 f"vector is a column, R^n (a matrix R^(N×K) probability has rows that sum to 1)",
                                 d.span).with_source(d.source or program.source)
            if d.diagonal and (len(dims) != 2 or dims[0] != dims[1] or dims[1] == 1):
                raise ShapeError(f"{d.name} is declared diagonal but is {fmt_shape(dims)}, not a square matrix",
                                 d.span).with_source(d.source or program.source)
            if d.symmetric and len(dims) == 2 and dims[0] != dims[1]:
                raise ShapeError(f"{d.name} is declared symmetric but is {fmt_shape(dims)}, not square",
                                 d.span).with_source(d.source or program.source)
            self.declared[d.name] = d
        self.dim_names.update(program.dims)
        self.constants(program)
        for root in [b.value for b in program.bindings] + [program.body]:   # I_n, ones_m name a size too
            self.dim_names.update(x for m in walk(root) if isinstance(m, (Identity, Ones)) and m.shape
                                  for x in m.shape if isinstance(x, str))

    def constants(self, program: Program):
        """A symbol the formula divides by that no declaration, binding or dimension names
        (1/N) is a positive constant like a dimension name, not an inferred matrix."""
        bound = {b.name for b in program.bindings}
        for root in [b.value for b in program.bindings] + [program.body]:
            for m in walk(root):
                if isinstance(m, Div) and isinstance(m.right, Sym):
                    name = m.right.name
                    if name in self.declared or name in bound or name in self.dim_names or is_greek(name):
                        continue
                    self.dim_names.add(name)
                    self.notes.append(f"{name} is read as a positive constant (a size no array carries); "
                                      f"declare {name}: R to make it a scalar variable")

    # -- helpers used by the rules
    def text(self, n: Node) -> str:
        try:
            s = render_text(n)
        except Exception:  # a half-built node; the shape is what matters
            s = type(n).__name__
        return s if len(s) <= 40 else s[:37] + "…"

    def show(self, n: Node) -> str:
        return f"{self.text(n)} ({fmt_shape(self.u.shape(self.shapes[id(n)]))})"

    def need(self, ok: bool, message, n: Node, hint: str | None = None):
        """Raise a ShapeError unless ok; message is a function, so text is rendered only on failure."""
        if not ok:
            raise ShapeError(message(), n.span, hint)

    def unify_shapes(self, a, b) -> bool:
        if len(a) != len(b):
            return False
        snapshot = dict(self.u.parent)
        if all(self.u.unify(x, y) for x, y in zip(a, b)):
            return True
        self.u.parent = snapshot
        return False

    def is_open(self, s) -> bool:
        """A shape inference has not fixed: an undeclared vector or matrix."""
        return isinstance(self.u.find(s[0]), Var) and (self.u.is_one(s[1]) or isinstance(self.u.find(s[1]), Var))

    def written(self, n: Node) -> str:
        """n as the user wrote it (for notes), else as text."""
        src = self.program.source
        if n.span is not None and n.span.end <= len(src):
            return src[n.span.start:n.span.end]
        return self.text(n)

    def known_scalar(self, s) -> bool:
        return all(self.u.is_one(d) for d in s)

    def symbol_shape(self, n: Sym) -> tuple:
        name = n.name
        if name in self.bound:
            return self.bound[name]
        if name not in self.symbols:
            if len(self.symbols) >= limits.MAX_SYMBOLS:
                raise LimitError(f"more than {limits.MAX_SYMBOLS} symbols", n.span)
            if name in self.declared:
                d = self.declared[name]
                shape = tuple(as_term(x) for x in d.dims) if d.dims else SCALAR
            elif name in self.dim_names:
                shape = SCALAR
            elif is_greek(name) and name.partition("_")[0] not in self.program.bold:
                shape = SCALAR
            elif name[0].isupper():
                shape = (self.u.fresh(), self.u.fresh())
            else:
                shape = (self.u.fresh(), 1)
            self.symbols[name] = shape
            self.order.append(name)
        return self.symbols[name]

    def visit(self, n: Node) -> tuple:
        kids = [self.visit(c) for c in _kids(n)]
        r = SHAPE_RULES.get(type(n))
        if r is None:
            raise ShapeError(f"no shape rule for {type(n).__name__}", n.span)
        shape = r(self, n, *kids)
        self.shapes[id(n)] = shape
        return shape


def _kids(n: Node):
    return list(children(n))


@rule(Sym)
def s_sym(I: Inference, n):
    return I.symbol_shape(n)


@rule(Num, Size, Constant)
def s_scalar(I, n):
    return SCALAR


@rule(Zero)
def s_zero(I, n):
    return tuple(n.shape) if n.shape else (I.u.fresh(), I.u.fresh())


@rule(Identity)
def s_identity(I, n):
    if n.shape:
        return tuple(n.shape)
    v = I.u.fresh()
    return (v, v)


@rule(Ones)
def s_ones(I, n):
    return tuple(n.shape) if n.shape else (I.u.fresh(), 1)


@rule(Delta, Unit, Commutation)
def s_given(I, n):
    return tuple(n.shape)


def is_number(n: Node) -> bool:
    """A number written as such (1, 1/2, 2 pi, a function of a number): it carries no shape of its own."""
    return all(isinstance(m, NUMBER_NODES) for m in walk(n)) and not isinstance(n, Zero)


@rule(Add)
def s_add(I, n, *shapes):
    """Terms unify; a number term carries no shape (NumPy's broadcasting, as papers write
    it): it does not make the other terms scalars, it takes their shape once inference
    is done (numbers_take_the_shape), so 1 + f(-y .* (X w)) keeps X a matrix."""
    arrays = [(arg, s) for arg, s in zip(n.args, shapes) if not is_number(arg)]
    if not arrays:
        return SCALAR
    first_arg, first = arrays[0]
    for arg, s in arrays[1:]:
        if I.unify_shapes(first, s):
            continue
        before = n.args[:n.args.index(arg)]
        wide = broadcast(I, n, first, s, tuple(t for t in before if not is_number(t)), arg)
        if wide is not None:
            first = wide
            continue
        if isinstance(arg, Neg):
            I.need(False, lambda: f"cannot subtract {I.show(arg.arg)} from {I.show(first_arg)}", n,
                   scalar_hint(I, first, s))
        I.need(False, lambda: f"cannot add {I.show(first_arg)} and {I.show(arg)}", n, scalar_hint(I, first, s))
    numbers = tuple(arg for arg in n.args if is_number(arg))
    return number_with(I, n, numbers, first_arg, first, "add") if numbers else first


def number_with(I: Inference, n, numbers, other, shape, op) -> tuple:
    """A number combined with an array (1 - y, 1 + f(-y .* (X w)), 1 ./ x): a scalar sum
    where that is consistent and keeps every undeclared capital a matrix (the old reading
    of n - 2 and y(1 - y)); where it would make one a vector (X a row), the number is
    broadcast instead, once inference is done (numbers_take_the_shape)."""
    u = I.u
    if I.known_scalar(shape):
        return shape
    capitals = [d for name, s in I.symbols.items() if name not in I.declared and name[0].isupper()
                for d in s if not u.is_one(d)]
    snapshot = dict(u.parent)
    if I.unify_shapes(shape, SCALAR) and not any(u.is_one(d) for d in capitals):
        return SCALAR
    u.parent = snapshot
    I.numbers.append((n, numbers, other, shape, op))
    return shape


def numbers_take_the_shape(I: Inference, names: dict[int, str]):
    """After inference: a number added to (or divided entrywise by) an array is that number
    times ones of the array's shape, with a note; 2 .* x is 2 x. Nothing changes where the
    array came out a scalar. A number added to a matrix is an error (c I or c ones ones^T?)."""
    u = I.u
    for n, numbers, other, shape, op in I.numbers:
        rows, cols = u.is_one(shape[0]), u.is_one(shape[1])
        if rows and cols:
            continue
        if not rows and not cols and op == "add":
            def show(t, number):
                size = "×".join(names[d.id] if isinstance(d, Var) else fmt_dim(d)
                                for d in u.shape(SCALAR if number else shape))
                return f"{I.text(t)} ({size})"
            numbered = [any(t is m for m in numbers) for t in n.args]
            second = next(i for i in range(1, len(n.args)) if numbered[i] != numbered[0])
            first, other_ = n.args[0], n.args[second]
            words = (f"cannot subtract {show(other_.arg, numbered[second])} from {show(first, numbered[0])}"
                     if isinstance(other_, Neg) else
                     f"cannot add {show(first, numbered[0])} and {show(other_, numbered[second])}")
            raise ShapeError(words, n.span, scalar_hint(I, SCALAR, shape))
        if op == "entries" and (isinstance(n, Hadamard) or numbers[0] is n.right):
            I.broadcasts.setdefault(id(n), {})[id(numbers[0])] = "scale"      # 2 .* x = 2 x, x ./ 2 = x/2
            continue
        how = "scalar" if cols else "rowscalar" if rows else "entries"
        for t in numbers:
            I.broadcasts.setdefault(id(n), {})[id(t)] = how
            shown = I.text(t.arg if isinstance(t, Neg) else t)
            ones = {"scalar": "ones", "rowscalar": "ones^T", "entries": "ones ones^T"}[how]
            I.notes.append(f"read {shown} as {ones if shown == '1' else shown + ' ' + ones}: broadcast to every "
                           f"entry of {I.text(other)}")


def broadcast(I, n, a, b, before, arg):
    """NumPy's broadcasting, as papers write it (SPEC §1): a scalar added to a vector is the
    scalar times ones; a row added to a matrix is added to every row (ones rowᵀ). Records
    the terms to widen (build_typed rewrites them) and returns the sum's shape, or None."""
    u = I.u
    for narrow, wide, terms in ((a, b, before), (b, a, (arg,))):
        if I.known_scalar(narrow) and u.is_one(wide[1]) and not u.is_one(wide[0]):
            how, word = "scalar", "every entry of"
        elif I.known_scalar(narrow) and u.is_one(wide[0]) and not u.is_one(wide[1]):
            how, word = "rowscalar", "every entry of"
        elif (u.is_one(narrow[0]) and not u.is_one(narrow[1]) and not u.is_one(wide[0]) and not u.is_one(wide[1])
              and u.unify(narrow[1], wide[1])):
            how, word = "row", "every row of"
        else:
            continue
        other = arg if terms is before else n.args[0]
        for t in terms:
            I.broadcasts.setdefault(id(n), {})[id(t)] = how
            shown = I.text(t.arg if isinstance(t, Neg) else t)
            ones = {"scalar": "ones", "rowscalar": "ones^T"}.get(how)
            widened = (ones if shown == "1" else f"{shown} {ones}") if ones else f"ones {shown}"
            I.notes.append(f"read {shown} as {widened}: broadcast to {word} {I.text(other)}")
        return wide
    return None


def scalar_hint(I, a, b) -> str | None:
    if I.known_scalar(a) or I.known_scalar(b):
        return "a scalar c is not added to a matrix: write c I for its diagonal, c ones ones^T for every entry"
    return None


@rule(Neg, Elementwise, EPow)
def s_same(I, n, a):
    return a


@rule(Apply)
def s_apply(I, n, arg):
    """f: R^m -> R^k applied to u ∈ R^m: f(u) is k×1, ∇f(u) m×1, J_f(u) k×m, ∇²f(u) m×m; for
    k > 1, ∇²f(u) stacks the k Hessians of the components, (k m)×m (x''(t), k×1, for a curve)."""
    m, k = as_term(n.domain), as_term(n.codomain)
    I.need(I.unify_shapes(arg, (m, 1)),
           lambda: f"{n.fn} takes R^{fmt_dim(n.domain)}, not {I.show(n.arg)}" if n.domain != 1 else
           f"{n.fn} takes a scalar, not {I.show(n.arg)}", n)
    if n.order == 0:
        return (k, 1)
    if n.order == 2:
        if n.codomain == 1:
            return (m, m)
        return (k if n.domain == 1 else I.u.find(Prod((k, m))), m)
    return (m, 1) if n.codomain == 1 else (k, m)


@rule(HCat)
def s_hcat(I, n, *shapes):
    cols = []
    # [a; b] as typed is [aᵀ, bᵀ]ᵀ, each transpose spanning its block alone (x^T spans its ^T)
    stacked = all(isinstance(a, Transpose) and a.span is not None and a.span == a.arg.span for a in n.args)
    for arg, s in zip(n.args, shapes):
        I.need(I.u.unify(shapes[0][0], s[0]),
               lambda: f"cannot stack {I.show(n.args[0].arg)} and {I.show(arg.arg)}: the rows of [...; ...] "
                       f"must be equally wide" if stacked else
               f"cannot put {I.show(n.args[0])} and {I.show(arg)} side by side", n)
        c = I.u.find(s[1])
        if isinstance(c, Var):
            I.u.unify(c, 1)
            c = 1
        I.need(isinstance(c, (int, str)), lambda: f"[...] needs columns of known width; {I.show(arg)} has {fmt_dim(c)}", n)
        cols.append(c)
    return (shapes[0][0], dim_sum(cols))


@rule(Mul)
def s_mul(I, n, *shapes):
    out = shapes[0]
    left = n.args[0]
    for arg, s in zip(n.args[1:], shapes[1:]):
        out = I_mul(I, n, left, out, arg, s)
        left = n
        I.shapes[id(n)] = out
    return out


def I_mul(I, n, left, a, right, b):
    u = I.u
    for node, shape in ((left, a), (right, b)):
        if isinstance(node, Zero) and not isinstance(u.find(shape[0]), int):
            I.unify_shapes(shape, SCALAR)      # a literal 0 in a product is the number 0
    if I.known_scalar(a):
        return b
    if I.known_scalar(b):
        return a
    # both could be column vectors: which one is the scalar is decided once the rest is known
    if u.is_one(a[1]) and u.is_one(b[1]) and isinstance(u.find(b[0]), Var) and isinstance(u.find(a[0]), Var):
        out = (u.fresh(), u.fresh())
        I.deferred.append((n, left, a, right, b, out))
        return out
    if not u.unify(a[1], b[0]):
        raise ShapeError(f"cannot multiply {I.show(left)} by {I.show(right)}", n.span,
                         f"the inner dimensions {fmt_dim(u.find(a[1]))} and {fmt_dim(u.find(b[0]))} differ")
    return (a[0], b[1])


def resolve_deferred(I: Inference):
    u = I.u
    for n, left, a, right, b, out in I.deferred:
        if I.known_scalar(a):
            result = b
        elif I.known_scalar(b):
            result = a
        elif not isinstance(u.find(b[0]), Var) and not isinstance(u.find(a[0]), Var):
            raise ShapeError(f"cannot multiply {I.show(left)} by {I.show(right)}", n.span)
        elif not isinstance(u.find(a[0]), Var):
            u.unify(b[0], 1)
            result = a
        elif not isinstance(u.find(b[0]), Var):
            u.unify(a[0], 1)
            result = b
        else:
            u.unify(b[0], 1)    # default: `a t` scales a by the scalar t
            result = a
        if not I.unify_shapes(out, result):
            raise ShapeError(f"cannot multiply {I.show(left)} by {I.show(right)}", n.span)


@rule(Div)
def s_div(I, n, a, b):
    I.need(I.unify_shapes(b, SCALAR), lambda: f"can only divide by a scalar; {I.show(n.right)} is not one", n,
           "for elementwise division write ./")
    return a


@rule(Power)
def s_power(I, n, a):
    if n.exp.denominator != 1 or I.known_scalar(a):
        I.need(I.unify_shapes(a, SCALAR), lambda: f"a fractional power needs a scalar; {I.show(n.arg)} is not one", n,
               "for elementwise powers write .^")
        return SCALAR
    if not I.u.unify(a[0], a[1]):
        hint = "write x^T x or x.^2" if I.u.is_one(a[1]) else "for elementwise powers write .^"
        raise ShapeError(f"^ needs a square matrix or a scalar; {I.show(n.arg)} is not square", n.span, hint)
    if abs(n.exp) > limits.MAX_MATRIX_POWER and not I.known_scalar(a):
        raise LimitError(f"matrix power {n.exp} is too large (at most {limits.MAX_MATRIX_POWER})", n.span)
    return a


@rule(Transpose)
def s_transpose(I, n, a):
    return (a[1], a[0])


@rule(Inverse)
def s_inverse(I, n, a):
    I.need(I.u.unify(a[0], a[1]), lambda: f"inverse needs a square matrix; {I.show(n.arg)} is not square", n)
    return a


@rule(Hadamard, HadDiv)
def s_hadamard(I, n, a, b):
    """Equal shapes; a number (1 ./ x, 2 .* x) takes the other side's shape, as in a sum."""
    for number, other, shape in ((n.left, n.right, b), (n.right, n.left, a)):
        if is_number(number) and not is_number(other):
            return number_with(I, n, (number,), other, shape, "entries")
    if not I.unify_shapes(a, b):            # c .* x, x ./ c, c ./ x with c a scalar: NumPy's broadcast
        for scalar, other, shape in ((n.left, n.right, b), (n.right, n.left, a)):
            if I.known_scalar(I.shapes[id(scalar)]):
                I.numbers.append((n, (scalar,), other, shape, "entries"))
                return shape
    I.need(I.unify_shapes(a, b), lambda: f"elementwise operation needs equal shapes: {I.show(n.left)} and {I.show(n.right)}", n)
    return a


@rule(Kron)
def s_kron(I, n, a, b):
    return (I.u.find(Prod((a[0], b[0]))), I.u.find(Prod((a[1], b[1]))))


@rule(Trace, Det, LogDet)
def square_to_scalar(I, n, a):
    """tr, det, logdet: a square matrix to a scalar (the message names the record)."""
    what = ops.BY_NODE[type(n)].name
    I.need(I.u.unify(a[0], a[1]), lambda: f"{what} needs a square matrix; {I.show(n.arg)} is not square", n)
    return SCALAR


@rule(Sum, Norm)
def s_to_scalar(I, n, a):
    return SCALAR


@rule(Call)
def s_call(I, n, *shapes):
    """The record's shape rule: softmax keeps the shape, logsumexp, mean, dot give a scalar."""
    return ops.lookup(n.fn).shape(I, n, *shapes)


@rule(Vec)
def s_vec(I, n, a):
    return (I.u.find(Prod((a[0], a[1]))), 1)


@rule(Diag)
def s_diag(I, n, a):
    if I.u.is_one(a[1]):
        return (a[0], a[0])
    I.need(I.u.unify(a[0], a[1]), lambda: f"diag needs a vector or a square matrix; {I.show(n.arg)} is neither", n)
    return (a[0], 1)


@rule(Bars)
def s_bars(I, n, a):
    """|a| reads as the record whose `bars` names a's kind: of a square matrix its determinant,
    of a scalar its absolute value; a vector has no |x|."""
    u, square, scalar = I.u, ops.BARS["square"], ops.BARS["scalar"]
    if u.is_one(a[1]) and not I.known_scalar(a):
        I.need(u.unify(a[0], 1) and not isinstance(n.arg, (Ones,)),
               lambda: f"|x| of a vector is not defined: {I.show(n.arg)}", n,
               f"write ||x|| for its norm, {scalar.name}(x) for the absolute values of its entries")
    if I.known_scalar(a):
        I.readings[id(n)] = scalar
        return SCALAR
    I.need(u.unify(a[0], a[1]), lambda: f"|A| needs a square matrix ({square.name}) or a scalar ({scalar.name}); "
                                        f"{I.show(n.arg)} is neither", n, "write ||A|| for a norm")
    I.readings[id(n)] = square
    return SCALAR


@rule(VarPower)
def s_varpower(I, n, a, e):
    """a^b with b not a number: scalars only; a.^b: equal shapes, or one of them a scalar."""
    if not n.elementwise:
        I.need(I.u.is_one(a[1]) or I.known_scalar(a),
               lambda: f"a matrix power needs a number exponent (A^2, A^-1); {I.written(n)} "
                       f"has a variable one", n, "for elementwise powers write A.^p")
        I.need(I.unify_shapes(a, SCALAR) and I.unify_shapes(e, SCALAR),
               lambda: f"a variable exponent needs a scalar base and exponent: {I.show(n.arg)} ^ {I.show(n.exp)}",
               n, "for elementwise powers write x.^p")
        return SCALAR
    if I.is_open(e) and I.unify_shapes(e, SCALAR):     # x.^p: an exponent of open size is a scalar
        return a
    if I.is_open(a) and not I.is_open(e) and I.unify_shapes(a, SCALAR):      # p.^x
        return e
    if I.known_scalar(e) or I.unify_shapes(a, e):
        return a
    I.need(I.unify_shapes(a, SCALAR), lambda: f"elementwise power needs equal shapes or a scalar: {I.show(n.arg)} "
                                              f"and {I.show(n.exp)}", n)
    return e


@rule(VarPow)
def s_varpow(I, n, a, e):
    """a.^b as built: equal shapes, or a 1×1 side broadcast."""
    if I.known_scalar(e):
        return a
    if I.known_scalar(a):
        return e
    I.need(I.unify_shapes(a, e), lambda: f"elementwise power needs equal shapes or a scalar: {I.show(n.arg)} "
                                         f"and {I.show(n.exp)}", n)
    return a


NUMBER_NODES = (Num, Constant, Neg, Mul, Div, Power, Elementwise)

NAME_POOL = ("n", "m", "p", "q", "r", "k", "l", "d", "s", "t", "u", "v", "w")


def infer(program: Program) -> Typed:
    I = Inference(program)
    for b in program.bindings:
        shape = I.visit(b.value)
        if b.name in I.declared:
            d = I.declared[b.name]
            if not I.unify_shapes(shape, tuple(d.dims) if d.dims else SCALAR):
                raise ShapeError(f"{b.name} is declared {fmt_shape(d.dims or SCALAR)} but its formula is "
                                 f"{fmt_shape(I.u.shape(shape))}", b.span)
        if b.name in I.bound:
            raise ShapeError(f"{b.name} is bound twice", b.span)
        if b.name in I.symbols:
            raise ShapeError(f"{b.name} is used before it is bound", b.span)
        I.bound[b.name] = shape
    I.visit(program.body)
    for name in I.declared:               # declared but unused: a variable all the same (∂f/∂y = 0)
        if name not in I.bound and name not in I.symbols:
            I.symbol_shape(Sym(name, span=I.declared[name].span))
    resolve_deferred(I)
    names = name_dims(I)
    numbers_take_the_shape(I, names)
    return build_typed(I, names)


def name_dims(I: Inference) -> dict[int, str]:
    used = set(I.dim_names) | set(I.symbols) | set(I.bound)
    pool = (n for n in chain(NAME_POOL, (f"n{i}" for i in count(1))) if n not in used)
    names: dict[int, str] = {}

    def visit(shape):
        for d in shape:
            d = I.u.find(d)
            if isinstance(d, Prod):
                visit(d.factors)
            elif isinstance(d, Var) and d.id not in names:
                names[d.id] = next(pool)

    vectors = [s for s in I.order if len(I.symbols[s]) == 2 and I.u.is_one(I.symbols[s][1])]
    for s in vectors + [s for s in I.order if s not in vectors]:
        visit(I.symbols[s])
    for shape in I.shapes.values():
        visit(shape)
    return names


def build_typed(I: Inference, names: dict[int, str]) -> Typed:
    def resolve(shape) -> Shape:
        out = []
        for d in shape:
            d = I.u.find(d)
            if isinstance(d, Var):
                d = names[d.id]
            elif isinstance(d, Prod):
                d = dim_product(flat_factors(d))
            out.append(d)
        return tuple(out)

    def flat_factors(p):
        out = []
        for f in p.factors:
            f = I.u.find(f)
            if isinstance(f, Prod):
                out.extend(flat_factors(f))
            else:
                out.append(names[f.id] if isinstance(f, Var) else f)
        return out

    symmetric = {d.name for d in I.program.decls if d.symmetric}
    probability = {d.name for d in I.program.decls if d.probability}
    diagonal = {d.name for d in I.program.decls if d.diagonal}
    dims = set(I.dim_names)

    def rebuild(n: Node) -> Node:
        shape = resolve(I.shapes[id(n)])
        dims.update(d for d in shape if isinstance(d, str))   # also sizes no symbol carries (ones s)
        m = map_children(n, rebuild)
        if id(n) in I.broadcasts:
            widen = I.broadcasts[id(n)]
            if isinstance(m, Add):
                m = replace(m, args=tuple(widened(new, widen[id(old)], shape) if id(old) in widen else new
                                          for old, new in zip(n.args, m.args)))
            elif "scale" in widen.values():         # 2 .* x is 2 x, x ./ 2 is x/2
                m = Mul((m.left, m.right), shape=shape, span=m.span) if isinstance(m, Hadamard) else \
                    Div(m.left, m.right, shape=shape, span=m.span)
            else:                                   # 1 ./ x, 1 ./ X
                m = replace(m, **{f: widened(getattr(m, f), widen[id(getattr(n, f))], shape)
                                  for f in ("left", "right") if id(getattr(n, f)) in widen})
        if isinstance(m, Bars):
            return resolve_bars(m, I.readings[id(n)])
        if isinstance(m, VarPower):
            return VarPow(m.arg, m.exp, shape=shape, span=m.span)
        if isinstance(m, Sym):
            if m.name not in I.bound and m.name not in I.declared and m.name in I.dim_names:
                return Size(m.name, shape=SCALAR, span=m.span)
            if m.name in symmetric:
                m = replace(m, symmetric=True)
            if m.name in probability:
                m = replace(m, probability=True)
        return replace(m, shape=shape)

    bindings = tuple((b.name, rebuild(b.value)) for b in I.program.bindings)
    body = rebuild(I.program.body)
    I.notes[:] = list(dict.fromkeys(I.notes))
    symbols: dict[str, SymbolInfo] = {}
    for name in I.order:
        shape = resolve(I.symbols[name])
        dims.update(d for d in shape if isinstance(d, str))
        if name not in I.declared and name in I.dim_names:
            symbols[name] = SymbolInfo(name, SCALAR, False, kind="size")
        else:
            symbols[name] = SymbolInfo(name, shape, name not in I.declared, name in symmetric,
                                       probability=name in probability, diagonal=name in diagonal)
    for name, shape in I.bound.items():
        symbols[name] = SymbolInfo(name, resolve(shape), False, kind="bound")
    return Typed(I.program, body, bindings, symbols, tuple(sorted(dims)),
                 I.program.notes + tuple(I.notes) + tuple(ops.notes([v for _, v in bindings] + [body])))



# ---- the readings of reading.py, written as the nodes every later stage knows -----------------
def widened(term: Node, how: str, shape: Shape) -> Node:
    """c → c ones (n×1), c ones^T (1×n), c ones ones^T (m×n); a row r → ones r (m×n);
    inside a negation for a difference."""
    if isinstance(term, Neg):
        return replace(term, arg=widened(term.arg, how, shape), shape=shape)
    col = Ones(shape=(shape[0], 1), span=term.span)
    row = Transpose(Ones(shape=(shape[1], 1), span=term.span), shape=(1, shape[1]), span=term.span)
    factors = {"scalar": (term, col), "row": (col, term), "rowscalar": (term, row), "entries": (term, col, row)}[how]
    if how != "row" and isinstance(term, Num) and term.value == 1:      # 1 → ones, not 1 ones
        factors = factors[1:]
    return factors[0] if len(factors) == 1 else Mul(factors, shape=shape, span=term.span)


def resolve_bars(m: Bars, op: ops.Op) -> Node:
    if op.node is not None:
        return op.node(m.arg, shape=SCALAR, span=m.span)
    return Elementwise(op.name, m.arg, shape=SCALAR, span=m.span)
