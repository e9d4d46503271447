"""Unicode math for the terminal: Aᵀ, X⁻¹, ‖x‖², ⊙, ⊗, λ. For reading, not for re-parsing."""
from __future__ import annotations

from .. import ops
from ..nodes import HCat, Kron, Size, Sym, Transpose
from ..program import GREEK
from .text import TextRenderer

SUPER = str.maketrans("0123456789-+()/T", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁽⁾ᐟᵀ")


SUB = dict(zip("0123456789aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))


def sup(text: str) -> str:
    return text.translate(SUPER)


def sub(text: str) -> str:
    """A subscript: Unicode subscript letters where they all exist, else _text."""
    return "".join(SUB[c] for c in text) if all(c in SUB for c in text) else "_" + text


def greek(name: str) -> str:
    base, sep, sub = name.partition("_")
    return GREEK.get(base, base) + (sep + sub if sep else "")


class UnicodeRenderer(TextRenderer):
    quotients = True

    def _render_Sym(self, n):
        return greek(n.name)

    ones_symbol = "𝟏"
    transposed = "ᵀ"

    def subscript(self, base: str, size: str) -> str:
        return base + sub(size)

    def _render_Constant(self, n):
        return greek(n.name)

    def _render_Delta(self, n):
        return f"d{greek(n.name)}"

    def _render_Power(self, n):
        e = n.exp
        exp = str(e.numerator) if e.denominator == 1 else f"{e.numerator}/{e.denominator}"
        return f"{self.parenthesize(n.arg, 61)}{sup(exp)}"

    def _render_EPow(self, n):
        e = n.exp
        exp = str(e.numerator) if e.denominator == 1 else f"({e.numerator}/{e.denominator})"
        return f"{self.parenthesize(n.arg, 60)}^∘{exp}"

    def _render_VarPow(self, n):
        exp = self.render(n.exp)
        exp = exp if isinstance(n.exp, (Sym, Size)) else f"({exp})"
        return f"{self.parenthesize(n.arg, 61 if n.shape == (1, 1) else 60)}^{'' if n.shape == (1, 1) else '∘'}{exp}"

    def _render_Transpose(self, n):
        if isinstance(n.arg, HCat):          # [a; b], [A, B; C, D]: stacked blocks
            rows = [", ".join(self.render(b) for b in a.arg.args) if isinstance(a, Transpose) and isinstance(a.arg, HCat)
                    else self.render(a.arg) if isinstance(a, Transpose) else f"{self.parenthesize(a, 60)}ᵀ"
                    for a in n.arg.args]
            return "[" + "; ".join(rows) + "]"
        return f"{self.parenthesize(n.arg, 60)}ᵀ"

    def _render_Inverse(self, n):
        if isinstance(n.arg, Transpose):
            return f"{self.parenthesize(n.arg.arg, 60)}⁻ᵀ"
        return f"{self.parenthesize(n.arg, 60)}⁻¹"

    def _render_Hadamard(self, n):
        return f"{self.parenthesize(n.left, 30, strict=isinstance(n.left, Kron))} ⊙ {self.parenthesize(n.right, 31)}"

    def _render_HadDiv(self, n):
        return f"{self.parenthesize(n.left, 30)} ⊘ {self.parenthesize(n.right, 31)}"

    def render_kron(self, n):
        return f"{self.parenthesize(n.left, 30)} ⊗ {self.parenthesize(n.right, 31)}"

    def _render_Norm(self, n):
        sub = {"1": "₁", "2": "₂", "F": "_F"}.get(n.kind or "", "")
        return f"‖{self.render(n.arg)}‖{sub}"

    def _render_Elementwise(self, n):
        return self.call(ops.lookup(n.fn).unicode or n.fn, (n.arg,))

    def _render_Apply(self, n):
        """∇f(u), ∇²f(u), J_g(u) (∇²g(u): the components' Hessians stacked); a curve's x'(t), x''(t)."""
        arg = self.render(n.arg)
        if n.order == 0:
            return f"{n.fn}({arg})"
        if n.domain == 1 and not n.scalar_valued:
            return f"{n.fn}{chr(39) * n.order}({arg})"
        if n.order == 2:
            return f"∇²{n.fn}({arg})"
        return f"∇{n.fn}({arg})" if n.scalar_valued else f"J_{n.fn}({arg})"

    def _render_HCat(self, n):
        return "[" + ", ".join(self.render(a) for a in n.args) + "]"

    def _render_Unit(self, n):
        return f"e_{n.index}"


_U = UnicodeRenderer()


def render_unicode(node) -> str:
    return _U.render(node)
