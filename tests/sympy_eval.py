"""A test-only evaluator from mcalc's typed node trees to explicit sympy Matrices.

Every value is a sympy Matrix (a scalar is 1×1), built from small explicit matrices of
scalar symbols, so a formula can be differentiated entry by entry with sympy.diff and
compared with the engine's derivative evaluated by the same evaluator. One function per
node class, in a table keyed by the class name.
"""
from __future__ import annotations

import sympy as sp

from oracle import resolve


def symbol_matrix(name: str, shape: tuple[int, int], symmetric: bool = False) -> sp.Matrix:
    """A matrix of real scalar symbols name_i_j (a scalar is one symbol, a vector name_i)."""
    rows, cols = shape
    if (rows, cols) == (1, 1):
        return sp.Matrix([[sp.Symbol(name, real=True)]])
    if cols == 1:
        return sp.Matrix(rows, 1, lambda i, j: sp.Symbol(f"{name}_{i}", real=True))
    if symmetric:
        return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{min(i, j)}_{max(i, j)}", real=True))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}_{j}", real=True))


def _scalar(m: sp.Matrix):
    return m[0, 0]


def _mul(vals: list[sp.Matrix]) -> sp.Matrix:
    scale = sp.Integer(1)
    chain = []
    for v in vals:
        if v.shape == (1, 1):
            scale *= v[0, 0]
        else:
            chain.append(v)
    if not chain:
        return sp.Matrix([[scale]])
    out = chain[0]
    for c in chain[1:]:
        out = out * c
    return scale * out


def _power(v: sp.Matrix, exp) -> sp.Matrix:
    e = sp.Rational(exp.numerator, exp.denominator)
    if v.shape == (1, 1):
        return sp.Matrix([[v[0, 0] ** e]])
    if e.q != 1:
        raise NotImplementedError("fractional matrix power")
    k = int(e)
    base = v.inv() if k < 0 else v
    out = sp.eye(v.shape[0])
    for _ in range(abs(k)):
        out = out * base
    return out


def _kron(a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    rows = []
    for i in range(a.rows):
        rows.append(sp.Matrix.hstack(*[a[i, j] * b for j in range(a.cols)]))
    return sp.Matrix.vstack(*rows)


def _vec(a: sp.Matrix) -> sp.Matrix:
    return sp.Matrix([a[i, j] for j in range(a.cols) for i in range(a.rows)])


def _diag(a: sp.Matrix) -> sp.Matrix:
    if a.cols == 1 and a.rows != 1:
        return sp.diag(*list(a))
    return sp.Matrix([a[i, i] for i in range(min(a.shape))])


def _norm(a: sp.Matrix, kind) -> sp.Matrix:
    vector = a.rows == 1 or a.cols == 1
    if kind == "1":
        if not vector:
            raise NotImplementedError("matrix 1-norm")
        return sp.Matrix([[sum(sp.Abs(e) for e in a)]])
    if kind == "2" and not vector:
        raise NotImplementedError("spectral norm")
    return sp.Matrix([[sp.sqrt(sum(e ** 2 for e in a))]])


def _commutation(m: int, n: int) -> sp.Matrix:
    K = sp.zeros(m * n, m * n)
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1
    return K


ELEMENTWISE = {
    "exp": sp.exp, "log": sp.log, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "sqrt": sp.sqrt, "abs": sp.Abs,
    "sigmoid": lambda e: 1 / (1 + sp.exp(-e)), "softplus": lambda e: sp.log(1 + sp.exp(e)),
    "relu": lambda e: sp.Max(0, e), "step": sp.Heaviside, "sign": sp.sign,
    "ln": sp.log, "arcsin": sp.asin, "asin": sp.asin, "arccos": sp.acos, "acos": sp.acos,
    "arctan": sp.atan, "atan": sp.atan,
    "erf": sp.erf, "gelu": lambda e: e * (1 + sp.erf(e / sp.sqrt(2))) / 2,
}


def _softmax(a: sp.Matrix) -> sp.Matrix:
    if a.cols == 1:
        e = a.applyfunc(sp.exp)
        return e / sum(e)
    return sp.Matrix.vstack(*[_softmax(a[i, :].T).T for i in range(a.rows)])


CALLS = {
    "softmax": _softmax,
    "log_softmax": lambda a: _softmax(a).applyfunc(sp.log),
    "logsumexp": lambda a: sp.log(sum(a.applyfunc(sp.exp))),
    "mean": lambda a: sum(a) / (a.rows * a.cols), "prod": lambda a: sp.prod(list(a)),
    "dot": lambda a, b: (a.T * b)[0, 0],
    "max": lambda a, b: sp.Matrix(a.rows, a.cols, lambda i, j: sp.Max(a[i, j], b[i, j])),
    "min": lambda a, b: sp.Matrix(a.rows, a.cols, lambda i, j: sp.Min(a[i, j], b[i, j])),
}


class SympyEvaluator:
    """Node tree → sympy Matrix, one function per node class (keyed by class name)."""

    def __init__(self, env: dict, sizes: dict, indices: dict | None = None):
        self.env = env
        self.sizes = sizes
        self.indices = indices or {}
        self.memo: dict = {}
        self.table = {
            "Sym": self.symbol,
            "Size": lambda n: sp.Matrix([[sp.Integer(self.dim(n.name))]]),
            "Constant": lambda n: sp.Matrix([[sp.pi]]) if n.name == "pi" else None,
            "Num": lambda n: sp.Matrix([[sp.Rational(n.value.numerator, n.value.denominator)]]),
            "Identity": lambda n: sp.eye(self.dim(n.shape[0])),
            "Ones": lambda n: sp.ones(self.dim(n.shape[0]), self.dim(n.shape[1])),
            "Zero": lambda n: sp.zeros(self.dim(n.shape[0]), self.dim(n.shape[1])),
            "Unit": lambda n: sp.eye(self.dim(n.shape[0]))[:, self.indices[n.index]],
            "Commutation": lambda n: _commutation(self.dim(n.m), self.dim(n.n)),
            "Add": lambda n: sum((self(a) for a in n.args[1:]), self(n.args[0])),
            "Neg": lambda n: -self(n.arg),
            "Mul": lambda n: _mul([self(a) for a in n.args]),
            "Div": lambda n: self(n.left) / _scalar(self(n.right)),
            "Power": lambda n: _power(self(n.arg), n.exp),
            "Transpose": lambda n: self(n.arg).T,
            "Inverse": lambda n: self(n.arg).inv(),
            "Hadamard": lambda n: self(n.left).multiply_elementwise(self(n.right)),
            "HadDiv": lambda n: self.zipwith(n.left, n.right, lambda a, b: a / b),
            "VarPow": lambda n: self.broadcast(n.arg, n.exp, lambda a, b: a ** b),
            "EPow": lambda n: self(n.arg).applyfunc(
                lambda e: e ** sp.Rational(n.exp.numerator, n.exp.denominator)),
            "Kron": lambda n: _kron(self(n.left), self(n.right)),
            "Trace": lambda n: sp.Matrix([[self(n.arg).trace()]]),
            "Det": lambda n: sp.Matrix([[self(n.arg).det(method="berkowitz")]]),
            "LogDet": lambda n: sp.Matrix([[sp.log(self(n.arg).det(method="berkowitz"))]]),
            "Sum": lambda n: sp.Matrix([[sum(self(n.arg))]]),
            "Vec": lambda n: _vec(self(n.arg)),
            "Diag": lambda n: _diag(self(n.arg)),
            "Norm": lambda n: _norm(self(n.arg), n.kind),
            "Elementwise": lambda n: self(n.arg).applyfunc(ELEMENTWISE[n.fn]),
            "Call": lambda n: CALLS[n.fn](*[self(a) for a in n.args]),
            "HCat": lambda n: sp.Matrix.hstack(*[self(a) for a in n.args]),
        }

    def dim(self, d) -> int:
        return resolve((d,), self.sizes)[0]

    def broadcast(self, left, right, fn) -> sp.Matrix:
        """fn entry by entry, a 1×1 side broadcast (p.^x, x.^p)."""
        a, b = self(left), self(right)
        rows, cols = max(a.rows, b.rows), max(a.cols, b.cols)
        at = lambda m, i, j: m[0, 0] if m.shape == (1, 1) else m[i, j]
        return sp.Matrix(rows, cols, lambda i, j: fn(at(a, i, j), at(b, i, j)))

    def zipwith(self, left, right, fn) -> sp.Matrix:
        a, b = self(left), self(right)
        return sp.Matrix(a.rows, a.cols, lambda i, j: fn(a[i, j], b[i, j]))

    def symbol(self, n) -> sp.Matrix:
        if n.name in self.env:
            return self.env[n.name]
        base, _, index = n.name.partition("_")
        if base == "e" and index in self.indices:      # seed 004's e_i, read back from text
            return sp.eye(self.dim(n.shape[0]))[:, self.indices[index]]
        raise KeyError(n.name)

    def __call__(self, n) -> sp.Matrix:
        hit = self.memo.get(id(n))
        if hit is not None:
            return hit[1]
        fn = self.table.get(type(n).__name__)
        if fn is None:
            raise NotImplementedError(f"sympy evaluator: no rule for {type(n).__name__}")
        v = fn(n)
        if not isinstance(v, sp.MatrixBase):
            v = sp.Matrix([[v]])
        self.memo[id(n)] = (n, v)
        return v


def evaluate(bindings, body, env: dict, sizes: dict, indices: dict | None = None) -> sp.Matrix:
    """The value of a program (bindings, then body) with env's symbol matrices."""
    env = dict(env)
    ev = SympyEvaluator(env, sizes, indices)
    for name, value in bindings:
        env[name] = ev(value)
    return ev(body)
