"""The differential method: compute df with DIFF_RULES, then read the derivative off it.

- f scalar: the gradient G with df = tr(Gᵀ dX), by pushing a cotangent through the
  linear expression df (ADJOINT, one rule per linear node class).
- f vector or matrix: the Magnus–Neudecker matrix J with vec(df) = J vec(dX) (JACOBIAN).
- X scalar: df with dX = 1.
Layouts are applied once, at the end, by `arrange`.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Callable

from .. import limits
from ..errors import DiffError, LimitError
from ..nodes import (Add, Apply, HCat, Commutation, Delta, Diag, HadDiv, Hadamard, Kron, Mul, Node, Ones,
                     Sum, Sym, Trace, Transpose, Vec, children)
from ..simplify import (add, hcat, hadamard_factors, diag, epow, hadamard, haddiv, identity, is_column, is_row, is_scalar, kron, mul,
                        num, numel, ones, simplify, sum_, trace, transpose, vec, zero)
from ..dims import dim_product
from .rules import DIFF_RULES


class Differentiator:
    """d(node): the differential of node with respect to one variable, memoised."""

    def __init__(self, var: str, shape, symmetric: bool = False):
        self.var = var
        self.delta = symmetric_direction(Delta(var, shape=shape)) if symmetric else Delta(var, shape=shape)
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
                raise DiffError(f"cannot differentiate {type(node).__name__}", node.span, operation=type(node).__name__)
            out = r(node, self)
        self.memo[node] = out
        if len(self.memo) > limits.MAX_RESULT_NODES:
            raise LimitError("the derivative grew too large")
        return out


def is_symmetric(info) -> bool:
    """A symmetric matrix variable: its derivatives are taken along symmetric directions."""
    return bool(info.symmetric) and info.shape[0] == info.shape[1] and info.shape[1] != 1


def symmetric_direction(dx: Delta) -> Node:
    """A symmetric variable moves along symmetric directions only: dX ↦ (dX + dXᵀ)/2, so that
    vec(df) = J (I + K)/2 vec(dX) and a gradient comes out as sym(G) = (G + Gᵀ)/2."""
    return mul(num(Fraction(1, 2)), add(dx, transpose(dx)))


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
        self.shared: frozenset = frozenset()      # subterms df holds in several places (backprop)
        self.pending: dict[Node, list[Node]] = {}  # their cotangents, gathered before they are pushed on

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
            raise DiffError("internal: the differential is not linear in the variable", operation="nonlinear differential")
        i = idx[0]
        scalars = [a for j, a in enumerate(n.args) if j != i and is_scalar(a)]
        chain = [a for a in n.args if not is_scalar(a)]
        f = n.args[i]
        if is_scalar(f):
            return i, scalars, [], chain
        j = next(k for k, a in enumerate(chain) if a is f)
        return i, scalars, chain[:j], chain[j + 1:]


def kron_moved(lin: Linear, n: Mul) -> Node | None:
    """The product n with dX moved out of a Kronecker factor, where an identity allows it:
    P (A ⊗ dv) q R = P ((A q) ⊗ I) dv R, as (A ⊗ v)(q ⊗ 1) = A q ⊗ v (v, q columns; likewise
    dv ⊗ B); P (A ⊗ dvᵀ) ∇²g(u) w R = P (A ⊗ wᵀ) ∇²g(u) dv R, the blocks ∇²g_k(u) of the
    stacked Hessians being symmetric (dJ_g(u) = (I ⊗ duᵀ) ∇²g(u) comes out as Σ_k c_k ∇²g_k du
    = (cᵀ ⊗ I) ∇²g(u) du). None when neither applies."""
    i, scalars, before, after = lin.split(n)
    f = n.args[i]
    if not isinstance(f, Kron) or not after:
        return None
    a, b = f.left, f.right
    q = after[0]
    if is_column(q) and q.shape[1] == 1:
        if is_column(b) and lin.dep(b) and not lin.dep(a):
            c, k = mul(a, q), b.shape[0]
            h = before[-1].arg if before and isinstance(before[-1], Transpose) else None
            if isinstance(h, Apply) and h.order == 2 and not h.scalar_valued and h.shape[1] == k:
                # ∇²g(u)ᵀ (c ⊗ I) = Σ_k c_k ∇²g_k(u)ᵀ = (cᵀ ⊗ I) ∇²g(u): the blocks are symmetric
                return mul(*scalars, *before[:-1], kron(transpose(c), identity(k)), h, b, *after[1:])
            return mul(*scalars, *before, kron(c, identity(k)), b, *after[1:])
        if is_column(a) and lin.dep(a) and not lin.dep(b):
            return mul(*scalars, *before, kron(identity(a.shape[0]), mul(b, q)), a, *after[1:])
    if isinstance(q, Apply) and q.order == 2 and not q.scalar_valued and len(after) > 1 and \
            is_column(after[1]) and is_row(b) and lin.dep(b) and not lin.dep(a) and \
            b.shape[1] == q.shape[1] == after[1].shape[0]:
        return mul(*scalars, *before, kron(a, transpose(after[1])), q, transpose(b), *after[2:])
    return None


# ---- ADJOINT: f scalar, G with df = tr(Gᵀ dX) -------------------------------------------------
ADJOINT: dict[type, Callable] = {}


def adjoint_rule(*classes):
    def register(f):
        for c in classes:
            ADJOINT[c] = f
        return f
    return register


def adjoint(lin: Linear, n: Node, g: Node) -> Node:
    """The cotangent of dX given the cotangent g of the linear node n (None: no part of it
    yet; a shared subterm's cotangent waits in lin.pending for `backprop`)."""
    if not lin.dep(n):
        return None
    if n in lin.shared:
        lin.pending.setdefault(n, []).append(g)
        return None
    return push(lin, n, g)


def push(lin: Linear, n: Node, g: Node) -> Node:
    r = ADJOINT.get(type(n))
    if r is None:
        raise DiffError(f"cannot write the gradient through {type(n).__name__.lower()} in matrix form", n.span,
                        operation=f"gradient through {type(n).__name__}")
    return r(lin, n, g)


def backprop(var: str, df: Node, g: Node) -> Node | None:
    """The cotangent of dX given the cotangent g of df, in reverse mode: df is a graph (the
    differential of h2 = h1 + f(W2 h1) holds dh1 twice), so a subterm held in several
    places gathers the sum of its cotangents and is pushed on once, after every term that
    holds it (larger terms first), instead of once per copy."""
    lin = Linear(var)
    lin.shared = shared_terms(lin, df)
    parts = [adjoint(lin, df, g)]
    sizes: dict[Node, int] = {}
    for s in sorted(lin.shared, key=lambda m: -tree_size(m, sizes)):
        gs = lin.pending.pop(s, None)
        if gs:
            parts.append(push(lin, s, add(*gs)))
    return adjoint_sum(lin, parts)


def shared_terms(lin: Linear, df: Node) -> frozenset:
    """The compound subterms of df (holding dX) that occur under more than one parent."""
    count: dict[Node, int] = {}
    seen: set[Node] = set()
    todo = [df]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        for c in children(n):
            if lin.dep(c):
                count[c] = count.get(c, 0) + 1
                todo.append(c)
    return frozenset(n for n, k in count.items() if k > 1 and not isinstance(n, Delta) and children(n))


def tree_size(n: Node, memo: dict) -> int:
    """Nodes of n counted as a tree: a term is larger than every term inside it."""
    hit = memo.get(n)
    if hit is None:
        hit = memo[n] = 1 + sum(tree_size(c, memo) for c in children(n))
    return hit


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
    moved = kron_moved(lin, n)
    if moved is not None:
        return adjoint(lin, moved, g)
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
        raise DiffError("internal: the differential is not linear in the variable", operation="nonlinear differential")
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


@adjoint_rule(HCat)
def a_hcat(lin, n, g):
    """tr(Gᵀ [A, B]) = tr((G S_A)ᵀ A) + tr((G S_B)ᵀ B), S_A = [I; 0] selecting A's columns"""
    widths = [a.shape[1] for a in n.args]
    parts = []
    for i, a in enumerate(n.args):
        blocks = [identity(w) if j == i else zero((widths[i], w)) for j, w in enumerate(widths)]
        parts.append(adjoint(lin, a, mul(g, transpose(hcat(*blocks)))))
    return adjoint_sum(lin, parts)


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
    p, q = shape                                           # column j of M is (e_jᵀ ⊗ I_p) g
    return mul(kron(transpose(vec(identity(q))), identity(p)), kron(identity(q), g))


@adjoint_rule(Kron)
def a_kron(lin, n, g):
    """A ⊗ dB with A a vector: dB's cotangent is (Aᵀ ⊗ I) G or G (Aᵀ ⊗ I); likewise dA ⊗ B.
    A (m×n) ⊗ dB (p×q) of matrices: tr(Gᵀ (A ⊗ dB)) = Σ_ac A_ac tr(G_acᵀ dB) over G's p×q blocks,
    the partial trace tr₁(G (Aᵀ ⊗ I_q)); dA ⊗ B likewise gives tr₂(G (I_n ⊗ Bᵀ)). A cotangent
    G₁ ⊗ G₂ splits: tr((G₁ ⊗ G₂)ᵀ (A ⊗ dB)) = tr(G₁ᵀ A) tr(G₂ᵀ dB)."""
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
    (m, nn), (p, q) = a.shape, b.shape
    split = kron_factors(g, a.shape, b.shape)
    if lin.dep(b):
        if split is not None:
            s, g1, g2 = split
            return adjoint(lin, b, mul(*s, sum_(hadamard(g1, a)), g2))
        return adjoint(lin, b, partial_trace_outer(mul(g, kron(transpose(a), identity(q))), m, p, q))
    if split is not None:
        s, g1, g2 = split
        return adjoint(lin, a, mul(*s, sum_(hadamard(g2, b)), g1))
    return adjoint(lin, a, partial_trace_inner(mul(g, kron(identity(nn), transpose(b))), m, nn, p))


def kron_factors(g: Node, ashape, bshape):
    """g as (scalars, G₁, G₂) with g = scalars · G₁ ⊗ G₂, G₁ of A's shape and G₂ of B's; or None."""
    if isinstance(g, Kron) and g.left.shape == ashape and g.right.shape == bshape:
        return [], g.left, g.right
    if isinstance(g, Transpose) and isinstance(g.arg, Kron):
        return kron_factors(kron(transpose(g.arg.left), transpose(g.arg.right)), ashape, bshape)
    if isinstance(g, Ones):
        return [], ones(ashape), ones(bshape)
    if isinstance(g, Mul):
        scal = [f for f in g.args if is_scalar(f)]
        chain = [f for f in g.args if not is_scalar(f)]
        inner = kron_factors(chain[0], ashape, bshape) if len(chain) == 1 else None
        if inner is not None:
            return scal + inner[0], inner[1], inner[2]
    return None


def partial_trace_outer(M: Node, m, p, q) -> Node:
    """Σ_a (e_aᵀ ⊗ I_p) M (e_a ⊗ I_q) for M of (m p)×(m q) = (vec(I_m)ᵀ ⊗ I_p)(I_m ⊗ M)(vec(I_m) ⊗ I_q)."""
    v = vec(identity(m))
    return mul(kron(transpose(v), identity(p)), kron(identity(m), M), kron(v, identity(q)))


def partial_trace_inner(M: Node, m, n, p) -> Node:
    """Σ_k (I_m ⊗ e_kᵀ) M (I_n ⊗ e_k) for M of (m p)×(n p) = (I_m ⊗ vec(I_p)ᵀ)(M ⊗ I_p)(I_n ⊗ vec(I_p))."""
    v = vec(identity(p))
    return mul(kron(identity(m), transpose(v)), kron(M, identity(p)), kron(identity(n), v))


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
        raise DiffError(f"cannot write the derivative through {type(n).__name__.lower()} as a matrix", n.span,
                        operation=f"Jacobian through {type(n).__name__}")
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
    moved = kron_moved(lin, n)
    if moved is not None:
        return jac(lin, moved, nx)
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


@jacobian_rule(HCat)
def j_hcat(lin, n, nx):
    """vec([A, B]) = [vec A; vec B]: the blocks' Jacobians stacked, [J_Aᵀ, J_Bᵀ]ᵀ"""
    return transpose(hcat(*[transpose(jac(lin, a, nx)) for a in n.args]))


@jacobian_rule(Vec)
def j_vec(lin, n, nx):
    return jac(lin, n.arg, nx)


def diagonal_selector(n) -> Node:
    """W (n²×n) = (𝟏 ⊗ I) ∘ (I ⊗ 𝟏): vec(diag(v)) = W v and diag(M) = Wᵀ vec(M); column k of
    W is vec(e_k e_kᵀ)."""
    return hadamard(kron(ones((n, 1)), identity(n)), kron(identity(n), ones((n, 1))))


def commutation(m, n) -> Node:
    """K_(m,n), which is I when A (m×n) is a vector."""
    if m == 1 or n == 1:
        return identity(dim_product((m, n)))
    return Commutation(m, n, shape=(dim_product((m, n)), dim_product((m, n))))


@jacobian_rule(Diag)
def j_diag(lin, n, nx):
    """vec(diag(dv)) = W dv;  diag(dM) = Wᵀ vec(dM) (W = diagonal_selector)"""
    a = n.arg
    if is_column(a):
        return mul(diagonal_selector(a.shape[0]), jac(lin, a, nx))
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
    return mul(transpose(diagonal_selector(a.shape[0])), jac(lin, a, nx))


@jacobian_rule(Kron)
def j_kron(lin, n, nx):
    """vec(A ⊗ B) = (I_n ⊗ K_(q,m) ⊗ I_p)(vec A ⊗ vec B) for A m×n, B p×q (Magnus–Neudecker):
    vec(dA ⊗ B) = R (I_mn ⊗ vec B) vec dA, vec(A ⊗ dB) = R (vec A ⊗ I_pq) vec dB"""
    a, b = n.left, n.right
    if is_column(a) and is_column(b):
        if lin.dep(b) and not lin.dep(a):
            return mul(kron(a, identity(b.shape[0])), jac(lin, b, nx))
        if lin.dep(a) and not lin.dep(b):
            return mul(kron(identity(a.shape[0]), b), jac(lin, a, nx))
    (m, nn), (p, q) = a.shape, b.shape
    R = kron(kron(identity(nn), commutation(q, m)), identity(p))
    if lin.dep(a):
        return mul(R, kron(identity(dim_product((m, nn))), vec(b)), jac(lin, a, nx))
    return mul(R, kron(vec(a), identity(dim_product((p, q)))), jac(lin, b, nx))


def differential(f: Node, var: str, shape, symmetric: bool = False) -> Node:
    d = Differentiator(var, shape, symmetric)
    return simplify(d(f))
