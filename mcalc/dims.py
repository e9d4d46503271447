"""Dimensions and shapes, below every stage.

A dimension is an int (3), a name ("n") or a product of them (m·n, from A ⊗ B or vec);
a shape is a tuple of dimensions: a scalar is (1, 1), a column vector (n, 1), a matrix
(m, n); derivative results may have 3 or 4.
"""
from __future__ import annotations

Dim = int | str
Shape = tuple[Dim, ...]
SCALAR: Shape = (1, 1)


def dim_product(dims) -> Dim:
    """Product of resolved dims: ints multiply, names join with '*' in sorted order (m*p = p*m)."""
    num, names = 1, []
    for d in dims:
        if isinstance(d, int):
            num *= d
        else:
            for part in str(d).split("*"):
                if part.isdigit():
                    num *= int(part)
                else:
                    names.append(part)
    if not names:
        return num
    return "*".join(([str(num)] if num != 1 else []) + sorted(names))
