"""LaTeX input (SPEC §1): a formula or claim containing a backslash is read as LaTeX.

A token-level translation into the mcalc language, never an evaluation: each command
becomes the spelling it typesets (\\mathbf{x} → x, ^\\top → ^T, \\frac{a}{b} → (a)/(b),
\\|x\\|_2 → ||x||_2), and every character of the translation remembers the columns it came
from, so that the grammar's errors put their carets under the user's LaTeX."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from . import ops
from .errors import ParseError, Span
from .program import GREEK, GREEK_LETTER

# a command → the mcalc text it stands for ("" drops it: sizing and spacing)
SYMBOLS = {
    "top": "T", "intercal": "T", "transpose": "T", "prime": "'",
    "cdot": " * ", "times": " × ", "odot": " ⊙ ", "circ": " ∘ ", "otimes": " ⊗ ", "ast": " * ", "oslash": " ./ ",
    "|": "||", "Vert": "||", "lVert": "||", "rVert": "||", "vert": "|", "mid": "|",
    "langle": "⟨", "rangle": "⟩", "{": "(", "}": ")",
    "left": "", "right": "", "big": "", "Big": "", "bigg": "", "Bigg": "", "bigl": "", "bigr": "",
    "Bigl": "", "Bigr": "", "biggl": "", "biggr": "", "displaystyle": "", "textstyle": "",
    ",": " ", ";": " ", ":": " ", "!": "", " ": " ", "quad": " ", "qquad": " ", "in": ":",
    "varepsilon": "ε", "epsilon": "ε", "vartheta": "θ", "varphi": "φ", "varsigma": "σ",
} | {name: letter for name, letter in GREEK.items() if name not in ("pi",)} | {"pi": "π"}


@dataclass(frozen=True)
class Head:
    """How a record's LaTeX form begins, read back as the record: `\\det(` is det, a head of
    two commands is one function, a head ending in a brace takes a
    braced argument, `\\lvert … \\rvert` is a bracket pair; a head that is also a Greek letter
    (the logistic function's `\\sigma`) reads as the function only before a bracket."""
    pattern: re.Pattern
    name: str
    kind: str                 # "call", "braced" or "pair"
    close: str | None = None  # a pair's closing command
    bracketed: bool = False   # only before a bracket


def head_pattern(head: str) -> re.Pattern:
    parts = re.findall(r"\\[A-Za-z]+|\\.|[{}]|[^\\{}\s]+", head)
    return re.compile(r"\s*".join(map(re.escape, parts)) + r"(?![A-Za-z])")


def record_heads() -> list[Head]:
    """The LaTeX that reads as each record: the text of its `latex` form before the first
    argument, and its `latex_in` spellings; longest first, so that a head of two commands wins
    over its first."""
    heads: list[tuple[str, Head]] = []
    for op in ops.RECORDS:
        before, _, after = op.latex.partition("{0}")
        text = before.replace("{{", "{").replace("}}", "}")
        if text.startswith("\\") and text.endswith(("(", "{")):
            heads.append((text[:-1], Head(head_pattern(text[:-1]), op.name, "call" if text.endswith("(") else "braced",
                                          bracketed=text[1:-1] in GREEK)))
        elif text.startswith("\\") and op.arity == (1,) and re.fullmatch(r"\s*\\[A-Za-z]+", after):
            heads.append((text.strip(), Head(head_pattern(text.strip()), op.name, "pair", after.strip()[1:])))
        heads += [(c, Head(head_pattern(c), op.name, "call")) for c in op.latex_in]
    return [h for _, h in sorted(heads, key=lambda t: -len(t[0]))]


@lru_cache(maxsize=1)
def heads() -> tuple[list[Head], set[str]]:
    """The records' heads and the commands that close a pair, made when LaTeX is first read
    (compiling their patterns cost every one-liner about 4 ms)."""
    found = record_heads()
    return found, {h.close for h in found if h.close}
BRACKETS = ("(", "\\left(", "\\big(", "\\Big(")
WRAPPERS = ("mathbf", "boldsymbol", "bm", "mathrm", "operatorname", "mathit", "mathsf", "vec", "textbf",
            "mathnormal", "text")
BOLD = ("mathbf", "boldsymbol", "bm", "vec", "textbf")   # a bold letter is an array, even a Greek one
MATRIX_ENVIRONMENTS = ("bmatrix", "pmatrix", "matrix", "Bmatrix")      # not vmatrix: that is a determinant
FRACTIONS = ("frac", "tfrac", "dfrac")


@dataclass
class Translation:
    text: str                 # the formula in the mcalc language
    starts: list[int]         # for each character of text, where its LaTeX began
    ends: list[int]           # ... and ended
    source: str
    bold: frozenset[str] = frozenset()   # Greek names set in bold (\boldsymbol{\mu}): vectors, not scalars

    def span(self, span: Span | None) -> Span | None:
        """A span of the translation → the span of the LaTeX it came from."""
        if span is None or not self.starts:
            return span
        last = len(self.starts) - 1
        s = min(max(span.start, 0), last)
        e = min(max(span.end - 1, s), last)
        return Span(self.starts[s], max(self.ends[e], self.starts[s] + 1))


class Reader:
    def __init__(self, text: str):
        self.src = text
        self.out: list[str] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.bold: set[str] = set()

    def emit(self, s: str, a: int, b: int, word: bool = False):
        if word and s[:1].isalnum() and self.out and (self.out[-1].isalnum() or self.out[-1] == "'"):
            s = " " + s
        if word and s[:1].isalnum() and self.out and self.out[-1] == "^":
            s = "{" + s + "}" if len(s) > 1 else s
        for ch in s:
            self.out.append(ch)
            self.starts.append(a)
            self.ends.append(b)

    def fail(self, message: str, a: int, b: int, hint: str | None = None):
        raise ParseError(message, Span(a, b), hint or "LaTeX input reads \\mathbf, \\frac, ^\\top, \\operatorname, "
                                                       "\\left( \\right), \\cdot, \\odot, \\otimes, \\| \\|, Greek letters")

    def command(self, i: int) -> tuple[str, int]:
        """The command name after the backslash at i, and where it ends."""
        j = i + 1
        if j < len(self.src) and self.src[j].isalpha():
            while j < len(self.src) and self.src[j].isalpha():
                j += 1
            return self.src[i + 1:j], j
        return self.src[i + 1:j + 1], min(j + 1, len(self.src))

    def group(self, i: int, what: str) -> tuple[int, int]:
        """The braced argument {…} starting at i (spaces skipped): its inside, as (start, end)."""
        while i < len(self.src) and self.src[i] == " ":
            i += 1
        if i >= len(self.src) or self.src[i] != "{":
            self.fail(f"{what} needs a braced argument", i - 1, i + 1, f"write {what}{{…}}")
        depth, j = 0, i
        while j < len(self.src):
            depth += {"{": 1, "}": -1}.get(self.src[j], 0)
            if depth == 0:
                return i + 1, j
            j += 1
        self.fail(f"the brace after {what} is not closed", i, i + 1)

    def read(self, lo: int, hi: int):
        i = lo
        while i < hi:
            c = self.src[i]
            if c == "\\":
                i = self.backslash(i, hi)
            elif c == "," and self.src[i + 1:hi].lstrip().startswith("\\quad"):
                j = self.src.index("\\quad", i) + len("\\quad")
                self.emit(";", i, j)           # y = X w ,\quad f: mcalc's own bindings
                i = j
            elif c == "~":
                self.emit(" ", i, i + 1)
                i += 1
            elif c == "0" and self.src.startswith("_{", i + 1) and not (self.out and (self.out[-1].isalnum() or self.out[-1] in "._")):
                i = self.zero_block(i)
            elif c == "&":
                self.emit(", ", i, i + 1)        # a block matrix's columns
                i += 1
            else:
                self.emit(c, i, i + 1)
                i += 1

    def record(self, head: Head, i: int, j: int) -> int:
        """A record's LaTeX head at i..j, read as its name."""
        if head.kind == "braced":
            a, b = self.group(j, self.src[i:j])
            self.emit(head.name + "(", i, a, word=True)
            self.read(a, b)
            self.emit(")", b, b + 1)
            return b + 1
        self.emit(head.name + ("(" if head.kind == "pair" else ""), i, j, word=True)
        return j

    def zero_block(self, i: int) -> int:
        """0_{m \\times n}, a zero block of a block matrix, is 0 ones_m ones_n^T (its size known)."""
        a, b = self.group(i + 2, "0_")
        dims = [d.strip() for d in re.split(r"\\times|×", self.src[a:b])]
        if len(dims) != 2 or not all(re.fullmatch(r"[A-Za-z0-9]+", d) for d in dims):
            self.fail("a zero block is written 0_{m \\times n}", i, b + 1)
        r, c = dims
        self.emit("(0" + (f" ones_{{{r}}}" if r != "1" else "") + (f" ones_{{{c}}}^T" if c != "1" else "") + ")",
                  i, b + 1)
        return b + 1

    def backslash(self, i: int, hi: int) -> int:
        name, j = self.command(i)
        for head in heads()[0]:
            m = head.pattern.match(self.src, i)
            if m and (not head.bracketed or self.src[m.end():].lstrip().startswith(BRACKETS)):
                return self.record(head, i, m.end())
        if name in WRAPPERS:
            a, b = self.group(j, "\\" + name)
            inner = self.src[a:b].strip()
            if inner == "1" and name in ("mathbf", "boldsymbol", "bm"):
                self.emit("ones", i, b + 1, word=True)
            elif "\\" in inner or "{" in inner:
                greek = re.fullmatch(r"\\([A-Za-z]+)", inner)
                letter = SYMBOLS.get(greek.group(1), "") if name in BOLD and greek else ""
                if letter in GREEK_LETTER and letter != "π":
                    self.bold.add(GREEK_LETTER[letter])
                self.read(a, b)
            else:
                self.emit(inner.replace(" ", ""), i, b + 1, word=True)
            return b + 1
        if name in FRACTIONS:
            a, b = self.group(j, "\\" + name)
            c, d = self.group(b + 1, "\\" + name + "{…}")
            self.emit("((", i, a)
            self.read(a, b)
            self.emit(")/(", b, c)
            self.read(c, d)
            self.emit("))", d, d + 1)
            return d + 1
        if name == "mathbb":
            a, b = self.group(j, "\\mathbb")
            self.emit(self.src[a:b].strip(), i, b + 1, word=True)
            return b + 1
        if name == "circ" and self.out[-2:] == ["^", "{"]:
            self.emit(".^{", i, j)                         # x^{\circ 2}: the Hadamard power
            del self.out[-5:-3], self.starts[-5:-3], self.ends[-5:-3]
            return j
        if name in ("begin", "end"):      # \begin{bmatrix} A & B \\ C & D \end{bmatrix} is [A, B; C, D]
            a, b = self.group(j, "\\" + name)
            if self.src[a:b].strip() not in MATRIX_ENVIRONMENTS:
                self.fail(f"unknown LaTeX environment {self.src[a:b].strip()!r}", i, b + 1,
                          "a block matrix or stacked vector is \\begin{bmatrix} … \\end{bmatrix}")
            self.emit("[" if name == "begin" else "]", i, b + 1)
            return b + 1
        if name == "\\":
            self.emit("; ", i, j)              # the next row of a block matrix
            return j
        if name == "nabla":     # \nabla f(u), \nabla^2 f(u): grad_f(u), hess_f(u), as mcalc prints them
            m = re.match(r"\s*\^\s*(?:2|\{\s*2\s*\})\s*|\s*", self.src[j:hi])
            self.emit("hess_" if "2" in m.group(0) else "grad_", i, j + m.end(), word=True)
            return j + m.end()
        if name in heads()[1]:
            self.emit(")", i, j)
            return j
        if name in SYMBOLS:
            self.emit(SYMBOLS[name], i, j, word=True)
            return j
        shown = name if name.isprintable() else name.encode("unicode_escape").decode()   # \f, not a page break
        self.fail(f"unknown LaTeX command \\{shown}", i, j)


def is_latex(text: str) -> bool:
    return "\\" in text


def translate(text: str) -> Translation:
    """The mcalc text of a LaTeX formula, with each character's origin; ParseError on a
    command mcalc does not read, with a caret under it."""
    r = Reader(text)
    r.read(0, len(text))
    return Translation("".join(r.out), r.starts, r.ends, text, frozenset(r.bold))
