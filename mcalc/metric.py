"""The size of printed text, in tokens: names, numbers, operators and brackets, so that
`x^T A x` is 4 tokens (x, ^T, A, x) whatever its spacing. Issue 15's measure of how long a
result reads (tests/test_textbook_size.py compares it with textbook forms)."""
from __future__ import annotations

import re

TOKEN = re.compile(r"\^-?T|\^-?\(?-?\d+(?:/\d+)?\)?|\.\*|\./|\.\^-?\d*|\|\||[A-Za-z_][A-Za-z_0-9]*|\d+(?:\.\d+)?"
                   r"|[-+*/(),;=^'⊗⊙∘]|\S")


def tokens(text: str) -> int:
    """How many tokens text has: `2/N X^T (X w - y)` is 11."""
    return len(TOKEN.findall(text))
