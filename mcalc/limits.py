"""Every bound on input and work, in one place (documented in the README)."""
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
    """Run f inside one time budget (shared with the caller's, if it has one)."""

    @wraps(f)
    def run(*args, **kwargs):
        with budget():
            return f(*args, **kwargs)
    return run
