"""Immutable expression nodes. Each carries its shape (see dims.py); spans never affect
equality."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from typing import Callable, Iterator

from .dims import SCALAR, Dim, Shape
from .errors import Span


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    shape: Shape | None = field(default=None, kw_only=True)
    span: Span | None = field(default=None, kw_only=True, compare=False, repr=False)
    _h: int | None = field(default=None, kw_only=True, init=False, compare=False, repr=False)

    def __hash__(self) -> int:
        h = self._h
        if h is None:
            h = hash((type(self).__name__, self.shape) + tuple(getattr(self, f) for f in _own(type(self))))
            object.__setattr__(self, "_h", h)
        return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other) or hash(self) != hash(other) or self.shape != other.shape:
            return False
        return all(getattr(self, f) == getattr(other, f) for f in _own(type(self)))

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR


_OWN: dict[type, tuple[str, ...]] = {}
_CHILD: dict[type, tuple[tuple[str, bool], ...]] = {}


def _own(cls: type) -> tuple[str, ...]:
    names = _OWN.get(cls)
    if names is None:
        names = tuple(f.name for f in fields(cls) if f.name not in ("shape", "span", "_h"))
        _OWN[cls] = names
    return names


def _children_spec(cls: type) -> tuple[tuple[str, bool], ...]:
    spec = _CHILD.get(cls)
    if spec is None:
        spec = tuple((f.name, f.type.startswith("tuple")) for f in fields(cls)
                     if f.type in ("Node", "tuple[Node, ...]"))
        _CHILD[cls] = spec
    return spec


def node(cls):
    return dataclass(frozen=True, slots=True, eq=False)(cls)


# ---- leaves -------------------------------------------------------------------------
@node
class Sym(Node):
    name: str
    symmetric: bool = False
    probability: bool = False      # declared a probability vector: sum(y) = 1


@node
class Size(Node):
    """A dimension name used as a number (seed 000's 1/N)."""
    name: str


@node
class Num(Node):
    value: Fraction
    decimal: bool = False      # written as 0.5 or 1e-3 (so the text form can say so again)


@node
class Identity(Node):
    pass


@node
class Ones(Node):
    pass


@node
class Zero(Node):
    pass


@node
class Delta(Node):
    """The differential dX of the variable X."""
    name: str


@node
class Unit(Node):
    """The unit vector e_i (index names an entry of the variable)."""
    index: str


@node
class Commutation(Node):
    """K_(m,n): K vec(A) = vec(Aᵀ) for A m×n. Shape (mn, mn)."""
    m: Dim
    n: Dim


# ---- operations ---------------------------------------------------------------------
@node
class Add(Node):
    args: tuple[Node, ...]


@node
class Neg(Node):
    arg: Node


@node
class Mul(Node):
    """A product: 1×1 factors scale, the others form a conformable chain, in order."""
    args: tuple[Node, ...]


@node
class Div(Node):
    left: Node
    right: Node


@node
class Power(Node):
    arg: Node
    exp: Fraction


@node
class Transpose(Node):
    arg: Node


@node
class Inverse(Node):
    arg: Node


@node
class Hadamard(Node):
    left: Node
    right: Node


@node
class HadDiv(Node):
    left: Node
    right: Node


@node
class EPow(Node):
    arg: Node
    exp: Fraction


@node
class Kron(Node):
    left: Node
    right: Node


@node
class Function(Node):
    """A matrix function written as a call, tr(X); its names and forms are its record in ops.py."""
    arg: Node


@node
class Trace(Function):
    pass


@node
class Det(Function):
    pass


@node
class LogDet(Function):
    pass


@node
class Sum(Function):
    pass


@node
class Vec(Function):
    pass


@node
class Diag(Function):
    """diag(v) for a vector is a diagonal matrix; diag(M) for a matrix is its diagonal."""


@node
class Norm(Node):
    """kind: None (2-norm of a vector, Frobenius of a matrix), '1', '2' or 'F'."""
    arg: Node
    kind: str | None = None


@node
class HCat(Node):
    """[a, b, ...]: columns side by side (a joint derivative d f/d(t, s))."""
    args: tuple[Node, ...]


@node
class Elementwise(Node):
    """f(X) entry by entry; fn names its record in ops.py."""
    fn: str
    arg: Node


@node
class Apply(Node):
    """A function declared by its signature, fn: R^domain -> R^codomain (1 for R), applied to arg,
    or one of its derivatives: order 0 is fn(u); order 1 is ∇fn(u) (domain×1) for a scalar
    function and the Jacobian J_fn(u) (codomain×domain) otherwise; order 2 is ∇²fn(u)."""
    fn: str
    arg: Node
    order: int = 0
    domain: Dim = 1
    codomain: Dim = 1

    @property
    def scalar_valued(self) -> bool:
        return self.codomain == 1

    @property
    def callable_name(self) -> str:
        """The text (and NumPy) name: f, grad_f, hess_f, J_g."""
        if self.order == 0:
            return self.fn
        if self.order == 2:
            return f"hess_{self.fn}"
        return f"grad_{self.fn}" if self.scalar_valued else f"J_{self.fn}"


@node
class Call(Node):
    """A function of whole arrays, softmax(z), max(a, b), dot(x, y); fn names its record in ops.py."""
    fn: str
    args: tuple[Node, ...]


# Binding strength for renderers: a child binding more weakly than its slot is bracketed.
PRECEDENCE: dict[type, int] = {
    Add: 10, Neg: 20, Hadamard: 30, HadDiv: 30, Kron: 30, Mul: 40, Div: 40,
    Power: 50, EPow: 50, Inverse: 50, Transpose: 60,
}
ATOM = 100


def precedence(n: Node) -> int:
    if isinstance(n, Num) and (n.value < 0 or n.value.denominator != 1):
        return PRECEDENCE[Div] if n.value >= 0 else PRECEDENCE[Neg]
    if isinstance(n, Mul) and n.args and isinstance(n.args[0], Num) and n.args[0].value < 0:
        return PRECEDENCE[Neg]           # it prints with a leading minus
    return PRECEDENCE.get(type(n), ATOM)


# ---- generic traversals ---------------------------------------------------------------
def children(n: Node) -> Iterator[Node]:
    for name, many in _children_spec(type(n)):
        value = getattr(n, name)
        if many:
            yield from value
        else:
            yield value


def map_children(n: Node, f: Callable[[Node], Node]) -> Node:
    spec = _children_spec(type(n))
    if not spec:
        return n
    changes = {}
    for name, many in spec:
        old = getattr(n, name)
        new = tuple(f(c) for c in old) if many else f(old)
        if new != old or (not many and new is not old):
            changes[name] = new
    return replace(n, **changes) if changes else n


def walk(n: Node) -> Iterator[Node]:
    stack = [n]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(list(children(cur))))


def contains(n: Node, pred: Callable[[Node], bool], _memo: dict | None = None) -> bool:
    memo = {} if _memo is None else _memo
    key = id(n)
    if key in memo:
        return memo[key]
    result = pred(n) or any(contains(c, pred, memo) for c in children(n))
    memo[key] = result
    return result


def depends(n: Node, name: str) -> bool:
    """Does n contain the symbol or differential called name?"""
    return contains(n, lambda m: isinstance(m, (Sym, Delta)) and m.name == name)


NODE_CLASSES = [c for c in list(globals().values())
                if isinstance(c, type) and issubclass(c, Node) and c not in (Node, Function)]
