"""Every LaTeX output of the fixtures compiles: each formula of tests/fixtures/formulas.txt,
and each derivative fixture's result in all three layouts with its steps, in one document."""
import os
import shutil
import subprocess

import pytest

import mcalc.api as api
from mcalc.render.latex import document
from mcalc.steps import steps_latex
from derivative_cases import LAYOUTS, cached_diff, load_cases
from test_parse import load_formulas

needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None and not os.environ.get("MCALC_REQUIRE_PDFLATEX") == "1",
                                    reason="pdflatex is not installed (apt-get install texlive-latex-base); CI requires it")


def compile_align(tmp_path, lines: list[str], name: str):
    assert shutil.which("pdflatex"), "pdflatex is required (MCALC_REQUIRE_PDFLATEX=1)"
    body = " \\\\\n".join(line if "&" in line else "&" + line for line in lines)
    tex = tmp_path / f"{name}.tex"
    tex.write_text(document(body, "align").replace("\\begin{align*}", "\\allowdisplaybreaks\n\\begin{align*}"))
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp_path,
                         capture_output=True, timeout=300)
    assert run.returncode == 0, run.stdout.decode(errors="replace")[-3000:]


@needs_pdflatex
def test_every_formula_fixture_compiles(tmp_path):
    lines = [api.latex(f) for f in load_formulas()]
    assert len(lines) > 200
    compile_align(tmp_path, lines, "formulas")


@needs_pdflatex
def test_every_derivative_result_and_derivation_compiles(tmp_path):
    lines = []
    for case in load_cases():
        for layout in LAYOUTS:
            r = cached_diff(case, layout)
            if isinstance(r, str):      # the derivative tests report refusals
                continue
            lines.append(r.latex)
            if layout == "mixed":
                lines.append(steps_latex(r.steps))
    assert len(lines) > 600
    compile_align(tmp_path, lines, "derivatives")
