"""Text → Program. The parser and lark's types come from lalr.py (lark's generated
standalone parser for grammar_text())."""
from __future__ import annotations

import os
import re
from dataclasses import replace
from fractions import Fraction
from functools import lru_cache

from . import lalr, latex_input, limits, ops, reading
from .dims import dim_product
from .errors import LimitError, McalcError, ParseError, Span
from .nodes import (Add, Apply, Call, Commutation, Div, EPow, Elementwise, HCat, HadDiv, Hadamard, Identity, Inverse,
                    Kron, Mul, Neg, Node, Norm, Num, Ones, Power, Sym, Transpose, Zero, map_children, walk)
from .nodes import replace as with_fields
from .program import GREEK, GREEK_LETTER, Binding, Decl, Program, Signature, canonical_name, is_greek  # noqa: F401 (re-exported)


def grammar_path() -> str:
    """The grammar file: packaged beside the modules, or in the checkout's grammar/ (os.path,
    not pathlib: pathlib and what it imports are about 4% of a one-liner)."""
    here = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(here, "grammar", "mcalc.lark")
    if os.path.exists(packaged):
        return packaged
    return os.path.join(os.path.dirname(here), "grammar", "mcalc.lark")


class NormBars:
    """Turn each ‖ or || into an opening or closing norm bar, and each | into an opening or
    closing |·|: a bar closes when the innermost open one is of its kind and the previous
    token ends an operand."""
    always_accept = ("BAR", "ABS_BAR")
    ENDS = {"NAME", "NUMBER", "RPAR", "RBRACE", "RSQB", "NORM_CLOSE", "NORM_SUB", "TRANSPOSE", "TEE",
            "ABS_CLOSE", "DOT_T", "SUPERSCRIPT"}
    KINDS = {"BAR": ("NORM_OPEN", "NORM_CLOSE"), "ABS_BAR": ("ABS_OPEN", "ABS_CLOSE")}

    def process(self, stream):
        open_bars, prev, split = [], None, None
        for tok in stream:
            kind = tok.type
            if kind == "BAR" and tok.value == "||" and open_bars[-1:] == ["ABS_BAR"] and prev in self.ENDS:
                # |A||B|: this || closes one |·| and opens the next; a second such || inside the
                # |·| it opened (|a||b||c|, |a ||x|| |) could as well be a norm: ambiguous
                if split is not None and split[1] == len(open_bars):
                    det, mod = ops.BARS["square"].name, ops.BARS["scalar"].name      # the readings of |·|
                    raise ParseError("ambiguous bars: || may close |…| and open another, or open a norm",
                                     tok_span(split[0]), f"write {det}(A) {det}(B), {mod}(a) {mod}(b) or norm(x) "
                                                         "for the one you mean")
                split = (tok, len(open_bars))
                p, c = tok.start_pos, tok.column
                yield Token("ABS_CLOSE", "|", p, tok.line, c, tok.line, c + 1, p + 1)
                tok = Token("ABS_OPEN", "|", p + 1, tok.line, c + 1, tok.line, c + 2, p + 2)
                prev = tok.type
                yield tok
                continue
            if kind in self.KINDS:
                close = bool(open_bars) and open_bars[-1] == kind and prev in self.ENDS
                tok = Token.new_borrow_pos(self.KINDS[kind][close], tok.value, tok)
                if close:
                    if split is not None and split[1] == len(open_bars):
                        split = None
                    open_bars.pop()
                else:
                    open_bars.append(kind)
            prev = tok.type
            yield tok


def grammar_text() -> str:
    """The grammar with its FUNC terminal listing every function name of the records
    (longest first, so that log_softmax is not read as a shorter name it begins with), and
    PREFIX_FUNC those that may omit their brackets (tr X, logdet X). The generated parser is
    keyed on this text, so a new record rebuilds the tables once."""
    def alternatives(names) -> str:
        return "|".join(re.escape(n) for n in sorted(names, key=lambda n: (-len(n), n)))
    with open(grammar_path(), encoding="utf-8") as f:
        text = f.read()
    return text.replace("FUNCTION_NAMES", alternatives(ops.function_names())).replace(
        "PREFIX_NAMES", alternatives(ops.prefix_names()))


# lark's runtime for this grammar (a module generated once per grammar text, see lalr.py)
LALR = lalr.runtime(grammar_text(), NormBars.always_accept)
Token, Tree, Transformer, v_args = LALR.Token, LALR.Tree, LALR.Transformer, LALR.v_args
UnexpectedInput, UnexpectedToken, UnexpectedCharacters, UnexpectedEOF, VisitError = (
    LALR.UnexpectedInput, LALR.UnexpectedToken, LALR.UnexpectedCharacters, LALR.UnexpectedEOF, LALR.VisitError)


@lru_cache(maxsize=1)
def parser():
    return LALR.Lark_StandAlone(postlex=NormBars())


def span_of(meta) -> Span | None:
    if getattr(meta, "empty", True):
        return None
    return Span(meta.start_pos, meta.end_pos)


def tok_span(tok: Token) -> Span:
    return Span(tok.start_pos, tok.end_pos)


SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")

FUNCTION_NAMES = ops.function_names()


@v_args(inline=True, meta=True)
class Build(Transformer):
    """One method per grammar alias; each builds one node (shapes come later)."""

    def __init__(self, source: str = "", functions: dict | None = None):
        super().__init__()
        self.source = source
        self.functions = functions or {}     # name → Signature of the declared abstract functions
        self.grouped: set[int] = set()      # ids of bracketed sums, which a + b + c must not flatten
        self.before_bracket: list[Sym] = []  # symbols written directly before '(': calls or products

    def group(self, meta, x):
        self.grouped.add(id(x))
        return x

    def terms(self, a):
        """a + b + c is one sum of three terms (so a long sum is not a deep tree); a + (b + c) is two."""
        return a.args if isinstance(a, Add) and id(a) not in self.grouped else (a,)

    def number(self, meta, tok):
        value = parse_number(tok)
        decimal = any(c in str(tok) for c in ".eE")
        return Zero(span=tok_span(tok)) if value == 0 else Num(value, decimal, span=tok_span(tok))

    def symbol(self, meta, tok):
        name = canonical_name(str(tok))
        base, _, sub = name.partition("_")
        if base in ("I", "ones") and sub:          # I_n, I_3, ones_m: a constant of a given size
            if not re.fullmatch(r"\d+|[A-Za-z][A-Za-z0-9]*", sub):
                raise ParseError(f"the size of {base} must be a dimension name or a number, not {sub}",
                                 tok_span(tok), f"write {base}_n or {base}_3")
            d = dim_value(sub, tok_span(tok))
            return Identity(shape=(d, d), span=tok_span(tok)) if base == "I" else \
                Ones(shape=(d, 1), span=tok_span(tok))
        if name in ("I", "eye"):
            return Identity(span=tok_span(tok))
        if name in ("ones", "𝟏"):
            return Ones(span=tok_span(tok))
        sym = Sym(name, span=tok_span(tok))
        if self.source[tok.end_pos:tok.end_pos + 1] == "(":
            self.before_bracket.append(sym)
        return sym

    def commutation(self, meta, tok):
        """K_(m,n), the commutation matrix: K vec(A) = vec(Aᵀ) for A m×n; a size may be a product
        (K_(m*n,p), as results print it for A of m·n rows)."""
        m, n = (dim_product(tuple(dim_value(f.strip(), tok_span(tok)) for f in d.split("*")))
                for d in str(tok)[3:-1].split(","))
        mn = dim_product((m, n))
        return Commutation(m, n, shape=(mn, mn), span=tok_span(tok))

    def add(self, meta, a, b):
        return Add(self.terms(a) + (b,), span=span_of(meta))

    def sub(self, meta, a, b):
        return Add(self.terms(a) + (Neg(b, span=b.span),), span=span_of(meta))

    def neg(self, meta, a):
        return Neg(a, span=span_of(meta))

    def matmul(self, meta, a, b):
        if self.functions:
            applied = self.applied(a, b)
            if applied is not None:
                return applied
        return Mul((a, b), span=span_of(meta))     # binary: x^T A x x is (x^T A x) x, a scalar times x

    def div(self, meta, a, b):
        return Div(a, b, span=span_of(meta))

    # abstract functions: f(u), grad_f(u), hess_f(u), J_g(u) for a declared f: R^m -> R^k
    DERIVATIVE_PREFIX = {"grad_": 1, "J_": 1, "hess_": 2}

    def function_of(self, n: Node):
        """(signature, order) when n names a declared function or one of its derivatives."""
        if not isinstance(n, Sym) or n.span is None:
            return None
        if n.name in self.functions:
            return self.functions[n.name], 0
        for prefix, order in self.DERIVATIVE_PREFIX.items():
            sig = self.functions.get(n.name[len(prefix):]) if n.name.startswith(prefix) else None
            if sig is None:
                continue
            if prefix == "grad_" and sig.codomain != 1:
                raise ParseError(f"{sig.name} is vector-valued: its derivative is the Jacobian J_{sig.name}", n.span)
            if prefix == "J_" and sig.codomain == 1:
                raise ParseError(f"{sig.name} is scalar-valued: its derivative is the gradient grad_{sig.name}", n.span)
            return sig, order
        return None

    def primed(self, n: Node):
        """x'(t), x''(t): the derivatives of a declared function of one variable, as papers write
        them: (signature, order), or None when n is not a declared name with primes."""
        k = 0
        while isinstance(n, Transpose) and n.span is not None and self.source[n.span.end - 1:n.span.end] == "'":
            n, k = n.arg, k + 1
        if k == 0 or not isinstance(n, Sym) or n.span is None or n.name not in self.functions:
            return None
        sig = self.functions[n.name]
        if sig.domain != 1 or k > 2:
            raise ParseError(f"{n.name}{chr(39) * k} is not a derivative mcalc knows: primes are for the first and "
                             f"second derivatives of a function of one variable",
                             n.span, hint=f"write {'grad_' if sig.codomain == 1 else 'J_'}{n.name}(...) "
                                          f"or hess_{n.name}(...)")
        return sig, k

    def applied(self, a, b):
        """f (u) is the call f(u) when f is declared a function; in x^T f(u) the call is the last
        factor, and f(u)^T is (f(u))^T: postfix operators that begin at f's bracket apply to the call."""
        head, rest = a, None
        if isinstance(a, Mul) and len(a.args) == 2 and id(a) not in self.grouped:
            head, rest = a.args[1], a.args[0]
        found = self.function_of(head) or self.primed(head)
        if found is None:
            return None
        sig, order = found
        at = head.span.end
        while at < len(self.source) and self.source[at] in " \t":
            at += 1
        if at >= len(self.source) or self.source[at] != "(":
            name = self.source[head.span.start:head.span.end]
            raise ParseError(f"{name} is a function; write {name}(...)", head.span)
        posts, arg = [], b
        while isinstance(arg, (Transpose, Power, EPow, Inverse)) and arg.span and arg.span.start == at:
            posts.append(arg)
            arg = arg.arg
        span = Span(head.span.start, (posts[-1].span.end if posts else b.span.end + 1) if b.span else head.span.end)
        out = Apply(sig.name, arg, order, sig.domain, sig.codomain, span=span)
        for p in reversed(posts):
            out = with_fields(p, arg=out)
        return out if rest is None else Mul((rest, out), span=span_of_pair(rest, out))

    def hadamard(self, meta, a, op, b):
        return Hadamard(a, b, span=span_of(meta))

    def haddiv(self, meta, a, b):
        return HadDiv(a, b, span=span_of(meta))

    def kron(self, meta, a, op, b):
        return Kron(a, b, span=span_of(meta))

    def transpose(self, meta, a, tok=None):
        return Transpose(a, span=span_of(meta))

    def inverse_transpose(self, meta, a, tok):
        return Inverse(Transpose(a, span=a.span), span=span_of(meta))

    def exponent(self, meta, e):
        if isinstance(e, Token):
            return parse_number(e), tok_span(e)
        try:
            return constant_value(e), span_of(meta)
        except NotConstant:
            return e, span_of(meta)          # a variable exponent: a^b (shapes.infer checks it)

    def neg_exponent(self, meta, tok):
        return -parse_number(tok), Span(tok.start_pos - 1, tok.end_pos)

    def power(self, meta, base, exp):
        value, espan = exp
        if isinstance(value, Node):
            return reading.VarPower(base, value, span=span_of(meta))
        check_exponent(value, espan)
        if value == -1:
            return Inverse(base, span=span_of(meta))
        return Power(base, value, span=span_of(meta))

    def epow(self, meta, base, exp):
        value, espan = exp
        if isinstance(value, Node):
            return reading.VarPower(base, value, True, span=span_of(meta))
        check_exponent(value, espan)
        return EPow(base, value, span=span_of(meta))

    def norm(self, meta, bar, arg, close, sub=None):
        kind = None
        if sub is not None:
            kind = str(sub).strip("_{}")
            kind = "F" if kind == "fro" else kind
        return Norm(arg, kind, span=span_of(meta))

    def superscript(self, meta, base, tok):
        """X⁻¹, s², x³: a superscript number is the power it shows."""
        digits = str(tok).translate(SUPERSCRIPTS)
        value = parse_number(Token("NUMBER", digits.lstrip("-"))) * (-1 if digits.startswith("-") else 1)
        check_exponent(value, tok_span(tok))
        return Inverse(base, span=span_of(meta)) if value == -1 else Power(base, value, span=span_of(meta))

    def exponent_name(self, meta, tok):
        return self.symbol(meta, tok), tok_span(tok)

    def prefix_call(self, meta, fn, arg):
        """tr X Y, det X, logdet X: a function without brackets applies to the following product."""
        return self.call(meta, fn, arg)

    def dialect_call(self, meta, fn, arg):
        """matrixcalculus.org's spellings: norm1(x), norm2(x), vector(c) = c ones, matrix(c) = c ones onesᵀ."""
        span, fn = span_of(meta), str(fn)
        if fn in ("norm1", "norm2"):
            return Norm(arg, "1" if fn == "norm1" else None, span=span)
        ones = Ones(span=span)
        if fn == "matrix":
            ones = Mul((ones, Transpose(Ones(span=span), span=span)), span=span)
        return ones if isinstance(arg, Num) and arg.value == 1 else Mul((arg, ones), span=span)

    def angle(self, meta, a, b):
        return reading.frobenius(a, b, span_of(meta))

    def frobenius(self, meta, a, b):
        return reading.frobenius(a, b, span_of(meta))

    def frobenius_name(self, meta, name, b):
        after = self.source[name.end_pos:].lstrip(" \t")[1:].lstrip(" \t")
        if re.match(r"[CQZNℂℚℤℕ](?![A-Za-z0-9_])", after):     # x: Q^n is a declaration in another set
            at = self.source.index(after[0], name.end_pos)
            raise ParseError(f"unexpected {after[0]!r}; expected 'R'", Span(at, at + 1),
                             "a declaration reads x: R^n (real vectors and matrices only)")
        return reading.frobenius(self.symbol(meta, name), b, span_of(meta))

    def bars(self, meta, bar, arg, close):
        return reading.Bars(arg, span=span_of(meta))

    def row(self, meta, *args):
        return args

    def hcat(self, meta, args):
        return args[0] if len(args) == 1 else HCat(tuple(args), span=span_of(meta))

    def vcat(self, meta, *rows):
        """[a; b] = [aᵀ, bᵀ]ᵀ, and [A, B; C, D] stacks the block rows [A, B] and [C, D]: the
        tree the engine builds for a stacked vector and a block matrix, so they read back."""
        blocks = [self.hcat(meta, r) for r in rows]
        return Transpose(HCat(tuple(Transpose(b, span=b.span) for b in blocks), span=span_of(meta)),
                         span=span_of(meta))

    def call(self, meta, fn, *args):
        """A call, as its record says: an elementwise function, a function of arrays, or a
        matrix function with its own node class."""
        name = str(fn)
        op = ops.lookup(name)
        span = span_of(meta)
        if len(args) not in op.arity:
            want = " or ".join(map(str, op.arity))
            raise ParseError(f"{name} takes {want} argument{'s' if op.arity != (1,) else ''}, got {len(args)}", span)
        if op.elementwise:
            return Elementwise(name, args[0], span=span)
        if op.node is None:
            return Call(name, tuple(args), span=span)
        if op.node is Norm:
            kind = None
            if len(args) == 2:
                k = args[1]
                if not (isinstance(k, Num) and k.value in (1, 2)):
                    raise ParseError("norm(x, p) takes p = 1 or 2", k.span)
                kind = str(k.value)
            return Norm(args[0], kind, span=span)
        return op.node(*args, span=span)

    # statements
    def binding(self, meta, name, value):
        return Binding(canonical_name(str(name)), value, span_of(meta))

    def signature(self, meta, name, domain, arrow, codomain):
        for dims, side in ((domain, "from"), (codomain, "to")):
            if dims and dims[1] != 1:
                raise ParseError(f"a function maps R or R^n to R or R^m; {name} maps {side} a matrix space",
                                 span_of(meta), f"write {name}: R^n -> R or {name}: R^n -> R^m")
        return Signature(canonical_name(str(name)), domain[0] if domain else 1, codomain[0] if codomain else 1,
                         span_of(meta))

    def decl(self, meta, name, shape, *attrs):
        words = {str(a) for a in attrs}
        return Decl(canonical_name(str(name)), shape, "symmetric" in words, span_of(meta),
                    probability="probability" in words, diagonal="diagonal" in words)

    def shape(self, meta, reals, dims=()):
        return dims

    def dims_one(self, meta, tok):
        run_on = re.fullmatch(r"([A-Za-z]|\d+)x([A-Za-z]|\d+)", str(tok))
        if run_on:                      # R^nxn: not a vector of size 'nxn'
            m, n = run_on.groups()
            raise ParseError(f"malformed shape R^{tok}; did you mean R^({m}×{n})?", tok_span(tok),
                             f"a matrix shape needs brackets: R^({m}×{n}), R^{{{m} x {n}}} or R^({m},{n})")
        return (dim_value(str(tok), tok_span(tok)), 1)

    def dims_many(self, meta, tok):
        return split_dims(str(tok), tok_span(tok))

    def start(self, meta, *statements):
        return statements

    def decls(self, meta, *decls):
        return decls


def span_of_pair(a: Node, b: Node) -> Span | None:
    return Span(a.span.start, b.span.end) if a.span and b.span else None


def parse_number(tok) -> Fraction:
    text = str(tok)
    try:
        if len(text) > limits.MAX_NUMBER_CHARS:
            raise ValueError
        mant, _, exp = text.lower().partition("e")
        if exp and abs(int(exp)) > limits.MAX_NUMBER_EXP10:
            raise ValueError
        return Fraction(mant.rstrip(".") or "0") * Fraction(10) ** int(exp or 0)
    except ValueError:
        raise LimitError(f"number {text[:20]}{'…' if len(text) > 20 else ''} is too large "
                         f"(at most {limits.MAX_NUMBER_CHARS} digits, exponent ±{limits.MAX_NUMBER_EXP10})",
                         tok_span(tok)) from None


def check_exponent(value: Fraction, span) -> None:
    if abs(value.numerator) > limits.MAX_EXPONENT or value.denominator > limits.MAX_EXPONENT:
        raise LimitError(f"exponent {short(value)} is too large (at most {limits.MAX_EXPONENT} in size)", span)


def short(value: Fraction) -> str:
    s = str(value)
    return s if len(s) < 24 else s[:20] + "…"


def constant_value(n: Node) -> Fraction:
    """The value of a constant exponent such as (1/2) or (-3); anything else is an error."""
    match n:
        case Num(value=v):
            return v
        case Zero():
            return Fraction(0)
        case Neg(arg=a):
            return -constant_value(a)
        case Div(left=a, right=b):
            den = constant_value(b)
            if den == 0:
                raise ParseError("division by zero in the exponent", n.span)
            return constant_value(a) / den
        case Add(args=args):
            return sum((constant_value(a) for a in args), Fraction(0))
        case Mul(args=args):
            out = Fraction(1)
            for a in args:
                out *= constant_value(a)
                check_exponent(out, n.span)
            return out
        case Power(arg=a, exp=e):
            base = constant_value(a)
            if e.denominator != 1 or abs(e) > 64 or (base == 0 and e < 0):
                raise LimitError("exponent must be a number of modest size", n.span)
            value = base ** int(e)
            check_exponent(value, n.span)
            return value
    raise NotConstant("an exponent must be a number (write x.^2 for elementwise powers)", n.span)


class NotConstant(ParseError):
    """An exponent that is not a number: a variable exponent (a^b) where one is allowed."""


def dim_value(text: str, span) -> int | str:
    if text.isdigit():
        value = int(text)
        if value < 1 or value > limits.MAX_DIM:
            raise LimitError(f"dimension {text} must be between 1 and {limits.MAX_DIM}", span)
        return value
    return text


DIM_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|[×,*]|\S")


def split_dims(text: str, span: Span) -> tuple:
    """'n×m', 'n x m', 'n,m', '3x4' → (n, m); a '*' inside one dimension multiplies: R^(m*n)."""
    bad = ParseError(f"malformed shape R^({text.strip()})", span, "write R^(m×n), R^{m x n} or R^(m,n)")
    dims: list[list] = [[]]
    expect = True                    # expecting a dimension (after a separator or '*')
    for t in DIM_TOKEN.findall(text):
        if t in ("×", ",") or (t == "x" and not expect):
            if expect:
                raise bad
            dims.append([])
            expect = True
            continue
        if t == "*":
            if expect:
                raise bad
            expect = True
            continue
        if not expect and t.startswith("x") and len(t) > 1:   # '3x4' lexed as 3, x4
            dims.append([])
            t = t[1:]
        elif not expect:
            raise bad
        if not (t.isdigit() or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", t)):
            raise ParseError(f"malformed shape R^({text.strip()}): {t!r} is not a dimension", span)
        dims[-1].append(dim_value(t, span))
        expect = False
    if expect or len(dims) not in (1, 2):
        raise ParseError(f"malformed shape R^({text.strip()})", span, "a shape is R, R^n or R^(m×n)")
    out = tuple(d[0] if len(d) == 1 else product_dim(d) for d in dims)
    return (out[0], 1) if len(out) == 1 else out


def product_dim(parts: list) -> int | str:
    return dim_product(parts)


TOKEN_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "FUNC": "a function", "LPAR": "'('", "RPAR": "')'",
    "LBRACE": "'{'", "LSQB": "'['", "RSQB": "']'", "RBRACE": "'}'", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'",
    "NORM_OPEN": "'||'", "NORM_CLOSE": "'||'", "_SEP": "';'", "COLON": "':'", "EQUAL": "'='",
    "CIRCUMFLEX": "'^'", "TEE": "'T'", "COMMA": "','", "REALS": "'R'", "INT": "an integer",
    "DIMS": "dimensions", "$END": "the end", "HADAMARD": "'.*'", "KRON": "'⊗'", "ARROW": "'->'", "AT": "'@'",
    "BAR": "'||'", "ATTR": "an attribute (symmetric, probability)", "NORM_SUB": "a norm subscript", "TRANSPOSE": "a transpose",
    "COMMUTATION": "K_(m,n)", "_MINUS": "'-'", "ABS_OPEN": "'|'", "ABS_CLOSE": "'|'",
    "DOT_T": "'.T'", "SUPERSCRIPT": "a superscript", "PREFIX_FUNC": "a function",
    "DIALECT": "a function", "ABS_BAR": "'|'", "_TIMES": "'·'",
}


def expected_words(expected) -> str:
    words = sorted({TOKEN_WORDS.get(e, e.lower().replace("_", " ")) for e in expected
                    if not e.startswith("__") and e not in ("BAR", "ABS_BAR")})
    operand = {"a name", "a number", "'('"}
    if operand <= set(words):
        words = ["a formula"] + [w for w in words if w not in operand | {"a function", "'{'", "'||'", "'-'", "'+'", "'['",
                                                                       "K_(m,n)", "'|'"}]
    if len(words) > 5:
        words = words[:5] + ["…"]
    return ", ".join(words)


def check_size(text: str) -> None:
    if len(text) > limits.MAX_INPUT_CHARS:
        raise LimitError(f"input is {len(text):,} characters; the limit is {limits.MAX_INPUT_CHARS:,}",
                         Span(limits.MAX_INPUT_CHARS, len(text)))
    depth = 0
    for i, c in enumerate(text):
        if c in "({[":
            depth += 1
            if depth > limits.MAX_DEPTH:
                raise LimitError(f"formula nested more than {limits.MAX_DEPTH} deep", Span(i, i + 1))
        elif c in ")}]":
            depth -= 1
    bad = next((i for i, c in enumerate(text) if (ord(c) < 32 and c not in "\n\t\r") or c == "\x7f"), None)
    if bad is not None:
        raise ParseError(f"control character {text[bad]!r} in the input", Span(bad, bad + 1))


SUMS = ("add", "sub")


def tree_depth(tree) -> int:
    """Nesting depth; the left operand of a + b - c continues the same sum."""
    best, stack = 0, [(tree, 1)]
    while stack:
        t, d = stack.pop()
        best = max(best, d)
        if d > limits.MAX_DEPTH:
            return d
        for i, c in enumerate(t.children):
            if isinstance(c, Tree):
                # brackets are counted by check_size; a sum a + b + c is one level
                flat = c.data == "group" or (i == 0 and t.data in SUMS and c.data in SUMS)
                stack.append((c, d if flat else d + 1))
    return best


def parse_tree(text: str, start: str, functions: dict | None = None):
    return build(text, start, functions)[0]


def build(text: str, start: str, functions: dict | None = None):
    """The statements of text and the Build that made them (it records what reading.py checks);
    functions: the declared abstract functions, whose names before '(' are calls."""
    check_size(text)
    try:
        tree = parser().parse(text, start=start)
    except UnexpectedInput as e:
        raise to_parse_error(e, text) from None
    if tree_depth(tree) > limits.MAX_DEPTH:
        raise LimitError(f"formula nested more than {limits.MAX_DEPTH} deep (split it with bindings: y = ...; ...)",
                         Span(0, len(text)))
    builder = Build(text, functions)
    try:
        return builder.transform(tree), builder
    except VisitError as e:
        if isinstance(e.orig_exc, McalcError):
            raise e.orig_exc from None
        raise


NUMBER_RUN = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\.[0-9.]+|[eE][+-]?\d[0-9.]*)+")


def malformed_number(text: str, pos: int | None) -> ParseError | None:
    """A number running into another ("1e-3e4", "2..5"): the grammar's NUMBER refuses it."""
    m = NUMBER_RUN.match(text, pos or 0) if pos is not None else None
    if m is None or (pos and (text[pos - 1].isalnum() or text[pos - 1] in "._")):
        return None
    return ParseError(f"malformed number {m.group()!r}", Span(m.start(), m.end()),
                      "a number is 12, 0.5, .5 or 1e-3; write a product with a space: 2 x")


def to_parse_error(e: UnexpectedInput, text: str) -> ParseError:
    pos = getattr(e, "pos_in_stream", None)
    if isinstance(e, UnexpectedToken) and e.token is not None:
        pos = e.token.start_pos
    bad = malformed_number(text, pos)
    if bad is not None:
        return bad
    if isinstance(e, UnexpectedToken) and e.token is not None:
        tok = e.token
        if tok.type == "DIMS":
            pos, end, what = tok.start_pos, tok.start_pos + 1, f"{str(tok)[0]!r}"
        elif tok.type == "$END" or (tok.type == "_SEP" and not str(tok).strip(" ;\t\r\n").strip() and "\n" in str(tok)
                                     and not text[tok.end_pos:].strip()):
            pos = len(text.rstrip())
            pos, end, what = pos, pos + 1, "end of input"
        else:
            pos, end, what = tok.start_pos, tok.end_pos, f"{str(tok)!r}"
        unbracketed = unbracketed_shape(text, tok.start_pos)
        if unbracketed:
            return unbracketed
        return ParseError(f"unexpected {what}; expected {expected_words(e.expected)}", Span(pos, end),
                          hint_for(tok, text))
    if isinstance(e, UnexpectedCharacters):
        unbracketed = unbracketed_shape(text, e.pos_in_stream)
        if unbracketed:
            return unbracketed
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        allowed = expected_words(e.allowed) if e.allowed else "a formula"
        return ParseError(f"unexpected character {ch!r}; expected {allowed}",
                          Span(e.pos_in_stream, e.pos_in_stream + 1), hint_for(None, text))
    if isinstance(e, UnexpectedEOF):
        return ParseError(f"unexpected end of input; expected {expected_words(e.expected)}",
                          Span(len(text), len(text) + 1))
    return ParseError("cannot parse the input", Span(pos or 0, (pos or 0) + 1))


UNBRACKETED = re.compile(r"(R|ℝ)\^([A-Za-z]\w*|\d+)\s*([x×,])\s*([A-Za-z]\w*|\d+)")


def unbracketed_shape(text: str, pos: int) -> ParseError | None:
    """R^3x3 or R^n×n fails where the second dimension starts: say what was meant."""
    for m in UNBRACKETED.finditer(text):
        if m.start(3) <= pos <= m.start(4) or m.end(2) == pos:
            a, b = m.group(2), m.group(4)
            return ParseError(f"malformed shape {m.group(0)}; did you mean R^({a}×{b})?", Span(m.start(2), m.end()),
                              f"a matrix shape needs brackets: R^({a}×{b}), R^{{{a} x {b}}} or R^({a},{b})")
    return None


def hint_for(tok, text: str) -> str | None:
    if text.count("(") != text.count(")"):
        return "the brackets ( ) are unbalanced"
    if (text.count("||") + text.count("‖")) % 2:
        return "a norm bar || is not closed"
    return None


def parse_program(text: str, where: list[str] | tuple[str, ...] = (), known: tuple = ()) -> Program:
    """The program of text; text containing a backslash is LaTeX, read through its
    translation (latex_input), with every span mapped back into the LaTeX. known: function
    signatures declared elsewhere (a claim is read with its formula's functions)."""
    if not latex_input.is_latex(text):
        return parse_plain(text, where, known)
    tex = latex_input.translate(text)
    try:
        program = parse_plain(tex.text, where, known)
    except McalcError as e:
        if e.source is None or e.source == tex.text:
            e.span, e.source = tex.span(e.span), text
        raise
    declared = {d.name for d in program.decls}
    run_on = {f"{m.group(1)}_{m.group(2)}": m.group(0).replace("_", "") for d in declared
              for m in [re.fullmatch(r"([A-Za-z]+)(\d+)", d)] if m}      # W_{1} is W1 when W1 is declared

    def fix(n: Node) -> Node:
        n = respan(n, tex.span)
        return rename(n, {k: v for k, v in run_on.items() if k not in declared}) if run_on else n

    return replace(program, source=text, body=fix(program.body), bold=tex.bold,
                   bindings=tuple(replace(b, value=fix(b.value), span=tex.span(b.span))
                                  for b in program.bindings),
                   decls=tuple(replace(d, span=tex.span(d.span), source=text) if d.source == tex.text else d
                               for d in program.decls))


def where_decls(w: str) -> tuple[Decl, ...]:
    """The declarations of a --where text; LaTeX (x \\in \\mathbb{R}^n) through its translation."""
    if not latex_input.is_latex(w):
        return tuple(parse_tree(w, "decls"))
    tex = latex_input.translate(w)
    try:
        return tuple(replace(d, span=tex.span(d.span)) for d in parse_tree(tex.text, "decls"))
    except McalcError as e:
        e.span, e.source = tex.span(e.span), w
        raise


def rename(n: Node, names: dict[str, str]) -> Node:
    if isinstance(n, Sym) and n.name in names:
        return with_fields(n, name=names[n.name])
    return map_children(n, lambda c: rename(c, names))


def respan(n: Node, f) -> Node:
    """n with every span mapped by f (the translation's columns → the LaTeX's)."""
    m = map_children(n, lambda c: respan(c, f))
    return with_fields(m, span=f(n.span)) if n.span is not None else m


def parse_plain(text: str, where: list[str] | tuple[str, ...] = (), known: tuple = ()) -> Program:
    statements, builder = build(text, "start")
    decls: list[Decl] = []
    for w in where:
        try:
            decls.extend(replace(d, source=w) for d in where_decls(w))
        except McalcError as e:
            raise e.with_source(w)
    functions: dict[str, Signature] = {}
    for d in list(known) + decls + list(statements):
        if isinstance(d, Signature):
            old = functions.get(d.name)
            if old is not None and (old.domain, old.codomain) != (d.domain, d.codomain):
                raise ParseError(f"{d.name} is declared twice, as two different functions", d.span).with_source(
                    d.source or text)
            functions[d.name] = d
    clash = next((d for d in decls + list(statements) if isinstance(d, Decl) and d.name in functions), None)
    if clash is not None:
        raise ParseError(f"{clash.name} is declared both a function and a symbol", clash.span).with_source(
            clash.source or text)
    if functions:                    # f (u) is a call once f is known to be a function: build again
        statements, builder = build(text, "start", functions)
        check_function_uses(statements, functions)
    decls = [d for d in decls if not isinstance(d, Signature)]
    bindings: list[Binding] = []
    body = None
    for i, st in enumerate(statements):
        last = i == len(statements) - 1
        if isinstance(st, Signature):
            if last:
                raise ParseError("the input ends with a declaration; give a formula after it", st.span)
        elif isinstance(st, Decl):
            decls.append(replace(st, source=text))
            if last:
                raise ParseError("the input ends with a declaration; give a formula after it", st.span)
        elif isinstance(st, Binding):
            bindings.append(st)
            if last:
                body = Sym(st.name, span=st.span)
        else:
            if not last:
                raise ParseError("only the last statement may be a bare formula; name this one (y = ...)",
                                 st.span)
            body = st
    if len(bindings) + len(decls) > limits.MAX_SYMBOLS:
        raise LimitError(f"more than {limits.MAX_SYMBOLS} statements", Span(0, len(text)))
    known = {d.name for d in decls} | {b.name for b in bindings} | function_names(functions)
    if "pi" not in known:             # pi, π: the constant, unless declared
        body = reading.constants(body)
        bindings = [replace(b, value=reading.constants(b.value)) for b in bindings]
    notes = reading.calls(builder.before_bracket, text, known, FUNCTION_NAMES)
    notes += reading.run_together([b.value for b in bindings] + [body], known, is_greek)
    return Program(tuple(decls), tuple(bindings), body, text, notes=tuple(notes),
                   functions=tuple(functions.values()))


def function_names(functions: dict) -> set[str]:
    """f and the names of its derivatives: grad_f, hess_f (scalar-valued) or J_f."""
    out = set()
    for name, sig in functions.items():
        out |= {name, f"hess_{name}", f"grad_{name}" if sig.codomain == 1 else f"J_{name}"}
    return out


def check_function_uses(statements, functions: dict) -> None:
    """A declared function is only ever called: f alone, or f declared twice, is an error."""
    for st in statements:
        roots = [st.value] if isinstance(st, Binding) else [st] if isinstance(st, Node) else []
        if isinstance(st, Binding) and st.name in functions:
            raise ParseError(f"{st.name} is declared a function and cannot be bound", st.span)
        for root in roots:
            for m in walk(root):
                if isinstance(m, Sym) and (m.name in functions or any(
                        m.name == p + f for p in Build.DERIVATIVE_PREFIX for f in functions)):
                    raise ParseError(f"{m.name} is a function; write {m.name}(...)", m.span)


def parse_decls(text: str) -> tuple[Decl, ...]:
    return tuple(parse_tree(text, "decls"))
