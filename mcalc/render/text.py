"""Text in the input language: what it prints parses back to an equal tree."""
from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

from .. import ops
from ..nodes import (Add, EPow, HCat, Hadamard, Inverse, Kron, Mul, Neg, Node, Num, PRECEDENCE, Power, Size, Sym, Transpose,
                     Zero)
from .base import Renderer, fmt_fraction, leading_number, split_product

P = PRECEDENCE
POSTFIX = P[Transpose]


def signed_terms(node: Add):
    """Yield (negative, positive_node) for each term of a sum."""
    for a in node.args:
        if isinstance(a, Neg):
            yield True, a.arg
        elif isinstance(a, Num) and a.value < 0:
            yield True, Num(-a.value, shape=a.shape)
        elif isinstance(a, Mul) and isinstance(a.args[0], Num) and a.args[0].value < 0:
            c = -a.args[0].value
            rest = a.args[1:]
            pos = Mul(((Num(c, shape=(1, 1)),) if c != 1 else ()) + rest, shape=a.shape) if (c != 1 or len(rest) > 1) else rest[0]
            yield True, pos
        else:
            yield False, a


def decimal_text(v) -> str:
    """The shortest decimal spelling of a terminating fraction: 1/2 → 0.5, 1/1000 → 0.001."""
    with localcontext() as ctx:
        ctx.prec = 80
        d = (Decimal(v.numerator) / Decimal(v.denominator)).normalize()
    text = format(d, "f")
    text = text if len(text) <= 24 else format(d, "e")
    return text if any(c in text for c in ".e") else text + ".0"


class TextRenderer(Renderer):
    ones_symbol = "ones"
    transposed = "^T"

    def _render_Sym(self, n):
        return n.name

    def _render_Apply(self, n):
        return f"{n.callable_name}({self.render(n.arg)})"

    def _render_Size(self, n):
        return n.name

    def _render_Constant(self, n):
        return n.name

    def _render_Num(self, n):
        if n.decimal:
            return decimal_text(n.value)
        return fmt_fraction(n.value)

    def subscript(self, base: str, size: str) -> str:
        return f"{base}_{size}"

    def sized(self, base: str, d) -> str:
        """I or ones, with its size inside ⊗: I_n, and (I_m ⊗ I_n) for a product size."""
        parts = self.size_parts(d) if d is not None else None
        if not parts:
            return base
        items = [self.subscript(base, p) for p in parts]
        return items[0] if len(items) == 1 else "(" + " ⊗ ".join(items) + ")"

    def _render_Identity(self, n):
        return self.sized("I", n.shape[0] if n.shape else None)

    def _render_Ones(self, n):
        one = self.ones_symbol
        rows, cols = n.shape if n.shape else (None, 1)
        col, row = self.sized(one, rows), self.sized(one, cols) + self.transposed
        if cols != 1:
            return row if rows == 1 else f"{col} {row}"
        return col

    def _render_Zero(self, n):
        return "0"

    def _render_Delta(self, n):
        return f"d{n.name}"

    def _render_Unit(self, n):
        return f"e_{n.index}"

    def _render_Commutation(self, n):
        return f"K_({n.m},{n.n})"

    def _render_Add(self, n):
        out = []
        for i, (negative, term) in enumerate(signed_terms(n)):
            level = P[Add] + 1 if (negative or i) else P[Add]
            text = self.parenthesize(term, level)     # a + (b + c) keeps its brackets
            if i == 0:
                out.append(f"-{self.parenthesize(term, P[Mul])}" if negative else text)
            else:
                out.append(f" - {text}" if negative else f" + {text}")
        return "".join(out)

    def _render_Neg(self, n):
        return "-" + self.parenthesize(n.arg, P[Neg] + 1)

    quotients = False      # results: a compound denominator as a quotient; input trees stay as written

    def _render_Mul(self, n):
        coef, den, rest = split_product(n, compound_negative_powers=self.quotients)
        if self.quotients and rest:          # beside other factors, x sigma^-2 reads x/sigma^2
            powers = [a for a in rest if isinstance(a, Power) and a.is_scalar and a.exp < -1
                      and a.exp.denominator == 1 and isinstance(a.arg, (Sym, Size))]
            if powers and (len(powers) < len(rest) or coef != 1):     # 2 sigma^-3 reads 2/sigma^3
                rest = [a for a in rest if a not in powers]
                den = den + [Power(a.arg, -a.exp, shape=a.shape) for a in powers]
        parts = []
        if self.quotients and den and rest and (not all(isinstance(d, (Sym, Size)) for d in den) or
                                                all(a.is_scalar for a in rest)):
            # a compound denominator reads as a quotient: (x - a)/||x - a||, e/sum(e),
            # and a fraction joins it: -||x - mu||^2/(2 sigma^2); so does a scalar's: n/sigma
            # (beside a matrix a plain one leads: 2/N X^T (X w - y))
            if coef.denominator != 1:
                den = [Num(Fraction(coef.denominator), shape=(1, 1))] + den
                coef = Fraction(coef.numerator)
            top = self._render_Mul(Mul((Num(coef, shape=(1, 1)),) + tuple(rest), shape=n.shape)) \
                if coef != 1 else self._render_Mul(Mul(tuple(rest), shape=n.shape)) if len(rest) > 1 \
                else self.parenthesize(rest[0], P[Mul])
            d = self.parenthesize(den[0], P[Mul] + 1) if len(den) == 1 else \
                "(" + " ".join(self.parenthesize(x, P[Mul] + 1) for x in den) + ")"
            return f"{top}/{d}"
        if den:
            d = self.parenthesize(den[0], P[Mul] + 1) if len(den) == 1 else \
                "(" + " ".join(self.parenthesize(x, P[Mul] + 1) for x in den) + ")"
            num = coef.numerator
            head = f"{abs(num)}/{d}" if coef.denominator == 1 else f"{abs(num)}/({coef.denominator} {d})"
            parts.append(("-" if num < 0 else "") + head)
        elif coef != 1 or not rest or leading_number(n):
            parts.append(fmt_fraction(coef) if coef != -1 or not rest else "-")
        for i, a in enumerate(rest):
            first = i == 0 and not parts
            if isinstance(a, Mul) and first:
                parts.append(self.render(a))
            else:
                level = P[Mul] if first else P[Mul] + 1
                text = self.parenthesize(a, level)
                # x ||y|| inside a norm would read as closing bars
                bars = self.in_norm and not first and text.startswith("||") and parts != ["-"]
                parts.append(f"({text})" if bars else text)
        text = " ".join(parts)
        return text.replace("- ", "-", 1) if text.startswith("- ") else text

    def _render_Div(self, n):
        return f"{self.parenthesize(n.left, P[Mul])}/{self.parenthesize(n.right, P[Mul] + 1)}"

    def _render_Power(self, n):
        e, arg = n.exp, n.arg
        if isinstance(arg, Inverse) and not isinstance(arg.arg, Transpose) and n.shape != (1, 1) and e > 0:
            e, arg = -e, arg.arg           # (M^-1)^2 reads M^-2 ((M^-1)^-2 stays: M^2 would not read back as it)
        exp = str(e.numerator) if e.denominator == 1 else f"({e.numerator}/{e.denominator})"
        base = self.parenthesize(arg, POSTFIX + 1)
        return f"{base}^{exp}"

    def _render_EPow(self, n):
        e = n.exp
        exp = str(e.numerator) if e.denominator == 1 else f"({e.numerator}/{e.denominator})"
        base = self.parenthesize(n.arg, POSTFIX)
        return f"({base}).^{exp}" if isinstance(n.arg, Num) else f"{base}.^{exp}"

    def _render_VarPow(self, n):
        """a^b of scalars, x.^p entry by entry; an exponent that is not a name is bracketed."""
        exp = self.render(n.exp)
        exp = exp if isinstance(n.exp, (Sym, Size)) else f"({exp})"
        if n.shape == (1, 1):
            return f"{self.parenthesize(n.arg, POSTFIX + 1)}^{exp}"
        base = self.parenthesize(n.arg, POSTFIX)
        return f"({base}).^{exp}" if isinstance(n.arg, Num) else f"{base}.^{exp}"

    def _render_Transpose(self, n):
        if isinstance(n.arg, HCat):
            return self.stacked(n.arg)
        return f"{self.parenthesize(n.arg, POSTFIX)}^T"

    def stacked(self, n: HCat) -> str:
        """[aᵀ, bᵀ]ᵀ is the stacked [a; b], and [[A, B]ᵀ, [C, D]ᵀ]ᵀ the block matrix
        [A, B; C, D] (rows separated by ';', as the grammar's vcat reads them)."""
        with self.sizing():
            rows = self.stacked_rows(n, ", ", lambda a: f"{self.parenthesize(a, POSTFIX)}^T")
            return "[" + "; ".join(rows) + "]"

    def _render_Inverse(self, n):
        if isinstance(n.arg, Transpose):
            return f"{self.parenthesize(n.arg.arg, POSTFIX)}^-T"
        return f"{self.parenthesize(n.arg, POSTFIX)}^-1"

    def _render_Hadamard(self, n):
        # (A ⊗ B) .* C: ⊗ and .* bind alike, but a reader should not have to know it
        left = self.parenthesize(n.left, P[Hadamard], strict=isinstance(n.left, Kron))
        return f"{left} .* {self.parenthesize(n.right, P[Hadamard] + 1)}"

    def _render_HadDiv(self, n):
        return f"{self.parenthesize(n.left, P[Hadamard])} ./ {self.parenthesize(n.right, P[Hadamard] + 1)}"

    def _render_Kron(self, n):
        return self.kron_operands(n)

    def render_kron(self, n):
        return f"{self.parenthesize(n.left, P[Kron])} ⊗ {self.parenthesize(n.right, P[Kron] + 1)}"

    def _render_HCat(self, n):
        """[A, B]: the width of each block must be known, so constants in it are sized (I_n,
        ones_m, as inside ⊗) and a zero block says its size (0 ones_m ones_n^T)."""
        with self.sizing():
            return "[" + ", ".join(self.block(a) for a in n.args) + "]"

    def block(self, a) -> str:
        if not isinstance(a, Zero) or a.shape == (1, 1):
            return self.render(a)
        rows, cols = a.shape
        one = self.ones_symbol
        return "0" + (f" {self.sized(one, rows)}" if rows != 1 else "") + \
            (f" {self.sized(one, cols)}{self.transposed}" if cols != 1 else "")

    def call(self, name, args):
        return f"{name}({', '.join(self.render(a) for a in args)})"

    def _render_Vec(self, n):
        """vec(I_n): a constant under vec says its size, as inside ⊗ (from vec(I) alone the n²
        entries cannot be read back as n×n)."""
        with self.sizing():
            return self._render_Function(n)

    def _render_Function(self, n):
        """tr(X), det(X), logdet(X), sum(X), vec(X), diag(X): the name of the class's record."""
        call = lambda: self.call(ops.BY_NODE[type(n)].name, (n.arg,))     # noqa: E731
        return self.reduced(call, n.arg) if n.is_scalar else call()

    def _render_Elementwise(self, n):
        return self.call(n.fn, (n.arg,))

    def _render_Call(self, n):
        return self.call(n.fn, n.args)

    in_norm = 0        # > 0 while rendering inside ||…||, where x ||y|| would read as closing bars

    def _render_Norm(self, n):
        sub = f"_{n.kind}" if n.kind else ""
        self.in_norm += 1
        try:
            return f"||{self.reduced(lambda: self.render(n.arg), n.arg)}||{sub}"
        finally:
            self.in_norm -= 1


class ResultRenderer(TextRenderer):
    quotients = True

    def division(self, n: Node) -> tuple[int, str] | None:
        """A reciprocal written as a division, where that is no longer (metric.tokens): a scalar
        sigma^-1 as 1/sigma, an elementwise u.^-1 of a column as ones ./ u (ones is a column); with
        its precedence."""
        if isinstance(n, Power) and n.is_scalar and n.exp == -1 and not isinstance(n.arg, (Num, Inverse)):
            return P[Mul], f"1/{self.parenthesize(n.arg, P[Mul] + 1)}"
        if isinstance(n, EPow) and n.exp == -1 and not isinstance(n.arg, Num) and n.shape[1] == 1 != n.shape[0]:
            return P[Hadamard], f"{self.ones_symbol} ./ {self.parenthesize(n.arg, P[Hadamard] + 1)}"
        return None

    def parenthesize(self, child: Node, level: int, strict: bool = False):
        """As Renderer's, with a reciprocal as a division where that needs no brackets
        (`1/sigma - …`, `ones ./ (b - A x)`; in `A^T (b - A x).^-1` the power is shorter)."""
        d = self.division(child)
        if d is not None and (d[0] > level or d[0] == level and not strict):
            return d[1]
        return super().parenthesize(child, level, strict)

    def top(self, n: Node) -> str:
        d = self.division(n)
        return d[1] if d is not None else self.render(n)

    def _render_Hadamard(self, n):
        if isinstance(n.right, EPow) and n.right.exp < 0:      # a .* x.^-1 reads as a ./ x
            e = -n.right.exp
            den = n.right.arg if e == 1 else EPow(n.right.arg, e, shape=n.right.shape)
            return f"{self.parenthesize(n.left, P[Hadamard])} ./ {self.parenthesize(den, P[Hadamard] + 1)}"
        return super()._render_Hadamard(n)


_TEXT = TextRenderer()
_RESULT = ResultRenderer()


def render_text(node: Node) -> str:
    """Any tree in the input language; an input tree comes back as written."""
    return _TEXT.render(node)


def render_result_text(node: Node, sized: bool = False) -> str:
    """A derivative in the input language, written as a person would: x/||x||. With `sized`,
    I and ones carry their size (I_n, ones_m) as inside ⊗ and blocks: a binding named out of a
    block result (q = vec(I_m)) must say its size by itself, since nothing around it does."""
    if not sized:
        return _RESULT.top(node)
    with _RESULT.sizing():
        return _RESULT.top(node)
