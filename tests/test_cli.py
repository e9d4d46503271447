"""The command line (SPEC §3): version, help, shape in text and JSON, latex, standard
input, plain output when piped, rich on a terminal, NO_COLOR, bad options, and a
start-up that imports neither NumPy nor SymPy."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mcalc
from mcalc import api
from mcalc.cli import app

runner = CliRunner()
PYTHON = sys.executable
MCALC = shutil.which("mcalc", path=str(Path(sys.executable).parent)) or shutil.which("mcalc")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
COLOR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7]|4[0-8]|10[0-7])(?:;[0-9;]*)?m")


def invoke(*args: str, input: str | None = None, env: dict | None = None):
    return runner.invoke(app, list(args), input=input, env=env)


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "MCALC_DEBUG", "COLUMNS", "TTY_COMPATIBLE")}
    env.update(extra)
    return env


def run(*args: str, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    assert MCALC, "the mcalc console script is not installed"
    return subprocess.run([MCALC, *args], input=input, capture_output=True, text=True,
                          env=env or clean_env(), timeout=60)


def run_in_terminal(*args: str, env: dict | None = None) -> tuple[int, str]:
    """Run mcalc with stdout and stderr on a pseudo-terminal; return (exit code, output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([MCALC, *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            env=env or clean_env(TERM="xterm-256color", COLUMNS="100"), close_fds=True)
    os.close(slave)
    out = b""
    while True:
        try:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                break
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    code = proc.wait(timeout=30)
    os.close(master)
    return code, out.decode("utf-8", "replace")


# ---- version and help -------------------------------------------------------------------
def test_version():
    r = invoke("--version")
    assert r.exit_code == 0
    assert r.stdout.strip() == f"mcalc {mcalc.__version__}"


def test_version_of_the_installed_script():
    p = run("--version")
    assert p.returncode == 0
    assert p.stdout.strip() == f"mcalc {mcalc.__version__}"


def test_help_shows_examples_and_commands():
    r = invoke("--help")
    assert r.exit_code == 0
    out = r.stdout
    assert "Examples" in out
    assert 'mcalc diff "x^T A x" --wrt x' in out
    for command in ("diff", "hessian", "shape", "latex", "check"):
        assert re.search(rf"^\s+{command}\b", out, re.M), command


def test_no_arguments_shows_help():
    r = invoke()
    assert "Usage" in r.stdout + r.stderr
    assert r.exit_code in (0, 2)


@pytest.mark.parametrize("command, options", [
    ("diff", ["--wrt", "--where", "--layout", "--order", "--flatten", "--steps", "--verify", "--format"]),
    ("shape", ["--where", "--format"]),
    ("latex", ["--where"]),
])
def test_command_help_lists_its_options(command, options):
    r = invoke(command, "--help")
    assert r.exit_code == 0
    for option in options:
        assert option in r.stdout, option


# ---- shape --------------------------------------------------------------------------------
def test_shape_text():
    r = invoke("shape", "x: R^n; A x + b", "--format", "text")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    m = lines[0].split("×")[0]
    assert lines[0] == f"{m}×1"
    assert set(lines[1:]) == {f"A: {m}×n (inferred)", "x: n×1", f"b: {m}×1 (inferred)"}
    assert r.stderr == ""


def test_shape_text_marks_dimensions_and_bound_names():
    r = invoke("shape", "X: R^(N×D); y_hat = X w; L = 1/N ||y_hat - y||^2", "--format", "text")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "1×1"
    assert "X: N×D" in lines
    assert "w: D×1 (inferred)" in lines
    assert "y: N×1 (inferred)" in lines
    assert any(line.startswith("N: ") and "dimension" in line for line in lines)
    assert any(line.startswith("y_hat: N×1") and "bound" in line for line in lines)


def test_shape_text_marks_symmetric():
    r = invoke("shape", "A: R^(n×n) symmetric; x^T A x", "--format", "text")
    assert r.exit_code == 0
    assert any(line.startswith("A: n×n") and "symmetric" in line for line in r.stdout.splitlines())


def test_shape_json():
    r = invoke("shape", "x: R^n; A x + b", "--format", "json")
    assert r.exit_code == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["input"] == "x: R^n; A x + b"
    m = obj["shape"][0]
    assert obj["shape"] == [m, 1]
    assert obj["symbols"]["x"]["shape"] == ["n", 1] and obj["symbols"]["x"]["inferred"] is False
    assert obj["symbols"]["A"]["shape"] == [m, "n"] and obj["symbols"]["A"]["inferred"] is True
    assert obj["symbols"]["b"]["shape"] == [m, 1] and obj["symbols"]["b"]["inferred"] is True


def test_shape_json_scalar_and_integers():
    obj = json.loads(invoke("shape", "x: R^3; x^T x", "--format", "json").stdout)
    assert obj["shape"] == [1, 1]
    assert obj["symbols"]["x"]["shape"] == [3, 1]


def test_shape_where_options():
    a = invoke("shape", "x^T A x", "--where", "x: R^n", "-w", "A: R^(n×n)", "--format", "json")
    b = invoke("shape", "x^T A x", "--where", "x: R^n; A: R^(n×n)", "--format", "json")
    c = invoke("shape", "x: R^n; A: R^(n×n); x^T A x", "--format", "json")
    assert a.exit_code == b.exit_code == c.exit_code == 0
    sa, sb, sc = (json.loads(r.stdout)["symbols"] for r in (a, b, c))
    assert sa == sb == sc
    assert sa["A"]["shape"] == ["n", "n"] and sa["A"]["inferred"] is False
    assert sa["x"]["shape"] == ["n", 1] and sa["x"]["inferred"] is False


def test_shape_greek():
    r = invoke("shape", "λ x + lambda y", "--format", "json")
    obj = json.loads(r.stdout)
    assert obj["symbols"]["lambda"]["shape"] == [1, 1]
    assert "λ" not in obj["symbols"]


# ---- latex ---------------------------------------------------------------------------------
def test_latex_is_bare_math():
    r = invoke("latex", "x^T A x")
    assert r.exit_code == 0, r.stderr
    out = r.stdout.strip()
    assert "\n" not in out
    assert "$" not in out and "\\[" not in out and "\\begin" not in out
    assert "A" in out
    assert "\\top" in out or "^{T}" in out or "^T" in out or "\\intercal" in out


def test_latex_of_the_regression_loss():
    out = invoke("latex", "1/N ||X w - y||^2").stdout
    assert "\\frac" in out or "\\tfrac" in out
    assert "\\lVert" in out or "\\|" in out or "\\Vert" in out
    assert "^{2}" in out or "^2" in out


def test_latex_with_where_and_greek():
    r = invoke("latex", "λ ||x||_1 + ||A x - b||^2", "--where", "A: R^(m×n)")
    assert r.exit_code == 0, r.stderr
    assert "\\lambda" in r.stdout


def test_latex_environments():
    r = invoke("latex", "x^T A x", "--latex-env", "equation")
    assert r.exit_code == 0
    assert "\\begin{equation" in r.stdout and "\\end{equation" in r.stdout
    r = invoke("latex", "x^T A x", "--standalone")
    assert r.exit_code == 0
    assert "\\documentclass" in r.stdout and "\\end{document}" in r.stdout


def test_latex_of_bad_input_is_an_error():
    r = invoke("latex", "x +")
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith("mcalc: error: ")


# ---- standard input ------------------------------------------------------------------------
def test_dash_reads_standard_input_for_shape():
    a = invoke("shape", "-", "--format", "text", input="x: R^n; A x + b\n")
    b = invoke("shape", "x: R^n; A x + b", "--format", "text")
    assert a.exit_code == 0, a.stderr
    assert a.stdout == b.stdout


def test_dash_reads_standard_input_for_latex():
    a = invoke("latex", "-", input="x^T A x\n")
    assert a.exit_code == 0, a.stderr
    assert a.stdout == invoke("latex", "x^T A x").stdout


def test_dash_reads_a_multi_line_program():
    r = invoke("shape", "-", "--format", "text", input="x: R^n\nA: R^(m×n)\ny = A x\ny^T y\n")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[0] == "1×1"


def test_diff_reads_one_formula_per_line_from_standard_input():
    r = invoke("diff", "-", "--wrt", "x", "--format", "text", input="x^T x\na^T x\n")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == ["2 x", "a"]


def test_dash_through_the_installed_script():
    p = run("shape", "-", "--format", "text", input="x^T A x\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "1×1"


# ---- piped output, terminals and colour ----------------------------------------------------
def test_piped_output_is_plain_text_by_default():
    r = invoke("diff", "x^T A x", "--wrt", "x")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == "(A + A^T) x"
    assert not ANSI.search(r.stdout)
    assert len(r.stdout.splitlines()) == 1
    api.typed(r.stdout.strip())  # the text output parses again


def test_piped_output_of_the_installed_script_is_plain_text():
    p = run("diff", "x^T A x", "--wrt", "x")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "(A + A^T) x\n"
    p = run("shape", "x^T A x")
    assert p.returncode == 0
    assert not ANSI.search(p.stdout)
    assert p.stdout.splitlines()[0] == "1×1"


def test_piped_output_stays_plain_even_when_the_terminal_asks_for_colour():
    p = run("diff", "x^T A x", "--wrt", "x", env=clean_env(TERM="xterm-256color", CLICOLOR_FORCE="1"))
    assert p.stdout == "(A + A^T) x\n"


def test_rich_is_the_default_on_a_terminal():
    code, out = run_in_terminal("diff", "x^T A x", "--wrt", "x")
    assert code == 0, out
    assert len(out.splitlines()) > 2, out
    assert "(A + A" in ANSI.sub("", out)


def test_terminal_output_is_coloured_without_no_color():
    code, out = run_in_terminal("diff", "x^T A x", "--wrt", "x")
    assert code == 0
    assert COLOR.search(out), "expected colour on a terminal (else the NO_COLOR test proves nothing)"


def test_no_color_on_a_terminal():
    code, out = run_in_terminal("diff", "x^T A x", "--wrt", "x",
                                env=clean_env(TERM="xterm-256color", COLUMNS="100", NO_COLOR="1"))
    assert code == 0
    assert not COLOR.search(out), repr(out[:300])
    assert "(A + A" in ANSI.sub("", out)


def test_no_color_with_forced_rich_output():
    colored = run("shape", "x^T A x", "--format", "rich", env=clean_env(FORCE_COLOR="1"))
    plain = run("shape", "x^T A x", "--format", "rich", env=clean_env(FORCE_COLOR="1", NO_COLOR="1"))
    assert colored.returncode == plain.returncode == 0
    assert COLOR.search(colored.stdout)
    assert not COLOR.search(plain.stdout)


def test_errors_are_plain_on_a_terminal_with_no_color():
    code, out = run_in_terminal("shape", "x: R^n; y: R^m; x + y",
                                env=clean_env(TERM="xterm-256color", NO_COLOR="1"))
    assert code == 2
    text = out.replace("\r\n", "\n")
    assert "mcalc: error: cannot add x (n×1) and y (m×1)" in text
    assert not COLOR.search(out)


# ---- bad options ----------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["shape", "x", "--bogus"],
    ["diff", "x^T x", "--wrt", "x", "--frobnicate"],
    ["frobnicate", "x"],
    ["shape", "x", "--format", "bogus"],
    ["diff", "x^T x", "--wrt", "x", "--layout", "sideways"],
    ["diff", "x^T x", "--wrt", "x", "--order", "two"],
    ["diff", "x^T x"],
    ["--bogus"],
])
def test_unknown_option_or_value_exits_2(args):
    r = invoke(*args)
    assert r.exit_code == 2, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    assert r.stderr.strip()


def test_unknown_option_through_the_installed_script():
    p = run("shape", "x", "--bogus")
    assert p.returncode == 2
    assert p.stdout == ""
    assert "--bogus" in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("args", [
    ["diff", "x^T x", "--wrt", "x", "--order", "3"],
    ["shape", "x", "--format", "numpy"],
])
def test_unsupported_values_are_bad_input(args):
    r = invoke(*args)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith("mcalc: error: ")
    assert len(r.stderr.splitlines()) <= 4


# ---- exit codes and streams of the installed script ---------------------------------------------
def test_error_goes_to_stderr_with_exit_2():
    p = run("shape", "x: R^n; y: R^m; x + y")
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.splitlines() == [
        "mcalc: error: cannot add x (n×1) and y (m×1)",
        "  x: R^n; y: R^m; x + y",
        "                  ^^^^^",
    ]


def test_parse_error_from_the_installed_script():
    p = run("diff", "x^T A +", "--wrt", "x")
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.splitlines()
    assert lines[0].startswith("mcalc: error: unexpected end of input")
    assert lines[1] == "  x^T A +"
    assert lines[2] == "  " + " " * len("x^T A +") + "^"


# ---- start-up ----------------------------------------------------------------------------------
def imported_modules(stderr: str) -> set[str]:
    mods = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                mods.add(name)
    return mods


@pytest.mark.parametrize("args", [
    ["shape", "x^T A x", "--format", "text"],
    ["shape", "X: R^(N×D); 1/N ||X w - y||^2", "--format", "json"],
    ["latex", "x^T A x"],
])
def test_start_up_imports_neither_numpy_nor_sympy(args):
    p = subprocess.run([PYTHON, "-X", "importtime", "-m", "mcalc", *args], capture_output=True,
                       text=True, env=clean_env(), timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    mods = imported_modules(p.stderr)
    assert "mcalc.cli" in mods or "mcalc" in mods, "importtime output not understood"
    heavy = sorted(m for m in mods if m.split(".")[0] in ("numpy", "sympy", "mpmath"))
    assert not heavy, heavy[:10]


def test_python_m_mcalc_matches_the_script():
    p = subprocess.run([PYTHON, "-m", "mcalc", "shape", "x^T A x", "--format", "text"],
                       capture_output=True, text=True, env=clean_env(), timeout=60)
    assert p.returncode == 0
    assert p.stdout == run("shape", "x^T A x", "--format", "text").stdout


def test_text_output_parses_again_even_with_huge_exponents():
    """x_k = x_{k-1} .* x_{k-1} fifty-nine times: the derivative has the exponent 2^59 - 1.
    The text format promises a result that parses again, so either it does or the
    input is refused as bad input (exit 2) - never an output the parser then rejects."""
    program = "".join(f"x{i} = x{i - 1} .* x{i - 1}; " for i in range(1, 60)) + "sum(x59)"
    r = invoke("diff", "-", "--wrt", "x0", "--format", "text", input=program)
    assert r.exit_code in (0, 2), r.stderr
    if r.exit_code == 0:
        api.typed(r.stdout.strip())


# ---- shell completion through Click's _MCALC_COMPLETE protocol ----------------------------------------
def complete(shell: str, words: str, extra: dict | None = None) -> list[str]:
    """What TAB offers after `words` in a shell, as the completion script asks for it."""
    env = clean_env(_MCALC_COMPLETE=f"complete_{shell}", **(extra or {}))
    if shell == "bash":
        parts = words.split(" ")
        env.update(COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1))
    else:
        env.update(_TYPER_COMPLETE_ARGS=words)
        if shell == "fish":
            env.update(_TYPER_COMPLETE_FISH_ACTION="get-args")
    p = run(env=env)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_of_commands_options_and_values(shell):
    def names(lines):
        return {ln.split("\t")[0].split(":")[0].strip("'\"_() ") for ln in lines}
    commands = "\n".join(complete(shell, "mcalc " if shell == "bash" else "mcalc "))
    for command in ("diff", "hessian", "shape", "check", "rules", "functions"):
        assert command in commands, (shell, commands)
    options = "\n".join(complete(shell, "mcalc diff x --fo" if shell != "bash" else "mcalc diff x --fo"))
    assert "--format" in options
    layouts = "\n".join(complete(shell, "mcalc diff x --layout "))
    assert all(v in layouts for v in ("mixed", "numerator", "denominator")), layouts
    formats = "\n".join(complete(shell, "mcalc diff x --format "))
    assert all(v in formats for v in ("rich", "text", "latex", "json", "numpy")), formats
    assert names  # the helper stays honest for the shells that add descriptions


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_installable(shell, tmp_path):
    p = run("--show-completion", env=clean_env(_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1", SHELL=f"/bin/{shell}"))
    # without detection --show-completion takes the shell's name
    p = run("--show-completion", shell, env=clean_env(_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1"))
    assert p.returncode == 0, p.stderr
    assert "_MCALC_COMPLETE" in p.stdout and f"complete_{shell}" in p.stdout
    home = tmp_path / "home"
    home.mkdir()
    p = run("--install-completion", shell,
            env=clean_env(HOME=str(home), _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1"))
    assert p.returncode == 0, p.stderr
    assert f"{shell} completion installed" in p.stdout
    if shutil.which("bash") and shell == "bash":
        script = run("--show-completion", "bash", env=clean_env(_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")).stdout
        probe = script + '\nCOMP_WORDS=(mcalc diff x --layout ""); COMP_CWORD=4; _mcalc_completion mcalc; ' \
                         'printf "%s\\n" "${COMPREPLY[@]}"\n'
        env = clean_env(PATH=f"{Path(MCALC).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=60)
        assert {"mixed", "numerator", "denominator"} <= set(out.stdout.split()), out.stdout + out.stderr


# ---- user text is never Rich markup (a real terminal) --------------------------------------------------
def test_rules_on_a_terminal_keep_bracketed_identities():
    code, out = run_in_terminal("rules", env=clean_env(TERM="xterm-256color", COLUMNS="200"))
    assert code == 0, out
    assert "d[A, B] = [dA, dB]" in ANSI.sub("", out)


def test_markup_in_a_problem_name_is_text_on_a_terminal(tmp_path):
    hw = tmp_path / "hw.toml"
    hw.write_text('[[problem]]\nname = "[/b] and [red]x[/red]"\nexpr = "x^T x"\nwrt = "x"\nclaim = "2 x"\n')
    code, out = run_in_terminal("check", str(hw), env=clean_env(TERM="xterm-256color", COLUMNS="120"))
    assert code == 0, out
    assert "[/b] and [red]x[/red]" in ANSI.sub("", out)


def test_the_latex_line_of_the_panel_is_one_line_on_a_narrow_terminal():
    code, out = run_in_terminal("diff", "y = X w; L = 1/N ||y - t||^2 + lambda ||w||^2", "--wrt", "w",
                                env=clean_env(TERM="xterm-256color", COLUMNS="50"))
    assert code == 0, out
    lines = ANSI.sub("", out).replace("\r\n", "\n").splitlines()
    latex = api.diff("y = X w; L = 1/N ||y - t||^2 + lambda ||w||^2", "w").latex
    assert len(latex) > 50 and latex in lines, lines[-3:]


# ---- messages ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, first", [
    (["diff", "x^T x", "--wrt", "x", "--formt", "latex"], "mcalc: error: no such option --formt; did you mean --format?"),
    (["dif", "x"], "mcalc: error: no such command 'dif'; did you mean 'diff'?"),
    (["--bogus"], "mcalc: error: no such option --bogus"),
    (["diff", "x^T x"], "mcalc: error: missing option '--wrt'"),
    (["diff", "1e-3e4 x", "--wrt", "x"], "mcalc: error: malformed number '1e-3e4'"),
    (["diff", "2..5 x", "--wrt", "x"], "mcalc: error: malformed number '2..5'"),
    (["diff", "x +", "--wrt", "x"], "mcalc: error: unexpected end of input; expected a formula"),
    (["diff", "foo(x)", "--wrt", "x"], "mcalc: error: unknown function foo"),
])
def test_messages_say_what_is_wrong_once(args, first):
    r = invoke(*args)
    assert r.exit_code == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0] == first
    assert r.stderr.count("did you mean") <= 1 and len(lines) <= 4
    assert "commutation" not in r.stderr


def test_malformed_numbers_have_a_caret_under_them():
    lines = invoke("diff", "x + 2..5 x", "--wrt", "x").stderr.splitlines()
    assert lines[1:3] == ["  x + 2..5 x", "      ^^^^"]
    assert invoke("diff", "2.5 .* x", "--wrt", "x").exit_code == 0
    assert invoke("diff", "2.5.*x + 1e-3 x", "--wrt", "x").exit_code == 0


def test_unknown_function_points_to_the_function_list():
    r = invoke("diff", "foo(x)", "--wrt", "x")
    assert "mcalc functions" in r.stderr
    listing = invoke("functions", "--format", "text").stdout
    for name in ("tanh(X)", "logdet(X)", "kron(A, B)", "A .* B, A ⊙ B"):
        assert name in listing
    from mcalc.parse import FUNCTION_NAMES
    assert all(f"  {n}(" in listing for n in FUNCTION_NAMES)
    assert set(json.loads(invoke("functions", "--format", "json").stdout)["functions"]) >= {"exp(X)", "tr(X)"}


@pytest.mark.parametrize("command", ["diff", "hessian", "shape", "latex", "check", "rules", "functions"])
def test_help_of_each_command_has_examples(command):
    r = invoke(command, "--help")
    assert r.exit_code == 0
    examples = [ln for ln in r.stdout.splitlines() if ln.strip().startswith(f"mcalc {command}")]
    assert 2 <= len(examples) <= 3, r.stdout
    assert "seed 0" not in r.stdout


def test_top_help_is_not_cut_off():
    out = invoke("--help").stdout
    commands = out.split("Commands:")[1]
    assert "..." not in commands and "seed 0" not in out and "functions" in commands


# ---- batch mode -----------------------------------------------------------------------------------------------
def test_batch_reports_a_bad_line_and_prints_the_others():
    r = invoke("diff", "-", "--wrt", "x", "--format", "text", input="x^T x\n\nx +\n# a comment\nA x\n")
    assert r.exit_code == 2
    assert r.stdout.splitlines() == ["2 x", "A"]
    assert r.stderr.splitlines()[0] == "mcalc: error: line 3: unexpected end of input; expected a formula"
    ok = invoke("diff", "-", "--wrt", "x", "--format", "json", input="x^T x\nA x\n")
    assert ok.exit_code == 0 and [json.loads(ln)["derivative"] for ln in ok.stdout.splitlines()] == ["2 x", "A"]


def test_a_binary_homework_file_is_bad_input_naming_the_file(tmp_path):
    hw = tmp_path / "hw.toml"
    hw.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe\xfd binary")
    r = invoke("check", str(hw))
    assert r.exit_code == 2, r.stderr
    assert r.stderr.startswith(f"mcalc: error: {hw}: not a text file") and "Traceback" not in r.stderr


BAD_INPUTS = ["x +", "(x", "x )", "A x ,", "x^", "tr(", "x: R^", "K_(m", "||x", "[x", "x .*", "x = ; x", "2..5",
              "1e-3e4", "x: R^(n", "y = x; z =", "x^T A @", "x ./", "x ⊗"]


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_no_grammar_rule_names_in_messages(text):
    from mcalc.parse import TOKEN_WORDS, parser
    p = parser()
    assert {t.name for t in p.terminals if not t.name.startswith("__")} <= set(TOKEN_WORDS)
    rules = {str(r.origin.name).lstrip("_?") for r in p.rules} | {r.alias for r in p.rules if r.alias}
    r = invoke("diff", text, "--wrt", "x")
    assert r.exit_code == 2, r.stdout
    first = r.stderr.splitlines()[0]
    expected = first.partition("expected ")[2]
    words = {w.strip(" …") for w in expected.split(",")} - {""}
    assert not words & rules, (first, words & rules)


def test_formula_text_with_brackets_survives_the_panel():
    code, out = run_in_terminal("shape", "sum([x, y])")
    assert code == 0, out
    assert "sum([x, y])" in ANSI.sub("", out)
