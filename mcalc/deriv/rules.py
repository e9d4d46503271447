"""DIFF_RULES: one rule per node class. A rule returns the differential of its node
from the differentials of its children (d(child)); layouts are the engine's business."""
from __future__ import annotations

from fractions import Fraction
from typing import Callable

from .. import ops
from ..errors import DiffError
from ..dims import dim_product
from ..nodes import (Add, Apply, Call, Commutation, Constant, Delta, Det, Diag, Div, EPow, Elementwise, HCat, HadDiv,
                     Hadamard, Identity, Inverse, Kron, LogDet, Mul, Neg, Node, Norm, Num, Ones, Power, Size, Sum, Sym,
                     Trace, Transpose, Unit, VarPow, Vec, Zero, replace)
from ..simplify import (hcat, add, det, diag, div, elementwise, epow, hadamard, haddiv, identity, inverse, is_scalar, kron,
                        mul, neg, num, ones, power, simplify, sum_, trace, transpose, varpow, vec, zero)

D = Callable[[Node], Node]
DIFF_RULES: dict[type, Callable[[Node, D], Node]] = {}


def rule(*classes):
    def register(f):
        for c in classes:
            DIFF_RULES[c] = f
        return f
    return register


def constant(*classes):
    """d c = 0."""
    rule(*classes)(lambda node, d: zero(node.shape))


def linear(cls, make, identity: str):
    """d f(X) = f(dX) for a linear f."""
    def d_linear(node, d):
        return make(d(node.arg))
    d_linear.__doc__ = identity
    rule(cls)(d_linear)


constant(Num, Size, Constant, Identity, Ones, Zero, Unit, Commutation, Delta)
linear(Transpose, transpose, "d(X^T) = (dX)^T")
linear(Trace, trace, "d tr(X) = tr(dX)")
linear(Sum, sum_, "d sum(X) = sum(dX)")
linear(Vec, vec, "d vec(X) = vec(dX)")
linear(Diag, diag, "d diag(X) = diag(dX)")
linear(Neg, neg, "d(-X) = -dX")


@rule(Apply)
def d_apply(node, d):
    """chain rule: d f(u) = grad_f(u)^T du;  d g(u) = J_g(u) du;  d grad_f(u) = hess_f(u) du;
    d J_g(u) = (I_m ⊗ du^T) hess_g(u), hess_g(u) the m Hessians of g's components stacked
    (row k of dJ_g is du^T ∇²g_k(u)); a curve x(t): d x'(t) = x''(t) dt"""
    u = node.arg
    if node.order == 0:
        grad = replace(node, order=1, shape=(node.domain, 1) if node.scalar_valued else (node.codomain, node.domain))
        return mul(transpose(grad) if node.scalar_valued else grad, d(u))
    if node.order == 1 and node.scalar_valued:
        return mul(replace(node, order=2, shape=(node.domain, node.domain)), d(u))
    if node.order == 1:
        m, n = node.shape                  # J_g(u) is m×n
        stacked = replace(node, order=2, shape=(m if n == 1 else dim_product((m, n)), n))
        if n == 1:
            return mul(stacked, d(u))
        return mul(kron(identity(m), transpose(d(u))), stacked)
    what = "∇²" + node.fn
    raise DiffError(f"cannot differentiate {what}({'…'}): the abstract function {node.fn} has derivatives "
                    f"up to the second ({what}) only", node.span, operation=f"third derivative of {node.fn}")


@rule(HCat)
def d_hcat(node, d):
    """d[A, B] = [dA, dB]"""
    return hcat(*[d(a) for a in node.args])


@rule(Sym)
def d_sym(node, d):
    """dX for the variable X; every other symbol is constant."""
    return d.variable(node)


@rule(Add)
def d_add(node, d):
    """d(A + B) = dA + dB"""
    return add(*[d(a) for a in node.args])


@rule(Mul)
def d_mul(node, d):
    """product rule: d(A B) = dA B + A dB"""
    args = node.args
    return add(*[mul(*args[:i], d(a), *args[i + 1:]) for i, a in enumerate(args)])


@rule(Div)
def d_div(node, d):
    """d(a/s) = da/s - a ds/s^2"""
    a, s = node.left, node.right
    return add(div(d(a), s), neg(mul(d(s), power(s, -2), a)))


@rule(Power)
def d_power(node, d):
    """d(s^p) = p s^(p-1) ds;  d(A^k) = sum_i A^i dA A^(k-1-i)"""
    x, p = node.arg, node.exp
    if is_scalar(x):
        return mul(num(p), power(x, p - 1), d(x))
    if p < 0:
        base, k = inverse(x), int(-p)
        dbase = d_inverse_of(x, d)
    else:
        base, k, dbase = x, int(p), d(x)
    return add(*[mul(power(base, i), dbase, power(base, k - 1 - i)) for i in range(k)])


def d_inverse_of(x, d):
    inv = inverse(x)
    return neg(mul(inv, d(x), inv))


@rule(Inverse)
def d_inverse(node, d):
    """d(X^-1) = -X^-1 dX X^-1"""
    return d_inverse_of(node.arg, d)


@rule(Hadamard)
def d_hadamard(node, d):
    """d(A .* B) = dA .* B + A .* dB"""
    return add(hadamard(d(node.left), node.right), hadamard(node.left, d(node.right)))


@rule(HadDiv)
def d_haddiv(node, d):
    """d(A ./ B) = dA ./ B - (A ./ B.^2) .* dB"""
    a, b = node.left, node.right
    return add(haddiv(d(a), b), neg(hadamard(haddiv(a, epow(b, 2)), d(b))))


@rule(EPow)
def d_epow(node, d):
    """d(A.^p) = p A.^(p-1) .* dA"""
    return mul(num(node.exp), hadamard(epow(node.arg, node.exp - 1), d(node.arg)))


@rule(VarPow)
def d_varpow(node, d):
    """d(a^b) = b a^(b-1) da + a^b (the natural logarithm of a) db, entry by entry; that term only where b varies"""
    a, b = node.arg, node.exp
    da, db = d(a), d(b)
    terms = []
    if not isinstance(da, Zero):
        terms.append(entrywise(entrywise(b, varpow(a, add(b, neg(ones(b.shape))))), da))
    if not isinstance(db, Zero):
        terms.append(entrywise(entrywise(node, elementwise(ops.LOG.name, a)), db))
    return add(*terms) if terms else zero(node.shape)


def entrywise(x, y):
    """x ∘ y, a 1×1 side scaling the other."""
    return mul(x, y) if is_scalar(x) or is_scalar(y) else hadamard(x, y)


@rule(Kron)
def d_kron(node, d):
    """d(A (x) B) = dA (x) B + A (x) dB"""
    return add(kron(d(node.left), node.right), kron(node.left, d(node.right)))


@rule(Det)
def d_det(node, d):
    """d det(X) = det(X) tr(X^-1 dX)"""
    x = node.arg
    return mul(det(x), trace(mul(inverse(x), d(x))))


@rule(LogDet)
def d_logdet(node, d):
    """d logdet(X) = tr(X^-1 dX)"""
    x = node.arg
    return trace(mul(inverse(x), d(x)))


@rule(Norm)
def d_norm(node, d):
    """d ||u|| = tr(u^T du)/||u||;  d ||u||_1 = d sum(|u|)"""
    u = node.arg
    vector = u.shape[0] == 1 or u.shape[1] == 1
    if node.kind == "1":
        if not vector:
            raise DiffError(f"the entrywise 1-norm of a matrix is not supported; write sum({ops.ABS.name}(X))",
                            node.span, operation="1-norm of a matrix")
        return trace(mul(transpose(simplify(ops.ABS.derivative(u))), d(u)))
    if node.kind == "2" and not vector:
        raise DiffError("cannot differentiate the spectral norm ||X||_2 of a matrix "
                        "(it needs singular vectors); use ||X||_F", node.span, operation="spectral norm")
    return mul(trace(mul(transpose(u), d(u))), power(node, -1))


@rule(Elementwise)
def d_elementwise(node, d):
    """d f(U) = f'(U) .* dU, f' from f's record (ops.py)"""
    return hadamard(simplify(ops.lookup(node.fn).derivative(node.arg)), d(node.arg))


def identity_of(node) -> str:
    """The identity the rule for node applies, as 'name: identity' (--steps, mcalc rules):
    a function's comes from its record."""
    if isinstance(node, (Elementwise, Call)):
        op = ops.lookup(node.fn)
        return f"{op.name}: {op.identity}"
    r = DIFF_RULES.get(type(node))
    return (r.__doc__ or "").strip() if r is not None else ""


@rule(Call)
def d_call(node, d):
    """d f(X, Y) from the record's differential rule (ops.py): d softmax(z) = (diag(s) - s s^T) dz, ..."""
    return simplify(ops.lookup(node.fn).differential(node, *[d(a) for a in node.args]))
