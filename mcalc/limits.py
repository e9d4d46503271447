"""Every bound on input and work, in one place (documented in the README)."""
import sys as _sys
import time as _time
from contextlib import contextmanager as _contextmanager
from functools import wraps

from .errors import LimitError

MAX_INPUT_CHARS = 20_000     # characters of one formula (with its declarations)
MAX_DEPTH = 200              # nesting of brackets and of the parse tree
MAX_SYMBOLS = 1_000          # statements, and distinct symbols in one input
MAX_EXPONENT = 1_000         # |numerator| and denominator of any exponent
MAX_MATRIX_POWER = 32        # |k| in A^k with A a matrix
MAX_NUMBER_CHARS = 60        # digits in one numeric literal
MAX_NUMBER_EXP10 = 300       # |e| in 1e±e
MAX_DIM = 10_000_000         # an integer dimension
MAX_RESULT_NODES = 200_000   # size of a derivative before simplification gives up
MAX_VERIFY_ENTRIES = 1_000_000  # random numbers drawn by --verify/check (the variable: 1/100 of it)
MAX_SECONDS = 20.0           # wall-clock work on one formula (parse, derivative, simplification, text)

# ---- the time budget ---------------------------------------------------------------------
# One budget per formula: the outermost `budget()` starts the clock, nested ones share it.
# The engine's smart constructors, the simplifier and the renderers call `tick()`, so work
# that runs away stops with an error instead of hanging.

_deadline = float("inf")


@_contextmanager
def budget():
    global _deadline
    if _deadline != float("inf"):
        yield
        return
    _deadline = _time.monotonic() + MAX_SECONDS
    try:
        yield
    finally:
        _deadline = float("inf")


def tick() -> None:
    if _time.monotonic() > _deadline:
        raise LimitError(f"gave up after {MAX_SECONDS:g} s of work on one formula (limits.MAX_SECONDS)",
                         hint="split the formula with bindings, or differentiate a smaller part")


def budgeted(f):
    """Run f inside one time budget (shared with the caller's, if it has one); running out of
    stack is a LimitError too (see `too_deep`)."""

    @wraps(f)
    def run(*args, **kwargs):
        with budget():
            try:
                return f(*args, **kwargs)
            except RecursionError:
                raise too_deep() from None
    return run


def too_deep() -> LimitError:
    """The error for a formula that ran out of Python's stack: mcalc raises the recursion limit
    to 20,000 (api.py), but a caller may lower it again (Hypothesis runs each example with
    about 2,000 frames), and a long sum is read one frame or two per term."""
    return LimitError(f"the formula is too deeply nested or too long for Python's recursion limit "
                      f"({_sys.getrecursionlimit()})", hint="split it with bindings: y = ...; ...")
