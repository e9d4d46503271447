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
    """The names a dimension is made of: () for 3, ("n",), ("m", "n") for m·n."""
    return tuple(p for p in factors(d) if isinstance(p, str))
