"""Index notation for order-3 and order-4 derivatives: ∂(A X B)_ij/∂X_kl = A_ik B_lj.

`entries(node, r, c)` writes entry (r, c) of a linear expression in dX as a sum of terms,
each a list of indexed factors times dX_ab; the engine then renames a → k, b → l (or
writes a Kronecker delta when a is an outer index), and contracts summed indices that
chain two factors: P_ia Q_aj → (P Q)_ij."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

from ..errors import DiffError
from ..nodes import Delta, Identity, Node, Num, Sym, Transpose, walk
from ..simplify import expand, is_scalar, mul, simplify, transpose


@dataclass(frozen=True)
class Factor:
    node: Node | None          # None for a Kronecker delta
    idx: tuple                 # index names (None where the dimension is 1)
    divide: bool = False


@dataclass
class Term:
    factors: list
    d: tuple                   # the indices of dX


class Indexer:
    def __init__(self):
        self.fresh = itertools.chain("abcdefghmnopqrstuvw", (f"z{i}" for i in itertools.count(1)))
        self.splits: dict[str, tuple] = {}     # an index of A ⊗ B split in two: i → (i1, i2, size of i2)

    def split(self, r, outer_size, inner_size):
        """(A ⊗ B)_rc = A_(r1 c1) B_(r2 c2) with r = (r1 − 1)·inner + r2; a dimension 1 needs no index."""
        if r is None:
            return None, None
        if outer_size == 1:
            return None, r
        if inner_size == 1:
            return r, None
        parts = self.splits.get(r)
        if parts is None:
            parts = (f"{r}1", f"{r}2", inner_size)
            self.splits[r] = parts
        return parts[0], parts[1]

    def new(self):
        return next(self.fresh)

    def entries(self, n: Node, r, c) -> list[Term]:
        method = getattr(self, f"e_{type(n).__name__}", None)
        if method is None:
            raise DiffError(f"no index form for {type(n).__name__.lower()}; use --flatten",
                            operation=f"index form of {type(n).__name__}")
        return method(n, r, c)

    def e_Delta(self, n, r, c):
        return [Term([], (r, c))]

    def e_Transpose(self, n, r, c):
        return self.entries(n.arg, c, r)

    def e_Add(self, n, r, c):
        return [t for a in n.args for t in self.entries(a, r, c)]

    def e_Mul(self, n, r, c):
        dep = [i for i, a in enumerate(n.args) if has_delta(a)]
        if len(dep) != 1:
            raise DiffError("no index form for this product; use --flatten", operation="index form of a product")
        f = n.args[dep[0]]
        scalars = [a for i, a in enumerate(n.args) if i != dep[0] and is_scalar(a)]
        chain = [a for a in n.args if not is_scalar(a)]
        lead = [Factor(s, ()) for s in scalars]
        if is_scalar(f):
            rest = mul(*chain) if chain else None
            extra = [Factor(rest, (r, c))] if rest is not None else []
            return [Term(lead + extra + t.factors, t.d) for t in self.entries(f, None, None)]
        j = next(k for k, a in enumerate(chain) if a is f)
        before, after = chain[:j], chain[j + 1:]
        a = self.new() if before and f.shape[0] != 1 else (r if not before else None)
        b = self.new() if after and f.shape[1] != 1 else (c if not after else None)
        pre = [Factor(mul(*before), (r, a))] if before else []
        post = [Factor(mul(*after), (b, c))] if after else []
        return [Term(lead + pre + post + t.factors, t.d) for t in self.entries(f, a, b)]

    def e_Hadamard(self, n, r, c):
        dep, other = (n.left, n.right) if has_delta(n.left) else (n.right, n.left)
        return [Term([Factor(other, (r, c))] + t.factors, t.d) for t in self.entries(dep, r, c)]

    def e_HadDiv(self, n, r, c):
        return [Term([Factor(n.right, (r, c), divide=True)] + t.factors, t.d) for t in self.entries(n.left, r, c)]

    def e_Kron(self, n, r, c):
        """(A ⊗ B)_(r1 r2)(c1 c2) = A_(r1 c1) B_(r2 c2)"""
        (m, nn), (p, q) = n.left.shape, n.right.shape
        r1, r2 = self.split(r, m, p)
        c1, c2 = self.split(c, nn, q)
        def factor(node, idx):              # I_rc is δ_rc
            return Factor(None if isinstance(node, Identity) else node, idx)
        if has_delta(n.left):
            return [Term([factor(n.right, (r2, c2))] + t.factors, t.d) for t in self.entries(n.left, r1, c1)]
        return [Term([factor(n.left, (r1, c1))] + t.factors, t.d) for t in self.entries(n.right, r2, c2)]

    def e_Trace(self, n, r, c):
        a = self.new()
        return self.entries(n.arg, a, a)

    def e_Diag(self, n, r, c):
        if n.arg.shape[1] == 1:                       # diag(v)_rc = δ_rc v_r
            return [Term([Factor(None, (r, c))] + t.factors, t.d) for t in self.entries(n.arg, r, None)]
        return self.entries(n.arg, r, r)


def has_delta(n: Node) -> bool:
    return any(isinstance(m, Delta) for m in walk(n))


def finish(term: Term, outer: set, k, l) -> list[Factor]:
    """Rename dX's indices to k, l (or add δ where an index is outer), then contract."""
    rename = {}
    factors = list(term.factors)
    for have, want in zip(term.d, (k, l)):
        if want is None or have is None:
            continue
        if have in rename:
            factors.append(Factor(None, (rename[have], want)))
        elif have in outer:
            factors.append(Factor(None, (have, want)))
        else:
            rename[have] = want
    factors = [Factor(f.node, tuple(rename.get(i, i) for i in f.idx), f.divide) for f in factors]
    return contract(factors, outer | {k, l})


def contract(factors: list[Factor], keep: set) -> list[Factor]:
    """P_xa Q_ay → (P Q)_xy and δ_xa F_..a.. → F_..x.. for a summed index a."""
    changed = True
    while changed:
        changed = False
        for i, f in enumerate(factors):
            if f.node is None and len(f.idx) == 2:
                x, y = f.idx
                a, other = (y, x) if y not in keep else (x, y) if x not in keep else (None, None)
                if a is not None:
                    factors = [Factor(g.node, tuple(other if j == a else j for j in g.idx), g.divide)
                               for k2, g in enumerate(factors) if k2 != i]
                    changed = True
                    break
        if changed:
            continue
        for i, f in enumerate(factors):
            for j, g in enumerate(factors):
                if i == j or f.node is None or g.node is None or f.divide or g.divide:
                    continue
                if len(f.idx) == 2 and len(g.idx) == 2 and f.idx[1] == g.idx[0] and f.idx[1] not in keep \
                        and f.idx[1] is not None and sum(f.idx[1] in h.idx for h in factors) == 2:
                    merged = Factor(simplify(mul(f.node, g.node)), (f.idx[0], g.idx[1]))
                    factors = [h for k2, h in enumerate(factors) if k2 not in (i, j)] + [merged]
                    changed = True
                    break
                if len(f.idx) == 2 and len(g.idx) == 2 and f.idx[0] == g.idx[0] and f.idx[0] not in keep \
                        and f.idx[0] is not None and sum(f.idx[0] in h.idx for h in factors) == 2:
                    merged = Factor(simplify(mul(transpose(f.node), g.node)), (f.idx[1], g.idx[1]))
                    factors = [h for k2, h in enumerate(factors) if k2 not in (i, j)] + [merged]
                    changed = True
                    break
            if changed:
                break
    return factors


def summed(factors: list[Factor], keep: set) -> list[str]:
    seen = []
    for f in factors:
        for i in f.idx:
            if i is not None and i not in keep and i not in seen:
                seen.append(i)
    return seen


def index_form(df: Node, fshape, xshape):
    """(terms, f indices, x indices): each term a list of Factors; raises DiffError if none."""
    lin = expand(df)
    fv = fshape[1] == 1 or fshape[0] == 1
    xv = xshape[1] == 1
    r, c = ("i", None) if fv else ("i", "j")
    if fshape[0] == 1 and fshape[1] != 1:
        r, c = None, "i"
    k, l = ("k", None) if xv else ("k", "l")
    ix = Indexer()
    terms = ix.entries(lin, r, c)
    outer = {x for x in (r, c) if x is not None} | {p for s in ix.splits.values() for p in s[:2]}
    done = [finish(t, outer, k, l) for t in terms]
    return done, [x for x in (r, c) if x], [x for x in (k, l) if x], ix.splits


# ---- rendering ---------------------------------------------------------------------------------
def factor_text(f: Factor, render, wrap, sub) -> str:
    idx = "".join(i for i in f.idx if i is not None)
    if f.node is None:
        return f"δ{sub(idx)}"
    node = f.node
    if isinstance(node, Transpose) and isinstance(node.arg, Sym) and len(f.idx) == 2:
        node, idx = node.arg, "".join(i for i in reversed(f.idx) if i is not None)
    text = render(node)
    if idx and not isinstance(node, Sym):
        text = wrap(text)
    return text + (sub(idx) if idx else "")


def terms_text(terms, keep, render, wrap, sub, sigma, times=" ", number=str) -> str:
    out = []
    for factors in terms:
        coef = Fraction(1)
        rest = []
        for f in factors:
            if isinstance(f.node, Num) and not f.idx:
                coef = coef / f.node.value if f.divide else coef * f.node.value
            else:
                rest.append(f)
        num = [f for f in rest if not f.divide]
        den = [f for f in rest if f.divide]
        body = times.join(factor_text(f, render, wrap, sub) for f in num)
        if abs(coef) != 1 or not body:
            body = (number(abs(coef)) + (times + body if body else "")).strip()
        if den:
            body += " / " + times.join(factor_text(f, render, wrap, sub) for f in den)
        s = summed(rest, keep)
        body = (sigma(s) + body) if s else body
        out.append((coef < 0, body))
    if not out:
        return "0"
    text = ("-" if out[0][0] else "") + out[0][1]
    for negative, body in out[1:]:
        text += (" - " if negative else " + ") + body
    return text
