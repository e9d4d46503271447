"""mcalc: matrix calculus on the command line and in Python.

    >>> import mcalc
    >>> r = mcalc.diff("x^T A x", "x")
    >>> r.text, r.shape
    ('(A + A^T) x', ('n', 1))

Every function raises an mcalc error (``mcalc.errors.McalcError``) on bad input; its message
carries the source line with a caret under the problem, as the command line prints it.
"""
from __future__ import annotations

import functools

from .errors import McalcError

__version__ = "0.1.0"


def _short_traceback(f):
    """Errors in the user's input are raised from here, not from deep inside the engine: a
    notebook shows the message and the caret, not fifteen frames."""
    @functools.wraps(f)
    def run(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except McalcError as e:
            raise e.with_traceback(None) from None
    return run


@_short_traceback
def diff(expr: str, wrt, where=None, layout: str = "mixed", order: int = 1, flatten: bool = False,
         stack: bool = False, steps: bool = False):
    """The derivative of ``expr`` with respect to ``wrt``.

    expr     the formula, e.g. ``"1/N ||X w - y||^2"``; it may declare symbols and bind names:
             ``"x: R^n; y = A x; y^T y"``
    wrt      the variable: ``"x"``, several (``"x,y"`` or a list: one result each), an entry
             ``"x[i]"``, or a tuple of scalars ``"(t,s)"``
    where    declarations: a list of strings or one ``;``-separated string, ``"X: R^(N×D)"``
    layout   ``"mixed"`` (gradients shaped like the variable), ``"numerator"`` or ``"denominator"``
    order    1, or 2 for the Hessian
    flatten  a 3- or 4-index derivative as the matrix ∂vec F/∂(vec X)ᵀ instead of index notation
    stack    a 3- or 4-index derivative as the stacked partials ∂F/∂x_k
    steps    show the derivation when the result is displayed (``repr``, notebooks); it is
             always available as ``.steps``

    Returns a result with ``.text`` (parses back), ``.latex``, ``.shape``, ``.numpy`` (Python
    source defining ``function`` and ``derivative``), ``.steps``, ``.notes`` and ``.to_sympy()``
    (needs the ``sympy`` extra); a list of results for several variables.
    """
    from .api import diff as _diff
    result = _diff(expr, wrt, where=where, layout=layout, order=order, flatten=flatten, stack=stack)
    if steps:
        for r in result if isinstance(result, list) else [result]:
            r.show_steps = True
    return result


@_short_traceback
def shape(expr: str, where=None):
    """The shape of ``expr`` and of every symbol in it (inferred ones marked).

    Returns a result with ``.shape`` (a tuple of dimensions, names or integers), ``.text``
    (``"n×1"``) and ``.symbols`` (name → shape, whether inferred, declared or bound).
    """
    from .api import shape as _shape
    return _shape(expr, where)


@_short_traceback
def check(expr: str, wrt: str, claim: str, where=None, layout: str = "mixed", order: int = 1,
          flatten: bool = False):
    """Is ``claim`` the derivative of ``expr`` with respect to ``wrt`` in ``layout``?

    Decided exactly where canonical forms agree, otherwise on random data of random sizes.
    Returns a result with ``.ok``, ``.message`` (why), ``.correct`` (the derivative, a diff
    result), ``.difference`` (claim − derivative, where shapes agree) and ``.other_layout``
    (the layout in which the claim would be right, if any).
    """
    from .claims import check as _check
    return _check(expr, wrt, claim, where=where, layout=layout, order=order, flatten=flatten)


@_short_traceback
def equal(lhs: str, rhs: str, where=None):
    """Are ``lhs`` and ``rhs`` equal as functions of their symbols (same shape, same values)?

    ``where`` declares symbols for both sides. Decided exactly where canonical forms agree,
    otherwise on random data (both signs wherever both sides are defined, sizes up to 9).
    Returns a result with ``.ok``, ``.message`` (why, and what was sampled), ``.difference``
    (rhs − lhs in its shortest form, where they differ) and the two shapes.
    ``mcalc.equal("tr(A B)", "tr(B A)").ok`` is True.
    """
    from .claims import equal as _equal
    return _equal(lhs, rhs, where=where)


@_short_traceback
def latex(expr: str, where=None) -> str:
    """The formula ``expr`` itself as LaTeX (bare math, no ``$``), e.g. ``mcalc.latex("x^T A x")``
    gives ``\\mathbf{x}^{\\top} A \\mathbf{x}``."""
    from .api import latex as _latex
    return _latex(expr, where)
