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


def dim_sum(dims) -> Dim:
    """Sum of resolved dims (the length of a stacked vector [x; y]): ints add, other terms join
    with '+' in sorted order (m+n = n+m); each term is a name or a product m*n."""
    total, terms = 0, []
    for d in dims:
        for part in str(d).split("+"):
            if part.isdigit():
                total += int(part)
            else:
                terms.append(part)
    if not terms:
        return total
    return "+".join(sorted(terms) + ([str(total)] if total else []))


def dim_names(d) -> list[str]:
    """The size names a dimension is made of: 'm*n+p' → [m, n, p]."""
    return [p for t in str(d).split("+") for p in t.split("*") if p and not p.isdigit()]


def eval_dim(d, sizes) -> int:
    """A dimension's value, given the sizes of its names: sums of products of names and ints."""
    if isinstance(d, int):
        return d
    total = 0
    for term in str(d).split("+"):
        v = 1
        for part in term.split("*"):
            v *= int(part) if part.isdigit() else sizes[part]
        total += v
    return total
