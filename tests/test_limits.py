"""Every bound in mcalc/limits.py: refused just past it with exit 2 and a one-line reason,
accepted at it, and listed in the README."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mcalc import api, limits
from mcalc.cli import app
from mcalc.errors import LimitError

ROOT = Path(__file__).parent.parent
runner = CliRunner()


def invoke(*args: str):
    r = runner.invoke(app, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    return r


def refused(r, words: str):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    first = r.stderr.splitlines()[0]
    assert first.startswith("mcalc: error:") and words in first, r.stderr


def names(n: int, fmt: str = "a{}") -> list[str]:
    return [fmt.format(i) for i in range(n)]


# (constant, an input just past it, words of the message, the same input at the bound)
CASES = {
    "MAX_INPUT_CHARS": ("x" * (limits.MAX_INPUT_CHARS + 1), "characters", "x" * limits.MAX_INPUT_CHARS),
    "MAX_DEPTH": ("(" * (limits.MAX_DEPTH + 1) + "x" + ")" * (limits.MAX_DEPTH + 1), "nested",
                  "(" * (limits.MAX_DEPTH - 5) + "x" + ")" * (limits.MAX_DEPTH - 5)),
    "MAX_SYMBOLS": (" + ".join(names(limits.MAX_SYMBOLS + 1)), "symbols", " + ".join(names(limits.MAX_SYMBOLS))),
    "MAX_EXPONENT": (f"s^{limits.MAX_EXPONENT + 1}", "exponent", f"s^{limits.MAX_EXPONENT}"),
    "MAX_MATRIX_POWER": (f"A^{limits.MAX_MATRIX_POWER + 1}", "matrix power", f"A^{limits.MAX_MATRIX_POWER}"),
    "MAX_NUMBER_CHARS": ("1" * (limits.MAX_NUMBER_CHARS + 1) + " x", "number", "1" * limits.MAX_NUMBER_CHARS + " x"),
    "MAX_NUMBER_EXP10": (f"1e{limits.MAX_NUMBER_EXP10 + 1} x", "number", f"1e{limits.MAX_NUMBER_EXP10} x"),
    "MAX_DIM": (f"x: R^{limits.MAX_DIM + 1}; x", "dimension", f"x: R^{limits.MAX_DIM}; x"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_input_just_past_a_bound_is_refused_and_at_it_accepted(name):
    past, words, at = CASES[name]
    refused(invoke("shape", past, "--format", "text"), words)
    assert invoke("shape", at, "--format", "text").exit_code == 0


def test_statements_count_towards_max_symbols():
    text = "; ".join(f"b{i} = {i + 1} x" for i in range(limits.MAX_SYMBOLS + 1)) + "; b0"
    refused(invoke("shape", text, "--format", "text"), "statements")


def test_a_long_flat_sum_is_not_a_deep_formula():
    """a0 + a1 + … + a999 is one sum, not 1,000 levels of nesting."""
    r = api.diff(" + ".join(f"{a}^T x" for a in names(500)), "x")
    assert r.text.count("+") == 499
    assert api.shape(" - ".join(names(900))).shape == ("n", 1)


def test_result_nodes_bound_stops_a_growing_derivative(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RESULT_NODES", 30)
    with pytest.raises(LimitError, match="too large"):
        api.diff("tanh(W3 tanh(W2 tanh(W1 x + b1) + b2) + b3)^T y", "W1")
    r = invoke("diff", "tanh(W3 tanh(W2 tanh(W1 x + b1) + b2) + b3)^T y", "--wrt", "W1", "--format", "text")
    refused(r, "too large")


def test_time_bound_stops_the_work_with_an_error_and_the_next_formula_has_its_own(monkeypatch):
    monkeypatch.setattr(limits, "MAX_SECONDS", 0.0)
    with pytest.raises(LimitError, match="MAX_SECONDS"):
        api.diff("x^T A x", "x")
    refused(invoke("diff", "x^T A x", "--wrt", "x", "--format", "text"), "gave up after")
    refused(invoke("check", "x^T A x", "--wrt", "x", "--claim", "2 A x", "--format", "text"), "gave up after")
    monkeypatch.setattr(limits, "MAX_SECONDS", 20.0)
    assert api.diff("x^T A x", "x").text == "(A + A^T) x"     # the failed budget was released


def test_verify_with_sizes_too_large_for_finite_differences_says_so_instead_of_hanging():
    big = limits.MAX_VERIFY_ENTRIES // 100 + 1
    r = invoke("diff", "x^T x", "--wrt", "x", "--where", f"x: R^{big}", "--verify", "--format", "text")
    assert r.exit_code == 0 and r.stdout == "2 x\n"
    assert "not verified" in r.stderr and "MAX_VERIFY_ENTRIES" in r.stderr
    r = invoke("diff", "x^T A x", "--wrt", "x", "--where", f"x: R^{limits.MAX_VERIFY_ENTRIES // 100}; "
               f"A: R^({limits.MAX_VERIFY_ENTRIES // 100}×{limits.MAX_VERIFY_ENTRIES // 100})", "--verify")
    assert r.exit_code == 0 and "not verified" in r.stderr and "random data would have" in r.stderr


def test_check_with_sizes_too_large_to_compare_is_refused():
    r = invoke("check", "x^T x", "--wrt", "x", "--where", f"x: R^{limits.MAX_VERIFY_ENTRIES + 1}",
               "--claim", "x + (sin(x).^2 + cos(x).^2) .* x", "--format", "text")   # equal only numerically
    refused(r, "cannot compare the claim on random data")
    assert invoke("check", "x^T x", "--wrt", "x", "--where", f"x: R^{limits.MAX_VERIFY_ENTRIES + 1}",
                  "--claim", "2 x", "--format", "text").exit_code == 0     # same canonical form: no data needed


def test_budgets_nest_into_one():
    with limits.budget():
        outer = limits._deadline
        with limits.budget():
            assert limits._deadline == outer
        assert limits._deadline == outer
    assert limits._deadline == float("inf")


def test_every_bound_is_in_the_readme_with_its_value():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    bounds = {k: v for k, v in vars(limits).items() if k.startswith("MAX_")}
    assert len(bounds) >= 10
    for name, value in bounds.items():
        row = re.search(rf"^\| `{name}` \| ([^|]+) \|", readme, re.M)
        assert row, f"{name} is not in the README's Limits table"
        assert float(row.group(1).strip().replace(",", "")) == value, f"{name}: README says {row.group(1)}"
    tested = set(CASES) | {"MAX_RESULT_NODES", "MAX_SECONDS", "MAX_VERIFY_ENTRIES"}
    assert set(bounds) <= tested, f"untested bounds: {set(bounds) - tested}"


def test_a_reader_that_leaves_early_is_not_an_internal_error():
    """`mcalc ... | head -1`: a closed pipe ends the program quietly with exit 0."""
    p = subprocess.Popen([sys.executable, "-m", "mcalc", "shape", " + ".join(names(900)), "--format", "text"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "internal error" not in err


def test_a_lowered_recursion_limit_gives_a_limit_error_not_a_recursion_error():
    # Hypothesis runs each example with about 2,000 frames, below the 20,000 mcalc sets: a sum
    # of 1,500 terms is read a frame or two per term (test_fuzz's parser fuzz found it)
    import sys

    from mcalc import api
    from mcalc.errors import LimitError
    text = " + ".join(["{ gamma }"] * 1500)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1500)
    try:
        with pytest.raises(LimitError, match="recursion limit"):
            api.typed(text)
        with pytest.raises(LimitError, match="recursion limit"):
            api.shape(text)
    finally:
        sys.setrecursionlimit(old)
    assert api.typed(text).body is not None        # with mcalc's own limit it reads
