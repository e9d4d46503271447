"""Dimensions and shapes, below every stage.

A dimension is an int (3), a name ("n") or a product of them (m·n, from A ⊗ B or vec);
a shape is a tuple of dimensions: a scalar is (1, 1), a column vector (n, 1), a matrix
(m, n); derivative results may have 3 or 4.
"""
from __future__ import annotations

from functools import lru_cache


class Product(str):
    """m·n, a product of dimensions: a frozen value spelled canonically (the number when it is
    not 1, then the names in sorted order, joined by '*'), so a shape prints, compares and
    hashes as its spelling does, and `factors` gives the parts back."""
    __slots__ = ()

    @property
    def factors(self) -> tuple[int | str, ...]:
        return factors(self)


Dim = int | str              # a name is a str; a product is a Product (a str that knows its factors)
Shape = tuple[Dim, ...]
SCALAR: Shape = (1, 1)


def dim_product(dims) -> Dim:
    """Product of resolved dims: ints multiply, names sort (m*p = p*m)."""
    num, names = 1, []
    for d in dims:
        for part in factors(d):
            if isinstance(part, int):
                num *= part
            else:
                names.append(part)
    if not names:
        return num
    if num == 1 and len(names) == 1:
        return names[0]
    return Product("*".join(([str(num)] if num != 1 else []) + sorted(names)))


@lru_cache(maxsize=4096)
def _parts(spelling: str) -> tuple[int | str, ...]:
    return tuple(int(p) if p.isdigit() else p for p in spelling.split("*"))


def factors(d: Dim) -> tuple[int | str, ...]:
    """The factors of a dimension: (3,), ("n",), or (2, "m", "n") for 2·m·n. The one place
    that reads a product's spelling."""
    if isinstance(d, int):
        return (d,)
    return _parts(str(d))


def is_product(d) -> bool:
    return isinstance(d, str) and len(factors(d)) > 1


def dim_names(d: Dim) -> tuple[str, ...]:
    """The names a dimension is made of: () for 3, ("n",), ("m", "n") for m·n, ("m", "n", "p")
    for the length m·n+p of a stacked vector."""
    return tuple(p for term in terms(d) for p in factors(term) if isinstance(p, str))


def dim_sum(dims) -> Dim:
    """Sum of resolved dims (the length of a stacked vector [x; y]): ints add, the other terms
    (names or products) join with '+' in sorted order (m+n = n+m)."""
    total, parts = 0, []
    for d in dims:
        for term in terms(d):
            if isinstance(term, int):
                total += term
            else:
                parts.append(str(term))
    if not parts:
        return total
    if not total and len(parts) == 1:
        return dim_product([parts[0]])
    return "+".join(sorted(parts) + ([str(total)] if total else []))


def terms(d: Dim) -> tuple:
    """The summands of a dimension: (d,) unless it is a sum m+n (from a stacked vector)."""
    if isinstance(d, int) or "+" not in str(d):
        return (d,)
    return tuple(int(t) if t.isdigit() else dim_product([t]) if "*" not in t else Product(t)
                 for t in str(d).split("+"))


def eval_dim(d: Dim, sizes) -> int:
    """A dimension's value given the sizes of its names: a sum of products of names and ints."""
    total = 0
    for term in terms(d):
        v = 1
        for part in factors(term):
            v *= part if isinstance(part, int) else sizes[part]
        total += v
    return total
