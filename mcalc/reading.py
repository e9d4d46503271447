"""How ambiguous input is read (SPEC §1, "Nothing is silently misread"): each reading is an
error with a did-you-mean or a note, never a silent guess. Pure functions over the nodes
parse.py built; parse.py calls them once the program's declarations are known."""
from __future__ import annotations

import difflib
import re
from typing import Iterable

from . import ops
from .errors import ParseError
from .nodes import CONSTANTS, Constant, Mul, Node, Sym, Trace, Transpose, map_children, node, walk

MAX_SPLIT = 12          # longer names are not checked for run-together symbols (the split is quadratic)
FUNCTION_LIKE = re.compile(r"[a-z]{2,}[0-9]*")      # a lower-case name of two or more letters
GREEK_LETTERS = set("αβγδεζηθικλμνξοπρστυφχψωΓΔΘΛΞΠΣΦΨΩςϵϑϕ")


def did_you_mean(name: str, names: Iterable[str]) -> str | None:
    meant = ops.meant(name)
    if meant:
        return meant
    close = difflib.get_close_matches(name, sorted(set(names)), n=1, cutoff=0.6)
    return close[0] if close else None


def calls(before_bracket: list[Sym], source: str, known: set[str], functions: Iterable[str]) -> list[str]:
    """A name directly before '(': an undeclared lower-case name of two or more letters is a
    call (an unknown one is an error); a declared name, a capital or a single letter
    multiplies, as on paper (A(x + b), y(1 - y)); a single Greek letter doing so gets a note."""
    notes = []
    for sym in before_bracket:
        raw = source[sym.span.start:sym.span.end]
        base = raw.partition("_")[0]
        if sym.name in known:
            continue
        if FUNCTION_LIKE.fullmatch(base):
            guess = did_you_mean(base, functions)
            message = f"unknown function {raw}" + (f"; did you mean {guess}?" if guess else "")
            raise ParseError(message, sym.span,
                             f"`mcalc functions` lists them; a product needs a space: {raw} (…), or declare {raw}: R")
        if base in GREEK_LETTERS:
            also = f"; for the logistic function write {ops.meant('sigma')}(…)" if base in "σς" else ""
            notes.append(f"read {raw}(…) as the product {raw} · (…){also}")
    return notes


def splits(name: str, present: set[str]) -> list[str] | None:
    """name as a sequence of present symbols, allowing at most one single letter that is
    not present (x'Ax: A x); None if it does not split into two or more parts."""
    best: dict[tuple[int, int], list[str] | None] = {}

    def go(i: int, spare: int) -> list[str] | None:
        if i == len(name):
            return []
        key = (i, spare)
        if key in best:
            return best[key]
        out = None
        for j in range(len(name), i, -1):
            part = name[i:j]
            if part == name:
                continue
            if part in present or (spare and j == i + 1 and part.isalpha()):
                rest = go(j, spare - (part not in present))
                if rest is not None:
                    out = [part] + rest
                    break
        best[key] = out
        return out

    parts = go(0, 1)
    return parts if parts and len(parts) > 1 and any(p in present for p in parts) else None


def run_together(roots: list[Node], known: set[str], is_greek) -> list[str]:
    """An undeclared multi-letter name that splits into symbols of the same formula (Ax with
    A and x around) is read as one symbol, with a note saying so."""
    names = {m.name for r in roots for m in walk(r) if isinstance(m, Sym)}
    present = names | known
    notes = []
    for name in sorted(names - known):
        if "_" in name or not 2 <= len(name) <= MAX_SPLIT or is_greek(name) or not name.isalnum():
            continue
        parts = splits(name, present - {name})
        if parts:
            notes.append(f"read '{name}' as one symbol; write '{' '.join(parts)}' for a product")
    return notes


# ---- readings that depend on shapes: parse-only nodes, resolved by shapes.infer -------------------
@node
class Bars(Node):
    """|a| as written: the determinant of a square matrix, the absolute value of a scalar (an
    error for a vector); the records' `bars` say which."""
    arg: Node


@node
class VarPower(Node):
    """a^b or a.^b with an exponent that is not a number: e to the b times the logarithm of a, for a > 0."""
    arg: Node
    exp: Node
    elementwise: bool = False


def frobenius(a: Node, b: Node, span) -> Node:
    """A : B = ⟨A, B⟩ = tr(Aᵀ B) (Magnus–Neudecker)."""
    return Trace(Mul((Transpose(a, span=a.span), b), span=span), span=span)


def constants(n: Node) -> Node:
    """pi is the constant π wherever the program does not declare or bind a symbol pi."""
    if isinstance(n, Sym) and n.name in CONSTANTS:
        return Constant(n.name, span=n.span)
    return map_children(n, constants)
