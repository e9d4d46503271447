"""Bad input (SPEC §3 exit codes, STYLE "Errors"): each error kind has its message,
its caret under the right column and exit 2; no input gives a traceback, a hang, more
than four lines on stderr or anything on stdout."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mcalc.cli import app

# typer's CliRunner keeps stdout and stderr apart (result.stdout / result.stderr): the
# installed typer vendors click and has no mix_stderr switch; the streams are never mixed.
runner = CliRunner()
TIME_LIMIT = 1.0


def invoke(args: list[str], input: str | None = None, env: dict | None = None):
    start = time.perf_counter()
    result = runner.invoke(app, args, input=input, env=env)
    result.seconds = time.perf_counter() - start
    return result


@pytest.fixture(scope="module", autouse=True)
def warm_up():
    """Build (or load) the parser once, so the timing below measures the input's cost."""
    invoke(["shape", "x", "--format", "text"])


def shape(expr: str, *extra: str, input: str | None = None):
    return invoke(["shape", expr, "--format", "text", *extra], input=input)


def diff(expr: str, *extra: str, input: str | None = None):
    return invoke(["diff", expr, "--wrt", "x", "--format", "text", *extra], input=input)


def assert_clean_failure(r, code: int = 2):
    """Exit `code`, no traceback, 1 to 4 lines on stderr starting with 'mcalc: error: ',
    nothing on stdout, in under a second."""
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = r.stderr.splitlines()
    assert 1 <= len(lines) <= 4, r.stderr
    assert lines[0].startswith("mcalc: error: "), r.stderr
    assert r.stdout == ""
    assert r.seconds < TIME_LIMIT, f"took {r.seconds:.2f}s"


def message(r) -> str:
    return r.stderr.splitlines()[0].removeprefix("mcalc: error: ")


def caret(r) -> tuple[str, int, int]:
    """(source line, column of the first caret, number of carets)."""
    lines = r.stderr.splitlines()
    assert len(lines) >= 3, r.stderr
    src, marks = lines[1], lines[2]
    assert src.startswith("  ") and marks.startswith("  "), r.stderr
    src, marks = src[2:], marks[2:]
    assert set(marks.strip()) == {"^"}, r.stderr
    col = len(marks) - len(marks.lstrip(" "))
    return src, col, marks.count("^")


def hint(r) -> str | None:
    for line in r.stderr.splitlines()[1:]:
        if line.startswith("  hint: "):
            return line.removeprefix("  hint: ")
    return None


# ---- parse errors -------------------------------------------------------------------------
def test_unexpected_token_points_at_it_and_says_what_was_expected():
    r = shape("x + * y")
    assert_clean_failure(r)
    assert message(r).startswith("unexpected '*'")
    assert "expected a formula" in message(r)
    assert caret(r) == ("x + * y", 4, 1)


def test_unexpected_end_of_input():
    r = shape("x^T A +")
    assert_clean_failure(r)
    assert message(r).startswith("unexpected end of input")
    assert "expected a formula" in message(r)
    src, col, _ = caret(r)
    assert src == "x^T A +" and col == len("x^T A +")


def test_double_caret_operator():
    r = shape("x ^^ 2")
    assert_clean_failure(r)
    assert message(r).startswith("unexpected '^'")
    assert "expected" in message(r)
    assert caret(r) == ("x ^^ 2", 3, 1)


def test_unbalanced_bracket_has_a_hint():
    r = shape("(x + y")
    assert_clean_failure(r)
    assert "expected ')'" in message(r)
    assert caret(r)[1] == len("(x + y")
    assert "unbalanced" in (hint(r) or "")


def test_unclosed_norm_has_a_hint():
    r = shape("||x")
    assert_clean_failure(r)
    assert "'||'" in message(r)
    assert "norm" in (hint(r) or "")


def test_unknown_character():
    r = shape("x ≤ y")
    assert_clean_failure(r)
    assert message(r).startswith("unexpected '≤'")
    assert caret(r) == ("x ≤ y", 2, 1)


def test_error_on_a_later_line_shows_that_line():
    r = invoke(["shape", "-", "--format", "text"], input="x: R^n\ny = A x\nz = y + * 2\nz")
    assert_clean_failure(r)
    assert message(r).startswith("unexpected '*'")
    assert caret(r) == ("z = y + * 2", 8, 1)


@pytest.mark.parametrize("expr", ["* x", "x: Q^n; x", "x: R^n^m; x", "x: R^(); x", "x:; x",
                                  "x = ; x", "x * * y"])
def test_expected_tokens_are_in_words(expr):
    """The 'expected' list names tokens as a user writes them, not the grammar's
    internal terminal names (BAR, ATTR, ...)."""
    r = shape(expr)
    assert_clean_failure(r)
    expected = message(r).partition("expected ")[2]
    assert expected, message(r)
    words = [w.strip() for w in expected.split(",")]
    internal = [w for w in words if w in ("bar", "attr", "dims", "norm open", "norm close", "tee", "func")]
    assert not internal, message(r)


def test_malformed_shape_points_at_it():
    r = shape("x: R^(n×); x")
    assert_clean_failure(r)
    assert "malformed shape" in message(r)
    src, col, _ = caret(r)
    assert src == "x: R^(n×); x" and col == 6


def test_unknown_set_in_a_declaration():
    r = shape("x: Q^n; x")
    assert_clean_failure(r)
    assert message(r).startswith("unexpected 'Q'")
    assert "'R'" in message(r)
    assert caret(r)[1] == 3


def test_declaration_without_a_formula():
    r = shape("x: R^n; A: R^(n×n)")
    assert_clean_failure(r)
    assert "declaration" in message(r) and "formula" in message(r)


# ---- shape errors ---------------------------------------------------------------------------
def test_cannot_add_vectors_of_different_sizes():
    r = shape("x: R^n; y: R^m; x + y")
    assert_clean_failure(r)
    assert r.stderr.splitlines()[0] == "mcalc: error: cannot add x (n×1) and y (m×1)"
    assert caret(r) == ("x: R^n; y: R^m; x + y", 16, 5)


def test_cannot_add_names_both_sub_formulas():
    r = shape("x: R^n; A: R^(m×n); x + A x")
    assert_clean_failure(r)
    assert message(r) == "cannot add x (n×1) and A x (m×1)"
    assert caret(r) == ("x: R^n; A: R^(m×n); x + A x", 20, 7)


def test_cannot_add_through_diff_too():
    r = diff("x: R^n; y: R^m; x + y")
    assert_clean_failure(r)
    assert message(r) == "cannot add x (n×1) and y (m×1)"


def test_cannot_multiply_names_the_inner_dimensions():
    r = shape("x: R^n; A: R^(m×m); A x")
    assert_clean_failure(r)
    assert message(r) == "cannot multiply A (m×m) by x (n×1)"
    assert caret(r) == ("x: R^n; A: R^(m×m); A x", 20, 3)
    assert "m" in hint(r) and "n" in hint(r)


@pytest.mark.parametrize("fn, word", [("det", "det"), ("tr", "tr"), ("Tr", "tr"), ("trace", "tr"),
                                      ("inv", "inverse"), ("logdet", "logdet")])
def test_square_only_functions_of_a_non_square_matrix(fn, word):
    expr = f"A: R^(n×m); {fn}(A)"
    r = shape(expr)
    assert_clean_failure(r)
    assert word in message(r) and "square" in message(r) and "n×m" in message(r), message(r)
    assert caret(r) == (expr, 12, len(f"{fn}(A)"))


def test_matrix_power_of_a_non_square_matrix():
    r = shape("A: R^(n×m); A^2")
    assert_clean_failure(r)
    assert "square" in message(r) and "n×m" in message(r)
    assert caret(r)[1] == 12
    assert ".^" in (hint(r) or "")


def test_power_of_a_declared_vector_suggests_the_right_spelling():
    r = shape("x: R^n; x^2")
    assert_clean_failure(r)
    assert "x (n×1)" in message(r)
    assert caret(r) == ("x: R^n; x^2", 8, 3)
    h = hint(r) or ""
    assert "x^T x" in h or "x.^2" in h


def test_power_of_a_declared_vector_through_diff():
    r = diff("x: R^n; x^2")
    assert_clean_failure(r)
    assert "x^T x" in (hint(r) or "") or "x.^2" in (hint(r) or "")


def test_division_by_a_vector():
    r = shape("x: R^n; x / x")
    assert_clean_failure(r)
    assert "scalar" in message(r)
    assert "./" in (hint(r) or "")


def test_elementwise_shapes_must_agree():
    r = shape("x: R^n; y: R^m; x .* y")
    assert_clean_failure(r)
    assert "x (n×1)" in message(r) and "y (m×1)" in message(r)
    assert caret(r)[1] == 16


def test_trace_of_a_declared_vector():
    r = shape("x: R^n; tr(x)")
    assert_clean_failure(r)
    assert "square" in message(r) and "n×1" in message(r)


# ---- declarations ---------------------------------------------------------------------------
def test_conflicting_inline_declarations():
    r = shape("x: R^n; x: R^m; x")
    assert_clean_failure(r)
    assert message(r) == "x is declared twice: n×1 and m×1"
    assert caret(r) == ("x: R^n; x: R^m; x", 8, 6)


def test_conflicting_where_and_inline_declarations():
    r = shape("x: R^m; x", "--where", "x: R^n")
    assert_clean_failure(r)
    assert "declared twice" in message(r)
    assert "n×1" in message(r) and "m×1" in message(r)


def test_conflicting_declarations_inside_where_point_into_the_where_text():
    r = shape("x", "--where", "x: R^n; x: R^m")
    assert_clean_failure(r)
    assert "declared twice" in message(r)
    assert caret(r) == ("x: R^n; x: R^m", 8, 6)


def test_bad_where_declaration_points_into_the_where_text():
    r = shape("x + y", "-w", "x: R^n; y: R^(m")
    assert_clean_failure(r)
    assert caret(r)[0] == "x: R^n; y: R^(m"


def test_symmetric_declaration_of_a_non_square_shape():
    r = shape("A: R^(n×m) symmetric; A")
    assert_clean_failure(r)
    assert "symmetric" in message(r) and "n×m" in message(r)
    assert caret(r)[1] == 0


def test_symmetric_where_declaration_of_a_non_square_shape_shows_the_where_text():
    r = shape("A", "-w", "A: R^(n×m) symmetric")
    assert_clean_failure(r)
    assert "symmetric" in message(r)
    assert caret(r)[0] == "A: R^(n×m) symmetric"


def test_binding_disagrees_with_its_declaration():
    r = shape("y: R^m; x: R^n; y = x; y")
    assert_clean_failure(r)
    assert "y" in message(r) and "m×1" in message(r) and "n×1" in message(r)


def test_name_bound_twice():
    r = shape("y = 2 x; y = 3 x; y")
    assert_clean_failure(r)
    assert "bound twice" in message(r)
    assert caret(r)[1] == 9


# ---- unknown functions and names -------------------------------------------------------------
@pytest.mark.parametrize("expr, name", [("foo(x)", "foo"), ("softmin(x)", "softmin"),
                                        ("x: R^n; log10(x)", "log10"), ("erfc(x) + x", "erfc")])
def test_unknown_function_is_an_error_that_names_it(expr, name):
    """`softmin(x)` must not silently become the product `softmin · x`: its derivative
    would be a wrong answer (SPEC §2: an operation the engine cannot handle is an error
    that names it, never a wrong answer)."""
    for r in (shape(expr), diff(expr)):
        assert_clean_failure(r)
        assert name in message(r), message(r)
        assert "function" in message(r) or "function" in (hint(r) or ""), r.stderr


def test_wrong_number_of_arguments():
    r = shape("tr(x, y)")
    assert_clean_failure(r)
    assert "tr" in message(r) and "1" in message(r)
    r = shape("kron(A)")
    assert_clean_failure(r)
    assert "kron" in message(r) and "2" in message(r)


def test_unknown_variable_for_diff():
    r = invoke(["diff", "x^T x", "--wrt", "y", "--format", "text"])
    assert_clean_failure(r)
    assert "y" in message(r)


# ---- limits ----------------------------------------------------------------------------------
def test_huge_exponent_is_refused():
    r = shape("x^(10^100)")
    assert_clean_failure(r)
    src, col, width = caret(r)
    assert col == 3


def test_huge_number_is_refused():
    r = shape("1e999 x")
    assert_clean_failure(r)
    assert "1e999" in message(r)
    assert caret(r) == ("1e999 x", 0, 5)


def test_one_megabyte_input_is_refused_quickly():
    r = invoke(["shape", "-", "--format", "text"], input="x + " * 250_000 + "x")
    assert_clean_failure(r)
    assert "limit" in message(r) or "too" in message(r)
    for line in r.stderr.splitlines():
        assert len(line) <= 120


def test_ten_thousand_deep_nesting_is_refused():
    text = "(" * 10_000 + "x" + ")" * 10_000
    for r in (shape(text), diff(text)):
        assert_clean_failure(r)


def test_deep_nesting_under_the_size_limit_is_refused():
    text = "(" * 5_000 + "x" + ")" * 5_000
    r = shape(text)
    assert_clean_failure(r)
    assert "nested" in message(r) or "deep" in message(r)


def test_control_character_is_refused_and_not_echoed_raw():
    r = shape("x\x01y")
    assert_clean_failure(r)
    assert "control character" in message(r)
    assert "\x01" not in r.stderr
    assert caret(r)[1] == 1


# ---- at least forty bad inputs: exit 2, clean, fast -------------------------------------------
BAD = [
    # brackets and bars
    "(x", "x)", "((x)", "{x", "x}", "[x", "x]", "[x,]", "(x + y))", "tr(x", "tr x)", "||x", "x||", "‖x",
    "||x|| ||", "|| x |",
    # operators with nothing around them
    "", " ", ";;;", "; ;", "+", "x +", "* x", "x * * y", "x @@ y", "x ^^ 2", "x^", "x^T^", "x.^",
    "x ⊗", ".* x", "x ./", "x = ", "= x", "x = ; x", "- ", "x,y", "x : ",
    # declarations
    "x: R^(n×)", "x: R^(n×m×p); x", "x: Q^n; x", "x: R^; x", "x: R^n^m; x", "x: R^(); x",
    "x: R^(0); x", "x: R^99999999999; x", "x:; x", ": R^n; x", "x: R^n", "x: R^n; A: R^(n×n)",
    "x: R^n symmetric; x", "A: R^(n×m) symmetric; A", "x: R^(n,); x", "x: R^{n x}; x",
    # bindings
    "x = x; x", "y = 2 x; y = 3 x; y",
    # shapes
    "x: R^n; y: R^m; x + y", "x: R^n; x^2", "A: R^(n×m); det(A)", "A: R^(n×m); tr(A)",
    "A: R^(n×m); inv(A)", "A: R^(n×m); A^2", "A: R^(n×m); logdet(A)", "x: R^n; x: R^m; x",
    "x: R^n; A: R^(m×m); A x", "x: R^n; x / x", "x: R^n; y: R^m; x .* y",
    "A: R^(n×m); diag(A)", "x: R^n; tr(x)", "x: R^n; A: R^(n×n); x A",
    # functions
    "tr()", "tr(x, y)", "kron(A)", "norm(x, 3)", "exp()", "det(,)",
    # numbers and exponents
    "x^(10^100)", "x^(1/0)", "x^1e999", "1e999 x", "9" * 70 + " x", "x^1000000", "A^100",
    "x: R^n; x^s", "A^n",
    # characters
    "x\x01y", "x\x00", "x\x1b[31m", "∑ x", "x ≤ y", "😀", "α β γ!", "x # only a comment\n+",
    "x $ y", "x & y", "x | y", "\\frac{1}{2 x", "\\foo x",
]


def bad_id(s: str) -> str:
    s = s if len(s) <= 30 else s[:27] + "..."
    return repr(s)


def test_there_are_at_least_forty_bad_inputs():
    assert len(BAD) >= 40


@pytest.mark.parametrize("expr", BAD, ids=bad_id)
def test_bad_input_shape(expr):
    assert_clean_failure(shape(expr))


@pytest.mark.parametrize("expr", BAD, ids=bad_id)
def test_bad_input_diff(expr):
    assert_clean_failure(diff(expr))


@pytest.mark.parametrize("expr", [b for b in BAD if b.strip() and "\x00" not in b], ids=bad_id)
def test_bad_input_from_stdin(expr):
    assert_clean_failure(invoke(["shape", "-", "--format", "text"], input=expr))


@pytest.mark.parametrize("expr", BAD[:20], ids=bad_id)
def test_bad_input_latex(expr):
    assert_clean_failure(invoke(["latex", expr]))


BIG = {
    "1 MB": "x + " * 250_000 + "x",
    "10,000-deep ()": "(" * 10_000 + "x" + ")" * 10_000,
    "5,000-deep ()": "(" * 5_000 + "x" + ")" * 5_000,
    "5,000-deep {}": "{" * 5_000 + "x" + "}" * 5_000,
    "3,000-deep tr()": "tr(" * 3_000 + "X" + ")" * 3_000,
    "3,000-deep norms": "||" * 3_000 + "x" + "||" * 3_000,
    "5,000 minus signs": "-" * 5_000 + "x",
    "5,000 primes": "x" + "'" * 5_000,
    "1,000 factors": " ".join(["x"] * 1_000),
    "19,000 characters of one name": "x" * 19_000,
    "2,000 declarations": "; ".join(f"x{i}: R^n" for i in range(2_000)) + "; x",
    "1,500 short declarations": "; ".join(f"x{i}: R" for i in range(1_500)) + "; x1",
}


@pytest.mark.parametrize("name", list(BIG))
def test_oversized_input_is_refused_quickly(name):
    text = BIG[name]
    for args in (["shape", "-", "--format", "text"], ["diff", "-", "--wrt", "x", "--format", "text"]):
        r = invoke(args, input=text)
        if r.exit_code == 0:  # a long but legal input may be accepted; it must still be quick
            assert r.seconds < TIME_LIMIT, f"took {r.seconds:.2f}s"
            continue
        assert_clean_failure(r)
        for line in r.stderr.splitlines():
            assert len(line) <= 120, "long inputs are cut around the caret"


# ---- fuzz: random text never crashes ----------------------------------------------------------
ALPHABET = st.sampled_from(list("xyAB2 +-*/^'.()[]{}|‖;:=,_TR⊗⊙∘ᵀ⊤λ𝟏") +
                           ["tr(", "det(", "inv(", "exp(", "R^", "R^(n×n)", "||", ".*", "./", ".^",
                            "^T", "^-1", "\n", "symmetric"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(ALPHABET, max_size=20).map("".join), st.text(max_size=30)))
def test_random_text_is_accepted_or_refused_cleanly(text):
    if "\x00" in text:
        return
    r = invoke(["shape", "--format", "text", "--", text])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in (0, 2), (text, r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr
    if r.exit_code == 2:
        assert 1 <= len(r.stderr.splitlines()) <= 4, r.stderr
        assert r.stderr.startswith("mcalc: error: ")
        assert r.stdout == ""
    assert r.seconds < TIME_LIMIT
