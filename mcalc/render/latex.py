"""LaTeX (amsmath) math: the text renderer's structure and brackets, typeset."""
from __future__ import annotations

import re

from .. import ops
from ..nodes import (ATOM, PRECEDENCE, Add, Commutation, Delta, Div, EPow, HCat, Identity, Inverse, Kron, Mul, Neg,
                     Node, Num, Ones, Power, Size, Sym, Transpose, Unit, Zero, precedence)
from .base import Renderer, split_product
from .text import signed_terms

P = PRECEDENCE
POSTFIX = P[Transpose]
FRACTION = P[Power] - 1   # \frac{a}{b} needs no brackets as a factor, only under ^
LETTERS = (Sym, Size, Num, Identity, Ones, Zero, Delta, Unit, Commutation)
SUPERSCRIPTS = (Transpose, Inverse, Power, EPow)

GREEK = {name: "\\" + name for name in (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega").split()} | {"omicron": "o"}

ENVIRONMENTS = {
    "inline": "${}$",
    "equation": "\\begin{{equation*}}\n{}\n\\end{{equation*}}",
    "align": "\\begin{{align*}}\n{}\n\\end{{align*}}",
}
PREAMBLE = "\\documentclass{article}\n\\usepackage{amsmath,amssymb,bm}\n\\begin{document}\n"


def is_vector(shape) -> bool:
    return shape is not None and len(shape) == 2 and (shape[0] == 1) != (shape[1] == 1)


def frac(num, den) -> str:
    return f"\\frac{{{num}}}{{{den}}}"


def number(v) -> str:
    text = str(abs(v.numerator)) if v.denominator == 1 else frac(abs(v.numerator), v.denominator)
    return "-" + text if v < 0 else text


def subscript(sub: str) -> str:
    if sub in GREEK:
        return GREEK[sub]
    if sum(c.isalpha() for c in sub) > 1:
        return f"\\mathrm{{{sub}}}"
    return sub


NUMBERED = re.compile(r"([A-Za-z]+?)([0-9]+)")


def symbol(name: str, bold: bool) -> str:
    """lambda → \\lambda, x_1 → x_{1}, X_train → X_{\\mathrm{train}}, a vector x → \\mathbf{x},
    W1 → W_{1} (trailing digits are a subscript, as on paper)."""
    base, sep, sub = name.partition("_")
    numbered = NUMBERED.fullmatch(base) if not sep else None
    if numbered:
        base, sep, sub = numbered.group(1), "_", numbered.group(2)
    if base in GREEK:
        text = f"\\boldsymbol{{{GREEK[base]}}}" if bold else GREEK[base]
    elif bold:
        text = f"\\mathbf{{{base}}}"
    else:
        text = base if len(base) == 1 else f"\\mathit{{{base}}}"
    return text + (f"_{{{subscript(sub)}}}" if sep else "")


def grow(form: str) -> str:
    """A call's format with \\left( \\right) for the brackets around its arguments."""
    return re.sub(r"\((\{\d*\}(?:.*\{\d*\})?)\)", lambda m: f"\\left({m.group(1)}\\right)", form, count=1)


def tall(tex: str) -> bool:
    """Whether brackets around tex must grow: it holds a fraction or a big operator."""
    return "\\frac" in tex or "\\sum" in tex or "\\begin" in tex


def render_latex_program(t) -> str:
    """A typed program in LaTeX: its bindings, then the formula."""
    lets = "".join(f"{name} = {render_latex(v)}, \\quad " for name, v in t.bindings)
    return lets + render_latex(t.body)


def tex_name(name: str) -> str:
    """A symbol's name in LaTeX, not bold."""
    return symbol(name, False)


def letter(n: Node) -> bool:
    """A symbol or constant, perhaps with superscripts: juxtaposed with a plain space, others with \\,."""
    while isinstance(n, SUPERSCRIPTS):
        n = n.arg
    return isinstance(n, LETTERS)


def exponent(e) -> str:
    return str(e.numerator) if e.denominator == 1 else f"{e.numerator}/{e.denominator}"


class LatexRenderer(Renderer):
    def __init__(self, bold: bool = True):
        self.bold = bold

    def wrap(self, text):
        return f"\\left({text}\\right)"

    def precedence(self, n: Node) -> int:
        if isinstance(n, Div) or (isinstance(n, Num) and n.value > 0 and n.value.denominator != 1):
            return FRACTION
        if isinstance(n, Ones) and n.shape and n.shape[0] != 1 and n.shape[1] != 1:
            return P[Mul]
        if isinstance(n, Inverse):
            return POSTFIX         # X^{-1} is a superscript like X^{\top}: braced, not bracketed
        return precedence(n)

    def parenthesize(self, child: Node, level: int, strict: bool = False):
        p = self.precedence(child)
        text = self.render(child)
        if p < level or (strict and p == level):
            return self.wrap(text)
        return text

    def postfix_base(self, child: Node, level: int = POSTFIX):
        """A base for ^{...}: bracketed as in text, braced if it already ends in a superscript."""
        text = self.parenthesize(child, level)
        bracketed = self.precedence(child) < level
        if not bracketed and (isinstance(child, (Transpose, Inverse)) or
                              (isinstance(child, Ones) and self.precedence(child) == ATOM and child.shape
                               and child.shape[1] != 1)):
            return f"{{{text}}}"
        return text

    def sym(self, name: str, node: Node) -> str:
        return symbol(name, self.bold and is_vector(node.shape))

    def _render_Sym(self, n):
        return self.sym(n.name, n)

    def _render_Size(self, n):
        return symbol(n.name, False)

    def _render_Constant(self, n):
        return symbol(n.name, False)

    def _render_Num(self, n):
        return number(n.value)

    def sized(self, base: str, d) -> str:
        parts = self.size_parts(d) if d is not None else None
        return f"{base}_{{{' '.join(parts)}}}" if parts else base

    def _render_Identity(self, n):
        return self.sized("I", n.shape[0] if n.shape else None)

    def _render_Ones(self, n):
        rows, cols = n.shape if n.shape else (None, 1)
        col, row = self.sized(r"\mathbf{1}", rows), self.sized(r"\mathbf{1}", cols) + r"^{\top}"
        if cols != 1:
            return row if rows == 1 else col + row
        return col

    def _render_Zero(self, n):
        return "0"

    def _render_Delta(self, n):
        return r"\mathrm{d}" + self.sym(n.name, n)

    def _render_Apply(self, n):
        """f(u), \\nabla f(u), \\nabla^2 f(u), J_{g}(u) and a curve's x'(t), as papers write them."""
        f, arg = symbol(n.fn, False), rf"\left({self.render(n.arg)}\right)"
        if n.order == 0:
            return f + arg
        if n.domain == 1 and not n.scalar_valued:
            return f"{f}{chr(39) * n.order}{arg}"
        if n.order == 2:
            return rf"\nabla^2 {f}{arg}"
        return (rf"\nabla {f}" if n.scalar_valued else f"J_{{{f}}}") + arg

    def _render_HCat(self, n):
        return r"\begin{bmatrix} " + " & ".join(self.block(a) for a in n.args) + r" \end{bmatrix}"

    def block(self, a) -> str:
        """A block; a zero block says its size, 0_{m \times n}, so the matrix reads back."""
        if not isinstance(a, Zero) or tuple(a.shape) == (1, 1):
            return self.render(a)
        rows, cols = (" ".join(self.size_parts(d) or [str(d)]) for d in a.shape)
        return f"0_{{{rows} \\times {cols}}}"

    def _render_Unit(self, n):
        return f"{symbol('e', self.bold)}_{{{n.index}}}"

    def _render_Commutation(self, n):
        return f"K_{{{n.m},{n.n}}}"

    def _render_Add(self, n):
        out = []
        for i, (negative, term) in enumerate(signed_terms(n)):
            level = P[Add] + 1 if (negative or i) else P[Add]
            text = self.parenthesize(term, level) if negative else self.parenthesize(term, P[Add])
            if i == 0:
                out.append(f"-{self.parenthesize(term, P[Mul])}" if negative else text)
            else:
                out.append(f" - {text}" if negative else f" + {text}")
        return "".join(out)

    def _render_Neg(self, n):
        return "-" + self.parenthesize(n.arg, P[Neg] + 1)

    def _render_Mul(self, n):
        coef, den, rest = split_product(n, every_negative_power=True)
        head = ""
        if den:
            d = " ".join(self.parenthesize(x, P[Mul] + 1) for x in den) if len(den) > 1 else self.render(den[0])
            d = d if coef.denominator == 1 else f"{coef.denominator} {d}"
            head = ("-" if coef < 0 else "") + frac(abs(coef.numerator), d)
        elif coef != 1 or not rest:
            head = number(coef) if coef != -1 or not rest else "-"
        parts = [(head, not den and coef.denominator == 1)] if head and head != "-" else []
        for i, a in enumerate(rest):
            first = i == 0 and not head
            if isinstance(a, Mul) and first:
                parts.append((self.render(a), letter(a.args[-1])))
            else:
                level = P[Mul] if first else P[Mul] + 1
                parts.append((self.parenthesize(a, level), self.precedence(a) >= level and letter(a)))
        text = parts[0][0] if parts else ""
        for (left, tight_left), (right, tight_right) in zip(parts, parts[1:]):
            sep = " " if tight_left and tight_right else r"\,"
            if left[-1:].isdigit() and right[:1].isdigit():
                sep = r" \cdot "
            text += sep + right
        return "-" + text if head == "-" else text

    def _render_Div(self, n):
        return frac(self.render(n.left), self.render(n.right))

    def _render_Power(self, n):
        e, arg = n.exp, n.arg
        if isinstance(arg, Inverse) and not isinstance(arg.arg, Transpose) and n.shape != (1, 1):
            e, arg = -e, arg.arg           # (M^{-1})^2 reads M^{-2}
        return f"{self.postfix_base(arg, POSTFIX + 1)}^{{{exponent(e)}}}"

    def _render_EPow(self, n):
        return f"{self.postfix_base(n.arg)}^{{\\circ {exponent(n.exp)}}}"

    def _render_VarPow(self, n):
        exp = self.render(n.exp)
        if n.shape == (1, 1):
            return f"{self.postfix_base(n.arg, POSTFIX + 1)}^{{{exp}}}"
        return f"{self.postfix_base(n.arg)}^{{\\circ {exp}}}"

    def _render_Transpose(self, n):
        if isinstance(n.arg, HCat):
            return self.stacked(n.arg)
        return f"{self.postfix_base(n.arg)}^{{\\top}}"

    def stacked(self, n) -> str:
        """[aᵀ, bᵀ]ᵀ as a column of blocks, [[A, B]ᵀ, [C, D]ᵀ]ᵀ as a block matrix."""
        rows = self.stacked_rows(n, " & ", lambda a: f"{self.postfix_base(a)}^{{\\top}}")
        return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"

    def _render_Inverse(self, n):
        if isinstance(n.arg, Transpose):
            return f"{self.postfix_base(n.arg.arg)}^{{-\\top}}"
        return f"{self.postfix_base(n.arg)}^{{-1}}"

    def infix(self, n, op):
        """Left-associative like text; Kron and the elementwise operators share a level, so bracket mixes."""
        level = P[type(n)]
        mixed = lambda c: (type(c) is Kron) != (type(n) is Kron)  # noqa: E731
        left = self.parenthesize(n.left, level, strict=mixed(n.left))
        return f"{left} {op} {self.parenthesize(n.right, level + 1)}"

    def _render_Hadamard(self, n):
        return self.infix(n, r"\odot")

    def _render_HadDiv(self, n):
        return self.infix(n, r"\oslash")

    def _render_Kron(self, n):
        return self.kron_operands(n)

    def render_kron(self, n):
        return self.infix(n, r"\otimes")

    def call(self, op, args):
        """A call as its record typesets it; its brackets grow around something tall."""
        inner = [self.render(a) for a in args]
        return (grow(op.latex) if any(tall(t) for t in inner) else op.latex).format(*inner)

    def _render_Function(self, n):
        call = lambda: self.call(ops.BY_NODE[type(n)], (n.arg,))     # noqa: E731
        return self.reduced(call, n.arg) if n.is_scalar else call()

    def _render_Elementwise(self, n):
        return self.call(ops.lookup(n.fn), (n.arg,))

    def _render_Call(self, n):
        return self.call(ops.lookup(n.fn), n.args)

    def _render_Norm(self, n):
        sub = f"_{{{n.kind}}}" if n.kind else ""
        inner = self.reduced(lambda: self.render(n.arg), n.arg)
        if tall(inner):
            return f"\\left\\lVert {inner} \\right\\rVert{sub}"
        return f"\\lVert {inner} \\rVert{sub}"


STYLES = {"bold": LatexRenderer(bold=True), "plain": LatexRenderer(bold=False)}


def renderer(style: str) -> LatexRenderer:
    try:
        return STYLES[style]
    except KeyError:
        raise ValueError(f"unknown LaTeX style {style!r}: choose one of {', '.join(STYLES)}") from None


def render_latex(node: Node, style: str = "bold") -> str:
    return renderer(style).render(node)


def render_latex_result(result, style: str = "bold", lhs: bool = False) -> str:
    """Bindings first (`y = X w ,\\quad ...`), then the derivative; a tensor in index
    notation, as in every other format (--flatten gives the matrix)."""
    if getattr(result, "tensor", None) is not None and getattr(result, "index", None) is not None:
        return result.index[2]
    r = renderer(style)
    typed = getattr(result, "typed", None)
    own = {name for name, _ in (typed.bindings if typed is not None else result.bindings)}
    lines = [f"{r.sym(name, value)} = {r.render(value)}" for name, value in result.bindings if name in own]
    shared = [f"{r.sym(name, value)} = {r.render(value)}" for name, value in result.bindings if name not in own]
    body = r.render(result.node)
    text = r" ,\quad ".join(lines + [f"{derivative_lhs(result, r)} = {body}" if lhs else body])
    # names the result gives its own repeated subterms come after it: … \quad \text{where } s = σ(…)
    return text + (r" \quad \text{where } " + r", \; ".join(shared) if shared else "")


def derivative_lhs(result, r: LatexRenderer) -> str:
    """∂L/∂W as the user named them: the function by its bound name (f when it has none)."""
    f = symbol(result.typed.function_name, False)
    x = r.sym(result.wrt, Sym(result.wrt, shape=result.var_shape)) if not result.joint else symbol(result.wrt, False)
    if result.order == 2:
        return rf"\frac{{\partial^{{2}} {f}}}{{\partial {x} \, \partial {x}^{{\top}}}}"
    return rf"\frac{{\partial {f}}}{{\partial {x}}}"


TEXT_SPECIALS = {c: "\\" + c for c in "&%$#_{}"} | {"~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                                                       "\\": r"\textbackslash{}"}


def latex_text(text: str) -> str:
    """Plain words for \\text{...}: LaTeX's special characters escaped."""
    return "".join(TEXT_SPECIALS.get(c, c) for c in text)


def aligned(body: str) -> bool:
    """Whether body has its own alignment (`&`, `\\\\` outside a matrix), which only an
    align-like environment can hold."""
    outside = re.sub(r"\\begin\{(bmatrix|pmatrix|matrix)\}.*?\\end\{\1\}", "", body, flags=re.S)
    return "&" in outside or "\\\\" in outside


def wrap(body: str, env: str = "equation") -> str:
    """body in an environment; rows aligned on `&` sit in an aligned block inside $…$ or
    equation*, which cannot hold them directly."""
    try:
        template = ENVIRONMENTS[env]
    except KeyError:
        raise ValueError(f"unknown LaTeX environment {env!r}: choose one of {', '.join(ENVIRONMENTS)}") from None
    if env != "align" and aligned(body):
        body = f"\\begin{{aligned}}\n{body}\n\\end{{aligned}}"
    return template.format(body)


def document(body: str, env: str = "equation") -> str:
    return f"{PREAMBLE}{wrap(body, env)}\n\\end{{document}}\n"
