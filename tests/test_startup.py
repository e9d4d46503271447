"""Start-up stays light (issue 18): a one-liner imports neither NumPy nor SymPy, and nothing
from Rich when the output is not a terminal. Run in a fresh interpreter, read sys.modules."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import mcalc.parse  # noqa: F401  (generates the parser module into the cache, if it is not there yet)

PROBE = """
import io, json, sys
args = json.loads(sys.argv[1])
import mcalc.cli
out, sys.stdout = sys.stdout, io.StringIO()
code = mcalc.cli.run_argv(args)
text, sys.stdout = sys.stdout.getvalue(), out
print(json.dumps({"code": code, "out": text, "modules": sorted(sys.modules)}))
"""


def modules_after(args: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLUMNS", "FORCE_COLOR"))}
    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def heavy(modules: list[str], tops=("numpy", "sympy", "mpmath", "rich")) -> list[str]:
    return [m for m in modules if m.split(".")[0] in tops]


@pytest.mark.parametrize("args, out", [
    (["diff", "x^T A x", "--wrt", "x", "--format", "text"], "(A + A^T) x\n"),
    (["diff", "y = A x; sum(exp(y))", "--wrt", "x", "--format", "text"], "A^T exp(A x)\n"),
    (["diff", "tr(A X B X)", "--wrt", "X", "--layout", "numerator", "--format", "text"], None),
    (["hessian", "x^T A x", "--wrt", "x", "--format", "text"], None),
])
def test_the_one_liner_imports_neither_numpy_nor_sympy_nor_rich(args, out):
    r = modules_after(args)
    assert r["code"] == 0
    if out is not None:
        assert r["out"] == out
    assert "mcalc.deriv.engine" in r["modules"], "the probe did not run the command"
    assert not heavy(r["modules"]), heavy(r["modules"])[:10]
    # the parser is lark's generated standalone module (made when mcalc.parse was first imported,
    # in this process, if the cache did not have it): lark's grammar machinery stays unloaded
    assert not heavy(r["modules"], ("lark",)), heavy(r["modules"], ("lark",))[:10]


def test_the_probe_sees_numpy_when_a_command_needs_it():
    """The check above can fail: --verify needs NumPy, and the probe sees it arrive."""
    r = modules_after(["diff", "x^T A x", "--wrt", "x", "--verify", "--format", "text"])
    assert r["code"] == 0
    assert "numpy" in r["modules"]
    assert not heavy(r["modules"], ("sympy", "mpmath", "rich"))


# ---- the import graph ----------------------------------------------------------------------
def import_graph() -> dict[str, set[str]]:
    """mcalc module → the mcalc modules it imports, anywhere in the file (inside functions too)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = {".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (root / "mcalc").rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(n, ast.Import):
                targets = [a.name for a in n.names]
            elif isinstance(n, ast.ImportFrom):
                base = ".".join(package[:len(package) - n.level + 1] + ([n.module] if n.module else [])) \
                    if n.level else (n.module or "")
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in n.names]
            else:
                continue
            graph[mod].update(t for t in targets if t in files and t != mod)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                found.append(path[path.index(t):] + [t])
            elif t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    return found


def test_no_import_cycles_among_mcalc_modules():
    graph = import_graph()
    assert {"mcalc.nodes", "mcalc.program"} <= graph["mcalc.shapes"]      # the graph was read
    assert "mcalc.steps" in graph["mcalc.result"]                         # imports inside functions count
    assert not cycles(graph), [" → ".join(c) for c in cycles(graph)]


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


# ---- check: the pipeline once per side ------------------------------------------------------
COUNT = """
import collections, io, json, sys
import mcalc.cli, mcalc.parse as P, mcalc.shapes as S, mcalc.deriv.derive as D
counts = collections.Counter()
def counted(mod, name):
    f = getattr(mod, name)
    def run(*a, **k):
        counts[name] += 1
        return f(*a, **k)
    setattr(mod, name, run)
counted(P, "build"); counted(S, "infer"); counted(D, "derive")
out, sys.stdout = sys.stdout, io.StringIO()
code = mcalc.cli.run_argv(json.loads(sys.argv[1]))
text, sys.stdout = sys.stdout.getvalue(), out
print(json.dumps({"code": code, "out": text, "counts": counts, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize("claim, code", [("(A + A^T) x", 0), ("2 A x", 1)])
def test_check_parses_types_and_derives_once_per_side(claim, code):
    """`check` parses and types the formula and the claim once each and derives once (a wrong
    claim also tries the other layouts, as its message says); it loads no SymPy and no Rich."""
    p = subprocess.run([sys.executable, "-c", COUNT, json.dumps(["check", "x^T A x", "--wrt", "x", "--claim", claim])],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads(p.stdout.strip().splitlines()[-1])
    assert r["code"] == code, r["out"]
    expected_derives = 1 if code == 0 else 3
    assert r["counts"] == {"build": 2, "infer": 2, "derive": expected_derives}, r["counts"]
    assert not heavy(r["modules"], ("sympy", "mpmath", "rich")), heavy(r["modules"], ("sympy", "mpmath", "rich"))[:10]
