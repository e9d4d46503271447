"""Every elementwise function's name lives in its record (mcalc/ops.py) and, where it has
rewrite rules, in mcalc/simplify.py: in no other file under mcalc/ or grammar/ (issue 13,
"Done when"). Adding or renaming an elementwise function is then one record (and its rules).

The names checked: for every elementwise record, its name, its other spellings, and the
LaTeX commands its record says read as it (`latex_in`, e.g. sgn); aliases are records of
their own (ln, asin), so they are checked too.

What counts as an occurrence — strict: the name as a whole word (not inside a longer
identifier-like word: `logdet`, `log_softmax`, `steps` do not count) in
- any string literal of a .py file: messages, format strings, the text parts of f-strings,
  and docstrings;
- any comment of a .py file;
- anywhere in grammar/mcalc.lark.
Python identifiers do not count: they are Python's names, never read or printed by mcalc
(the builtin `abs`, a power node's field `exp`, `np.sqrt` in the random-data sampler).
Two names are also English words, `step` and `sign` ("step by step", "the sign of the
data"); for these only the function's own forms count: followed by a bracket (`step(`, not "step (1e-6)"),
after a backslash (`\\sign`) or as a whole string (`"step"`).
Code that needs a function refers to its record (`ops.ABS`, a record's field), and prose
in another file names the function in words ("the logarithm"), not by its spelling.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from mcalc import ops

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {"mcalc/ops.py", "mcalc/simplify.py"}      # the records, and the rewrite rules


def names_of(op: ops.Op) -> set[str]:
    return set(op.names) | {c.lstrip("\\") for c in op.latex_in if re.fullmatch(r"\\?[A-Za-z]+", c)}


ELEMENTWISE = sorted({name for op in ops.RECORDS if op.elementwise for name in names_of(op)})


def texts(source: str, suffix: str) -> list[str]:
    """The strings and comments of a Python source (strict: docstrings too), or a grammar's lines."""
    if suffix != ".py":
        return source.splitlines()
    out = [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    out += [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT]
    return out


ENGLISH = {"step", "sign"}


def word(name: str) -> re.Pattern:
    if name in ENGLISH:
        return re.compile(rf"^{re.escape(name)}$|\\{re.escape(name)}(?![A-Za-z0-9_])|(?<![A-Za-z0-9_]){re.escape(name)}\(")
    return re.compile(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])")


def files_naming(names: list[str], files: dict[str, list[str]]) -> dict[str, list[str]]:
    """name → the files whose strings or comments contain it as a whole word."""
    pats = {n: word(n) for n in names}
    return {n: sorted(f for f, parts in files.items() if any(p.search(s) for s in parts)) for n, p in pats.items()}


@pytest.fixture(scope="module")
def sources() -> dict[str, list[str]]:
    paths = sorted((ROOT / "mcalc").rglob("*.py")) + sorted((ROOT / "grammar").glob("*.lark"))
    return {p.relative_to(ROOT).as_posix(): texts(p.read_text(encoding="utf-8"), p.suffix) for p in paths}


def test_the_scan_reads_the_tree(sources):
    assert "mcalc/ops.py" in sources and "grammar/mcalc.lark" in sources and "mcalc/render/latex.py" in sources
    assert len(ELEMENTWISE) >= 20 and {"exp", "log", "ln", "sigmoid", "relu", "abs", "sqrt"} <= set(ELEMENTWISE)
    found = files_naming(ELEMENTWISE, sources)
    missing = [n for n in ELEMENTWISE if "mcalc/ops.py" not in found[n]]
    assert not missing, f"the records' own file does not name {missing}: the scan is broken"


def test_the_scan_finds_a_name_in_strings_comments_and_docstrings():
    """The check below can fail: a name in a docstring, a comment, an f-string's text or a
    message is found; inside a longer word or as a Python identifier it is not."""
    src = ('"""uses log(x)"""\nx = 1  # see sqrt\ny = f"{a} sigmoid({b})"\nz = "abs"\n'
           'w = logdet + log_softmax + "steps" + "step by step (twice)"\nv = abs(exp)\nu = "sign(x)"\n')
    names = ["log", "sqrt", "sigmoid", "abs", "exp", "step", "sign"]
    found = files_naming(names, {"f.py": texts(src, ".py")})
    assert found == {"log": ["f.py"], "sqrt": ["f.py"], "sigmoid": ["f.py"], "abs": ["f.py"], "exp": [], "step": [],
                     "sign": ["f.py"]}
    assert files_naming(["step"], {"g.py": texts('k = "step"\n', ".py")}) == {"step": ["g.py"]}


def test_each_elementwise_name_is_in_its_record_and_rules_only(sources):
    found = files_naming(ELEMENTWISE, sources)
    elsewhere = {n: [f for f in fs if f not in ALLOWED] for n, fs in found.items()}
    elsewhere = {n: fs for n, fs in elsewhere.items() if fs}
    assert not elsewhere, "elementwise names outside ops.py and simplify.py: " + "; ".join(
        f"{n}: {', '.join(fs)}" for n, fs in sorted(elsewhere.items()))
