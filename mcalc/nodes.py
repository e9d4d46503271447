"""Immutable expression nodes. Each carries its shape (see dims.py); spans never affect
equality."""
from __future__ import annotations

from fractions import Fraction
from operator import attrgetter
from typing import Callable, Iterator

from .dims import SCALAR, Dim, Shape
from .errors import Span


class Node:
    """The base of every node: `shape` and `span` are keyword-only (positional children come
    first), `span` never affects equality or hashing, and the hash is computed once. Two
    nodes found equal are linked (`_r`, see `same`), so that comparing them again, or a tree
    built around either, costs no second walk down."""
    __slots__ = ("shape", "span", "_h", "_r")
    _fields: tuple[str, ...] = ()                   # own fields in order (not shape or span)
    _children: tuple[tuple[str, bool], ...] = ()    # (field, holds a tuple of nodes) per child field

    def __init__(self, *, shape: Shape | None = None, span: Span | None = None):
        _set(self, "shape", shape)
        _set(self, "span", span)
        _set(self, "_h", None)
        _set(self, "_r", None)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable; build a new node (nodes.replace)")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable; build a new node (nodes.replace)")

    def __hash__(self) -> int:
        h = self._h
        if h is None:
            h = hash((type(self).__name__, self.shape) + tuple(getattr(self, f) for f in self._fields))
            _set(self, "_h", h)
        return h

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(self) is not type(other) or hash(self) != hash(other):
            return False
        a, b = same(self), same(other)
        if a is b:
            return True
        if a.shape == b.shape and all(getattr(a, f) == getattr(b, f) for f in a._fields):
            _set(b, "_r", a)
            return True
        return False

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields + ("shape",))
        return f"{type(self).__name__}({args})"

    def _kids(self) -> tuple:
        return ()

    def __reduce__(self):
        return _rebuild, (type(self), tuple(getattr(self, f) for f in self._fields), self.shape, self.span)

    @property
    def is_scalar(self) -> bool:
        return self.shape == SCALAR


_set = object.__setattr__


def same(n: Node) -> Node:
    """The node that n was last found equal to, through the links equality leaves (`_r`):
    equal nodes share one, so a second comparison of two equal trees is a pointer test
    (SymPy and egglog get this by hash-consing every node; linking on comparison gives it
    without a global table). Each step also shortens the path for the next look-up."""
    r = n._r
    while r is not None:
        up = r._r
        if up is None:
            return r
        _set(n, "_r", up)
        n, r = up, up._r
    return n


def _rebuild(cls, values, shape, span):
    return cls(*values, shape=shape, span=span)


def node(cls):
    """A node class from its annotated fields (positional, in order, defaults allowed): slots,
    an __init__ taking the fields and then keyword-only shape and span, __match_args__, and
    the child fields (annotated `Node` or `tuple[Node, ...]`) that the generic traversals
    read. __init__, __hash__, __eq__ and _kids are made for the class (closures over its
    field names) when it is first instantiated (a frozen slotted dataclass cost about ten
    times as much to create, and every one-liner paid it for all thirty classes at import)."""
    annotations: dict[str, str] = {}
    defaults: dict = {}
    for base in reversed(cls.__mro__[1:]):
        annotations.update({k: v for k, v in vars(base).get("__annotations__", {}).items()
                            if k in getattr(base, "_fields", ())})
        defaults.update(getattr(base, "_defaults", {}))
    own = {k: v for k, v in vars(cls).get("__annotations__", {}).items() if not k.startswith("_")}
    fields = tuple(annotations) + tuple(k for k in own if k not in annotations)
    annotations.update(own)
    defaults.update({k: vars(cls)[k] for k in own if k in vars(cls)})
    ns = {k: v for k, v in vars(cls).items() if k not in own and k not in ("__dict__", "__weakref__")}
    ns["__slots__"] = tuple(k for k in own if k not in getattr(cls, "_fields", ()))
    ns["_fields"] = ns["__match_args__"] = fields
    ns["_defaults"] = defaults
    ns["_children"] = tuple((k, str(annotations[k]).startswith("tuple")) for k in fields
                            if str(annotations[k]) in ("Node", "tuple[Node, ...]"))

    def __init__(self, *args, **kwargs):          # replaced by _generate's on first use
        _generate(made)
        made.__init__(self, *args, **kwargs)

    ns["__init__"] = __init__
    made = type(cls)(cls.__name__, cls.__bases__, ns)
    return made


def _generate(cls) -> None:
    """Give cls its __init__, __hash__, __eq__ and _kids for its fields: closures over the
    field names (no generated source). A call with every field positional, the common one,
    sets the slots directly; keywords and defaults go through `_bind`."""
    fields, defaults, name = cls._fields, cls._defaults, cls.__name__
    count = len(fields)
    values = attrgetter(*fields) if count > 1 else (lambda n: (getattr(n, fields[0]),)) if count else (lambda n: ())

    def __init__(self, *args, shape=None, span=None, **kwargs):
        if kwargs or len(args) != count:
            args = _bind(cls, args, kwargs)
        for f, v in zip(fields, args):
            _set(self, f, v)
        _set(self, "shape", shape)
        _set(self, "span", span)
        _set(self, "_h", None)
        _set(self, "_r", None)

    def __hash__(self):
        h = self._h
        if h is None:
            h = hash((name, self.shape) + values(self))
            _set(self, "_h", h)
        return h

    def __eq__(self, other):
        if self is other:
            return True
        if other.__class__ is not self.__class__ or hash(self) != hash(other):
            return False
        a, b = same(self), same(other)
        if a is b:
            return True
        if a.shape == b.shape and values(a) == values(b):
            _set(b, "_r", a)
            return True
        return False

    spec = cls._children
    if not spec:
        def _kids(self):
            return ()
    elif len(spec) == 1:
        get_kid = attrgetter(spec[0][0])
        if spec[0][1]:
            def _kids(self):
                return get_kid(self)
        else:
            def _kids(self):
                return (get_kid(self),)
    else:
        getters = [(attrgetter(k), many) for k, many in spec]

        def _kids(self):
            out = ()
            for get, many in getters:
                out += get(self) if many else (get(self),)
            return out

    for fn in (__init__, __hash__, __eq__, _kids):
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
        setattr(cls, fn.__name__, fn)


def _bind(cls, args: tuple, kwargs: dict) -> tuple:
    """The field values of a call that names some fields or leaves some to their defaults;
    the errors Python gives a function with these parameters."""
    fields, defaults = cls._fields, cls._defaults
    if len(args) > len(fields):
        raise TypeError(f"{cls.__name__}() takes {len(fields)} positional arguments but {len(args)} were given")
    out = list(args)
    for f in fields[len(args):]:
        if f in kwargs:
            out.append(kwargs.pop(f))
        elif f in defaults:
            out.append(defaults[f])
        else:
            raise TypeError(f"{cls.__name__}() missing required argument: {f!r}")
    if kwargs:
        bad = next(iter(kwargs))
        if bad in fields:
            raise TypeError(f"{cls.__name__}() got multiple values for argument {bad!r}")
        raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {bad!r}")
    return tuple(out)


def replace(n: Node, **changes) -> Node:
    """A copy of n with some fields (or its shape or span) changed."""
    values = {f: changes.pop(f) if f in changes else getattr(n, f) for f in n._fields}
    shape = changes.pop("shape", n.shape)
    span = changes.pop("span", n.span)
    if changes:
        raise TypeError(f"{type(n).__name__} has no field {', '.join(changes)}")
    return type(n)(**values, shape=shape, span=span)


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
class Constant(Node):
    """A named real constant: pi (π). Its value is CONSTANTS[name]."""
    name: str


CONSTANTS = {"pi": 3.141592653589793}


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
class VarPow(Node):
    """a^b, x.^p, p.^x, 2^x: a power whose exponent is an expression, entry by entry (a 1×1
    side is broadcast). Real for a > 0, or for an integer-valued exponent."""
    arg: Node
    exp: Node


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
    function and the Jacobian J_fn(u) (codomain×domain) otherwise; order 2 is the Hessian
    ∇²fn(u) (domain×domain) of a scalar function and, for a vector-valued g: R^n -> R^m, the
    Hessians ∇²g_k(u) of its components stacked vertically (mn×n, seed 004's stacking), so
    that Σ_k c_k ∇²g_k(u) = (cᵀ ⊗ I_n) ∇²g(u); for a curve x: R -> R^n that is x''(t) (n×1)."""
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
    Power: 50, EPow: 50, VarPow: 50, Inverse: 50, Transpose: 60,
}
ATOM = 100


def precedence(n: Node) -> int:
    if isinstance(n, Num) and (n.value < 0 or n.value.denominator != 1):
        return PRECEDENCE[Div] if n.value >= 0 else PRECEDENCE[Neg]
    if isinstance(n, Mul) and n.args and leads_with_minus(n.args[0]):
        return PRECEDENCE[Neg]           # it prints with a leading minus
    return PRECEDENCE.get(type(n), ATOM)


def leads_with_minus(n: Node) -> bool:
    """Whether n prints starting with a minus: a negative number, -a, or a product whose first
    factor does (a product of a product, (-Q) B, as naming a binding can leave one), which as
    the right operand of .* must be bracketed: A .* -Q B does not parse."""
    if isinstance(n, Num):
        return n.value < 0
    if isinstance(n, Neg):
        return True
    return isinstance(n, Mul) and bool(n.args) and leads_with_minus(n.args[0])


# ---- generic traversals ---------------------------------------------------------------
def children(n: Node) -> tuple[Node, ...]:
    return n._kids()


def map_children(n: Node, f: Callable[[Node], Node]) -> Node:
    spec = n._children
    if not spec:
        return n
    changes = {}
    for name, many in spec:
        old = getattr(n, name)
        if many:
            new = tuple(f(c) for c in old)
            if any(a is not b for a, b in zip(new, old)) and new != old:
                changes[name] = new
        else:
            new = f(old)
            if new is not old:
                changes[name] = new
    return replace(n, **changes) if changes else n


def walk(n: Node) -> Iterator[Node]:
    stack = [n]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur._kids()))


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
