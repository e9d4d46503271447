"""Random inputs for mcalc: well-typed formulas and fuzz inputs, and the checks they must pass.

Both generators are plain functions of a `random.Random`, so the hypothesis strategies
(tests/test_random_formulas.py, tests/test_fuzz.py) and the soak script (scripts/soak.py)
draw from one generator:

- `random_formula(rng)` → a `Formula`: the text of a WELL-TYPED formula over the whole
  language (products, sums, scaling, transposes, inverses, traces, det/logdet, norms,
  Hadamard products and quotients, Kronecker products of vectors, elementwise functions
  on their domains, bindings, symmetric declarations), its declarations (inline or in
  `where`) and a variable that occurs in it. Expressions are built top-down by target
  shape, so every formula is well typed by construction. Whatever needs a domain is
  built so that the data `mcalc.verify` draws lies in it: under log/sqrt every symbol
  is drawn positive, so their arguments are sums/products of symbols and of exp(...);
  under inv/det/logdet square symbols are drawn as I + small noise, so their arguments
  are products, sums and inverses of such matrices; denominators are exp(...),
  sigmoid(...), 1 + s^2 or constants; exp takes bounded arguments (no overflow).
- `random_fuzz(rng)` → a list of command-line arguments for the CLI: random text,
  random Unicode, control characters, grammar-aware mutations of valid formulas
  (deleted, doubled, swapped tokens, swapped operators, huge numbers, deep nesting,
  oversized input), odd declarations and odd options.

`check_formula` and `check_cli` are the properties (one place for the tests and the soak).
"""
from __future__ import annotations

import random
import re
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

S = (1, 1)          # the shape of a scalar
LAYOUTS = ("mixed", "numerator", "denominator")

# ---- names -------------------------------------------------------------------------------
DIM_NAMES = ("n", "m", "p")
DIM_INTS = ("2", "3", "4")
# (declared spelling, other spellings of the same symbol)
SCALAR_NAMES = [("s", ()), ("t", ()), ("alpha", ("α",)), ("λ", ("lambda",)), ("σ", ("sigma",)),
                ("beta", ()), ("c_1", ()), ("gamma", ("γ",))]
VECTOR_NAMES = [("x", ()), ("y", ()), ("z", ()), ("u", ()), ("v", ()), ("w", ()), ("a", ()), ("b", ()),
                ("x_1", ()), ("b1", ()), ("y_hat", ()), ("mu", ("μ",))]
MATRIX_NAMES = [("A", ()), ("B", ()), ("C", ()), ("X", ()), ("Y", ()), ("W", ()), ("W1", ()),
                ("X_train", ()), ("M", ()), ("Q", ()), ("Sigma", ("Σ",)), ("P", ())]
BOUND_NAMES = ["h", "g", "q", "r", "k", "G", "H", "U", "V", "z2"]
FUNCTION_NAMES = ["f", "L", "loss", "F"]

SMOOTH = ("exp", "sin", "cos", "tanh", "sigmoid", "softplus")
BOUNDED = ("sin", "cos", "tanh", "sigmoid")

# precedence of what a piece of text is, as the grammar reads it
SUM, NEG, ELEM, PROD, FACTOR, POSTFIX, ATOM = range(7)


@dataclass(frozen=True)
class Piece:
    text: str
    prec: int
    syms: frozenset = frozenset()

    def at(self, level: int) -> str:
        """The text, parenthesized when it binds looser than `level` needs."""
        return self.text if self.prec >= level else f"({self.text})"


@dataclass(frozen=True)
class Formula:
    text: str                 # the input, with its inline declarations
    where: tuple = ()         # declarations passed as `where`
    where_as_string: bool = False
    decls: tuple = ()         # every declaration (inline and where), for re-parsing
    wrt: str = "x"
    kind: str = "scalar"      # the function's kind: scalar, vector, row, matrix
    order: int = 1            # 2: the Hessian (of a scalar; w.r.t. a joint tuple, in blocks)

    @property
    def where_arg(self):
        if not self.where:
            return None
        return "; ".join(self.where) if self.where_as_string else list(self.where)

    def __str__(self) -> str:
        w = f" --where {'; '.join(self.where)!r}" if self.where else ""
        o = f" --order {self.order}" if self.order != 1 else ""
        wrt = repr(self.wrt) if self.wrt.startswith("(") else self.wrt
        return f"mcalc diff {self.text!r} --wrt {wrt}{o}{w}"


@dataclass
class Symbol:
    name: str
    spellings: tuple
    shape: tuple
    symmetric: bool = False


class FormulaGen:
    """One formula: its dimensions, symbols and bindings, grown by target shape."""

    def __init__(self, rng: random.Random, depth: int | None = None, kind: str | None = None,
                 bindings: int | None = None):
        self.rng = rng
        self.kind = kind
        self.nbindings = bindings
        k = rng.choice((1, 2, 2, 3, 3))
        names = rng.sample(DIM_NAMES, k)
        # sometimes an integer dimension instead of a name
        self.dims = [rng.choice(DIM_INTS) if rng.random() < 0.2 else d for d in names]
        self.dims = list(dict.fromkeys(self.dims))
        self.symbols: dict[str, Symbol] = {}
        self.pools = {"scalar": list(SCALAR_NAMES), "vector": list(VECTOR_NAMES), "matrix": list(MATRIX_NAMES)}
        for pool in self.pools.values():
            rng.shuffle(pool)
        self.bound: list[tuple[str, tuple, frozenset]] = []
        self.lets: list[str] = []
        self.depth = depth if depth is not None else rng.choice((1, 2, 2, 3, 3, 3, 4))

    # ---- helpers --------------------------------------------------------------------------
    def dim(self) -> str:
        return self.rng.choice(self.dims)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options):
        """options: list of (weight, value)."""
        total = sum(w for w, _ in options)
        x = self.rng.random() * total
        for w, v in options:
            x -= w
            if x < 0:
                return v
        return options[-1][1]

    def symbol(self, shape: tuple, allow_bound: bool = True, fresh: float = 0.35) -> Piece:
        """A symbol (declared later) or a bound name of this shape."""
        if allow_bound:
            bound = [b for b in self.bound if b[1] == shape]
            if bound and self.chance(0.6):
                name, _, syms = self.rng.choice(bound)
                return Piece(name, ATOM, syms)
        same = [s for s in self.symbols.values() if s.shape == shape]
        if same and not self.chance(fresh):
            s = self.rng.choice(same)
        else:
            kind = "scalar" if shape == S else "vector" if shape[1] == 1 else "matrix"
            pool = self.pools[kind]
            if pool:
                name, others = pool.pop()
            else:           # out of names: a numbered one
                name, others = {"scalar": "s", "vector": "v", "matrix": "M"}[kind] + f"_{len(self.symbols)}", ()
            s = Symbol(name, others, shape,
                       symmetric=kind == "matrix" and shape[0] == shape[1] and self.chance(0.25))
            self.symbols[name] = s
        spelling = self.rng.choice((s.name,) + s.spellings) if s.spellings else s.name
        return Piece(spelling, ATOM, frozenset({s.name}))

    def number(self) -> Piece:
        return Piece(self.rng.choice(("2", "3", "0.5", "1e-1", "1.5", "4", "0.25")), ATOM)

    def transpose(self, p: Piece) -> Piece:
        how = self.rng.choice(("^T", "^T", "^T", "'", "^⊤", "^{T}", "ᵀ", "transpose"))
        if how == "transpose":
            return Piece(f"transpose({p.text})", ATOM, p.syms)
        return Piece(p.at(POSTFIX) + how, POSTFIX, p.syms)

    def call(self, fn: str, *args: Piece) -> Piece:
        return Piece(f"{fn}({', '.join(a.text for a in args)})", ATOM, frozenset().union(*(a.syms for a in args)))

    def binop(self, a: Piece, op: str, b: Piece) -> Piece:
        if op in ("+", "-"):
            return Piece(f"{a.at(SUM)} {op} {b.at(NEG)}", SUM, a.syms | b.syms)
        if op in (".*", "⊙", "∘", "./", "⊗"):
            return Piece(f"{a.at(ELEM)} {op} {b.at(PROD)}", ELEM, a.syms | b.syms)
        if op in ("", "*", "@", "/"):
            sep = " " if op == "" else f" {op} " if self.chance(0.7) else op
            return Piece(f"{a.at(PROD)}{sep}{b.at(FACTOR)}", PROD, a.syms | b.syms)
        raise ValueError(op)

    def matmul(self, a: Piece, b: Piece) -> Piece:
        return self.binop(a, self.pick([(8, ""), (1, "*"), (1, "@")]), b)

    def scale(self, c: Piece, a: Piece) -> Piece:
        """A scalar times something: `2 x`, `s A`, `t * x`, sometimes `x t`."""
        if self.chance(0.15) and c.prec == ATOM:
            return self.matmul(a, c)
        return self.matmul(c, a)

    def neg(self, a: Piece) -> Piece:
        return Piece("-" + a.at(NEG), NEG, a.syms)

    def power(self, a: Piece, e: str) -> Piece:
        return Piece(f"{a.at(POSTFIX)}^{e}", FACTOR, a.syms)

    def epow(self, a: Piece, e: str) -> Piece:
        return Piece(f"{a.at(POSTFIX)}.^{e}", FACTOR, a.syms)

    def paren(self, a: Piece) -> Piece:
        return Piece(f"{{{a.text}}}" if self.chance(0.2) else f"({a.text})", ATOM, a.syms)

    # ---- expressions by target shape ---------------------------------------------------------
    def expr(self, shape: tuple, d: int) -> Piece:
        if shape == S:
            p = self.scalar(d)
        elif shape[1] == 1:
            p = self.vector(shape[0], d)
        elif shape[0] == 1:
            p = self.transpose(self.vector(shape[1], d))
        else:
            p = self.matrix(shape[0], shape[1], d)
        if self.chance(0.03):
            p = self.paren(p)
        return p

    def scalar(self, d: int) -> Piece:
        if d <= 0:
            return self.pick([(6, lambda: self.symbol(S)), (2, lambda: self.inner(0)), (1, self.number),
                              (1, lambda: self.call("sum", self.symbol((self.dim(), 1)))),
                              (1, lambda: self.call(self.rng.choice(("tr", "Tr", "trace")), self.symbol((self.dim(),) * 2)))])()
        e = d - 1
        return self.pick([
            (3, lambda: self.binop(self.scalar(e), self.rng.choice("+-"), self.scalar(e))),
            (2, lambda: self.matmul(self.scalar(e), self.scalar(e))),
            (1, lambda: self.scale(self.number(), self.scalar(e))),
            (1, lambda: self.neg(self.scalar(e))),
            (1, lambda: self.binop(self.scalar(e), "/", self.positive_scalar(e))),
            (1, lambda: self.power(self.scalar(e), self.rng.choice(("2", "3", "{2}")))),
            (2, lambda: self.call(self.rng.choice(SMOOTH[1:]), self.scalar(e))),
            (1, lambda: self.call("exp", self.bounded_scalar(e))),
            (1, lambda: self.call(self.rng.choice(("log", "sqrt")), self.log_arg(S, e))),
            (1, lambda: self.power(self.paren(self.log_arg(S, e)), self.rng.choice(("(1/2)", "-1", "{-2}", "0.5")))),
            (4, lambda: self.inner(e)),
            (3, lambda: self.quadratic(e)),
            (2, lambda: self.call(self.rng.choice(("tr", "Tr", "trace")), self.square(e))),
            (2, lambda: self.call(self.rng.choice(("det", "logdet")), self.well_conditioned(self.dim(), e))),
            (3, lambda: self.norm(e)),
            (1, lambda: self.call("sum", self.expr(self.rng.choice(((self.dim(), 1), (self.dim(), self.dim()))), e))),
            (1, lambda: self.kron_scalar(e)),
            (1, lambda: self.kron_matrix_scalar(e)),
            (1, lambda: self.vec_scalar(e)),
            (1, lambda: self.dim_scale(e)),
        ])()

    def vector(self, n: str, d: int) -> Piece:
        if d <= 0:
            return self.pick([(8, lambda: self.symbol((n, 1))), (1, lambda: self.matmul(self.symbol((n, n)), self.symbol((n, 1))))])()
        e = d - 1
        return self.pick([
            (5, lambda: self.matvec(n, e)),
            (3, lambda: self.binop(self.vector(n, e), self.rng.choice("+-"), self.vector(n, e))),
            (2, lambda: self.scale(self.rng.choice((self.number, lambda: self.scalar(e)))(), self.vector(n, e))),
            (1, lambda: self.neg(self.vector(n, e))),
            (1, lambda: self.binop(self.vector(n, e), "/", self.positive_scalar(e))),
            (2, lambda: self.binop(self.vector(n, e), self.rng.choice((".*", ".*", "⊙", "∘")), self.vector(n, e))),
            (1, lambda: self.binop(self.vector(n, e), "./", self.positive(( n, 1), e))),
            (1, lambda: self.epow(self.vector(n, e), self.rng.choice(("2", "3")))),
            (2, lambda: self.call(self.rng.choice(SMOOTH[1:]), self.vector(n, e))),
            (1, lambda: self.call("exp", self.bounded((n, 1), e))),
            (1, lambda: self.call(self.rng.choice(("log", "sqrt")), self.log_arg((n, 1), e))),
            (1, lambda: self.call("diag", self.square(e, n))),
            (1, lambda: self.matmul(self.inverse(n, e), self.vector(n, e))),
            (1, lambda: self.binop(self.vector(n, e), "+", Piece("ones", ATOM))),
        ])()

    def matvec(self, n: str, e: int) -> Piece:
        k = self.dim()
        return self.matmul(self.matrix(n, k, e), self.vector(k, e))

    def matrix(self, r: str, c: str, d: int) -> Piece:
        if r == c:
            return self.square(d, r)
        if d <= 0:
            return self.pick([(8, lambda: self.symbol((r, c))), (1, lambda: self.matmul(self.symbol((r, 1)), self.transpose(self.symbol((c, 1)))))])()
        return self.pick(self.matrix_rules(r, c, d - 1))()

    def matrix_rules(self, r: str, c: str, e: int):
        k = self.dim()
        return [
            (5, lambda: self.matmul(self.matrix(r, k, e), self.matrix(k, c, e))),
            (3, lambda: self.binop(self.matrix(r, c, e), self.rng.choice("+-"), self.matrix(r, c, e))),
            (2, lambda: self.scale(self.rng.choice((self.number, lambda: self.scalar(e)))(), self.matrix(r, c, e))),
            (1, lambda: self.neg(self.matrix(r, c, e))),
            (1, lambda: self.binop(self.matrix(r, c, e), "/", self.positive_scalar(e))),
            (3, lambda: self.transpose(self.matrix(c, r, e))),
            (2, lambda: self.matmul(self.vector(r, e), self.transpose(self.vector(c, e)))),
            (2, lambda: self.binop(self.matrix(r, c, e), self.rng.choice((".*", "⊙")), self.matrix(r, c, e))),
            (1, lambda: self.binop(self.matrix(r, c, e), "./", self.positive((r, c), e))),
            (1, lambda: self.epow(self.matrix(r, c, e), "2")),
            (2, lambda: self.call(self.rng.choice(SMOOTH[1:]), self.matrix(r, c, e))),
            (1, lambda: self.call(self.rng.choice(("log", "sqrt")), self.log_arg((r, c), e))),
        ]

    def square(self, d: int, n: str | None = None) -> Piece:
        n = n or self.dim()
        if d <= 0:
            return self.pick([(8, lambda: self.symbol((n, n))), (1, lambda: self.matmul(self.symbol((n, 1)), self.transpose(self.symbol((n, 1)))))])()
        e = d - 1
        return self.pick(self.matrix_rules(n, n, e) + [
            (2, lambda: self.inverse(n, e)),
            (1, lambda: self.power(self.square(e, n), self.rng.choice(("2", "3")))),
            (1, lambda: self.call("diag", self.vector(n, e))),
            (1, lambda: self.binop(self.square(e, n), self.rng.choice("+-"), Piece("I", ATOM))),
            (1, lambda: self.scale(self.call("det", self.well_conditioned(n, e)), self.inverse(n, e))),
        ])()

    def inverse(self, n: str, e: int) -> Piece:
        a = self.well_conditioned(n, e)
        how = self.rng.choice(("^-1", "^-1", "^{-1}", "inv", "^-T", "^{-T}"))
        if how == "inv":
            return self.call("inv", a)
        if how in ("^-T", "^{-T}"):
            return Piece(a.at(POSTFIX) + how, POSTFIX, a.syms)
        return self.power(a, how[1:])

    def well_conditioned(self, n: str, d: int) -> Piece:
        """A square matrix mcalc.verify draws far from singular with positive determinant:
        its square symbols become I + small noise (positive definite symmetric part)."""
        leaf = lambda: self.symbol((n, n), allow_bound=False, fresh=0.5)
        if d <= 0:
            return leaf()
        e = d - 1
        return self.pick([
            (4, leaf),
            (2, lambda: self.transpose(self.well_conditioned(n, e))),
            (2, lambda: self.matmul(self.well_conditioned(n, e), self.well_conditioned(n, e))),
            (2, lambda: self.binop(self.well_conditioned(n, e), "+", self.well_conditioned(n, e))),
            (1, lambda: self.binop(self.well_conditioned(n, e), "+", self.matmul(self.symbol((n, 1), False), self.transpose(self.symbol((n, 1), False))))),
            (1, lambda: self.scale(self.rng.choice((Piece("2", ATOM), Piece("0.5", ATOM))), self.well_conditioned(n, e))),
            (1, lambda: self.inverse(n, e)),
        ])()

    def inner(self, e: int) -> Piece:
        n = self.dim()
        return self.matmul(self.transpose(self.vector(n, e)), self.vector(n, e))

    def quadratic(self, e: int) -> Piece:
        n, m = self.dim(), self.dim()
        return self.matmul(self.matmul(self.transpose(self.vector(n, e)), self.matrix(n, m, e)), self.vector(m, e))

    def norm(self, e: int) -> Piece:
        vec = self.chance(0.6)
        arg = self.vector(self.dim(), e) if vec else self.matrix(self.dim(), self.dim(), e)
        if "|" in arg.text or "‖" in arg.text:      # bars do not nest: `||a ||b|| ||` is ambiguous
            return Piece(f"norm({arg.text})", ATOM, arg.syms) if self.chance(0.5) else \
                self.power(Piece(f"norm({arg.text})", ATOM, arg.syms), "2")
        open_, close = self.rng.choice((("||", "||"), ("‖", "‖")))
        if vec:
            sub = self.rng.choice(("", "", "^2", "^2", "_2", "_1", "_{2}", "_2^2", "call"))
        else:
            sub = self.rng.choice(("_F", "_F", "^2", "_F^2", "", "_{F}", "_F", "call"))
        if sub == "call":
            return self.call("norm", arg)
        if sub.endswith("^2"):
            return Piece(f"{open_}{arg.text}{close}{sub[:-2]}^2", FACTOR, arg.syms)
        return Piece(f"{open_}{arg.text}{close}{sub}", ATOM, arg.syms)

    def kron_scalar(self, e: int) -> Piece:
        n, m = self.dim(), self.dim()
        u, v = self.vector(n, e), self.vector(m, e)
        k = self.call("kron", u, v) if self.chance(0.5) else Piece(f"{u.at(ELEM)} ⊗ {v.at(PROD)}", ELEM, u.syms | v.syms)
        return self.pick([
            (2, lambda: self.call("sum", k)),
            (2, lambda: Piece(f"||{k.text}||^2", FACTOR, k.syms) if "|" not in k.text and "‖" not in k.text else self.call("sum", k)),
            (2, lambda: self.matmul(self.transpose(k), self.call("kron", self.vector(n, e), self.vector(m, e)))),
            # vec(M) for M: m×n stacks the columns of M, as x ⊗ y = vec(y xᵀ)
            (2, lambda: self.matmul(self.transpose(k), self.call("vec", self.matrix(m, n, e)))),
            # M: n×m has as many entries (n·m = m·n), laid out differently: well typed too
            (1, lambda: self.matmul(self.transpose(k), self.call("vec", self.matrix(n, m, e)))),
            (1, lambda: self.call("tr", self.call("kron", self.square(e, n), self.square(e, m)))),
        ])()

    def kron_matrix_scalar(self, e: int) -> Piece:
        """Scalars through a Kronecker product of matrices (issue 16: sum((A B) ⊗ (C .* D)))."""
        a, b, c, d = self.dim(), self.dim(), self.dim(), self.dim()
        left, right = self.matrix(a, b, e), self.matrix(c, d, e)
        k = self.call("kron", left, right) if self.chance(0.5) else \
            Piece(f"{left.at(ELEM)} ⊗ {right.at(PROD)}", ELEM, left.syms | right.syms)
        return self.pick([
            (2, lambda: self.call("sum", k)),
            (1, lambda: Piece(f"||{k.text}||_F^2", FACTOR, k.syms) if "|" not in k.text and "‖" not in k.text else self.call("sum", k)),
            (1, lambda: self.call("tr", self.call("kron", self.square(e, a), self.square(e, c)))),
            (1, lambda: self.call("sum", self.binop(k, ".*", self.call("kron", self.matrix(a, b, e), self.matrix(c, d, e))))),
        ])()

    def vec_scalar(self, e: int) -> Piece:
        """Scalars through vec and the diagonal of a matrix (issue 16)."""
        r, c = self.dim(), self.dim()
        return self.pick([
            (2, lambda: self.matmul(self.transpose(self.call("vec", self.matrix(r, c, e))), self.call("vec", self.matrix(r, c, e)))),
            (1, lambda: self.call("sum", self.call("exp", self.call("vec", self.bounded((r, c), e))))),
            (2, lambda: self.matmul(self.transpose(self.vector(r, e)), self.call("diag", self.square(e, r)))),
        ])()

    def dim_scale(self, e: int) -> Piece:
        names = [d for d in self.dims if not d.isdigit()]
        if not names:
            return self.scalar(e)
        return self.binop(Piece(f"1/{self.rng.choice(names)}", PROD), "", self.scalar(e))

    # ---- domains ----------------------------------------------------------------------
    def positive_scalar(self, e: int) -> Piece:
        """Positive whatever the data, and not tiny: a denominator. (1/sigmoid(u) grows like
        exp(-u): a denominator sigmoid(x^3) makes values so large that finite differences
        cannot check the derivative in double precision.)"""
        return self.pick([
            (2, self.number),
            (2, lambda: self.call("exp", self.gentle(S, e))),
            (1, lambda: self.call("sigmoid", self.gentle(S, e))),
            (2, lambda: self.paren(self.binop(Piece("1", ATOM), "+", self.power(self.scalar(e), "2")))),
            (1, lambda: Piece(self.rng.choice([d for d in self.dims if not d.isdigit()] or ["2"]), ATOM)),
        ])()

    def positive(self, shape: tuple, e: int) -> Piece:
        """Positive entries whatever the data, and not tiny: an elementwise denominator."""
        return self.pick([
            (3, lambda: self.call("exp", self.gentle(shape, e))),
            (1, lambda: self.call("sigmoid", self.gentle(shape, e))),
            (1, lambda: self.paren(self.binop(Piece("ones" if shape[1] == 1 else "ones ones^T", PROD), "+",
                                              self.epow(self.expr(shape, e), "2")))),
        ])()

    def gentle(self, shape: tuple, e: int) -> Piece:
        """Entries in [-1, 1] or of a symbol's size (|x| < 4 or so)."""
        return self.pick([
            (3, lambda: self.call(self.rng.choice(BOUNDED), self.expr(shape, e))),
            (1, lambda: self.symbol(shape, allow_bound=False)),
        ])()

    def bounded_scalar(self, e: int) -> Piece:
        return self.bounded(S, e)

    def bounded(self, shape: tuple, e: int) -> Piece:
        """Something of modest size: the argument of exp."""
        return self.pick([
            (3, lambda: self.call(self.rng.choice(BOUNDED), self.expr(shape, e))),
            (2, lambda: self.symbol(shape, allow_bound=False)),
            (1, lambda: self.neg(self.epow(self.symbol(shape, allow_bound=False), "2"))),
        ])()

    def log_arg(self, shape: tuple, e: int) -> Piece:
        """Positive when every symbol in it is (mcalc.verify draws symbols under log and
        sqrt positive): symbols, sums and products of such, exp(...)."""
        def pos(shape, e):
            if e <= 0 or self.chance(0.4):
                return self.pick([(4, lambda: self.symbol(shape, allow_bound=False)),
                                  (1, lambda: self.call("exp", self.bounded(shape, 0)))])()
            f = e - 1
            options = [
                (2, lambda: self.binop(pos(shape, f), "+", pos(shape, f))),
                (2, lambda: self.binop(pos(shape, f), self.rng.choice((".*", "./")), pos(shape, f))),
                (1, lambda: self.call("exp", self.bounded(shape, f))),
                (1, lambda: self.call("sigmoid", self.expr(shape, f))),
                (1, lambda: self.scale(self.number(), pos(shape, f))),
            ]
            if shape == S:
                k = self.dim()
                options += [(2, lambda: self.matmul(self.transpose(pos((k, 1), f)), pos((k, 1), f))),
                            (1, lambda: self.call("sum", pos((k, 1), f))),
                            (1, lambda: self.matmul(pos(S, f), pos(S, f)))]
            elif shape[1] == 1:
                k = self.dim()
                options += [(2, lambda: self.matmul(pos((shape[0], k), f), pos((k, 1), f)))]
            else:
                options += [(1, lambda: self.transpose(pos((shape[1], shape[0]), f)))]
            return self.pick(options)()
        return pos(shape, e)

    # ---- the whole formula ----------------------------------------------------------------
    def function_shape(self) -> tuple[str, tuple]:
        kind = self.kind or self.pick([(78, "scalar"), (11, "vector"), (8, "matrix"), (3, "row")])
        n, m = self.dim(), self.dim()
        return kind, {"scalar": S, "vector": (n, 1), "matrix": (n, m), "row": (1, n)}[kind]

    def build(self) -> Formula:
        rng = self.rng
        nb = self.nbindings if self.nbindings is not None else self.pick([(70, 0), (20, 1), (10, 2)])
        for _ in range(nb):
            shape = self.pick([(3, S), (4, (self.dim(), 1)), (2, (self.dim(), self.dim()))])
            value = self.expr(shape, max(0, self.depth - 1))
            name = rng.choice([b for b in BOUND_NAMES if b not in {x[0] for x in self.bound}])
            self.bound.append((name, shape, value.syms))
            self.lets.append(f"{name} = {value.text}")
        kind, shape = self.function_shape()
        body = self.expr(shape, self.depth)
        if kind == "matrix" and self.chance(0.15):       # a 4-index derivative through ⊗ (issue 16)
            e = max(0, self.depth - 1)
            body = self.call("kron", self.matrix(self.dim(), self.dim(), e), self.matrix(self.dim(), self.dim(), e))
        elif kind == "matrix" and self.chance(0.1):      # diag inside an order-3 result
            n = self.dim()
            body = self.matmul(self.matmul(self.matrix(shape[0], n, 0), self.call("diag", self.vector(n, max(0, self.depth - 1)))),
                               self.matrix(n, shape[1], 0))
        if not body.syms:   # a constant: add a symbol so that there is a variable
            body = self.binop(body, "+", self.symbol(shape, allow_bound=False))
        used = sorted(body.syms)
        lets = self.lets
        if lets and self.chance(0.5):
            statements = lets + [f"{rng.choice(FUNCTION_NAMES)} = {body.text}"]
        else:
            statements = lets + [body.text]
        wrt_sym = self.symbols[rng.choice(used)]
        wrt = rng.choice((wrt_sym.name,) + wrt_sym.spellings) if wrt_sym.spellings and self.chance(0.3) else wrt_sym.name
        plain = [u for u in used if not self.symbols[u].symmetric]
        order = 1
        # a joint tuple (issue 16): z = (x, y), stacked scalars, vectors and vec of matrices;
        # of a scalar, a third of them the Hessian in blocks (the mixed second derivatives)
        # (Hessians w.r.t. scalars and vectors only: finite differences of a gradient along the
        # p·q entries of each matrix cost more than a soak can spend on one formula)
        small = [u for u in plain if self.symbols[u].shape[1] == 1]
        if kind in ("scalar", "vector") and len(plain) >= 2 and self.chance(0.2):
            hessian = kind == "scalar" and len(small) >= 2 and self.chance(0.4)
            pool = small if hessian else plain
            wrt = "(" + ",".join(rng.sample(pool, 2 if len(pool) == 2 or self.chance(0.7) else 3)) + ")"
            order = 2 if hessian else 1
        elif kind == "scalar" and self.symbols[wrt_sym.name].shape[1] == 1 and self.chance(0.05):
            order = 2                                   # a Hessian w.r.t. one variable
        # declarations of every symbol, inline or in `where`
        decls, inline, where = [], [], []
        for s in self.symbols.values():
            decl = self.declaration(s)
            decls.append(decl)
            (where if self.chance(0.3) else inline).append(decl)
        sep = rng.choice(("; ", "; ", ";", "\n"))
        text = sep.join(inline + statements)
        return Formula(text, tuple(where), self.chance(0.5), tuple(decls), wrt, kind, order)

    def declaration(self, s: Symbol) -> str:
        R = "ℝ" if self.chance(0.1) else "R"
        if s.shape == S:
            return f"{s.name}: {R}"
        if s.shape[1] == 1:
            d = s.shape[0]
            return f"{s.name}: {R}^{d}" if self.chance(0.7) else f"{s.name}: {R}^({d})"
        r, c = s.shape
        form = self.rng.choice(("({r}×{c})", "({r}×{c})", "{{{r} x {c}}}", "({r},{c})", "({r} x {c})"))
        return f"{s.name}: {R}^" + form.format(r=r, c=c) + (" symmetric" if s.symmetric else "")


def random_formula(rng: random.Random, depth: int | None = None, kind: str | None = None,
                   bindings: int | None = None, max_depth: int = 4) -> Formula:
    """A random well-typed formula, its declarations and a variable occurring in it.
    depth: nesting budget (random up to max_depth when None); kind: the function's kind
    (scalar, vector, matrix, row; random, mostly scalar, when None); bindings: how many
    `name = ...` statements precede the function (random when None)."""
    if depth is None:
        depth = rng.choice([d for d in (1, 2, 2, 3, 3, 3, 4) if d <= max_depth] or [max_depth])
    if kind == "tensor-or-vector":
        kind = rng.choice(("vector", "vector", "matrix", "row"))
    return FormulaGen(rng, depth, kind, bindings).build()


def formulas(**kw):
    """The hypothesis strategy: random_formula driven by hypothesis' own random draws
    (so failures shrink and runs are reproducible)."""
    from hypothesis import strategies as st
    return st.builds(lambda rng: random_formula(rng, **kw), st.randoms(use_true_random=False))


def fuzz_inputs():
    """The hypothesis strategy of command lines for the CLI fuzzer."""
    from hypothesis import strategies as st
    return st.builds(random_fuzz, st.randoms(use_true_random=False))


# ---- fuzz inputs ------------------------------------------------------------------------------
ALPHABET = list("xyzAXBWstnmp ^'*@+-/.()[]{}|,;:=_0123456789eE\n\t#") + \
    ["R", "T", "×", "⊗", "⊙", "∘", "ᵀ", "⊤", "λ", "α", "𝟏", "‖", "ℝ", ".*", "./", ".^", "||", "^T", "^-1",
     "tr(", "det(", "logdet(", "inv(", "diag(", "sum(", "vec(", "kron(", "norm(", "exp(", "log(", "sqrt(",
     "abs(", "relu(", "sigmoid(", "I", "ones", "symmetric", "R^(n×n)", "R^n", "x: ", "A: "]
OPERATORS = ["+", "-", "*", "@", "/", ".*", "./", ".^", "⊗", "⊙", "∘", "^", "'", "^T", "^-1", "^-T", "=", ";", ",", ":", "||", "‖"]
TOKEN_RE = re.compile(r"\d+\.?\d*(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|\|\||\.\*|\./|\.\^|\^\{?-?T\}?|\^-1|\S")
HUGE = ["1e999", "9" * 70, "1e-400", "0", "0.0", "1e308", "123456789012345678901234567890", "1/0", "0/0",
        "2^1000000", "x.^1e10", "A^99999", "A^-33", "s^(1/0)", "s^(10000001)", "R^99999999999", ".5e+07"]
CONTROL = [chr(c) for c in range(0, 32)] + ["\x7f", "\x85", "\u2028", "\u200b", "\ufeff", "\u202e", "\ud800", "\udcff"]


def random_unicode(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            out.append(chr(rng.randrange(0x20, 0x7f)))
        elif r < 0.5:
            out.append(chr(rng.randrange(0x80, 0x3000)))
        elif r < 0.6:
            out.append(rng.choice(CONTROL))
        elif r < 0.7:
            out.append(chr(rng.randrange(0xD800, 0xE000)))      # lone surrogates (argv of invalid UTF-8)
        else:
            out.append(chr(rng.randrange(0, 0x110000)))
    return "".join(out)


def mutate(rng: random.Random, text: str) -> str:
    toks = TOKEN_RE.findall(text)
    if not toks:
        return text
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not toks:
            break
        i = rng.randrange(len(toks))
        op = rng.choice(("delete", "double", "swap", "operator", "insert", "huge", "nest", "control",
                         "truncate", "repeat", "fn"))
        if op == "delete" and len(toks) > 1:
            del toks[i]
        elif op == "double":
            toks.insert(i, toks[i])
        elif op == "swap" and i + 1 < len(toks):
            toks[i], toks[i + 1] = toks[i + 1], toks[i]
        elif op == "operator":
            ops = [k for k, t in enumerate(toks) if t in OPERATORS] or [i]
            toks[rng.choice(ops)] = rng.choice(OPERATORS)
        elif op == "insert":
            toks.insert(i, rng.choice(ALPHABET + OPERATORS))
        elif op == "huge":
            nums = [k for k, t in enumerate(toks) if t[:1].isdigit()] or [i]
            toks[rng.choice(nums)] = rng.choice(HUGE)
        elif op == "nest":
            depth = rng.choice((5, 50, 199, 200, 201, 250, 1000, 5000))
            j = rng.randrange(i, len(toks)) + 1
            o, c = rng.choice((("(", ")"), ("{", "}"), ("exp(", ")"), ("-", ""), ("tr(", ")"), ("||", "||"), ("[", "]")))
            toks[i:j] = [o * depth] + toks[i:j] + [c * depth]
        elif op == "control":
            toks.insert(i, rng.choice(CONTROL))
        elif op == "truncate":
            toks = toks[:i]
        elif op == "repeat":
            k = rng.choice((10, 100, 1000, 3000))
            if sum(map(len, toks)) * k > 1_000_000:    # repeated repeats grew to gigabytes: past the input limit anyway
                k = max(1, 1_000_000 // max(1, sum(map(len, toks))))
            if rng.random() < 0.5:
                toks = toks + [" + " + " ".join(toks)] * k
            else:
                toks = toks[:i] + [" ".join(toks[i:i + 3])] * k + toks[i + 3:]
        elif op == "fn":
            toks.insert(i, rng.choice(("tr(", "det(", "inv(", "exp(", "relu(", "abs(", "diag(", "vec(", "kron(", "norm(", "step(")))
    sep = "" if rng.random() < 0.2 else " "
    return sep.join(toks)


def random_fuzz_text(rng: random.Random) -> str:
    kind = rng.choice(("alphabet", "alphabet", "unicode", "mutation", "mutation", "mutation", "mutation",
                       "control", "declaration", "big"))
    if kind == "alphabet":
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 40)))
    if kind == "unicode":
        return random_unicode(rng, rng.randrange(0, 30))
    if kind == "mutation":
        return mutate(rng, random_formula(rng, depth=rng.choice((0, 1, 2))).text)
    if kind == "control":
        t = random_formula(rng, depth=1).text
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(t) + 1)
            t = t[:i] + rng.choice(CONTROL) + t[i:]
        return t
    if kind == "declaration":
        name = rng.choice(("x", "A", "λ", "I", "ones", "R", "T", "tr", "x_1", "n", "𝟏", "e_i"))
        shape = rng.choice(("R", "R^n", "R^0", "R^1", "R^(n×)", "R^(×n)", "R^(n×m×p)", "R^99999999999",
                            "R^(n,n) symmetric symmetric", "R^(n×m) symmetric", "R^{}", "R^()", "R^-3",
                            "R^(n x n", "ℝ^(2×2)", "R^(0×0)", "R^(n*m)", "R^n^m", "C^n", ""))
        tail = rng.choice(("x^T A x", "A x", "tr(A)", "x", "λ x", "ones", "I", "1", "x: R^m; x", "A: R^n; A",
                           "det(A)", "A^-1", "x^T x"))
        return f"{name}: {shape}; {tail}"
    # big inputs, around the limits
    unit = rng.choice(("x + ", "(", "A ", "-", "x^T A x + ", "||", "1", "λ", "exp(", "x'"))
    return unit * rng.choice((100, 4000, 5000, 6667, 20001 // max(1, len(unit)), 30000))


FORMATS = ("text", "json", "latex", "numpy", "rich")


def random_fuzz(rng: random.Random) -> list[str]:
    """Command-line arguments: a command, a fuzzed formula and (sometimes odd) options."""
    text = random_fuzz_text(rng)
    cmd = rng.choice(("shape", "diff", "diff", "diff", "latex", "hessian", "check"))
    args = [cmd, text]
    if cmd in ("diff", "hessian", "check"):
        names = re.findall(r"[A-Za-zα-ω][A-Za-z0-9_]*", text) or ["x"]
        wrt = rng.choice(names) if rng.random() < 0.8 else rng.choice(("x[i]", "A[i,j]", "(t,s)", "x,y", "", "1", "-", "[", "λ", "x[0]"))
        args += ["--wrt", wrt]
    if cmd == "check":
        args += ["--claim", mutate(rng, text) if rng.random() < 0.5 else rng.choice(("0", "x", "2 A x", "", "(", "A^T"))]
    if rng.random() < 0.2:
        args += ["--where", rng.choice(("x: R^n", "A: R^(n×n) symmetric", "x: R^n; x: R^m", "x: R^0", ";;",
                                        "", "A:", "x: R^n; A x", random_unicode(rng, 5)))]
    if cmd in ("diff", "check", "hessian") and rng.random() < 0.15:
        args += ["--layout", rng.choice(("mixed", "numerator", "denominator", "bogus", ""))]
    if cmd in ("diff", "check") and rng.random() < 0.1:
        args += ["--order", rng.choice(("1", "2", "3", "0", "-1", "x"))]
    if cmd in ("diff", "hessian", "check") and rng.random() < 0.08:
        args.append(rng.choice(("--flatten", "--stack", "--steps", "--verify")))
    if cmd in ("shape", "diff", "hessian", "check"):
        args += ["--format", "text" if rng.random() < 0.7 else rng.choice(FORMATS)]
    return args


# ---- the properties ---------------------------------------------------------------------------
class Hang(BaseException):
    """Raised by the alarm: not an Exception, so mcalc's guards cannot swallow it."""


@contextmanager
def time_limit(seconds: float):
    """Raise Hang after `seconds` of wall time (main thread only; no-op elsewhere)."""
    import threading
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise Hang(f"no answer within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Outcome:
    """What happened to one formula in every layout."""
    formula: Formula
    diffs: int = 0
    unsupported: list = field(default_factory=list)    # (layout, message, operation): DiffError
    noisy: list = field(default_factory=list)          # (layout, error): finite differences too coarse
    problems: list = field(default_factory=list)       # (category, layout, message): bugs

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        lines = [str(self.formula)]
        lines += [f"  [{cat}] layout {layout}: {msg}" for cat, layout, msg in self.problems]
        return "\n".join(lines)


def innermost(e: BaseException) -> str:
    """Where an exception was raised: the innermost frame inside mcalc (or the last one)."""
    import traceback
    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if "/mcalc/" in f.filename.replace("\\", "/")] or frames
    if not ours:
        return "?"
    f = ours[-1]
    path = f.filename.replace("\\", "/")
    path = path[path.rfind("/mcalc/") + 1:] if "/mcalc/" in path else path.rsplit("/", 1)[-1]
    return f"{path}:{f.lineno} in {f.name}"


def signature(category: str, message: str) -> str:
    """One line per distinct kind of failure, the formula-specific text left out."""
    head, _, where = message.partition("  @ ")
    if category == "wrong":
        return "[wrong] the derivative differs from finite differences"
    if category == "hang":
        return "[hang] no answer in time"
    m = re.search(r"(does not parse back|parses back with shape|render_text gives)", head)
    tag = ""
    if m and m.group(1) == "render_text gives":
        return "[round-trip] the re-parsed tree differs"
    if m:
        text = head[:m.start()]
        if re.search(r"⊗ I\b|\bI ⊗", text):
            tag = " (I inside a Kronecker product)"
        elif re.search(r"\b0\b", text):
            tag = " (a literal 0)"
        head = head[m.start():]
    if category == "fuzz":
        head = re.sub(r"\(MCALC_DEBUG.*", "", head)
    words = re.sub(r"'[^']*'|\([^()]*\)", "…", head).split()
    return f"[{category}] {' '.join(words[:7])}{tag}" + (f" @ {where}" if where else "")


def step_sensitive(r, trials: int, steps=(1e-7, 1e-8, 1e-5, 1e-4, 1e-3, 1e-2)) -> bool:
    """True when mcalc.verify's disagreement is finite-difference error, not a wrong result:
    with some other step it agrees. (An oscillating function of a large argument, such as
    cos(tr((X .* X)^3)), defeats the default step; a wrong result disagrees at every step.)"""
    from mcalc import verify as V
    fns = [f for f in (getattr(V, "numeric_tensor", None), getattr(V, "symmetric_gradient", None),
                       getattr(V, "compare_joint", None))
           if f is not None and f.__defaults__ and isinstance(f.__defaults__[-1], float)]
    if not fns:
        return False
    saved = [f.__defaults__ for f in fns]
    try:
        for h in steps:
            for f, d in zip(fns, saved):
                f.__defaults__ = d[:-1] + (h,)
            v = V.verify(r, trials=trials)
            if v.conclusive and v.ok:
                return True
        return False
    finally:
        for f, d in zip(fns, saved):
            f.__defaults__ = d


def written_form(n):
    """The tree as the text renderer writes it: (M^-1)^k is printed M^-k (k > 0, M square and
    not a transpose), one formula read back as Power(M, -k); a sum that begins with a sum is
    printed without brackets, (s - t) + u as s - t + u, read back as one sum (a sum later in
    a sum keeps them: s + (t + u))."""
    from mcalc.nodes import Add, Inverse, Power, Transpose, map_children, replace
    n = map_children(n, written_form)
    if isinstance(n, Power) and isinstance(n.arg, Inverse) and not isinstance(n.arg.arg, Transpose) \
            and tuple(n.shape) != S and n.exp > 0:
        return replace(n, arg=n.arg.arg, exp=-n.exp)
    if isinstance(n, Add) and isinstance(n.args[0], Add):
        return replace(n, args=n.args[0].args + n.args[1:])
    return n


def fd_unconverged(r, trials: int, steps=(1e-6, 1e-4), tol: float = 1e-6) -> bool:
    """True when mcalc.verify's finite differences at two steps disagree with each other on the
    same draws: the function varies too fast for them (sin(r^6) with r = ||Y ⊗ X||_F of size 1e9
    oscillates within any step), so they say nothing about the result. A wrong result is caught
    where they agree."""
    import numpy as np
    from mcalc import verify as V
    fns = [f for f in (V.numeric_tensor, V.symmetric_gradient, V.compare_joint)
           if f.__defaults__ and isinstance(f.__defaults__[-1], float)]
    saved, compare = [f.__defaults__ for f in fns], V.compare
    wants: list[list] = []

    def recording(*a, **k):
        got, want = compare(*a, **k)
        wants[-1].append(np.asarray(want, dtype=float))
        return got, want
    try:
        V.compare = recording
        for h in steps:
            wants.append([])
            for f, d in zip(fns, saved):
                f.__defaults__ = d[:-1] + (h,)
            V.verify(r, trials=trials)
    finally:
        V.compare = compare
        for f, d in zip(fns, saved):
            f.__defaults__ = d
    first, second = wants
    if not first or len(first) != len(second):
        return False
    for a, b in zip(first, second):
        if a.shape != b.shape or not np.all(np.isfinite(a)) or not np.all(np.isfinite(b)):
            return True
        if a.size and np.max(np.abs(a - b)) > tol * max(1.0, float(np.max(np.abs(b)))):
            return True
    return False


def render_program(t) -> str:
    from mcalc.render.text import render_text
    return "".join(f"{name} = {render_text(v)}; " for name, v in t.bindings) + render_text(t.body)


def spec_shape(fshape, xshape, layout: str, order: int = 1) -> tuple:
    """SPEC §2's table: the shape of ∂f/∂x (written here from the table, independently of
    mcalc.api.result_shape); order 2: the Hessian of a scalar, n×n for x ∈ R^n (a joint
    z, N×1, gives N×N) and p×q×p×q for X ∈ R^(p×q), in every layout."""
    if order == 2:
        if tuple(xshape) == S:
            return S
        return (xshape[0], xshape[0]) if xshape[1] == 1 else tuple(xshape) * 2
    def dims(shape, function):
        if tuple(shape) == S:
            return "scalar", ()
        if shape[1] == 1:
            return "vector", (shape[0],)
        if shape[0] == 1 and function:
            return "vector", (shape[1],)
        return "matrix", tuple(shape)
    fk, F = dims(fshape, True)
    xk, X = dims(xshape, False)
    if fk == "scalar" and xk == "scalar":
        return S
    if layout == "numerator":
        if fk == "scalar":
            return (1,) + X if xk == "vector" else (X[1], X[0])
        if xk == "scalar":
            return F + (1,) if fk == "vector" else F
        return F + X
    if layout == "denominator":
        if fk == "scalar":
            return X + (1,) if xk == "vector" else X
        if xk == "scalar":
            return (1,) + F if fk == "vector" else (F[1], F[0])
        return X + F
    if fk == "scalar":
        return X + (1,) if xk == "vector" else X
    if xk == "scalar":
        return F + (1,) if fk == "vector" else F
    return F + X


def free_dims_ok(rshape, tshape, known) -> bool:
    """The re-parsed text's shape matches the result's, up to dimensions the text leaves
    open (a bare `I`, `ones` or `0` takes a fresh size)."""
    if len(tshape) != len(rshape):
        return False
    mapping = {}
    for got, want in zip(tshape, rshape):
        got, want = str(got), str(want)
        if got == want:
            continue
        if got in known or got.isdigit() or mapping.get(got, want) != want:
            return False
        mapping[got] = want
    return True


CHECKS = ("round-trip", "verify", "re-parse")


def text_gap(r):
    """The result's text, typed in its formula's context like a claim of `mcalc check`, against
    the result's tree, on the same random data: the largest relative gap (0 for an equal tree),
    and whether rounding alone could have made it (claims.Comparison.drowned)."""
    from mcalc.api import inline
    from mcalc.claims import compare_numerically, inline_result, typed_claim
    tc = typed_claim(r.text, r)
    if tuple(map(str, tc.body.shape)) != tuple(map(str, r.shape)):
        return float("inf"), False
    from mcalc.simplify import simplify, tidy
    node, _ = inline(tc)
    want, _ = inline_result(r)
    if tidy(simplify(node)) == tidy(want):
        return 0.0, False
    c = compare_numerically(([], node), ([], want), r.typed, trials=2)
    return (c.rel_error, c.drowned) if c.undefined is None else (float("inf"), False)


def check_formula(fm: Formula, layouts=LAYOUTS, trials: int = 2, seconds: float = 60.0,
                  checks=CHECKS) -> Outcome:
    """For each layout: api.diff succeeds (or raises DiffError: unsupported) and its result
    has SPEC §2's shape (`.shape` and the tree's own shape); "verify": the result agrees
    with finite differences when verification is conclusive (at verify's step, or at
    another: see step_sensitive); "re-parse": its text parses back with the same
    declarations to the result's shape, and, typed in the formula's context, to the same
    derivative: an equal tree or equal values on random data (2-index results). Once, "round-trip": the input's
    text round-trips through render_text. Problems are (category, layout, message)."""
    import mcalc.api as api
    from mcalc.errors import DiffError, McalcError
    from mcalc.verify import verify

    out = Outcome(fm)

    def bug(cat, layout, e):
        out.problems.append((cat, layout, f"{type(e).__name__}: {str(e)[:300]}  @ {innermost(e)}"))

    try:
        with time_limit(seconds):
            # the input round-trips through the text renderer
            try:
                t = api.typed(fm.text, where=fm.where_arg)
            except McalcError as e:
                out.problems.append(("refused", "-", f"the generated formula does not type: {type(e).__name__}: {e}"))
                return out
            try:
                if "round-trip" in checks:
                    text = render_program(t)
                    t2 = api.typed(text, where=list(fm.decls))
                    same = lambda a, b: a == b or written_form(a) == written_form(b)
                    if not same(t2.body, t.body) or len(t2.bindings) != len(t.bindings) or \
                            any(n2 != n1 or not same(v2, v1) for (n2, v2), (n1, v1) in zip(t2.bindings, t.bindings)):
                        out.problems.append(("round-trip", "-", f"render_text gives {text!r}, which parses to a different tree"))
            except Exception as e:  # noqa: BLE001
                bug("round-trip", "-", e)
            if "verify" not in checks and "re-parse" not in checks:
                return out
            for layout in layouts:
                try:
                    r = api.diff(fm.text, fm.wrt, where=fm.where_arg, layout=layout, order=fm.order)
                except DiffError as e:
                    out.unsupported.append((layout, str(e), getattr(e, "operation", None) or e.message))
                    continue
                except McalcError as e:
                    out.problems.append(("refused", layout, f"{type(e).__name__}: {e}"))
                    continue
                except Exception as e:  # noqa: BLE001
                    bug("crash", layout, e)
                    continue
                out.diffs += 1
                try:
                    want = spec_shape(r.function.shape, r.var_shape, layout, fm.order)
                    node_shape = None if r.tensor is not None else tuple(r.node.shape)
                    if tuple(map(str, r.shape)) != tuple(map(str, want)) or \
                            node_shape is not None and tuple(map(str, node_shape)) != tuple(map(str, want)):
                        out.problems.append(("shape", layout, f"{r.text}: shape {r.shape} (its tree: {node_shape}), "
                                                              f"SPEC §2 says {want}"))
                except Exception as e:  # noqa: BLE001
                    bug("shape", layout, e)
                try:
                    v = verify(r, trials=trials) if "verify" in checks else None
                    if v is None:
                        pass
                    elif v.conclusive and not v.ok and (fd_unconverged(r, trials) or step_sensitive(r, trials)):
                        out.noisy.append((layout, v.max_rel_error))
                    elif v.conclusive and not v.ok:
                        out.problems.append(("wrong", layout, f"{r.text}  (shape {r.shape}; max relative error "
                                                              f"{v.max_rel_error:.3g} on sizes {v.sizes})"))
                except Exception as e:  # noqa: BLE001
                    bug("verify-crash", layout, e)
                if r.tensor is None and "re-parse" in checks:
                    try:
                        t3 = api.typed(r.text, where=list(fm.decls))
                        known = {str(d) for info in r.symbols.values() for d in info.shape}
                        if not free_dims_ok(r.shape, t3.body.shape, known):
                            out.problems.append(("re-parse", layout, f"{r.text!r} parses back with shape "
                                                                     f"{t3.body.shape}, the result says {r.shape}"))
                        else:
                            gap, drowned = text_gap(r)
                            if not gap < 1e-6 and drowned:      # ill-conditioned: cannot tell at all
                                out.noisy.append((layout, gap))
                            elif not gap < 1e-6:
                                out.problems.append(("re-parse", layout, f"{r.text!r} parses back to a different "
                                                                         f"derivative (relative gap {gap:.3g})"))
                    except McalcError as e:
                        out.problems.append(("re-parse", layout, f"{r.text!r} does not parse back: {type(e).__name__}: {e}"))
                    except Exception as e:  # noqa: BLE001
                        bug("re-parse", layout, e)
    except Hang as e:
        out.problems.append(("hang", "-", str(e)))
    return out


def cli_runner():
    """typer's CliRunner, building the click command of an app once rather than per invoke
    (that is half the cost of a fuzz input)."""
    import typer.testing as tt

    class Runner(tt.CliRunner):
        commands: dict = {}

        def invoke(self, app, *args, **kwargs):
            cmd = self.commands.get(id(app))
            if cmd is None:
                cmd = self.commands[id(app)] = tt._get_command(app)
            build, tt._get_command = tt._get_command, lambda _app: cmd
            try:
                return super().invoke(app, *args, **kwargs)
            finally:
                tt._get_command = build

        def run(self, argv, **kwargs):
            """The whole console script on argv, as the real binary would run it (main.run_argv:
            both readers of a command line), with the runner's captured streams."""
            import click.testing
            return click.testing.CliRunner.invoke(self, WholeProgram(), list(argv), **kwargs)

    return Runner()


class WholeProgram:
    """main.run_argv in the shape of a click command, for CliRunner.invoke."""
    name = "mcalc"

    def main(self, args=(), prog_name=None, **extra):
        from mcalc.main import run_argv
        raise SystemExit(run_argv(list(args)))


def debug_location(runner, argv, seconds) -> str:
    """Where an internal error (exit 3) comes from: run again with MCALC_DEBUG=1."""
    from mcalc.cli import app
    try:
        with time_limit(seconds):
            r = runner.invoke(app, argv, env={"MCALC_DEBUG": "1"})
    except Hang:
        return ""
    frames = re.findall(r'File "([^"]*)", line (\d+), in (\S+)', r.stderr)
    ours = [f for f in frames if "/mcalc/" in f[0]] or frames
    if not ours:
        return ""
    path, line, fn = ours[-1]
    return f"  @ {path[path.rfind('/mcalc/') + 1:] if '/mcalc/' in path else path}:{line} in {fn}"


def check_cli(args: list[str], runner=None, seconds: float = 10.0) -> str | None:
    """Run the console script in-process on args (as the real binary would pass them, through
    main.run_argv): None when it ends with exit 0, 1 or 2 without a traceback in time, else
    what went wrong."""
    from mcalc.main import formula_args
    runner = runner or cli_runner()
    start = time.monotonic()
    try:
        with time_limit(seconds):
            argv = formula_args(list(args))
            result = runner.run(argv, catch_exceptions=True)
    except Hang:
        return f"hang: no answer within {seconds:g} s"
    except Exception as e:  # noqa: BLE001 - formula_args or the runner itself
        return f"exception outside the app: {type(e).__name__}: {e}"
    took = time.monotonic() - start
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        return f"exception {type(exc).__name__}: {str(exc)[:200]}  @ {innermost(exc)}"
    if result.exit_code not in (0, 1, 2):
        return f"exit {result.exit_code}: {result.stderr.strip()[:300]}" + debug_location(runner, argv, seconds)
    if "Traceback (most recent call last)" in result.output:
        return "traceback in the output"
    if took > seconds:
        return f"took {took:.1f} s"
    return None
