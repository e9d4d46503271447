"""Start-up stays light (issue 18): a one-liner imports neither NumPy nor SymPy, and nothing
from Rich when the output is not a terminal. Run in a fresh interpreter, read sys.modules."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import mcalc.parse  # noqa: F401  (generates the parser module into the cache, if it is not there yet)
from mcalc import cli, main

main.save_table(main.table_path(), cli.table())   # what the first command line would write to the cache

PROBE = """
import io, json, sys
args = json.loads(sys.argv[1])
import mcalc.main
out, sys.stdout = sys.stdout, io.StringIO()
code = mcalc.main.run_argv(args)
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
    # main.read runs it: click and typer (about a third of a one-liner) stay unloaded
    assert not heavy(r["modules"], ("click", "typer")), heavy(r["modules"], ("click", "typer"))[:10]
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
import mcalc.main, mcalc.parse as P, mcalc.shapes as S, mcalc.deriv.derive as D
counts = collections.Counter()
def counted(mod, name):
    f = getattr(mod, name)
    def run(*a, **k):
        counts[name] += 1
        return f(*a, **k)
    setattr(mod, name, run)
counted(P, "build"); counted(S, "infer"); counted(D, "derive")
out, sys.stdout = sys.stdout, io.StringIO()
code = mcalc.main.run_argv(json.loads(sys.argv[1]))
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


# ---- imports inside functions ------------------------------------------------------------
# An import inside a function is allowed only for these modules, and only where it keeps the
# module off the start-up path of some command that does not need it (checked below by
# running the commands). Everything else is imported at the top of its module.
LAZY_THIRD_PARTY = {"numpy", "sympy", "mpmath", "rich", "lark"}          # lark: the standalone parser replaces it
LAZY = {
    # the engine, and the modules above it (a command that does not differentiate never loads them)
    "mcalc.deriv", "mcalc.deriv.derive", "mcalc.deriv.engine", "mcalc.deriv.rules", "mcalc.deriv.index",
    "mcalc.simplify", "mcalc.api", "mcalc.steps", "mcalc.claims", "mcalc.verify", "mcalc.evaluate",
    # the formats other than text (docs/architecture.md, Start-up), each loaded by the format that uses it
    "mcalc.render.latex", "mcalc.render.json", "mcalc.render.unicode", "mcalc.render.numpy", "mcalc.render.rich",
    "mcalc.render.to_sympy",
    # typer and click, and the declarations for them: only for what main.read leaves to typer
    "mcalc.cli",
    # the modules of one command: --help loads none of them
    "mcalc.commands", "mcalc.catalog", "mcalc.rules_sheet", "mcalc.report", "mcalc.shapes", "mcalc.metric",
    # the standard library one command needs: homework files, JUnit XML, HTML, an internal error's trace, the
    # parser's cache key and compilation
    "tomllib", "xml.sax.saxutils", "html", "traceback", "hashlib", "py_compile",
}
COMMANDS = [["--help"], ["functions"], ["rules", "--format", "text"],
            ["diff", "x^T A x", "--wrt", "x", "--format", "text"], ["diff", "x^T A x", "--wrt", "x", "--format", "json"],
            ["diff", "x^T A x", "--wrt", "x", "--format", "rich"], ["diff", "x^T A x", "--wrt", "x", "--steps", "--format", "text"],
            ["shape", "A x", "--format", "text"], ["latex", "x^T A x"],
            ["check", "x^T A x", "--wrt", "x", "--claim", "(A + A^T) x", "--format", "text"],
            ["api"], ["api", "diff", "x^T A x", "x"]]
LOADED_PROBE = """
import io, json, sys
args = json.loads(sys.argv[1])
out, sys.stdout = sys.stdout, io.StringIO()
if args[:1] == ["api"]:
    import mcalc
    if len(args) > 1:
        str(getattr(mcalc, args[1])(*args[2:]))
else:
    import mcalc.main
    try:
        mcalc.main.run_argv(args)
    except SystemExit:
        pass
sys.stdout = out
print(json.dumps(sorted(sys.modules)))
"""


def inner_imports() -> list[tuple[str, int, str]]:
    """(module, line, imported module) for every import inside a function of mcalc/."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = {".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (root / "mcalc").rglob("*.py")}
    out = []

    def visit(node, mod, package, inside):
        for ch in ast.iter_child_nodes(node):
            if isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(ch, mod, package, True)
            elif inside and isinstance(ch, ast.Import):
                out.extend((mod, ch.lineno, a.name) for a in ch.names)
            elif inside and isinstance(ch, ast.ImportFrom):
                base = ".".join(package[:len(package) - ch.level + 1] + ([ch.module] if ch.module else [])) \
                    if ch.level else ch.module
                out.extend((mod, ch.lineno, f"{base}.{a.name}" if f"{base}.{a.name}" in files else base)
                           for a in ch.names)
            else:
                visit(ch, mod, package, inside)

    for mod, path in sorted(files.items()):
        package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
        visit(ast.parse(path.read_text(encoding="utf-8")), mod, package, False)
    return out


def lazy_allowed(target: str) -> bool:
    return target in LAZY or target.split(".")[0] in LAZY_THIRD_PARTY


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLUMNS", "FORCE_COLOR"))}
    out = {}
    for args in COMMANDS:
        p = subprocess.run([sys.executable, "-c", LOADED_PROBE, json.dumps(args)], capture_output=True, text=True,
                           env=env, timeout=120)
        assert p.returncode == 0, p.stderr[-2000:]
        out[" ".join(args)] = set(json.loads(p.stdout.strip().splitlines()[-1]))
    return out


def test_imports_inside_functions_are_only_of_heavy_modules():
    found = inner_imports()
    assert ("mcalc.commands", "mcalc.verify") in {(m, t) for m, _, t in found}, "the walk did not see commands' verify import"
    wrong = [f"{m}:{line} imports {t}" for m, line, t in found if not lazy_allowed(t)]
    assert not wrong, "import these at the top of the module (cheap, no cycle): " + "; ".join(wrong)


def test_each_import_inside_a_function_keeps_its_module_off_some_start_up_path(loaded):
    """A lazy import pays only where some command loads the importing module and not the
    imported one; where every command that loads the one loads the other, it goes at the top."""
    assert "numpy" not in loaded["--help"] and "numpy" in loaded["check x^T A x --wrt x --claim (A + A^T) x --format text"]
    idle = [f"{m}:{line} imports {t}" for m, line, t in inner_imports()
            if not any(m in mods and t not in mods for mods in loaded.values())]
    assert not idle, "these lazy imports keep nothing off any command's path; import at the top: " + "; ".join(idle)


def test_the_lazy_set_holds_only_modules_some_command_does_without(loaded):
    spare = [m for m in LAZY if all(m in mods for mods in loaded.values())]
    assert not spare, spare


def test_the_inner_import_check_can_fail():
    assert not lazy_allowed("mcalc.nodes") and not lazy_allowed("functools") and lazy_allowed("numpy.linalg")
