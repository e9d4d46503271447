"""The parser runtime (issue 18): lark's standalone LALR module, generated per grammar text into
the cache and imported without lark; lark itself when the cache cannot be written, with the same
messages and carets."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mcalc import lalr, parse

BAD = ["x +", "(x", "x )", "A x ,", "x^", "tr(", "x: R^", "||x", "[x", "x .*", "x = ; x", "2..5", "1e-3e4",
       "x: R^(n", "y = x; z =", "x^T A @", "x ./", "|x", "x ≤ y", "sum(x", "x: R^3x3; x", "x: R^n; "]

MESSAGES = """
import json, sys
from mcalc import parse
from mcalc.errors import McalcError
out = {"runtime": type(parse.LALR).__name__, "messages": {}}
for text in json.loads(sys.argv[1]):
    try:
        parse.parse_program(text)
        out["messages"][text] = None
    except McalcError as e:
        out["messages"][text] = [e.lines(), e.span.start if e.span else None, e.span.end if e.span else None]
print(json.dumps(out))
"""


def messages(home: str) -> dict:
    env = dict(os.environ, HOME=home)
    p = subprocess.run([sys.executable, "-c", MESSAGES, json.dumps(BAD)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_the_parser_is_the_generated_module():
    assert parse.LALR.__name__.startswith("mcalc_lalr_")
    assert Path(parse.LALR.__file__).parent == Path(lalr.cache_dir())


def test_lark_itself_gives_the_same_messages_and_carets(tmp_path):
    """HOME is a file, so the cache cannot be made: lark builds the parser in memory."""
    home = tmp_path / "not-a-folder"
    home.write_text("")
    fallback = messages(str(home))
    generated = messages(str(tmp_path / "home"))
    assert fallback["runtime"] == "SimpleNamespace" and generated["runtime"] == "module"
    assert fallback["messages"] == generated["messages"]
    assert all(m is not None for m in generated["messages"].values())


def test_a_new_grammar_text_gets_its_own_module_with_byte_code(tmp_path, monkeypatch):
    """A changed grammar (say a new record's name in FUNC) is never read with old tables; the
    byte code is written even under PYTHONDONTWRITEBYTECODE, which this suite runs with."""
    monkeypatch.setenv("HOME", str(tmp_path))
    text = parse.grammar_text() + "\n// changed\n"
    rt = lalr.runtime(text, parse.NormBars.always_accept)
    try:
        assert rt is not parse.LALR and rt.__name__ != parse.LALR.__name__
        assert Path(rt.__file__).parent == tmp_path / ".cache" / "mcalc"
        assert list((tmp_path / ".cache" / "mcalc" / "__pycache__").glob(rt.__name__ + ".*.pyc"))
        tree = rt.Lark_StandAlone(postlex=parse.NormBars()).parse("||x||^2", start="start")
        assert isinstance(tree, rt.Tree)            # '||' lexed: the postlexer's BAR was kept
        assert lalr.runtime(text, parse.NormBars.always_accept) is rt          # the same text: the same module
    finally:
        sys.modules.pop(rt.__name__, None)


def test_a_damaged_module_is_made_again(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    text = parse.grammar_text() + "\n// damaged\n"
    name = "mcalc_lalr_" + lalr.key(text, tuple(sorted(parse.NormBars.always_accept)))
    folder = tmp_path / ".cache" / "mcalc"
    folder.mkdir(parents=True)
    (folder / f"{name}.py").write_text("DATA = (\n", encoding="utf-8")       # cut off mid-write
    try:
        rt = lalr.runtime(text, parse.NormBars.always_accept)
        assert rt.__name__ == name and callable(rt.Lark_StandAlone)
    finally:
        sys.modules.pop(name, None)


def test_the_generated_module_leaves_logging_out_only_when_it_knows_the_lines():
    """lark's logger in the module is set to CRITICAL, at which lark logs nothing; the module
    gets a logger that does nothing instead of importing logging. Source it does not know
    (another lark version) is left as it is."""
    source = Path(parse.LALR.__file__).read_text(encoding="utf-8")
    assert "import logging" not in source and "logging." not in source
    parse.LALR.logger.warning("not printed %s", "at all")
    parse.LALR.logger.exception("nor this")
    other = "import logging\nlogger = logging.getLogger('lark')\n"
    assert lalr.quiet_logger(other) == other


def test_a_new_lark_makes_a_new_module(monkeypatch):
    import lark
    assert lalr.lark_version() == lark.__version__
    text, keep = parse.grammar_text(), tuple(sorted(parse.NormBars.always_accept))
    now = lalr.key(text, keep)
    monkeypatch.setattr(lalr, "lark_version", lambda: "9.9.9")
    assert lalr.key(text, keep) != now


def test_removed_byte_code_is_written_again(tmp_path, monkeypatch):
    """Under PYTHONDONTWRITEBYTECODE (as this suite runs) the import would otherwise compile
    the 200 kB module on every start."""
    monkeypatch.setenv("HOME", str(tmp_path))
    text = parse.grammar_text() + "\n// byte code\n"
    rt = lalr.runtime(text, parse.NormBars.always_accept)
    name = rt.__name__
    sys.modules.pop(name, None)
    cache = tmp_path / ".cache" / "mcalc" / "__pycache__"
    for pyc in cache.glob(name + ".*.pyc"):
        pyc.unlink()
    try:
        assert lalr.runtime(text, parse.NormBars.always_accept).__name__ == name
        assert list(cache.glob(name + ".*.pyc"))
    finally:
        sys.modules.pop(name, None)


# ---- the lexers' regular expressions, one per terminal (lalr.share_scanners) ----------------------
def trees(texts, union_after, monkeypatch):
    """Each text parsed by a fresh parser whose scanners build lark's union after union_after
    tokens: the tree (its tokens' types and values) or the error, with where it is."""
    monkeypatch.setattr(lalr, "UNION_AFTER", union_after)
    p = parse.parser()
    out = []
    for text in texts:
        try:
            out.append(("tree", repr(p.parse(text, start="start"))))
        except Exception as e:  # noqa: BLE001 - the error itself is compared
            out.append(("error", type(e).__name__, getattr(e, "pos_in_stream", None), str(e)[:300]))
    return out


def test_terminals_one_at_a_time_read_what_lark_s_union_reads(monkeypatch):
    import random

    import strategies
    rng = random.Random(18)
    texts = [strategies.random_formula(rng).text for _ in range(400)]
    texts += [t for t in (strategies.random_fuzz_text(rng) for _ in range(1500)) if len(t) < 2000]
    texts += BAD + ["x^T A x", "A ⊗ B", "‖x‖_2", "x: ℝ^n; xᵀ x", "𝟏^T x", "T: R^(n×n); T^T T", "R R^T",
                    "log(x) - ln(x)", "K_(m*n,p) vec(X)", "|A||B|", "x'(t)", "\\nabla f"]
    assert parse.parser().parse("x", start="start")          # the module is the shared-scanner one
    assert getattr(parse.LALR.Scanner, "shared", False)
    one_at_a_time = trees(texts, 10**9, monkeypatch)
    union = trees(texts, 0, monkeypatch)
    assert one_at_a_time == union
    assert sum(t[0] == "tree" for t in union) > 300 and sum(t[0] == "error" for t in union) > 100


def test_a_long_batch_switches_to_lark_s_union(monkeypatch):
    monkeypatch.setattr(lalr, "UNION_AFTER", 5)
    p = parse.parser()
    p.parse("x^T A x + b^T x + c", start="start")
    contextual = p.parser.lexer.lexer          # inside the postlexer's connector
    scanners = {id(lx._scanner): lx._scanner for lx in contextual.lexers.values() if lx._scanner is not None}
    assert any(s._mres is not None for s in scanners.values())
