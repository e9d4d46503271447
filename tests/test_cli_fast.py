"""The two readers of a command line agree (mcalc/main.py's docstring): main.read, which runs
a plainly well-formed command line without importing click or typer, and typer, which reads
any command line with click's rules. On every command line main.read accepts, it must hand
console.execute exactly the values typer would; and it must accept the plain forms people type,
or the one-liner pays for typer after all."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcalc import cli, console, main

ROOT = Path(__file__).resolve().parent.parent
TABLE = cli.table()


def through_typer(argv: list[str]):
    """(command, values) that typer hands console.execute for argv; None when typer stops first
    (a usage error, --help, --version)."""
    seen = []

    def record(name, params):
        seen.append((name, params))
        return 0

    real, console.execute = console.execute, record
    try:
        with open(os.devnull, "w") as null:
            out, err, sys.stdout, sys.stderr = sys.stdout, sys.stderr, null, null
            try:
                cli.run_app(argv)
            finally:
                sys.stdout, sys.stderr = out, err
    finally:
        console.execute = real
    return seen[0] if seen else None


def agree(argv: list[str]) -> bool:
    """Assert the readers agree on argv; whether main.read accepted it."""
    argv = main.formula_args(argv)
    fast = main.read(TABLE, argv)
    if fast is not None:
        assert fast == through_typer(argv), argv
    return fast is not None


# ---- command lines people type ---------------------------------------------------------------
def documented_command_lines() -> list[list[str]]:
    """Every `mcalc …` command line in the README's and docs' console blocks, up to a pipe or
    redirection."""
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for block in re.findall(r"```(?:console|sh|bash)\n(.*?)```", text, re.S):
            for line in block.splitlines():
                line = line.removeprefix("$ ").strip()
                if not line.startswith("mcalc "):
                    continue
                try:
                    words = shlex.split(line.split(" | ")[0].split(" > ")[0].split(" < ")[0])
                except ValueError:
                    continue
                out.append(words[1:])
    return out


DOCUMENTED = documented_command_lines()


def test_the_docs_have_command_lines():
    assert len(DOCUMENTED) >= 40


@pytest.mark.parametrize("argv", DOCUMENTED, ids=[" ".join(a)[:70] for a in DOCUMENTED])
def test_documented_command_lines_read_alike(argv):
    accepted = agree(argv)
    plain = argv and argv[0] in TABLE and not {"--help", "-h", "--version"} & set(argv)
    if plain and through_typer(main.formula_args(argv)) is not None:
        assert accepted, f"main.read left a plain documented command line to typer: {argv}"


@pytest.mark.parametrize("argv", [
    ["diff", "x^T A x", "--wrt", "x"],
    ["diff", "x^T A x", "--wrt=x", "--format=text"],
    ["diff", "x^T A x", "-w", "A: R^(n×n)", "--wrt", "x", "-f", "json", "-l", "numerator"],
    ["diff", "f(g(x))", "--wrt", "x", "--where", "f: R^m -> R", "--where", "g: R^n -> R^m"],
    ["diff", "-sum(y .* log_softmax(z))", "--wrt", "z"],             # behind -- (formula_args)
    ["diff", "--wrt", "x", "--", "-x^T x"],
    ["diff", "-", "--wrt", "x"],
    ["hessian", "x^T A x", "--wrt", "x", "--flatten", "--steps", "--verify"],
    ["diff", "x^T A x", "--wrt", "x", "--format", "latex", "--standalone", "--no-lhs", "--latex-env", "align"],
    ["diff", "x^T A x", "--wrt", "x", "--order", "2", "--latex-style", "plain", "--lhs"],
    ["check", "x^T A x", "--wrt", "x", "--claim", "-2 A x"],
    ["check", "x^T A x", "--wrt", "x", "-c", "(A + A^T) x", "--layout", "denominator"],
    ["check", "homework.toml", "--junit", "report.xml"],
    ["equal", "tr(A B)", "tr(B A)"],
    ["shape", "x: R^n; A x + b", "--format", "json"],
    ["latex", "1/N ||X w - y||^2", "--standalone"],
    ["rules", "--layout", "numerator"],
    ["functions"],
])
def test_plain_forms_are_read_without_typer(argv):
    assert agree(argv)


@pytest.mark.parametrize("argv", [
    [], ["--help"], ["--version"], ["diff", "--help"], ["diff", "x", "--wrt", "x", "-h"],
    ["dif", "x", "--wrt", "x"],                       # did-you-mean
    ["diff", "x^T A x"],                              # --wrt missing
    ["diff", "x", "--wrt"],                           # a value missing
    ["diff", "x", "--wrt", "x", "--format", "pdf"],   # not a choice
    ["diff", "x", "--wrt", "x", "--format", "TEXT"],  # choices are case-sensitive
    ["diff", "x", "--wrt", "x", "--order", "two"], ["diff", "x", "--wrt", "x", "--order", " 2"],
    ["diff", "x", "--wrt", "x", "--formt", "text"],   # a misspelt option
    ["diff", "x", "y", "--wrt", "x"],                 # one argument too many
    ["diff", "x", "--wrt", "x", "--format", "text", "--format", "json"],     # given twice
    ["diff", "x", "--wrt", "x", "--steps=yes"], ["diff", "x", "--wrt", "x", "-w=x: R^n"],
    ["diff", "x", "--wrt", "x", "-fjson"],            # attached short value
    ["diff", "x", "--wrt", "x", "--claim", "x"],      # another command's option
    ["equal", "a"],
])
def test_everything_else_goes_to_typer(argv):
    assert main.read(TABLE, main.formula_args(argv)) is None


# ---- random command lines, read both ways ----------------------------------------------------------
WORDS = st.sampled_from([
    "diff", "hessian", "check", "shape", "equal", "latex", "rules", "functions", "x^T A x", "x", "X", "-",
    "--", "-x", "--wrt", "--wrt=x", "-w", "--where", "--where=x: R^n", "x: R^n", "--format", "-f", "text",
    "json", "latex", "numpy", "rich", "--format=json", "--layout", "-l", "numerator", "denominator", "mixed",
    "--order", "2", "1", "02", "-1", "--flatten", "--stack", "--steps", "--verify", "--standalone", "--lhs",
    "--no-lhs", "--latex-env", "inline", "align", "--latex-style", "plain", "--claim", "-c", "2 A x",
    "--junit", "r.xml", "--help", "-h", "--version", "=", "--order=3", "--flatten=1", "",
])


@st.composite
def command_lines(draw):
    """Mostly well-formed command lines: a command, about its number of arguments, some of its
    own options (any spelling) with good or bad values, and some noise from WORDS."""
    name = draw(st.sampled_from(sorted(TABLE)))
    params = TABLE[name]
    n_args = sum(p[1] == "argument" for p in params)
    words = [draw(st.sampled_from(["x^T A x", "x", "-", "-x^T x", "tr(A B)", ""]))
             for _ in range(draw(st.sampled_from([n_args, n_args, n_args, max(n_args - 1, 0), n_args + 1])))]
    for p in draw(st.lists(st.sampled_from([p for p in params if p[1] != "argument"] or [None]), max_size=6)):
        if p is None:
            continue
        spelling = draw(st.sampled_from(p[2] + p[3]))
        if p[1] == "flag":
            words.insert(draw(st.integers(0, len(words))), spelling)
            continue
        good = list(p[4]) if isinstance(p[4], tuple) else ["2", "1", "3"] if p[4] == "int" else ["x", "x: R^n", "A"]
        value = draw(st.sampled_from(good + ["", "--", "-x", "TEXT", "2.0", "x,y"]))
        if spelling.startswith("--") and draw(st.booleans()):
            at = [f"{spelling}={value}"]
        else:
            at = [spelling, value]
        i = draw(st.integers(0, len(words)))
        words[i:i] = at
    if draw(st.integers(0, 4)) == 0:
        words.insert(draw(st.integers(0, len(words))), draw(WORDS))
    return [name, *words]


@settings(max_examples=1500, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(command_lines())
def test_random_command_lines_read_alike(argv):
    agree(argv)


@settings(max_examples=500, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(TABLE)), st.lists(WORDS, max_size=9))
def test_random_word_soup_reads_alike(command, words):
    agree([command, *words])


def test_the_random_command_lines_are_mostly_read_without_typer():
    # the agreement above is no test if main.read declines everything: count what it takes
    import random
    rng, taken, typer_took = random.Random(4), 0, 0
    for _ in range(300):
        name = rng.choice(sorted(TABLE))
        argv = [name] + ["x"] * sum(p[1] == "argument" for p in TABLE[name])
        for p in TABLE[name]:
            if p[1] == "flag" and rng.random() < 0.3:
                argv.append(rng.choice(p[2] + p[3]))
            elif p[1] == "option" and (p[6] or rng.random() < 0.4):
                choices = list(p[4]) if isinstance(p[4], tuple) else ["2"] if p[4] == "int" else ["x"]
                argv += [rng.choice(p[2]), rng.choice(choices)]
        typer_took += through_typer(argv) is not None
        taken += agree(argv)
    assert taken == typer_took > 250


# ---- the table and its key -------------------------------------------------------------------------
def test_the_table_holds_every_command_and_every_parameter():
    group = cli.typer.main.get_command(cli.app)
    assert set(TABLE) == set(group.commands)
    for name, params in TABLE.items():
        assert [p[0] for p in params] == [p.name for p in group.commands[name].params]
        assert {p[0] for p in params} <= set(console.COMMANDS[name].__code__.co_varnames)


def test_an_edited_cli_has_a_new_table_key(tmp_path, monkeypatch):
    # the key is cli.py's text: a table made from an older cli.py is never read
    fake = tmp_path / "main.py"
    fake.write_text("")
    keys = []
    for text in ("a = 1\n", "a = 2\n"):
        (tmp_path / "cli.py").write_text(text)
        monkeypatch.setattr(main, "__file__", str(fake))
        keys.append(main.table_path())
    assert keys[0] != keys[1]


def run(args, home, python=()):
    env = {**os.environ, "HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, *python, "-m", "mcalc", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_the_first_run_makes_the_table_and_later_runs_read_it(tmp_path):
    args = ["diff", "x^T A x", "--wrt", "x", "--format", "text"]
    first = run(args, tmp_path)
    assert (first.returncode, first.stdout) == (0, "(A + A^T) x\n")
    tables = list((tmp_path / ".cache" / "mcalc").glob("cli_*.marshal"))
    assert len(tables) == 1
    second = run(args, tmp_path, python=("-X", "importtime"))
    assert (second.returncode, second.stdout) == (0, "(A + A^T) x\n")
    imported = {ln.split("|")[-1].strip() for ln in second.stderr.splitlines() if ln.startswith("import time:")}
    assert "mcalc.parse" in imported and not {"click", "typer"} & imported


def test_a_cache_that_cannot_be_written_leaves_every_command_line_to_typer(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".cache").write_text("not a directory")
    r = run(["diff", "x^T A x", "--wrt", "x", "--format", "text"], home)
    assert (r.returncode, r.stdout) == (0, "(A + A^T) x\n")
    r = run(["diff", "x^T A x", "--wrt", "x", "--formt", "text"], home)
    assert r.returncode == 2 and "did you mean --format?" in r.stderr


def test_a_new_typer_or_click_has_a_new_table_key(monkeypatch):
    assert main.installed("typer") and main.installed("click")      # found where the import system looks
    before = main.table_path()
    real = main.installed
    monkeypatch.setattr(main, "installed", lambda package: "another version" if package == "typer" else real(package))
    assert main.table_path() != before
