"""The README's examples are true: every `$ mcalc …` line of its console blocks is run in a
shell, and what it prints is what the README shows (notes on standard error aside, unless
the README shows them)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mcalc

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent


def console_examples() -> list[tuple[str, list[str]]]:
    out = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, *expected = chunk.rstrip("\n").split("\n")
            out.append((command, expected))
    return out


EXAMPLES = console_examples()


def test_the_readme_has_console_examples():
    assert len(EXAMPLES) >= 20


@pytest.mark.parametrize("command, expected", EXAMPLES, ids=[c[:60] for c, _ in EXAMPLES])
def test_readme_example(command, expected, tmp_path):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NO_COLOR": "1"}
    env.pop("MCALC_DEBUG", None)
    if "pdflatex" in command and shutil.which("pdflatex") is None:
        if os.environ.get("MCALC_REQUIRE_PDFLATEX") == "1":
            pytest.fail("pdflatex is not installed, and MCALC_REQUIRE_PDFLATEX=1 (CI) requires it")
        pytest.skip("pdflatex is not installed (apt-get install texlive-latex-base)")
    r = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    if "pdflatex" in command:                  # its log is not in the README; the PDF is the point
        assert r.returncode == 0, r.stdout[-2000:]
        assert (tmp_path / "det.pdf").exists()
        return
    shows_notes = any(line.startswith("note:") for line in expected)
    err = [ln for ln in r.stderr.splitlines() if shows_notes or not ln.startswith("note:")]
    got = r.stdout.splitlines() + err
    sci = re.compile(r"\d\.\de-\d\d")       # a finite-difference error's last digits may differ by machine
    got, expected = [sci.sub("…", g) for g in got], [sci.sub("…", e) for e in expected]
    assert got == expected, f"$ {command}\n--- README\n" + "\n".join(expected) + "\n--- got\n" + "\n".join(got)
    for name in re.findall(r"> (\S+\.tex)", command):
        assert (tmp_path / name).read_text(encoding="utf-8").strip()


def test_readme_python_api_example():
    r = mcalc.diff("x^T A x", "x", where="A: R^(n×n)", layout="mixed")
    assert r.text == "(A + A^T) x" and r.shape == ("n", 1)
    assert r.latex and "def derivative(" in r.numpy
    assert mcalc.check("x^T A x", "x", "2 A x").ok is False
    assert mcalc.shape("A x + b").shape == ("m", 1)
