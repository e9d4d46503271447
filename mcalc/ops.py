"""The functions of the language, one record each (JAX's lax.py keeps a primitive's
definition, derivative, lowering and printing together; sqlglot gives a function one
class whose parser entry and generator fallback come free).

A record holds everything the stages need to know about one function: its name (the
text form) and other spellings, arity, shape rule, differential rule (with the identity
as a sentence), its Unicode, LaTeX and NumPy forms, how to evaluate it, and facts:
value at 0 and at 1, domain, parity, where it has a kink. The grammar's function names,
the parser's call table, the renderers' call methods, the evaluator, the NumPy code and
the completeness test read these records; nothing else keeps a list of function names.

Adding an elementwise function is one `elementwise(...)` below (and its tests).

Derivatives are built from plain nodes (the builders below: no simplification, so this
module needs nothing above nodes.py); the engine passes them through the simplifier.
For an elementwise f, `derivative(u)` is f'(u) of u's shape and d f(u) = f'(u) .* du.
For other functions, `differential(node, *dargs)` is df from the arguments' differentials.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Callable

from .dims import factors as dim_factors
from .nodes import (Add, Call, Constant, Det, Diag, EPow, Elementwise, Hadamard, Inverse, Kron, LogDet, Mul, Neg, Node,
                    Norm, Num, Ones, Power, SCALAR, Size, Sum, Trace, Transpose, Vec, Zero, walk)


@dataclass(frozen=True, eq=False)
class Op:
    name: str                                  # the text form (and the first spelling)
    identity: str                              # the differential rule as a person writes it
    latex: str                                 # format string: {0}, {1} are the arguments' LaTeX
    numpy: str | None = None                   # format string: {0}, {1} are the arguments' NumPy code
    evaluate: Callable | None = None           # (numpy, *arrays) -> array
    derivative: Callable[[Node], Node] | None = None        # elementwise: f'(u)
    differential: Callable[..., Node] | None = None         # others: (node, *d(args)) -> df
    shape: Callable | None = None              # others: (inference, node, *arg shapes) -> shape
    spellings: tuple[str, ...] = ()            # more names accepted as input: Tr, trace
    arity: tuple[int, ...] = (1,)
    unicode: str | None = None                 # the name on a terminal, if not `name`
    at_zero: Fraction | Callable[[], Node] | None = None    # f(0): a number, or a scalar node
    at_one: Fraction | None = None             # f(1)
    domain: str | None = None                  # "positive" (log), "unit" (|u| < 1, arcsin)
    parity: str | None = None                  # "odd" or "even"
    quotient: tuple[str, str] | None = None    # tanh = sinh ./ cosh
    kink: Callable | None = None               # (numpy, *arrays) -> distance from where f is not smooth
    helpers: str = ""                          # NumPy source the `numpy` form calls
    note: Callable[[Node], str | None] | None = None       # a note on how an input was read
    node: type | None = None                   # a matrix function with its own node class
    meant_by: tuple[str, ...] = ()             # names people type for it that are not it (sigma)
    sympy: Callable | None = None              # (sympy) -> the scalar function, for to_sympy()
    prefix: bool = False                       # may omit brackets before a product: tr X, log det X
    scalar: Callable | None = None             # f on one float (pure Python), for zerotest.py
    repeat_names: tuple[str, ...] = ()         # what a repeated call is named: s = sigmoid(…)
    bars: str | None = None                    # |u| reads as it when u is a "scalar" (abs) or "square" (det)
    latex_in: tuple[str, ...] = ()             # more LaTeX that reads as it (besides its `latex` form): \\sgn

    @property
    def elementwise(self) -> bool:
        return self.derivative is not None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,) + self.spellings

    def __repr__(self) -> str:
        return f"Op({self.name})"


OPS: dict[str, Op] = {}          # every spelling → its record
RECORDS: list[Op] = []           # each record once, in order


def register(op: Op) -> Op:
    for name in op.names:
        if name in OPS:
            raise ValueError(f"two records spell {name}")
        OPS[name] = op
    RECORDS.append(op)
    return op


def lookup(name: str) -> Op:
    return OPS[name]


def function_names() -> list[str]:
    """Every name that is a function call (for the grammar and for did-you-mean)."""
    return sorted(OPS)


def meant(name: str) -> str | None:
    """The function a record says people mean by an unknown name: sigma → sigmoid."""
    return next((op.name for op in RECORDS if name in op.meant_by), None)


def prefix_names() -> list[str]:
    """Functions that may be applied without brackets to the following product (tr X Y)."""
    return sorted(name for name, op in OPS.items() if op.prefix)


def elementwise_names() -> list[str]:
    return sorted(name for name, op in OPS.items() if op.elementwise)


# ---- plain node builders (shapes set, nothing simplified) -------------------------------
def num(v) -> Node:
    return Num(Fraction(v), shape=SCALAR)


def ones_like(u: Node) -> Node:
    return num(1) if u.shape == SCALAR else Ones(shape=u.shape)


def f(name: str, u: Node) -> Node:
    return Elementwise(name, u, shape=u.shape)


def plus(*xs: Node) -> Node:
    return Add(xs, shape=xs[0].shape)


def minus(a: Node, b: Node) -> Node:
    return Add((a, Neg(b, shape=b.shape)), shape=a.shape)


def neg(a: Node) -> Node:
    return Neg(a, shape=a.shape)


def had(a: Node, b: Node) -> Node:
    return Hadamard(a, b, shape=a.shape)


def pw(a: Node, e) -> Node:
    return EPow(a, Fraction(e), shape=a.shape)


def T(a: Node) -> Node:
    return Transpose(a, shape=(a.shape[1], a.shape[0]))


def mm(*xs: Node) -> Node:
    """A product: scalars scale, the rest is a chain."""
    chain = [x for x in xs if x.shape != SCALAR]
    shape = (chain[0].shape[0], chain[-1].shape[1]) if chain else SCALAR
    return Mul(xs, shape=shape)


def column_ones(d) -> Node:
    return num(1) if d == 1 else Ones(shape=(d, 1))


def count(shape) -> Node:
    """The number of entries of an array of this shape, as a scalar node: 3, n, m n."""
    parts = [p for d in shape for p in dim_factors(d)]
    return mm(*[num(p) if isinstance(p, int) else Size(p, shape=SCALAR) for p in parts])


def is_vector(shape) -> bool:
    return len(shape) == 2 and shape[1] == 1 and shape[0] != 1


# ---- elementwise functions ---------------------------------------------------------------
def elementwise(name: str, derivative: Callable[[Node], Node], identity: str, latex: str, numpy: str,
                evaluate: Callable, **facts) -> Op:
    return register(Op(name, identity, latex, numpy, evaluate, derivative=derivative, **facts))


ALIAS_OF: dict[str, str] = {}        # another spelling → the record it spells (ln → log)


def alias(op: Op, name: str, **changes) -> Op:
    """Another spelling printed as written (ln for log): its own record, the same facts."""
    ALIAS_OF[name] = op.name
    return register(replace(op, name=name, spellings=(), **changes))


def scalar_function(sp, body):
    t = sp.Dummy("t")
    return sp.Lambda(t, body(t))


def at_origin_kink(np, a):
    return a


EXP = elementwise("exp", lambda u: f("exp", u), "d exp(u) = exp(u) .* du",
                  r"\exp({0})", "_np.exp({0})", lambda np, a: np.exp(a), at_zero=Fraction(1), scalar=math.exp,
                  sympy=lambda sp: sp.exp)
LOG = elementwise("log", lambda u: pw(u, -1), "d log(u) = du ./ u",
                  r"\log({0})", "_np.log({0})", lambda np, a: np.log(a), at_one=Fraction(0), domain="positive", scalar=math.log,
                  sympy=lambda sp: sp.log, prefix=True)
alias(LOG, "ln", latex=r"\ln({0})", prefix=False)
elementwise("sin", lambda u: f("cos", u), "d sin(u) = cos(u) .* du",
            r"\sin({0})", "_np.sin({0})", lambda np, a: np.sin(a), at_zero=Fraction(0), parity="odd", scalar=math.sin,
            sympy=lambda sp: sp.sin)
elementwise("cos", lambda u: neg(f("sin", u)), "d cos(u) = -sin(u) .* du",
            r"\cos({0})", "_np.cos({0})", lambda np, a: np.cos(a), at_zero=Fraction(1), parity="even", scalar=math.cos,
            sympy=lambda sp: sp.cos)
elementwise("tan", lambda u: pw(f("cos", u), -2), "d tan(u) = du ./ cos(u).^2",
            r"\tan({0})", "_np.tan({0})", lambda np, a: np.tan(a), at_zero=Fraction(0), parity="odd", scalar=math.tan,
            quotient=("sin", "cos"),
            sympy=lambda sp: sp.tan)
elementwise("sinh", lambda u: f("cosh", u), "d sinh(u) = cosh(u) .* du",
            r"\sinh({0})", "_np.sinh({0})", lambda np, a: np.sinh(a), at_zero=Fraction(0), parity="odd", scalar=math.sinh,
            sympy=lambda sp: sp.sinh)
elementwise("cosh", lambda u: f("sinh", u), "d cosh(u) = sinh(u) .* du",
            r"\cosh({0})", "_np.cosh({0})", lambda np, a: np.cosh(a), at_zero=Fraction(1), parity="even", scalar=math.cosh,
            sympy=lambda sp: sp.cosh)
TANH = elementwise("tanh", lambda u: minus(ones_like(u), pw(f("tanh", u), 2)), "d tanh(u) = (1 - tanh(u).^2) .* du",
            r"\tanh({0})", "_np.tanh({0})", lambda np, a: np.tanh(a), at_zero=Fraction(0), parity="odd", scalar=math.tanh,
            repeat_names=("h",),
            quotient=("sinh", "cosh"),
            sympy=lambda sp: sp.tanh)
elementwise("sqrt", lambda u: mm(num(Fraction(1, 2)), pw(f("sqrt", u), -1)), "d sqrt(u) = du ./ (2 sqrt(u))",
            r"\sqrt{{{0}}}", "_np.sqrt({0})", lambda np, a: np.sqrt(a), at_zero=Fraction(0), at_one=Fraction(1), scalar=math.sqrt,
            domain="positive",
            sympy=lambda sp: sp.sqrt)
ABS = elementwise("abs", lambda u: f("sign", u), "d abs(u) = sign(u) .* du (away from 0)",
                  r"\lvert {0} \rvert", "_np.abs({0})", lambda np, a: np.abs(a), at_zero=Fraction(0), at_one=Fraction(1),
                  parity="even", kink=at_origin_kink, bars="scalar",
                  sympy=lambda sp: sp.Abs)
elementwise("sign", lambda u: Zero(shape=u.shape), "d sign(u) = 0 (away from 0)",
            r"\operatorname{{sign}}({0})", "_np.sign({0})", lambda np, a: np.sign(a),
            at_zero=Fraction(0), at_one=Fraction(1), parity="odd", kink=at_origin_kink, latex_in=(r"\sgn",),
            sympy=lambda sp: sp.sign)
elementwise("sigmoid", lambda u: had(f("sigmoid", u), minus(ones_like(u), f("sigmoid", u))),
            "d sigmoid(u) = sigmoid(u) .* (1 - sigmoid(u)) .* du",
            r"\sigma({0})", "_sigmoid({0})", lambda np, a: 0.5 * (1.0 + np.tanh(0.5 * a)), unicode="σ",
            meant_by=("sigma", "logistic", "sigm"), scalar=lambda a: 0.5 * (1.0 + math.tanh(0.5 * a)),
            repeat_names=("s",),
            at_zero=Fraction(1, 2), helpers="def _sigmoid(a):\n    return 0.5 * (1.0 + _np.tanh(0.5 * a))\n",
            sympy=lambda sp: scalar_function(sp, lambda t: 1 / (1 + sp.exp(-t))))
elementwise("softplus", lambda u: f("sigmoid", u), "d softplus(u) = sigmoid(u) .* du",
            r"\operatorname{{softplus}}({0})", "_np.logaddexp(0.0, {0})", lambda np, a: np.logaddexp(0.0, a),
            scalar=lambda a: max(a, 0.0) + math.log1p(math.exp(-abs(a))),
            at_zero=lambda: f("log", num(2)),
            sympy=lambda sp: scalar_function(sp, lambda t: sp.log(1 + sp.exp(t))))
elementwise("relu", lambda u: f("step", u), "d relu(u) = step(u) .* du (away from 0)",
            r"\operatorname{{relu}}({0})", "_np.maximum({0}, 0.0)", lambda np, a: np.maximum(a, 0.0),
            at_zero=Fraction(0), at_one=Fraction(1), kink=at_origin_kink,
            sympy=lambda sp: scalar_function(sp, lambda t: sp.Max(0, t)))
elementwise("step", lambda u: Zero(shape=u.shape), "d step(u) = 0 (away from 0)",
            r"\operatorname{{step}}({0})", "({0} > 0).astype(float)", lambda np, a: (a > 0).astype(float),
            at_zero=Fraction(0), at_one=Fraction(1), kink=at_origin_kink,
            sympy=lambda sp: sp.Heaviside)


def one_minus_square(u: Node) -> Node:
    return minus(ones_like(u), pw(u, 2))


ARCSIN = elementwise("arcsin", lambda u: pw(one_minus_square(u), Fraction(-1, 2)), "d arcsin(u) = du ./ sqrt(1 - u.^2)",
                     r"\arcsin({0})", "_np.arcsin({0})", lambda np, a: np.arcsin(a),
                     at_zero=Fraction(0), parity="odd", domain="unit",
                     sympy=lambda sp: sp.asin)
alias(ARCSIN, "asin")
ARCCOS = elementwise("arccos", lambda u: neg(pw(one_minus_square(u), Fraction(-1, 2))),
                     "d arccos(u) = -du ./ sqrt(1 - u.^2)",
                     r"\arccos({0})", "_np.arccos({0})", lambda np, a: np.arccos(a), at_one=Fraction(0), domain="unit",
                     sympy=lambda sp: sp.acos)
alias(ARCCOS, "acos")
ARCTAN = elementwise("arctan", lambda u: pw(plus(ones_like(u), pw(u, 2)), -1), "d arctan(u) = du ./ (1 + u.^2)",
                     r"\arctan({0})", "_np.arctan({0})", lambda np, a: np.arctan(a), at_zero=Fraction(0), parity="odd",
                     sympy=lambda sp: sp.atan)
alias(ARCTAN, "atan")


# erf and gelu: their derivatives need the constant pi (nodes.Constant)
def pi() -> Node:
    return Constant("pi", shape=SCALAR)


def root(x: Node) -> Node:
    return f("sqrt", x)


def inverse_scalar(x: Node) -> Node:
    return Power(x, Fraction(-1), shape=SCALAR)


ERF_HELPERS = "import math as _math\n\n_erf = _np.vectorize(_math.erf, otypes=[float])\n"


def erf_np(np, a):
    return np.vectorize(math.erf, otypes=[float])(a)


elementwise("erf", lambda u: mm(num(2), inverse_scalar(root(pi())), f("exp", neg(pw(u, 2)))),
            "d erf(u) = 2/sqrt(pi) exp(-u.^2) .* du",
            r"\operatorname{{erf}}({0})", "_erf({0})", erf_np, at_zero=Fraction(0), parity="odd",
            helpers=ERF_HELPERS, sympy=lambda sp: sp.erf)


def d_gelu(u: Node) -> Node:
    """Φ(u) + u .* φ(u): Φ(u) = (1 + erf(u/sqrt(2)))/2, φ(u) = exp(-u.^2/2)/sqrt(2 pi)"""
    cdf = mm(num(Fraction(1, 2)), plus(ones_like(u), f("erf", mm(inverse_scalar(root(num(2))), u))))
    density = mm(inverse_scalar(root(mm(num(2), pi()))), f("exp", mm(num(Fraction(-1, 2)), pw(u, 2))))
    return plus(cdf, had(u, density))


elementwise("gelu", d_gelu,
            "d gelu(u) = (Phi(u) + u .* phi(u)) .* du, Phi(u) = (1 + erf(u/sqrt(2)))/2, phi(u) = exp(-u.^2/2)/sqrt(2 pi)",
            r"\operatorname{{GELU}}({0})", "_gelu({0})", lambda np, a: 0.5 * a * (1.0 + erf_np(np, a / np.sqrt(2.0))),
            at_zero=Fraction(0),
            helpers=ERF_HELPERS + "\n\ndef _gelu(a):\n    return 0.5 * a * (1.0 + _erf(a / _np.sqrt(2.0)))\n",
            sympy=lambda sp: scalar_function(sp, lambda t: t * (1 + sp.erf(t / sp.sqrt(2))) / 2))


# ---- functions of whole arrays -------------------------------------------------------------
def call(name: str, *args: Node, shape) -> Node:
    return Call(name, tuple(args), shape=shape)


def function(name: str, differential: Callable[..., Node], identity: str, shape: Callable, latex: str,
             numpy: str, evaluate: Callable, **facts) -> Op:
    return register(Op(name, identity, latex, numpy, evaluate, differential=differential, shape=shape, **facts))


def rowwise(node: Node, s: Node, dz: Node) -> Node:
    """Row by row: ds_i = s_i .* (dz_i - (s_i dz_i^T)) for each row, i.e. S .* (dZ - ((S .* dZ) 1) 1^T)."""
    n = node.shape[1]
    weighted = mm(had(s, dz), column_ones(n))
    return had(s, minus(dz, mm(weighted, T(column_ones(n)))))


def d_softmax(node, dz):
    s = node
    if is_vector(node.shape):
        return mm(minus(Diag(s, shape=(s.shape[0], s.shape[0])), mm(s, T(s))), dz)
    return rowwise(node, s, dz)


def d_log_softmax(node, dz):
    z = node.args[0]
    s = call("softmax", z, shape=z.shape)
    if is_vector(node.shape):
        n = z.shape[0]
        return minus(dz, mm(column_ones(n), T(s), dz))
    n = z.shape[1]
    return minus(dz, mm(mm(had(s, dz), column_ones(n)), T(column_ones(n))))


def softmax_shape(what: str):
    def rule(I, n, a):
        I.need(not I.known_scalar(a), lambda: f"{what} needs a vector or a matrix; {I.show(n.args[0])} is a scalar", n,
               f"{what} of a vector z: {what}(z)")
        return a
    return rule


def rowwise_note(n: Node) -> str | None:
    if not is_vector(n.shape):
        return (f"{n.fn} of a matrix ({'×'.join(map(str, n.shape))}) is taken row by row, as in attention "
                f"(each row of softmax sums to 1)")
    return None


SOFTMAX_HELPERS = '''def _softmax(a):
    axis = 0 if a.shape[1] == 1 else 1
    e = _np.exp(a - _np.max(a, axis=axis, keepdims=True))
    return e / _np.sum(e, axis=axis, keepdims=True)


def _log_softmax(a):
    axis = 0 if a.shape[1] == 1 else 1
    m = _np.max(a, axis=axis, keepdims=True)
    return a - m - _np.log(_np.sum(_np.exp(a - m), axis=axis, keepdims=True))


def _logsumexp(a):
    m = _np.max(a)
    return m + _np.log(_np.sum(_np.exp(a - m)))
'''


def softmax_np(np, a):
    axis = 0 if a.shape[1] == 1 else 1
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax_np(np, a):
    axis = 0 if a.shape[1] == 1 else 1
    m = np.max(a, axis=axis, keepdims=True)
    return a - m - np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True))


def logsumexp_np(np, a):
    m = np.max(a)
    return np.full((1, 1), m + np.log(np.sum(np.exp(a - m))))


function("softmax", d_softmax,
         "d softmax(z) = (diag(s) - s s^T) dz with s = softmax(z); a matrix row by row, dS = S .* (dZ - ((S .* dZ) 1) 1^T)",
         softmax_shape("softmax"), r"\operatorname{{softmax}}({0})", "_softmax({0})", softmax_np,
         helpers=SOFTMAX_HELPERS, note=rowwise_note, repeat_names=("s", "p"))
function("log_softmax", d_log_softmax,
         "d log_softmax(z) = (I - 1 s^T) dz with s = softmax(z); a matrix row by row",
         softmax_shape("log_softmax"), r"\log\operatorname{{softmax}}({0})", "_log_softmax({0})", log_softmax_np,
         helpers=SOFTMAX_HELPERS, note=rowwise_note)


def vector_to_scalar(what: str, hint: str):
    def rule(I, n, a):
        I.need(I.u.unify(a[1], 1) and not I.known_scalar(a),
               lambda: f"{what} needs a column vector; {I.show(n.args[0])} is not one", n, hint)
        return SCALAR
    return rule


function("logsumexp", lambda node, dz: mm(T(call("softmax", node.args[0], shape=node.args[0].shape)), dz),
         "d logsumexp(z) = softmax(z)^T dz",
         vector_to_scalar("logsumexp", "for all entries of a matrix write logsumexp(vec(X))"),
         r"\operatorname{{logsumexp}}({0})", "_logsumexp({0})", logsumexp_np, helpers=SOFTMAX_HELPERS)


def to_scalar(I, n, a):
    return SCALAR


function("mean", lambda node, dx: mm(pw(count(node.args[0].shape), -1), Sum(dx, shape=SCALAR)),
         "d mean(X) = sum(dX)/N, N the number of entries of X", to_scalar,
         r"\operatorname{{mean}}({0})", "_np.mean({0})", lambda np, a: np.full((1, 1), np.mean(a)))
function("prod", lambda node, dx: mm(node, Sum(Hadamard(dx, pw(node.args[0], -1), shape=dx.shape), shape=SCALAR)),
         "d prod(X) = prod(X) sum(dX ./ X)", to_scalar,
         r"\operatorname{{prod}}({0})", "_np.prod({0})", lambda np, a: np.full((1, 1), np.prod(a)))


def dot_shape(I, n, a, b):
    x, y = n.args
    I.need(I.u.unify(a[1], 1) and I.u.unify(b[1], 1),
           lambda: f"dot needs two column vectors; got {I.show(x)} and {I.show(y)}", n,
           "for matrices write tr(A^T B) or A : B")
    I.need(I.u.unify(a[0], b[0]), lambda: f"dot needs vectors of the same length; got {I.show(x)} and {I.show(y)}", n)
    return SCALAR


function("dot", lambda node, dx, dy: plus(mm(T(node.args[1]), dx), mm(T(node.args[0]), dy)),
         "d dot(x, y) = y^T dx + x^T dy", dot_shape, r"\langle {0}, {1} \rangle", "_np.sum({0} * {1})",
         lambda np, a, b: np.full((1, 1), np.sum(a * b)), arity=(2,))


def step_of(a: Node, b: Node) -> Node:
    return f("step", minus(a, b))


def pair_shape(what: str):
    def rule(I, n, a, b):
        I.need(I.unify_shapes(a, b), lambda: f"{what}(a, b) needs equal shapes; got {I.show(n.args[0])} and "
                                             f"{I.show(n.args[1])}", n, f"{what}(0, x) compares each entry with 0")
        return a
    return rule


def difference(np, a, b):
    return a - b


function("max", lambda node, da, db: plus(had(step_of(node.args[0], node.args[1]), da),
                                          had(step_of(node.args[1], node.args[0]), db)),
         "d max(a, b) = step(a - b) .* da + step(b - a) .* db (away from a = b)", pair_shape("max"),
         r"\max({0}, {1})", "_np.maximum({0}, {1})", lambda np, a, b: np.maximum(a, b), arity=(2,),
         kink=difference)
function("min", lambda node, da, db: plus(had(step_of(node.args[1], node.args[0]), da),
                                          had(step_of(node.args[0], node.args[1]), db)),
         "d min(a, b) = step(b - a) .* da + step(a - b) .* db (away from a = b)", pair_shape("min"),
         r"\min({0}, {1})", "_np.minimum({0}, {1})", lambda np, a, b: np.minimum(a, b), arity=(2,),
         kink=difference)


# ---- matrix functions with their own node classes (their rules sit with the class) -------
def matrix_function(name: str, node: type, latex: str, identity: str, spellings: tuple[str, ...] = (),
                    arity: tuple[int, ...] = (1,), prefix: bool = False, **facts) -> Op:
    return register(Op(name, identity, latex, spellings=spellings, arity=arity, node=node, prefix=prefix, **facts))


def scalar_of(f):
    """A function of a matrix to a number, as the evaluator's 1×1 array."""
    return lambda np, a: np.full((1, 1), f(np, a))


def logdet_np(np, a):
    sign, value = np.linalg.slogdet(a)
    return value if sign > 0 else np.nan


LOGDET_HELPERS = "def _logdet(a):\n    sign, value = _np.linalg.slogdet(a)\n    return value if sign > 0 else _np.nan\n"

# a function of the node class's own (Function): its NumPy form and evaluator are the record's; the shape,
# derivative and simplification rules sit with the class (shapes.py, deriv/rules.py, simplify.py)
matrix_function("tr", Trace, r"\operatorname{{tr}}({0})", "d tr(X) = tr(dX)", spellings=("Tr", "trace"), prefix=True,
                latex_in=(r"\tr", r"\Tr"), numpy="_np.trace({0})", evaluate=scalar_of(lambda np, a: np.trace(a)))
matrix_function("det", Det, r"\det({0})", "d det(X) = det(X) tr(X^-1 dX)", prefix=True, bars="square",
                numpy="_np.linalg.det({0})", evaluate=scalar_of(lambda np, a: np.linalg.det(a)))
matrix_function("logdet", LogDet, r"\log\det({0})", "d logdet(X) = tr(X^-1 dX)", prefix=True,
                numpy="_logdet({0})", evaluate=scalar_of(logdet_np), helpers=LOGDET_HELPERS)
matrix_function("sum", Sum, r"\operatorname{{sum}}({0})", "d sum(X) = sum(dX)",
                numpy="_np.sum({0})", evaluate=scalar_of(lambda np, a: np.sum(a)))
matrix_function("vec", Vec, r"\operatorname{{vec}}({0})", "d vec(X) = vec(dX)",
                numpy="{0}.reshape(-1, 1, order='F')", evaluate=lambda np, a: a.reshape(-1, 1, order="F"))
matrix_function("diag", Diag, r"\operatorname{{diag}}({0})", "d diag(X) = diag(dX)")
matrix_function("inv", Inverse, r"{0}^{{-1}}", "d(X^-1) = -X^-1 dX X^-1")
matrix_function("transpose", Transpose, r"{0}^{{\top}}", "d(X^T) = (dX)^T")
matrix_function("kron", Kron, r"{0} \otimes {1}", "d(A (x) B) = dA (x) B + A (x) dB", arity=(2,))
matrix_function("norm", Norm, r"\lVert {0} \rVert", "d ||u|| = tr(u^T du)/||u||", arity=(1, 2))
BY_NODE: dict[type, Op] = {op.node: op for op in RECORDS if op.node is not None}
BARS: dict[str, Op] = {op.bars: op for op in RECORDS if op.bars}       # |a|: "scalar" → abs, "square" → det


def notes(roots) -> list[str]:
    """Notes the records make on how their calls were read (softmax of a matrix: row by row)."""
    out: list[str] = []
    for root in roots:
        for n in walk(root):
            if isinstance(n, Call):
                note = OPS[n.fn].note
                text = note(n) if note else None
                if text and text not in out:
                    out.append(text)
    return out


def kinks(np, n: Node, args) -> "np.ndarray | None":
    op = OPS.get(getattr(n, "fn", None))
    return op.kink(np, *args) if op is not None and op.kink is not None else None
