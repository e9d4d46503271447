"""Renderer: dispatch on the node class (walking the MRO) to _render_<ClassName>."""
from __future__ import annotations

from contextlib import contextmanager
from fractions import Fraction

from ..limits import tick
from ..dims import factors
from ..nodes import (ATOM, Add, Elementwise, EPow, Hadamard, HadDiv, HCat, Identity, Mul, Neg, Node, Num, Ones,
                     Power, Transpose, Zero, precedence)


class Renderer:
    in_kron = 0        # > 0 while rendering an operand of ⊗, where I and ones cannot infer their size

    def render(self, node: Node):
        tick()
        for cls in type(node).__mro__:
            method = getattr(self, f"_render_{cls.__name__}", None)
            if method is not None:
                return method(node)
        raise TypeError(f"{type(self).__name__} cannot render {type(node).__name__}")

    def wrap(self, text):
        return f"({text})"

    @contextmanager
    def sizing(self):
        """with self.sizing(): … — I and ones rendered inside say their size (I_n, ones_m), as in
        an operand of ⊗, a block, or wherever nothing around a constant fixes its size."""
        self.in_kron += 1
        try:
            yield
        finally:
            self.in_kron -= 1

    def stacked_rows(self, n, separator: str, transposed_row) -> list[str]:
        """The rows of [aᵀ, bᵀ]ᵀ (a stacked column of blocks) or [[A, B]ᵀ, [C, D]ᵀ]ᵀ (a block
        matrix), each row's blocks joined by separator; transposed_row(a) writes any other row."""
        rows = []
        for a in n.args:
            if isinstance(a, Transpose) and isinstance(a.arg, HCat):
                rows.append(separator.join(self.block(b) for b in a.arg.args))
            elif isinstance(a, Transpose):
                rows.append(self.block(a.arg))
            elif isinstance(a, Zero):       # the row is 0ᵀ: a zero block of the transposed size
                rows.append(self.block(Zero(shape=(a.shape[1], a.shape[0]))))
            else:
                rows.append(transposed_row(a))
        return rows

    def kron_operands(self, n):
        """Render both sides of A ⊗ B with constants sized (I_n, ones_m): n·m alone cannot say n."""
        with self.sizing():
            return self.render_kron(n)

    def reduced(self, render, arg):
        """render(), for the argument of tr, det, logdet, sum or ||·||, whose scalar value leaves
        nothing around to fix a size: where only its constants give arg its size (c I, x ones^T),
        they say it (I_n, ones_m), as inside ⊗ (||c I|| read back would draw n at random)."""
        if not sized_by_constants(arg):
            return render()
        with self.sizing():
            return render()

    def size_parts(self, d) -> list[str] | None:
        """Inside ⊗, the sizes a constant of dimension d is written with: [n], [3], or [m, n] for
        m·n (I_(mn) = I_m ⊗ I_n); None outside ⊗ or when a factor is not a plain name."""
        if not self.in_kron:
            return None
        parts = [str(p) for p in factors(d)]
        if all(p.isdigit() or (p.isalnum() and p[0].isalpha()) for p in parts):
            return parts
        return None

    def parenthesize(self, child: Node, level: int, strict: bool = False):
        """Render child, bracketed if it binds more weakly than `level` (or equally, if strict)."""
        p = precedence(child)
        text = self.render(child)
        if p < level or (strict and p == level):
            return self.wrap(text)
        return text


def sized_by_constants(n: Node) -> bool:
    """Whether a size of n's shape comes only from an I or ones in it: c I, I - ones ones^T,
    x ones^T (its columns), f(c I) for an elementwise f; not A - I, A ones, x^T ones (A and x fix them)."""
    if n.shape is None:                 # an untyped tree: no size to say
        return False
    if isinstance(n, (Identity, Ones)):
        return n.shape != (1, 1)
    if n.is_scalar:
        return False
    if isinstance(n, Add):
        return all(sized_by_constants(a) for a in n.args)
    if isinstance(n, (Hadamard, HadDiv)):
        return sized_by_constants(n.left) and sized_by_constants(n.right)
    if isinstance(n, (Transpose, Neg, Elementwise, EPow)):
        return sized_by_constants(n.arg)
    if isinstance(n, Mul):
        factors_ = [a for a in n.args if not a.is_scalar]
        if not factors_:
            return False
        first, last = factors_[0], factors_[-1]
        if first.shape is None or last.shape is None:
            return False
        return (first.shape[0] != 1 and sized_by_constants(first)) or (last.shape[1] != 1 and sized_by_constants(last))
    return False


def split_product(node: Mul, every_negative_power: bool = False,
                  compound_negative_powers: bool = False) -> tuple[Fraction, list[Node], list[Node]]:
    """A product as coefficient, denominator factors (s^-1) and the other factors in order.
    A leading number written as a decimal stays a factor, so the text says 0.5 x again."""
    coef = Fraction(1)
    den: list[Node] = []
    rest: list[Node] = []
    for i, a in enumerate(node.args):
        if isinstance(a, Num) and i == 0 and not a.decimal:
            coef = a.value
        elif isinstance(a, Power) and a.exp == -1 and a.is_scalar and not isinstance(a.arg, Num):
            den.append(a.arg)
        elif isinstance(a, Power) and a.exp < 0 and a.is_scalar and not isinstance(a.arg, Num) and \
                (every_negative_power or compound_negative_powers and type(a.arg).__name__ not in ("Sym", "Size")):
            den.append(Power(a.arg, -a.exp, shape=a.shape))
        else:
            rest.append(a)
    return coef, den, rest


def leading_number(node: Mul) -> bool:
    return bool(node.args) and isinstance(node.args[0], Num) and not node.args[0].decimal


def fmt_fraction(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


ATOM_LEVEL = ATOM
