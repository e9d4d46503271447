"""Layouts (SPEC §2): the one table of how ∂f/∂x is arranged, by the kinds of f and x.

The natural order of the derivative's axes is f's axes, then x's. Each layout entry names
how the result is arranged from that order:

    ROW      a 1×k row              COL        a k×1 column
    TRANSPOSE  the two axes swapped SWAP       x's axes first, then f's
    NATURAL  as it is

`result_shape` applies the table to dimensions, `arrange` to an array (anything with
`reshape` and `transpose`, so NumPy stays off this module's imports), and `transposed`
tells the engine whether the matrix it computed must be transposed.
"""
from __future__ import annotations

from .dims import SCALAR, dim_product

LAYOUTS = ("mixed", "numerator", "denominator")

DESCRIPTIONS = {"mixed": "mixed layout (gradients shaped like the variable, Jacobians m×n)",
                "numerator": "numerator layout (Jacobian formulation)",
                "denominator": "denominator layout (transpose of numerator)"}

ROW, COL, TRANSPOSE, SWAP, NATURAL = "row", "column", "transpose", "swap", "natural"

# (layout, kind of f, kind of x) → arrangement; kinds are scalar, vector, matrix
TABLE = {
    ("numerator", "scalar", "vector"): ROW,
    ("numerator", "scalar", "matrix"): TRANSPOSE,
    ("numerator", "vector", "scalar"): COL,
    ("denominator", "scalar", "vector"): COL,
    ("denominator", "vector", "scalar"): ROW,
    ("denominator", "matrix", "scalar"): TRANSPOSE,
    ("mixed", "scalar", "vector"): COL,
    ("mixed", "vector", "scalar"): COL,
}
DEFAULT = {"numerator": NATURAL, "denominator": SWAP, "mixed": NATURAL}


def kind(shape, as_function: bool = False) -> str:
    """scalar, vector (a column; a row too when it is the function) or matrix."""
    if shape == SCALAR:
        return "scalar"
    if shape[1] == 1:
        return "vector"
    if shape[0] == 1 and as_function:
        return "vector"
    return "matrix"


def f_dims(shape) -> tuple:
    """The function's axes: () for a scalar, (m,) for a vector (row or column), (m, n)."""
    k = kind(shape, True)
    return () if k == "scalar" else ((shape[0] if shape[1] == 1 else shape[1]),) if k == "vector" else tuple(shape)


def x_dims(shape) -> tuple:
    """The variable's axes: () for a scalar, (n,) for a column vector, (m, n)."""
    k = kind(shape)
    return () if k == "scalar" else (shape[0],) if k == "vector" else tuple(shape)


def is_flattened(fshape, xshape, flatten: bool) -> bool:
    return flatten and len(f_dims(fshape)) + len(x_dims(xshape)) > 2


def arrangement(fshape, xshape, layout: str) -> str:
    if layout not in DEFAULT:
        raise ValueError(f"unknown layout {layout!r}")
    return TABLE.get((layout, kind(fshape, True), kind(xshape)), DEFAULT[layout])


def result_shape(fshape, xshape, layout: str, flatten: bool = False) -> tuple:
    """The shape of ∂f/∂x in a layout; flattened, ∂vec F/∂(vec X)ᵀ (transposed in the
    denominator layout)."""
    F, X = f_dims(fshape), x_dims(xshape)
    if is_flattened(fshape, xshape, flatten):
        J = (dim_product(F) if F else 1, dim_product(X) if X else 1)
        return J if layout != "denominator" else (J[1], J[0])
    if not F and not X:
        return (1, 1)
    how = arrangement(fshape, xshape, layout)
    dims = F + X
    if how == ROW:
        return (1,) + dims
    if how == COL:
        return dims + (1,)
    if how == TRANSPOSE:
        return (dims[1], dims[0])
    if how == SWAP:
        return X + F
    return dims


def transposed(fshape, xshape, layout: str, flatten: bool = False, computed: str = "mixed") -> bool:
    """Is the layout's matrix the transpose of the one computed in the `computed` layout?
    (The engine computes gradients and Jacobians in the mixed layout, a joint derivative in
    the numerator layout.) A tensor is kept as ∂vec F/∂(vec X)ᵀ and never transposed."""
    F, X = f_dims(fshape), x_dims(xshape)
    if is_flattened(fshape, xshape, flatten):
        return (layout == "denominator") != (computed == "denominator")
    if len(F) + len(X) > 2:
        return False
    if not F and not X:
        return False
    return flips(arrangement(fshape, xshape, layout), F, X) != flips(arrangement(fshape, xshape, computed), F, X)


def flips(how: str, F: tuple, X: tuple) -> bool:
    """Does the arrangement turn the natural matrix (a column for a vector) over?"""
    return how in (ROW, TRANSPOSE) or (how == SWAP and bool(F) and bool(X))


def arrange(A, fshape, xshape, layout: str, flatten: bool):
    """An array in natural order (f's axes, then x's) → the layout's arrangement."""
    nf = A.ndim - len(x_dims(xshape))
    if flatten and A.ndim > 2:
        F = A.transpose(tuple(reversed(range(nf))) + tuple(reversed(range(nf, A.ndim))))
        fsize = 1
        for s in A.shape[:nf]:
            fsize *= s
        J = F.reshape(fsize, -1)
        return J.T if layout == "denominator" else J
    if A.ndim == 0:
        return A.reshape(1, 1)
    how = arrangement(fshape, xshape, layout)
    if how == ROW:
        return A.reshape(1, -1)
    if how == COL:
        return A.reshape(-1, 1)
    if how == TRANSPOSE:
        return A.T
    if how == SWAP:
        return A.transpose(tuple(range(nf, A.ndim)) + tuple(range(nf)))
    if A.ndim == 1:
        return A.reshape(-1, 1)
    return A


def tensor_from_flat(J, fsizes: tuple, xsizes: tuple, layout: str):
    """∂vec F/∂(vec X)ᵀ (vec stacks columns), an array → the tensor of SPEC §2 in a layout."""
    nf, nx = len(fsizes), len(xsizes)
    A = J.reshape(tuple(reversed(fsizes)) + tuple(reversed(xsizes)))
    A = A.transpose(tuple(reversed(range(nf))) + tuple(reversed(range(nf, nf + nx))))
    if layout == "denominator":
        A = A.transpose(tuple(range(nf, nf + nx)) + tuple(range(nf)))
    return A


def notes(fshape, xshape, layout: str) -> list[str]:
    """What a reader should know about the layout of this derivative."""
    fk, xk = kind(fshape, True), kind(xshape)
    if fk == "vector" and xk == "vector":
        if layout == "denominator":
            return ["denominator layout: ∂f/∂x is n×m, the transpose of the Jacobian (cheat sheets' "
                    "\"denominator\" tables are the mixed layout)"]
        return ["the Jacobian ∂f/∂xᵀ (m×n); in the denominator layout it is transposed"]
    if fk == "scalar" and xk != "scalar" and layout == "numerator":
        return ["numerator layout: the derivative of a scalar is the transpose of the gradient"]
    return []
