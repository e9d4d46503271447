"""The differential method: compute df with DIFF_RULES, then read the derivative off it.

- f scalar: the gradient G with df = tr(Gᵀ dX), by pushing a cotangent through the
  linear expression df (ADJOINT, one rule per linear node class).
- f vector or matrix: the Magnus–Neudecker matrix J with vec(df) = J vec(dX) (JACOBIAN).
- X scalar: df with dX = 1.
Layouts are applied once, at the end, by `arrange`.
"""
from __future__ import annotations

from typing import Callable

from .. import limits
from ..errors import DiffError, LimitError
from ..nodes import (Add, Commutation, Delta, Diag, HadDiv, Hadamard, Kron, Mul, Node,
                     Sum, Sym, Trace, Transpose, Vec, children)
from ..simplify import (add, hadamard_factors, diag, epow, hadamard, haddiv, identity, is_column, is_row, is_scalar, kron, mul,
                        numel, ones, simplify, trace, transpose, vec, zero)
from .rules import DIFF_RULES


class Differentiator:
    """d(node): the differential of node with respect to one variable, memoised."""

    def __init__(self, var: str, shape):
        self.var = var
        self.delta = Delta(var, shape=shape)
        self.memo: dict[Node, Node] = {}

    def variable(self, node: Sym) -> Node:
        return self.delta if node.name == self.var else zero(node.shape)

    def __call__(self, node: Node) -> Node:
        hit = self.memo.get(node)
        if hit is not None:
            return hit
        if not depends_on(node, self.var):
            out = zero(node.shape)
        else:
            r = DIFF_RULES.get(type(node))
            if r is None:
                raise DiffError(f"cannot differentiate {type(node).__name__}", node.span)
            out = r(node, self)
        self.memo[node] = out
        if len(self.memo) > limits.MAX_RESULT_NODES:
            raise LimitError("the derivative grew too large")
        return out


_FREE: dict[Node, frozenset] = {}


def free_names(n: Node) -> frozenset:
    hit = _FREE.get(n)
    if hit is None:
        if isinstance(n, (Sym, Delta)):
            hit = frozenset((n.name,))
        else:
            hit = frozenset().union(*[free_names(c) for c in children(n)]) if any(True for _ in children(n)) else frozenset()
        if len(_FREE) > 500_000:
            _FREE.clear()
        _FREE[n] = hit
    return hit


def depends_on(n: Node, name: str) -> bool:
    return name in free_names(n)


def has_delta(n: Node) -> bool:
    return any(isinstance(m, Delta) for m in _deltas(n))


def _deltas(n: Node):
    stack = [n]
    while stack:
        m = stack.pop()
        if isinstance(m, Delta):
            yield m
            return
        stack.extend(children(m))


class Linear:
    """Helpers for the linear expression df in dX."""

    def __init__(self, var: str):
        self.var = var
        self.memo: dict[Node, bool] = {}

    def dep(self, n: Node) -> bool:
        hit = self.memo.get(n)
        if hit is None:
            hit = isinstance(n, Delta) or any(self.dep(c) for c in children(n))
            self.memo[n] = hit
        return hit

    def split(self, n: Mul) -> tuple[int, list[Node], list[Node], list[Node]]:
        """The one factor that holds dX: index, scalars, chain before, chain after."""
        idx = [i for i, a in enumerate(n.args) if self.dep(a)]
        if len(idx) != 1:
            raise DiffError("internal: the differential is not linear in the variable")
        i = idx[0]
        scalars = [a for j, a in enumerate(n.args) if j != i and is_scalar(a)]
        chain = [a for a in n.args if not is_scalar(a)]
        f = n.args[i]
        if is_scalar(f):
            return i, scalars, [], chain
        j = next(k for k, a in enumerate(chain) if a is f)
        return i, scalars, chain[:j], chain[j + 1:]


# ---- ADJOINT: f scalar, G with df = tr(Gᵀ dX) -------------------------------------------------
ADJOINT: dict[type, Callable] = {}


def adjoint_rule(*classes):
    def register(f):
        for c in classes:
            ADJOINT[c] = f
        return f
    return register


def adjoint(lin: Linear, n: Node, g: Node) -> Node:
    """The cotangent of dX given the cotangent g of the linear node n."""
    if not lin.dep(n):
        return None
    r = ADJOINT.get(type(n))
    if r is None:
        raise DiffError(f"cannot write the gradient through {type(n).__name__.lower()} in matrix form", n.span)
    return r(lin, n, g)


def adjoint_sum(lin, parts):
    parts = [p for p in parts if p is not None]
    return add(*parts) if parts else None


@adjoint_rule(Delta)
def a_delta(lin, n, g):
    return g


@adjoint_rule(Add)
def a_add(lin, n, g):
    return adjoint_sum(lin, [adjoint(lin, a, g) for a in n.args])


@adjoint_rule(Mul)
def a_mul(lin, n, g):
    """tr(Gᵀ P dX Q) = tr((Pᵀ G Qᵀ)ᵀ dX); a scalar factor s of R gets tr(Gᵀ R)"""
    i, scalars, before, after = lin.split(n)
    f = n.args[i]
    if is_scalar(f):
        rest = mul(*scalars, *after)
        cot = mul(g, rest) if is_scalar(n) else trace(mul(transpose(g), rest))
        return adjoint(lin, f, cot)
    parts = list(scalars)
    if before:
        parts.append(transpose(mul(*before)))
    parts.append(g)
    if after:
        parts.append(transpose(mul(*after)))
    return adjoint(lin, f, mul(*parts))


@adjoint_rule(Transpose)
def a_transpose(lin, n, g):
    return adjoint(lin, n.arg, transpose(g))


@adjoint_rule(Trace)
def a_trace(lin, n, g):
    return adjoint(lin, n.arg, mul(g, identity(n.arg.shape[0])))


def hadamard_split(lin, n):
    """The factor of an elementwise product that holds dX, and the product of the others."""
    fs = hadamard_factors(n)
    dep = [f for f in fs if lin.dep(f)]
    if len(dep) != 1:
        raise DiffError("internal: the differential is not linear in the variable")
    others = [f for f in fs if f is not dep[0]]
    other = others[0]
    for f in others[1:]:
        other = hadamard(other, f)
    return dep[0], other


@adjoint_rule(Hadamard)
def a_hadamard(lin, n, g):
    dep, other = hadamard_split(lin, n)
    return adjoint(lin, dep, hadamard(g, other))


@adjoint_rule(HadDiv)
def a_haddiv(lin, n, g):
    return adjoint(lin, n.left, haddiv(g, n.right))


@adjoint_rule(Sum)
def a_sum(lin, n, g):
    return adjoint(lin, n.arg, mul(g, ones(n.arg.shape)))


@adjoint_rule(Diag)
def a_diag(lin, n, g):
    return adjoint(lin, n.arg, diag(g))


@adjoint_rule(Vec)
def a_vec(lin, n, g):
    """tr(gᵀ vec(dX)) = tr(unvec(g)ᵀ dX)"""
    return adjoint(lin, n.arg, unvec(g, n.arg.shape, n))


def unvec(g: Node, shape, where: Node) -> Node:
    """The matrix M of the given shape with vec(M) = g, where g's form allows it."""
    if isinstance(g, Vec) and g.arg.shape == tuple(shape):
        return g.arg
    if isinstance(g, Add):
        return add(*[unvec(t, shape, where) for t in g.args])
    if isinstance(g, Mul):
        scal = [a for a in g.args if is_scalar(a)]
        chain = [a for a in g.args if not is_scalar(a)]
        if len(chain) == 1:
            return mul(*scal, unvec(chain[0], shape, where))
        if len(chain) == 2 and isinstance(chain[0], Kron) and isinstance(chain[1], Vec):
            Qt, P = chain[0].left, chain[0].right          # (Qᵀ ⊗ P) vec(M) = vec(P M Q)
            return mul(*scal, unvec(Vec(mul(P, chain[1].arg, transpose(Qt)), shape=g.shape), shape, where))
    if isinstance(g, Kron) and is_column(g.left) and is_column(g.right) and \
            (g.right.shape[0], g.left.shape[0]) == tuple(shape):
        return mul(g.right, transpose(g.left))             # vec(a bᵀ) = b ⊗ a, a bᵀ of X's shape
    if tuple(g.shape) == tuple(shape):
        return g
    raise DiffError("cannot write the gradient through vec(...) as a matrix", where.span)


@adjoint_rule(Kron)
def a_kron(lin, n, g):
    """A ⊗ dB with A a vector: dB's cotangent is (Aᵀ ⊗ I) G or G (Aᵀ ⊗ I); likewise dA ⊗ B."""
    a, b = n.left, n.right
    if lin.dep(b) and not lin.dep(a):
        if is_column(a):
            return adjoint(lin, b, mul(kron(transpose(a), identity(b.shape[0])), g))
        if is_row(a):
            return adjoint(lin, b, mul(g, kron(transpose(a), identity(b.shape[1]))))
    if lin.dep(a) and not lin.dep(b):
        if is_column(b):
            return adjoint(lin, a, mul(kron(identity(a.shape[0]), transpose(b)), g))
        if is_row(b):
            return adjoint(lin, a, mul(g, kron(identity(a.shape[1]), transpose(b))))
    raise DiffError("cannot write the gradient through a Kronecker product of two matrices in matrix form; "
                    "use --flatten", n.span)


# ---- JACOBIAN: vec(dF) = J vec(dX) ------------------------------------------------------------
JACOBIAN: dict[type, Callable] = {}


def jacobian_rule(*classes):
    def register(f):
        for c in classes:
            JACOBIAN[c] = f
        return f
    return register


def jac(lin: Linear, n: Node, nx) -> Node:
    """J with vec(n) = J vec(dX); nx = number of entries of X."""
    if not lin.dep(n):
        return zero((numel(n.shape), nx))
    r = JACOBIAN.get(type(n))
    if r is None:
        raise DiffError(f"cannot write the derivative through {type(n).__name__.lower()} as a matrix", n.span)
    return r(lin, n, nx)


@jacobian_rule(Delta)
def j_delta(lin, n, nx):
    return identity(nx)


@jacobian_rule(Add)
def j_add(lin, n, nx):
    return add(*[jac(lin, a, nx) for a in n.args])


def vec_of(x: Node) -> Node:
    return vec(x)


@jacobian_rule(Mul)
def j_mul(lin, n, nx):
    """vec(P dF Q) = (Qᵀ ⊗ P) vec(dF); a scalar factor s of R: vec(s R) = vec(R) ds"""
    i, scalars, before, after = lin.split(n)
    f = n.args[i]
    if is_scalar(f):
        return mul(vec_of(mul(*scalars, *after)), jac(lin, f, nx))
    if isinstance(f, Diag) and is_column(f.arg) and after and mul(*after).shape[1] == 1:
        q = mul(*after)                      # P diag(g) q = P diag(q) g
        return mul(*scalars, *before, diag(q), jac(lin, f.arg, nx))
    P = mul(*before) if before else identity(f.shape[0])
    Q = mul(*after) if after else identity(f.shape[1])
    return mul(*scalars, kron(transpose(Q), P), jac(lin, f, nx))


@jacobian_rule(Transpose)
def j_transpose(lin, n, nx):
    """vec(Aᵀ) = K vec(A)"""
    a = n.arg
    if a.shape[0] == 1 or a.shape[1] == 1:
        return jac(lin, a, nx)
    m, k = a.shape
    return mul(Commutation(m, k, shape=(numel(a.shape), numel(a.shape))), jac(lin, a, nx))


@jacobian_rule(Hadamard)
def j_hadamard(lin, n, nx):
    dep, other = hadamard_split(lin, n)
    return mul(diag(vec_of(other)), jac(lin, dep, nx))


@jacobian_rule(HadDiv)
def j_haddiv(lin, n, nx):
    return mul(diag(vec_of(epow(n.right, -1))), jac(lin, n.left, nx))


@jacobian_rule(Trace)
def j_trace(lin, n, nx):
    """tr(P dF Q) = tr(dF Q P): a row times vec(dF)"""
    a = n.arg
    if isinstance(a, Mul):
        i, scalars, before, after = lin.split(a)
        f = a.args[i]
        if not is_scalar(f):
            M = mul(*after, *before) if (after or before) else identity(f.shape[1])
            if isinstance(f, Diag) and is_column(f.arg):
                return mul(*scalars, transpose(diag(M)), jac(lin, f.arg, nx))
            return mul(*scalars, transpose(vec_of(transpose(M))), jac(lin, f, nx))
    if isinstance(a, Diag) and is_column(a.arg):
        return mul(transpose(ones(a.arg.shape)), jac(lin, a.arg, nx))
    return mul(transpose(vec_of(identity(a.shape[0]))), jac(lin, a, nx))


@jacobian_rule(Sum)
def j_sum(lin, n, nx):
    return mul(transpose(ones((numel(n.arg.shape), 1))), jac(lin, n.arg, nx))


@jacobian_rule(Vec)
def j_vec(lin, n, nx):
    return jac(lin, n.arg, nx)


@jacobian_rule(Diag)
def j_diag(lin, n, nx):
    a = n.arg
    if is_column(a):
        raise DiffError("cannot write the derivative of diag(v) alone as a matrix; use it in a product", n.span)
    if isinstance(a, Mul):
        i, scalars, before, after = lin.split(a)
        f = a.args[i]
        if not is_scalar(f) and f.shape[1] == 1 and after:
            # diag(P f q) = (P f) ∘ qᵀ = diag(qᵀ) P f
            return mul(*scalars, diag(transpose(mul(*after))), *before, jac(lin, f, nx))
        if not is_scalar(f) and f.shape[0] == 1 and before:
            # diag(p f Q) = p ∘ (f Q)ᵀ = diag(p) Qᵀ fᵀ
            Qt = transpose(mul(*after)) if after else None
            return mul(*scalars, diag(mul(*before)), *([Qt] if Qt is not None else []), jac(lin, f, nx))
    raise DiffError("cannot write the derivative through diag of a matrix as a matrix", n.span)


@jacobian_rule(Kron)
def j_kron(lin, n, nx):
    a, b = n.left, n.right
    if is_column(a) and is_column(b):
        if lin.dep(b) and not lin.dep(a):
            return mul(kron(a, identity(b.shape[0])), jac(lin, b, nx))
        if lin.dep(a) and not lin.dep(b):
            return mul(kron(identity(a.shape[0]), b), jac(lin, a, nx))
    raise DiffError("cannot write the derivative of a Kronecker product of matrices as a matrix", n.span)


def differential(f: Node, var: str, shape) -> Node:
    d = Differentiator(var, shape)
    return simplify(d(f))
