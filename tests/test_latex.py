import os
import shutil
import subprocess
from fractions import Fraction
from types import SimpleNamespace

import pytest

from mcalc.api import diff, typed
from mcalc.nodes import NODE_CLASSES, Commutation, Delta, Mul, Num, Ones, Power, Sym, Transpose, Unit
from mcalc.render.latex import LatexRenderer, document, render_latex, render_latex_result, wrap


def tex(expr: str, style: str = "bold") -> str:
    return render_latex(typed(expr).body, style)


@pytest.mark.parametrize("expr, expected", [
    ("x^T A x", r"\mathbf{x}^{\top} A \mathbf{x}"),
    ("A x + b", r"A \mathbf{x} + \mathbf{b}"),
    ("x - y", r"\mathbf{x} - \mathbf{y}"),
    ("-x", r"-\mathbf{x}"),
    ("-2 x + 3 y", r"-2 \mathbf{x} + 3 \mathbf{y}"),
    ("x/2 - y", r"\frac{\mathbf{x}}{2} - \mathbf{y}"),
    ("(1/2) x", r"\frac{1}{2}\,\mathbf{x}"),
    ("2 * 3 * x", r"2 \cdot 3 \mathbf{x}"),
    ("A^-T", r"A^{-\top}"),
    ("inv(A)", r"A^{-1}"),
    ("(A B)^-1", r"\left(A B\right)^{-1}"),
    ("(x^T)^T", r"{\mathbf{x}^{\top}}^{\top}"),
    ("inv(X^T)^T", r"{X^{-\top}}^{\top}"),
    ("x.^2", r"\mathbf{x}^{\circ 2}"),
    ("s^(1/2)", r"s^{1/2}"),
    ("(s + t)^2 x", r"\left(s + t\right)^{2}\,\mathbf{x}"),
    ("lambda ||x||^2", r"\lambda\,\lVert \mathbf{x} \rVert^{2}"),
    ("||X||_F^2 + ||x||_1 + ||x||_2", r"\lVert X \rVert_{F}^{2} + \lVert \mathbf{x} \rVert_{1} + \lVert \mathbf{x} \rVert_{2}"),
    ("1/N ||X w - y||^2", r"\frac{1}{N}\,\lVert X \mathbf{w} - \mathbf{y} \rVert^{2}"),
    ("tr(A X B)", r"\operatorname{tr}(A X B)"),
    ("det(X) + logdet(X)", r"\det(X) + \log\det(X)"),
    ("diag(x) y", r"\operatorname{diag}(\mathbf{x})\,\mathbf{y}"),
    ("sum(X) + vec(X)^T vec(Y)", r"\operatorname{sum}(X) + \operatorname{vec}(X)^{\top}\,\operatorname{vec}(Y)"),
    ("A .* B", r"A \odot B"),
    ("A ./ B", r"A \oslash B"),
    ("A ⊗ B", r"A \otimes B"),
    ("A ⊙ B ⊗ C", r"\left(A \odot B\right) \otimes C"),
    ("kron(A, B) .* C", r"\left(A \otimes B\right) \odot C"),
    ("x: R^n; sigmoid(x) + softplus(x) + relu(x)",
     r"\sigma(\mathbf{x}) + \operatorname{softplus}(\mathbf{x}) + \operatorname{relu}(\mathbf{x})"),
    ("x: R^n; sqrt(x) + abs(x) + exp(x) + log(x)",
     r"\sqrt{\mathbf{x}} + \lvert \mathbf{x} \rvert + \exp(\mathbf{x}) + \log(\mathbf{x})"),
    ("x: R^n; ones^T x", r"\mathbf{1}^{\top} \mathbf{x}"),
    ("x_1 + X_train w", r"\mathbf{x}_{1} + X_{\mathrm{train}} \mathbf{w}"),
    ("x_{k+1} - x_k", r"\mathbf{x}_{k+1} - \mathbf{x}_{k}"),
    ("alpha_1 mu", r"\alpha_{1} \mu"),
    ("λ + sigma", r"\lambda + \sigma"),
    ("mu: R^n; Sigma^-1 mu", r"\Sigma^{-1} \boldsymbol{\mu}"),
    ("W1 x", r"W_{1} \mathbf{x}"),
    ("b1: R^n; alpha2: R; W12: R^(n×n); alpha2 W12 b1", r"\alpha_{2} W_{12} \mathbf{b}_{1}"),
    ("tr(A/2) + exp(s/2) + ||x/2||", r"\operatorname{tr}\left(\frac{A}{2}\right) + \exp\left(\frac{s}{2}\right) + "
     r"\left\lVert \frac{\mathbf{x}}{2} \right\rVert"),
    ("tr(A X) + exp(s)", r"\operatorname{tr}(A X) + \exp(s)"),
    ("Ab + C", r"\mathit{Ab} + C"),
    ("ab: R^n; ab", r"\mathbf{ab}"),
])
def test_exact(expr, expected):
    assert tex(expr) == expected


def test_plain_style_drops_bold():
    assert tex("x^T A x", "plain") == r"x^{\top} A x"
    assert tex("mu: R^n; Sigma^-1 mu", "plain") == r"\Sigma^{-1} \mu"
    with pytest.raises(ValueError):
        tex("x", "fancy")


def test_leaves():
    n = ("n", 1)
    assert render_latex(Delta("X", shape=("n", "n"))) == r"\mathrm{d}X"
    assert render_latex(Delta("x", shape=n)) == r"\mathrm{d}\mathbf{x}"
    assert render_latex(Unit("i", shape=n)) == r"\mathbf{e}_{i}"
    assert render_latex(Unit("i", shape=n), "plain") == r"e_{i}"
    assert render_latex(Commutation("m", "n", shape=("m*n", "m*n"))) == r"K_{m,n}"
    assert render_latex(Ones(shape=n)) == r"\mathbf{1}"
    assert render_latex(Ones(shape=(1, "n"))) == r"\mathbf{1}^{\top}"
    assert render_latex(Ones(shape=("m", "n"))) == r"\mathbf{1}\mathbf{1}^{\top}"
    assert render_latex(Transpose(Ones(shape=("m", "n")), shape=("n", "m"))) == r"\left(\mathbf{1}\mathbf{1}^{\top}\right)^{\top}"
    assert render_latex(Num(Fraction(-3, 4), shape=(1, 1))) == r"-\frac{3}{4}"
    assert render_latex(Sym("omicron", shape=(1, 1))) == "o"
    assert render_latex(Sym("x_alpha", shape=n)) == r"\mathbf{x}_{\alpha}"


def test_product_with_denominators():
    x, s, t = Sym("x", shape=("n", 1)), Sym("s", shape=(1, 1)), Sym("t", shape=(1, 1))
    m = Mul((Num(Fraction(-2, 3), shape=(1, 1)), Power(s, Fraction(-1), shape=(1, 1)),
             Power(t, Fraction(-2), shape=(1, 1)), x), shape=("n", 1))
    assert render_latex(m) == r"-\frac{2}{3 s t^{2}}\,\mathbf{x}"


def test_derivatives():
    r = diff("1/N ||X w - y||^2", "w", where="X: R^(N x D)")
    assert render_latex_result(r) == r"\frac{2}{N}\,X^{\top}\,\left(X \mathbf{w} - \mathbf{y}\right)"
    assert render_latex_result(diff("x^T A x", "x")) == r"\left(A + A^{\top}\right)\,\mathbf{x}"
    assert render_latex_result(diff("det(X)", "X")) == r"\det(X)\,X^{-\top}"


def test_result_bindings():
    y = typed("X w").body
    result = SimpleNamespace(bindings=[("y", y)], node=typed("2 X^T (y - t)", where="y: R^n").body)
    assert render_latex_result(result) == r"\mathbf{y} = X \mathbf{w} ,\quad 2 X^{\top}\,\left(\mathbf{y} - \mathbf{t}\right)"
    assert render_latex_result(result, "plain").startswith(r"y = X w ,\quad ")
    assert render_latex_result(SimpleNamespace(bindings=[], node=y)) == r"X \mathbf{w}"


def test_wrap_and_document():
    assert wrap("x", "inline") == "$x$"
    assert wrap("x", "equation") == "\\begin{equation*}\nx\n\\end{equation*}"
    assert wrap("x", "align") == "\\begin{align*}\nx\n\\end{align*}"
    doc = document("x")
    assert doc.startswith("\\documentclass{article}\n\\usepackage{amsmath,amssymb,bm}\n\\begin{document}\n")
    assert "\\begin{equation*}\nx\n\\end{equation*}" in doc and doc.rstrip().endswith("\\end{document}")
    with pytest.raises(ValueError):
        wrap("x", "gather")


def test_every_node_class_has_a_method():
    missing = [c.__name__ for c in NODE_CLASSES
               if not any(hasattr(LatexRenderer, f"_render_{k.__name__}") for k in c.__mro__)]
    assert missing == []


COMPILE = [
    "x^T A x", "A x + b", "1/N ||X w - y||^2", "lambda ||x||^2 + ||X||_F^2", "||x||_1 - ||x||_2",
    "tr(A X B) det(X)", "logdet(X) + tr(X^-1)", "A^-T B^-1", "inv(X^T)^T", "(x^T)^T y",
    "A .* B ./ C", "A ⊙ B ⊗ C", "kron(A, B) .* C", "x.^2 + y.^(1/2)", "s^(-1/2) + t^3",
    "x: R^n; exp(x) + log(x) + sin(x) + cos(x) + tan(x)",
    "x: R^n; sinh(x) + cosh(x) + tanh(x) + sqrt(x) + abs(x)",
    "x: R^n; sigmoid(x) + softplus(x) + relu(x)", "x_1 + X_train w", "x_{k+1} - x_k",
    "alpha_1 mu + beta_2 nu", "mu: R^n; Sigma^-1 (x - mu)", "theta: R^n; theta^T theta",
    "W1 x + W2 y", "ab cd", "-x", "-(A + B) x", "x/2 - y/3", "(1/2) x", "2 * 3 * x",
    "(s + t)^2 x", "diag(x) y + diag(X)", "sum(X) + vec(X)^T vec(Y)", "x: R^n; ones^T x",
    "y = X w; L = ||y - t||^2", "(A B)^-1 C", "A^2 + A^3", "exp(-s^2 / 2)",
    "omega + Omega + Delta + Gamma + epsilon", "X^T X w - X^T y",
]


def test_compiles_with_pdflatex(tmp_path):
    need_pdflatex()
    lines = [tex(e) for e in COMPILE] + [tex(e, "plain") for e in COMPILE[:5]]
    n = ("n", 1)
    lines += [render_latex(Delta("x", shape=n)), render_latex(Unit("i", shape=n)),
              render_latex(Commutation("m", "n", shape=("m*n", "m*n"))),
              render_latex(Transpose(Ones(shape=("m", "n")), shape=("n", "m")))]
    lines += [render_latex_result(diff("1/N ||X w - y||^2", "w", where="X: R^(N x D)")),
              render_latex_result(diff("det(X)", "X")), render_latex_result(diff("tr(X^-1)", "X"))]
    doc = document(" \\\\\n".join(lines), "align")
    extra = f"Inline {wrap(lines[0], 'inline')} and displayed:\n{wrap(lines[2])}\n"
    (tmp_path / "f.tex").write_text(doc.replace("\\end{document}", extra + "\\end{document}"))
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "f.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "f.pdf").exists()


# ---- every combination of --steps, --latex-env and --standalone compiles --------------------------
def need_pdflatex():
    """Skip without pdflatex, with the reason; CI sets MCALC_REQUIRE_PDFLATEX=1 to make it a failure."""
    if shutil.which("pdflatex") is None:
        if os.environ.get("MCALC_REQUIRE_PDFLATEX") == "1":
            pytest.fail("pdflatex is not installed, and MCALC_REQUIRE_PDFLATEX=1 (CI) requires the LaTeX tests")
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base); the LaTeX compile tests "
                    "skip without it")


def pdflatex(tmp_path, name: str, source: str):
    (tmp_path / f"{name}.tex").write_text(source, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, source + "\n----\n" + run.stdout[-3000:]


CLI_CASES = [
    ["diff", "x^T A x", "--wrt", "x"],
    ["diff", "y = X w; L = 1/N ||y - t||^2", "--wrt", "w", "--where", "X: R^(N×D)"],
    ["diff", "det(X) + logdet(X)", "--wrt", "X"],
    ["diff", "A X B", "--wrt", "X"],
    ["hessian", "sum(softplus(X w)) - y^T X w", "--wrt", "w"],
    ["diff", "h = tanh(W1 x + b1); L = ||W2 h + b2 - y||^2", "--wrt", "W1"],
]
ENVS = [None, "inline", "equation", "align"]


@pytest.mark.parametrize("steps", [False, True], ids=["result", "steps"])
@pytest.mark.parametrize("standalone", [False, True], ids=["bare", "standalone"])
@pytest.mark.parametrize("env", ENVS, ids=lambda e: e or "no-env")
def test_every_latex_combination_compiles(tmp_path, steps, standalone, env):
    need_pdflatex()
    from typer.testing import CliRunner

    from mcalc.cli import app
    outputs = []
    for args in CLI_CASES:
        args = args + ["--format", "latex"] + (["--steps"] if steps else []) + \
            (["--latex-env", env] if env else []) + (["--standalone"] if standalone else [])
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, (args, r.stderr)
        outputs.append(r.stdout)
    if standalone:
        for i, doc in enumerate(outputs):
            assert doc.startswith("\\documentclass")
            pdflatex(tmp_path, f"doc{i}", doc)
        return
    body = []
    for out in outputs:
        if env is None and not steps:      # bare math, for \input inside the user's own display
            assert not out.startswith(("$", "\\begin"))
            out = wrap(out.strip(), "equation")
        body.append(out if env != "inline" else f"Inline: {out}\n\n")
    pdflatex(tmp_path, "all", document("x", "inline").replace("$x$", "\n".join(body)))


def test_aligned_rows_go_inside_aligned_in_equation_and_inline():
    rows = "f &= x \\\\\n\\mathrm{d}f &= \\mathrm{d}x"
    assert wrap(rows, "equation") == "\\begin{equation*}\n\\begin{aligned}\n" + rows + "\n\\end{aligned}\n\\end{equation*}"
    assert wrap(rows, "inline").startswith("$\\begin{aligned}")
    assert wrap(rows, "align") == "\\begin{align*}\n" + rows + "\n\\end{align*}"
    matrix = r"\begin{bmatrix} a & b \end{bmatrix}"
    assert wrap(matrix, "equation") == "\\begin{equation*}\n" + matrix + "\n\\end{equation*}"


def test_four_index_results_use_index_notation_in_latex():
    from typer.testing import CliRunner

    from mcalc.cli import app
    r = CliRunner().invoke(app, ["diff", "A X B", "--wrt", "X", "--format", "latex"])
    assert r.stdout.strip() == r"\frac{\partial F_{ij}}{\partial X_{kl}} = A_{ik} B_{lj}"
    flat = CliRunner().invoke(app, ["diff", "A X B", "--wrt", "X", "--format", "latex", "--flatten"])
    assert flat.stdout.strip() == r"B^{\top} \otimes A"
    assert diff("A X B", "X").latex == r.stdout.strip()


def test_lhs_names_the_function_and_variable():
    from typer.testing import CliRunner

    from mcalc.cli import app
    run = lambda *a: CliRunner().invoke(app, list(a)).stdout  # noqa: E731
    least = ["diff", "y = X w; L = ||y - t||^2", "--wrt", "w", "--format", "latex"]
    assert run(*least, "--lhs").startswith(r"\frac{\partial L}{\partial \mathbf{w}} = 2 X^{\top}")
    assert not run(*least).startswith(r"\frac")
    assert r"\frac{\partial L}{\partial \mathbf{w}} =" in run(*least, "--standalone")
    assert r"\frac{\partial L}" not in run(*least, "--standalone", "--no-lhs")
    assert run("hessian", "x^T A x", "--wrt", "x", "--format", "latex", "--lhs").startswith(
        r"\frac{\partial^{2} f}{\partial \mathbf{x} \, \partial \mathbf{x}^{\top}} = ")


def test_steps_name_the_function_keep_bold_vectors_and_align_on_equals():
    from typer.testing import CliRunner

    from mcalc.cli import app
    for args in (["diff", "y = X w; L = ||y - t||^2", "--wrt", "w"], ["diff", "L = x^T A x", "--wrt", "x"]):
        out = CliRunner().invoke(app, args + ["--steps", "--format", "latex"]).stdout
        rows = out.strip().splitlines()[1:-1]
        assert all(" &= " in row for row in rows), rows
        assert r"\frac{\partial L}{\partial \mathbf{w}}" in out or r"\frac{\partial L}{\partial \mathbf{x}}" in out
        assert r"\partial f" not in out and r"\mathrm{d}f" not in out
        assert r"\mathrm{d}\mathbf{x}" in out or r"\mathbf{w}^{\top}" in out
    text = CliRunner().invoke(app, ["diff", "L = x^T A x", "--wrt", "x", "--steps", "--format", "text"]).stdout
    assert text.startswith("function: L = x^T A x") and "differential: dL = " in text


def test_without_pdflatex_the_compile_tests_skip_unless_ci_requires_them(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("MCALC_REQUIRE_PDFLATEX", raising=False)
    with pytest.raises(pytest.skip.Exception, match="pdflatex is not installed"):
        need_pdflatex()
    monkeypatch.setenv("MCALC_REQUIRE_PDFLATEX", "1")
    with pytest.raises(pytest.fail.Exception, match="MCALC_REQUIRE_PDFLATEX"):
        need_pdflatex()
    from pathlib import Path
    assert "export MCALC_REQUIRE_PDFLATEX=1" in (Path(__file__).parent.parent / ".ci" / "run").read_text()
