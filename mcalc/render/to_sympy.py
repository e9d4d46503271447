"""SymPy forms of a result, for users who continue in SymPy: matrix expressions over
MatrixSymbols with symbolic sizes. The only module that imports sympy (the `sympy` extra);
one method per node kind, like every renderer."""
from __future__ import annotations

import operator
from functools import reduce
from typing import NamedTuple

from ..bindings import inline_bindings

try:
    import sympy as sp
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf
except ImportError as e:                  # pragma: no cover - depends on the installation
    from ..errors import UsageError
    raise UsageError("to_sympy() needs SymPy: pip install \"mcalc[sympy]\"") from e

from .. import ops
from ..dims import factors
from ..errors import UsageError
from ..nodes import SCALAR, Node
from .base import Renderer


class SymPyForms(NamedTuple):
    derivative: object       # the result, a SymPy matrix expression (a scalar expression for 1×1)
    function: object         # the formula, with its bindings inlined


def dim(d):
    """A dimension: an integer, a name (a positive integer symbol) or a product of them."""
    return reduce(operator.mul, [p if isinstance(p, int) else sp.Symbol(p, integer=True, positive=True)
                                 for p in factors(d)], 1)


def is_scalar(n: Node) -> bool:
    return tuple(n.shape) == SCALAR


class SymPyRenderer(Renderer):
    def render(self, node: Node):
        out = super().render(node)
        if is_scalar(node) and isinstance(out, sp.MatrixExpr):
            return sp.Trace(out)             # a 1×1 product is a scalar, as in mcalc: tr(xᵀ A x)
        return out

    def size(self, n: Node):
        return dim(n.shape[0]), dim(n.shape[1])

    def missing(self, n: Node, what: str):
        raise UsageError(f"to_sympy(): SymPy has no matrix expression for {what} ({type(n).__name__})")

    # leaves
    def _render_Sym(self, n):
        if is_scalar(n):
            return sp.Symbol(n.name)
        return sp.MatrixSymbol(n.name, *self.size(n))

    def _render_Size(self, n):
        return sp.Symbol(n.name, integer=True, positive=True)

    def _render_Num(self, n):
        return sp.Rational(n.value.numerator, n.value.denominator)

    def _render_Identity(self, n):
        return sp.Identity(dim(n.shape[0]))

    def _render_Ones(self, n):
        return sp.Integer(1) if is_scalar(n) else sp.OneMatrix(*self.size(n))

    def _render_Zero(self, n):
        return sp.Integer(0) if is_scalar(n) else sp.ZeroMatrix(*self.size(n))

    def _render_Delta(self, n):
        return self.missing(n, "a differential")

    def _render_Unit(self, n):
        return self.missing(n, "the unit vector e_" + str(n.index))

    def _render_Commutation(self, n):
        return self.missing(n, "the commutation matrix K")

    # operations
    def spread(self, value, n: Node):
        """A scalar where the node is an array (a broadcast sum): the scalar times ones."""
        if not is_scalar(n) and not isinstance(value, sp.MatrixExpr):
            return value * sp.OneMatrix(*self.size(n))
        return value

    def _render_Add(self, n):
        return reduce(operator.add, [self.spread(self.render(a), n) for a in n.args])

    def _render_Neg(self, n):
        return -self.render(n.arg)

    def _render_Mul(self, n):
        return reduce(operator.mul, [self.render(a) for a in n.args])

    def _render_Div(self, n):
        return self.render(n.left) * self.render(n.right) ** -1

    def exponent(self, e):
        return sp.Rational(e.numerator, e.denominator)

    def _render_Power(self, n):
        base = self.render(n.arg)
        return sp.MatPow(base, self.exponent(n.exp)) if isinstance(base, sp.MatrixExpr) else base ** self.exponent(n.exp)

    def _render_VarPow(self, n):
        a, b = self.render(n.arg), self.render(n.exp)
        if isinstance(b, sp.MatrixExpr):
            raise UsageError("to_sympy has no form for an array exponent (p.^x)")
        return sp.HadamardPower(a, b) if isinstance(a, sp.MatrixExpr) else a ** b

    def _render_Transpose(self, n):
        a = self.render(n.arg)
        return a.T if isinstance(a, sp.MatrixExpr) else a

    def _render_Inverse(self, n):
        a = self.render(n.arg)
        return a.I if isinstance(a, sp.MatrixExpr) else 1 / a

    def elementwise_pair(self, n, combine):
        a, b = self.render(n.left), self.render(n.right)
        if not isinstance(a, sp.MatrixExpr) or not isinstance(b, sp.MatrixExpr):
            return None, a, b
        return combine(a, b), a, b

    def _render_Hadamard(self, n):
        out, a, b = self.elementwise_pair(n, sp.HadamardProduct)
        return out if out is not None else a * b

    def _render_HadDiv(self, n):
        out, a, b = self.elementwise_pair(n, lambda a, b: sp.HadamardProduct(a, sp.HadamardPower(b, -1)))
        return out if out is not None else a / b

    def _render_EPow(self, n):
        a = self.render(n.arg)
        return sp.HadamardPower(a, self.exponent(n.exp)) if isinstance(a, sp.MatrixExpr) else a ** self.exponent(n.exp)

    def _render_Kron(self, n):
        return sp.KroneckerProduct(self.render(n.left), self.render(n.right))

    def _render_Trace(self, n):
        a = self.render(n.arg)
        return sp.Trace(a) if isinstance(a, sp.MatrixExpr) else a

    def _render_Det(self, n):
        a = self.render(n.arg)
        return sp.Determinant(a) if isinstance(a, sp.MatrixExpr) else a

    def _render_LogDet(self, n):
        return sp.log(self._render_Det(n))

    def _render_Sum(self, n):
        a = self.render(n.arg)
        if not isinstance(a, sp.MatrixExpr):
            return a
        rows, cols = self.size(n.arg)
        return sp.Trace(sp.OneMatrix(1, rows) * a * sp.OneMatrix(cols, 1))

    def _render_Vec(self, n):
        return self.missing(n, "vec")

    def _render_Diag(self, n):
        a = self.render(n.arg)
        rows, cols = n.arg.shape
        return DiagMatrix(a) if cols == 1 or rows == 1 else DiagonalOf(a)

    def _render_Norm(self, n):
        a = self.render(n.arg)
        if not isinstance(a, sp.MatrixExpr):
            return sp.Abs(a)
        if n.kind in ("1",):
            rows, cols = self.size(n.arg)
            return sp.Trace(sp.OneMatrix(1, rows) * ElementwiseApplyFunction(sp.Abs, a) * sp.OneMatrix(cols, 1))
        return sp.sqrt(sp.Trace(a.T * a))

    def _render_HCat(self, n):
        return sp.BlockMatrix([[self.render(a) for a in n.args]])

    def _render_Elementwise(self, n):
        form = ops.lookup(n.fn).sympy
        if form is None:
            return self.missing(n, n.fn)
        f = form(sp)
        a = self.render(n.arg)
        return ElementwiseApplyFunction(f, a) if isinstance(a, sp.MatrixExpr) else f(a)

    def _render_Call(self, n):
        return self.missing(n, n.fn)


def to_sympy(result) -> SymPyForms:
    node, _ = inline_bindings(result.bindings, result.node)
    r = SymPyRenderer()
    return SymPyForms(r.render(node), r.render(result.function))
