"""The size of printed text, in tokens: names, numbers, operators and brackets, so that
`x^T A x` is 4 tokens (x, ^T, A, x) whatever its spacing. Issue 15's measure of how long a
result reads (tests/test_textbook_size.py compares it with textbook forms)."""
from __future__ import annotations

import re

TOKEN = re.compile(r"\^-?T|\^-?\(?-?\d+(?:/\d+)?\)?|\.\*|\./|\.\^-?\d*|\|\||[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?"
                   r"|[-+*/(),;=^'⊗⊙∘]|\S")


NEGATIVE_EXPONENT = re.compile(r"\^\(?-\d")       # x^-1, x.^-2, x^(-1/2): the power and its sign


def tokens(text: str) -> int:
    """How many tokens text has: `2/N X^T (X w - y)` is 11. A negative exponent counts as two
    (the power and its sign), so `sigma^-1` is as long as `1/sigma`; `^T` and `^-T` are marks."""
    return len(TOKEN.findall(text)) + len(NEGATIVE_EXPONENT.findall(text))
