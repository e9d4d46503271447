"""Fuzzing the parser and the command line (issue 7).

Every input, however broken, must end with exit code 0, 1 or 2, without a traceback and
within a time bound: an exit code 3 (internal error), an exception other than SystemExit
escaping the app, or no answer in time is a failure. Inputs: random text over the
language's alphabet, random Unicode (lone surrogates included: that is what invalid UTF-8
in argv decodes to), control characters, grammar-aware mutations of valid formulas from
tests/strategies.py (deleted, doubled, swapped tokens, swapped operators, huge numbers,
deep nesting, oversized input), odd declarations and odd options.

In-process through the console script's main.run_argv, in click's CliRunner (so both
readers of a command line, main.read and typer, meet the inputs), derandomized; plus a few runs of the real program in a subprocess with a
wall-clock bound.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

import mcalc.api as api  # noqa: F401  (sets mcalc's recursion limit before hypothesis runs)
from mcalc.errors import McalcError
from strategies import Hang, check_cli, cli_runner, fuzz_inputs, time_limit

SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=False,
                phases=(Phase.explicit, Phase.generate, Phase.shrink),
                suppress_health_check=list(HealthCheck))
SECONDS = 10.0          # per input, in-process
RUNNER = cli_runner()


def assert_cli_ok(args):
    problem = check_cli(args, RUNNER, seconds=SECONDS)
    assert problem is None, f"mcalc {' '.join(repr(a[:400]) for a in args)}\n  {problem}"


def error_lines_ok(args):
    """Exit 2: at most four lines on standard error (SPEC §3)."""
    try:
        with time_limit(SECONDS):
            r = RUNNER.run(args)
    except Hang:
        pytest.fail(f"mcalc {args!r}: no answer within {SECONDS:g} s")
    if r.exit_code == 2:
        lines = r.stderr.rstrip("\n").splitlines()
        assert len(lines) <= 4, f"mcalc {args!r}: {len(lines)} lines on stderr:\n{r.stderr}"


# ---- the CLI, in-process -------------------------------------------------------------------
@settings(max_examples=2500, **SETTINGS)
@given(fuzz_inputs())
def test_cli_fuzz(args):
    """Grammar-aware mutations, random text, Unicode, control characters, odd options."""
    note(repr(args))
    assert_cli_ok(args)


LANGUAGE = st.sampled_from(list("xyzAXBW tn^'*@+-/.()[]{}|‖,;:=_0123456789\n×⊗⊙∘ᵀλ𝟏ℝ") +
                           ["R", "T", "tr(", "det(", "inv(", "exp(", "log(", ".*", "./", ".^", "^T", "^-1",
                            "||", "I", "ones", "x: R^n", "A: R^(n×n)", "symmetric", "kron(", "norm("])


@settings(max_examples=600, **SETTINGS)
@given(st.lists(LANGUAGE, max_size=30).map("".join), st.sampled_from(["shape", "diff", "latex"]))
def test_cli_token_soup(text, command):
    args = [command, text] + (["--wrt", "x"] if command == "diff" else []) + \
        (["--format", "text"] if command != "latex" else [])
    note(repr(args))
    assert_cli_ok(args)


@settings(max_examples=400, **SETTINGS)
@given(st.text(st.characters(exclude_categories=[]), max_size=40), st.sampled_from(["shape", "diff"]))
def test_cli_unicode(text, command):
    """Any code point, surrogates and control characters included."""
    args = [command, text, "--format", "text"] + (["--wrt", "x"] if command == "diff" else [])
    note(repr(args))
    assert_cli_ok(args)


@settings(max_examples=300, **SETTINGS)
@given(fuzz_inputs())
def test_errors_are_short(args):
    note(repr(args))
    error_lines_ok(args)


# ---- the parser, directly ------------------------------------------------------------------
@settings(max_examples=1500, **SETTINGS)
@given(st.one_of(st.text(max_size=60), st.lists(LANGUAGE, max_size=40).map("".join),
                 fuzz_inputs().map(lambda a: a[1])))
def test_parser_fuzz(text):
    """api.typed on anything: a result or a McalcError, nothing else, in time."""
    note(repr(text))
    try:
        with time_limit(SECONDS):
            api.typed(text)
    except McalcError:
        pass
    except Hang:
        pytest.fail(f"api.typed({text[:300]!r}) gave no answer within {SECONDS:g} s")


# ---- specific nasties, in-process ----------------------------------------------------------
NASTY = [
    "(" * 100_000, "(" * 199 + "x" + ")" * 199, "(" * 201 + "x" + ")" * 201, "-" * 5000 + "x",
    "exp(" * 300 + "x" + ")" * 300, "||" * 300 + "x", "x" + "'" * 5000, "x" + "^T" * 3000,
    "x + " * 6000 + "x", "A " * 7000, "x" * 25_000, "1" * 100, "1e999 x", "1e-400 x", "x^T x / 0",
    "x.^1e308", "A^1000000", "A^32 + A^-32", "s^(1/3)^(1/3)", "\x00", "x\x00y", "\ud800", "\udcff x",
    "x: R^99999999999; x^T x", "x: R^0; x", "A: R^(n×n) symmetric symmetric; A", "x: R^n; x: R^m; x",
    "λ: R; lambda: R^n; λ", "I: R^n; I", "R: R; R", "T: R^n; T", "ones^T ones", "I I I", "0 0", "",
    ";;;;", "\n\n", "#", "x # comment", "tr(x)", "det(x)", "inv(x)", "kron(x)", "norm(x, y, z)", "[x, A]",
    "diag(diag(diag(x)))", "vec(vec(A))", "x^T A x + y^T B y + " * 500 + "1",
]


@pytest.mark.parametrize("text", NASTY, ids=lambda t: repr(t[:20]))
@pytest.mark.parametrize("command", ["shape", "diff", "hessian"])
def test_cli_nasty(text, command):
    args = [command, text] + (["--wrt", "x"] if command != "shape" else []) + ["--format", "text"]
    assert_cli_ok(args)


# Command lines the fuzzer found (minimised by hand): internal errors, each checked on every run.
FOUND = [
    ["diff", "ones s", "--wrt", "s", "--verify", "--format", "text"],
    ["diff", "x: R^(n*m); x^T x", "--wrt", "x", "--verify", "--format", "text"],
    ["check", "k = t; f = k k", "--wrt", "k", "--claim", "2 k", "--format", "text"],
    ["check", "x: R; A x", "--wrt", "A[i,j]", "--claim", "2 A x", "--layout", "numerator", "--format", "text"],
    ["diff", "t: R; s: R; t - (s ./ s)^(1/2)", "--wrt", "t", "--format", "text"],
    ["diff", "x x^T P P^T (2 y)", "--wrt", "P", "--where", "x: R^n; P: R^(n×n); y: R^n", "--verify", "--format", "text"],
    ["diff", "V = P^T; f = sigmoid(z - V y)", "--wrt", "z", "--where", "P: R^(m×m); z: R^m; y: R^m", "--verify",
     "--format", "text"],
    ["check", "R: ℝ^(2×2); x^T A x", "--wrt", "x[0]", "--claim", "R : ℝ ^ ( 2 × 2 ) / x ^T A x", "--layout",
     "numerator", "--format", "text"],                                  # an entry numbered from 0
    ["diff", "x: R^3; x^T A x", "--wrt", "x[2]", "--verify", "--format", "text"],
]


@pytest.mark.parametrize("args", FOUND, ids=lambda a: " ".join(a[:2])[:40])
def test_cli_found(args):
    assert_cli_ok(args)


# ---- the real program, in a subprocess -------------------------------------------------------
WALL = 30.0


def run_mcalc(args, stdin: bytes | None = None):
    env = dict(os.environ, NO_COLOR="1")
    env.pop("MCALC_DEBUG", None)
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "mcalc", *args], input=stdin, capture_output=True,
                       timeout=WALL, env=env)
    return p, time.monotonic() - start


SUBPROCESS = [
    (["shape", "(" * 50_000 + "x" + ")" * 50_000], None),
    (["diff", "exp(" * 5000 + "x" + ")" * 5000, "--wrt", "x"], None),
    (["diff", b"x^T \xff\xfe A x", "--wrt", "x"], None),                   # invalid UTF-8 in argv
    (["shape", b"\xe2\x80"], None),
    (["diff", "-", "--wrt", "x"], b"x^T A x\n\xff\xfe\n(((\n" + b"x + " * 10_000 + b"\n"),
    (["shape", "-"], b"\x00\x01\x02 x"),
    (["shape", "-"], b"x + " * 300_000 + b"x"),                              # 1.2 MB on stdin
    (["hessian", "A^32", "--wrt", "A", "--format", "text"], None),
    (["diff", "x^T A x", "--wrt", "x", "--layout", "sideways"], None),
    (["diff", "-sum(log(x))", "--wrt", "x"], None),
    (["check", "x^T A x", "--wrt", "x", "--claim", "(" * 10_000], None),
]


@pytest.mark.parametrize("args,stdin", SUBPROCESS, ids=lambda a: repr(a)[:40] if a is not None else "")
def test_real_binary(args, stdin):
    try:
        p, took = run_mcalc(args, stdin)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mcalc {args!r}: no answer within {WALL:g} s")
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode in (0, 1, 2), f"mcalc {args!r}: exit {p.returncode}\n{err[-2000:]}"
    assert b"Traceback" not in p.stderr + p.stdout, f"mcalc {args!r}: a traceback\n{err[-2000:]}"
    if p.returncode == 2:       # batch mode (several lines on stdin) reports each bad line
        errors = max(1, err.count("mcalc: error: line "))
        assert len(err.rstrip("\n").splitlines()) <= 4 * errors, f"mcalc {args!r}: long error\n{err[:2000]}"
