"""Issue 6: Rich output, --steps in every format, `mcalc rules`, LaTeX documents."""
import io
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import mcalc
import mcalc.api as api
from mcalc.cli import app
from mcalc.render.rich import result_renderable, shape_renderable

runner = CliRunner()
SNAP = Path(__file__).parent / "fixtures" / "snapshots"
SEED4 = ["diff", "y_hat = X W; L = 1/N ||y_hat - y||^2", "--wrt", "W", "--where", "X: R^(N×D); W: R^(D×1)", "--steps"]


def rich_text(renderable, width=80) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, force_terminal=False).print(renderable)
    return out.getvalue()


@pytest.mark.parametrize("name, expr, wrt, where", [
    ("quadratic", "x^T A x", "x", None),
    ("least_squares", "1/N ||X w - y||^2", "w", "X: R^(N×D)"),
    ("tensor", "A X B", "X", None),
    ("network", "h = tanh(W1 x + b1); L = ||W2 h + b2 - y||^2", "W1", None),
])
def test_rich_snapshots_at_80_columns(name, expr, wrt, where):
    text = rich_text(result_renderable(api.diff(expr, wrt, where=where)))
    assert max(len(line) for line in text.splitlines()) <= 80
    snap = SNAP / f"{name}.txt"
    if not snap.exists():           # first run writes the snapshot; review it and commit it
        snap.parent.mkdir(parents=True, exist_ok=True)
        snap.write_text(text)
    assert text == snap.read_text()


def test_rich_shows_question_result_shape_symbols_notes_and_latex():
    from mcalc.present import Derivative, Derivatives, present
    out = present(Derivatives([Derivative(api.diff("x^T A x", "x", layout="numerator"))]), "rich").items
    text = "".join(item if isinstance(item, str) else rich_text(item) for _, item in out)
    for needle in ("∂f/∂x", "xᵀ (A + Aᵀ)", "1 × n", "numerator layout", "inferred", "note:", r"\mathbf{x}^{\top}"):
        assert needle in text
    assert out[-1] == ("out", r"\mathbf{x}^{\top}\,\left(A + A^{\top}\right)"), "the LaTeX: one plain line, below the panel"


def test_long_results_wrap_at_80_columns():
    r = api.diff("; ".join([f"h{i} = tanh(W{i} h{i-1})" if i > 1 else "h1 = tanh(W1 x)" for i in range(1, 7)]
                           + ["L = ||W7 h6 - y||^2"]), "W1")
    text = rich_text(result_renderable(r))
    assert max(len(line) for line in text.splitlines()) <= 80


def test_shape_rich():
    text = rich_text(shape_renderable(api.shape("x^T A x")))
    assert "1×1" in text and "inferred" in text


def test_real_program_under_a_pseudo_terminal():
    """On a terminal the default format is Rich; NO_COLOR removes colour codes."""
    exe = shutil.which("mcalc") or str(Path(sys.executable).parent / "mcalc")
    for no_color in (False, True):
        master, slave = pty.openpty()
        env = dict(os.environ, COLUMNS="80", TERM="xterm-256color")
        env.pop("NO_COLOR", None)
        if no_color:
            env["NO_COLOR"] = "1"
        proc = subprocess.Popen([exe, "diff", "x^T A x", "--wrt", "x"], stdout=slave, stderr=slave, env=env)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=30)
        os.close(master)
        out = b"".join(chunks).decode()
        assert proc.returncode == 0
        assert "╭" in out and "(A + Aᵀ) x" in out and "∂f/∂x" in out
        import re
        colour = re.search(r"\x1b\[[0-9;]*(3[0-9]|9[0-7])m", out)
        assert (colour is None) == no_color


def test_piped_output_is_plain():
    res = runner.invoke(app, ["diff", "x^T A x", "--wrt", "x"])
    assert res.stdout == "(A + A^T) x\n"


def test_steps_seed_000_section_4_text():
    res = runner.invoke(app, SEED4 + ["--format", "text"])
    assert res.exit_code == 0
    out = res.stdout
    assert "step 1" in out and "∇_y_hat L = 2/N (y_hat - y)   [N×1]" in out
    assert "step 2" in out and "∂y_hat/∂Wᵀ = X   [N×D]" in out
    assert "step 3: chain rule" in out and "[1×N][N×D]" in out
    assert out.strip().endswith("2/N X^T (X W - y)")


def test_steps_seed_000_section_4_json():
    res = runner.invoke(app, SEED4 + ["--format", "json"])
    steps = json.loads(res.stdout)["steps"]
    assert [s["rule"] for s in steps[:3]] == ["step 1: gradient with respect to the intermediate",
                                              "step 2: Jacobian of the intermediate", "step 3: chain rule"]
    assert all({"rule", "text", "latex"} <= set(s) for s in steps)
    assert steps[0]["shape"] == ["N", 1] and steps[1]["shape"] == ["N", "D"]


def test_steps_seed_000_section_4_rich():
    r = api.diff(SEED4[1], SEED4[3], where=SEED4[5])
    from mcalc.steps import derivation
    text = rich_text(result_renderable(r, steps=derivation(r)), width=120)
    assert "step 1" in text and "step 2" in text and "step 3" in text


def test_steps_differential_method_names_the_rules():
    res = runner.invoke(app, ["diff", "det(X) + tr(A X)", "--wrt", "X", "--steps", "--format", "text"])
    out = res.stdout
    assert "d det(X) = det(X) tr(X^-1 dX)" in out
    assert "differential: df = " in out and "identification" in out and "layout" in out


@pytest.mark.skipif(shutil.which("pdflatex") is None and not os.environ.get("MCALC_REQUIRE_PDFLATEX") == "1",
                    reason="pdflatex is not installed (apt-get install texlive-latex-base); CI requires it")
@pytest.mark.parametrize("args", [
    SEED4 + ["--format", "latex", "--standalone"],
    ["diff", "det(X) + logdet(X) + sum(A ./ X)", "--wrt", "X", "--steps", "--format", "latex", "--standalone"],
    ["diff", "x^T A x", "--wrt", "x", "--steps", "--format", "latex", "--standalone"],
    ["diff", "A X B", "--wrt", "X", "--format", "latex", "--standalone"],
    ["diff", "x = a t + b s; f = x^T x", "--wrt", "(t,s)", "--where", "t: R; s: R", "--format", "latex", "--standalone"],
    ["diff", "1/N ||X w - y||^2", "--wrt", "w", "--format", "latex", "--latex-env", "align", "--standalone"],
    ["diff", "1/N ||X w - y||^2", "--wrt", "w", "--format", "latex", "--latex-env", "inline", "--standalone"],
    ["hessian", "sum(softplus(X w)) - y^T X w", "--wrt", "w", "--format", "latex", "--standalone"],
    ["rules", "--format", "latex", "--standalone"],
    ["rules", "--layout", "numerator", "--format", "latex", "--standalone"],
    ["latex", "h = tanh(W1 x + b1); L = ||W2 h + b2 - y||^2", "--standalone"],
])
def test_latex_documents_compile(tmp_path, args):
    assert shutil.which("pdflatex"), "pdflatex is required (MCALC_REQUIRE_PDFLATEX=1)"
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.stderr
    tex = tmp_path / "doc.tex"
    tex.write_text(res.stdout)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp_path,
                         capture_output=True, timeout=120)
    assert run.returncode == 0, run.stdout.decode()[-2000:]


def test_rules_follow_the_engine_in_each_layout():
    out = {lay: json.loads(runner.invoke(app, ["rules", "--layout", lay, "--format", "json"]).stdout)
           for lay in ("mixed", "numerator", "denominator")}
    pick = lambda lay, name: next(r for r in out[lay]["identities"] if r["name"] == name and r["section"] == "vector")
    assert pick("mixed", "quadratic form")["derivative"] == "(A + A^T) x"
    assert pick("numerator", "quadratic form")["derivative"] == "x^T (A + A^T)"
    assert pick("mixed", "affine map (Jacobian)")["derivative"] == "A"
    assert pick("denominator", "affine map (Jacobian)")["derivative"] == "A^T"
    assert any("det" in r["identity"] for r in out["mixed"]["differentials"])


def test_rules_text_and_rich():
    assert "linear form" in runner.invoke(app, ["rules", "--format", "text"]).stdout
    assert runner.invoke(app, ["rules", "--format", "rich"]).exit_code == 0


def test_notebook_latex():
    r = mcalc.diff("x^T A x", "x")
    assert r._repr_latex_().startswith("$$") and r"\mathbf{x}" in r._repr_latex_()


def test_latex_style_plain_and_envs():
    plain = runner.invoke(app, ["diff", "x^T A x", "--wrt", "x", "--format", "latex", "--latex-style", "plain"]).stdout
    assert r"\mathbf" not in plain
    inline = runner.invoke(app, ["diff", "x^T A x", "--wrt", "x", "--format", "latex", "--latex-env", "inline"]).stdout
    assert inline.strip().startswith("$") and inline.strip().endswith("$")


# ---- the trace of fired rules (rewrite.recording) in --steps ---------------------------------
def registered_rules() -> set[str]:
    from mcalc.rewrite import all_rules
    return {r.name for r in all_rules()}


def test_steps_show_the_simplification_rules_that_fired_text():
    """The sinh/cosh example of issue 13: the rule that turns sinh ./ cosh into tanh is named."""
    res = runner.invoke(app, ["diff", "sum(sinh(x) ./ cosh(x))", "--wrt", "x", "--steps", "--format", "text"])
    assert res.exit_code == 0
    lines = res.stdout.splitlines()
    traced = [ln.strip().removeprefix("simplified by: ") for ln in lines if ln.startswith("    simplified by: ")]
    assert traced, res.stdout
    names = {part.split(" ×")[0] for ln in traced for part in ln.split(", ")}
    assert names <= registered_rules(), names - registered_rules()
    assert "tanh_from_sinh_cosh" in names
    layout = lines.index(next(ln for ln in lines if ln.startswith("layout:")))
    assert lines[layout + 1].startswith("    simplified by: ")         # each trace under its row
    assert lines[-1] == "ones - tanh(x).^2"


def test_steps_show_the_rules_that_fired_json_and_latex():
    res = runner.invoke(app, ["diff", "x^T A x", "--wrt", "x", "--steps", "--format", "json"])
    steps = json.loads(res.stdout)["steps"]
    fired = {s["rule"]: s.get("simplified_by", []) for s in steps}
    assert fired["differential"] and set(fired["differential"]) <= registered_rules()
    assert "transpose_transpose" in fired["differential"] and fired["layout"]
    assert "simplified_by" not in steps[0]                                  # the function row: nothing fired
    res = runner.invoke(app, ["diff", "x^T A x", "--wrt", "x", "--steps", "--format", "latex"])
    assert r"\text{\footnotesize simplified by: transpose\_transpose $\times$4" in res.stdout


def test_steps_trace_the_chain_rule_factors_separately():
    res = runner.invoke(app, SEED4 + ["--format", "json"])
    steps = json.loads(res.stdout)["steps"]
    assert steps[0].get("simplified_by") and steps[1].get("simplified_by")
    assert steps[0]["simplified_by"] != steps[1]["simplified_by"]


def test_compact_counts_repeats_in_first_fired_order():
    from mcalc.steps import compact
    assert compact(["b", "a", "b", "b"]) == "b ×3, a"
