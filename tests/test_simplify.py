"""The simplifier's rewrite rules, each alone (tests/fixtures/simplify.txt): the named rule
fires on its input, the output is exact, input and output are equal on random data, every
registered rule has a block, and term order does not depend on the text renderer."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mcalc.api as api
from mcalc import rewrite
from mcalc.rewrite import all_rules, recording
from mcalc.render.text import render_result_text
from mcalc.nodes import walk
from mcalc.simplify import factor, present, simplify

from oracle import as_env, dim_names, domains, draw_sizes, draw_value, evaluate_program

FIXTURE = Path(__file__).parent / "fixtures" / "simplify.txt"
KEYS = ("rule", "where", "input", "output")


def load_blocks() -> list[dict]:
    blocks, block = [], {}
    for lineno, raw in enumerate(FIXTURE.read_text(encoding="utf-8").splitlines() + [""], 1):
        line = raw.strip()
        if not line:
            if block:
                missing = [k for k in ("rule", "input", "output") if k not in block]
                if missing:
                    raise ValueError(f"simplify.txt:{block['line']}: block without {missing}")
                blocks.append(block)
            block = {}
            continue
        if line.startswith("#"):
            continue
        k, sep, v = line.partition(":")
        if not sep or k.strip() not in KEYS:
            raise ValueError(f"simplify.txt:{lineno}: expected one of {KEYS}, got {raw!r}")
        block.setdefault("line", lineno)
        block[k.strip()] = v.strip()
    return blocks


BLOCKS = load_blocks()


def run(block):
    t = api.typed(block["input"], block.get("where") or None)
    with recording() as fired:
        out = present(factor(simplify(t.body)))
    return t, out, [name for name, _, _ in fired]


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b['rule']}-L{b['line']}" for b in BLOCKS])
def test_rule_block(block):
    t, out, fired = run(block)
    assert block["rule"] in fired, f"{block['rule']} did not fire on {block['input']!r}; fired: {fired}"
    assert render_result_text(out) == block["output"]
    rng = np.random.default_rng(len(block["input"]))
    shapes = [info.shape for info in t.symbols.values()] + [m.shape for m in walk(t.body)] + [m.shape for m in walk(out)]
    sizes = draw_sizes(dim_names(shapes), rng)
    dom = domains(t)
    data = {name: draw_value(info, sizes, dom, rng) for name, info in t.symbols.items() if info.kind == "symbol"}
    before = evaluate_program((), t.body, data, sizes)
    after = evaluate_program((), out, data, sizes)
    assert np.allclose(np.broadcast_to(after, before.shape), before, rtol=1e-9, atol=1e-12), \
        f"{block['input']} = {block['output']} fails numerically"


def test_every_rule_has_a_block():
    named = {b["rule"] for b in BLOCKS}
    registered = {r.name for r in all_rules()}
    assert registered - named == set(), f"rules without a block in simplify.txt: {sorted(registered - named)}"
    assert named - registered == set(), f"blocks naming no rule: {sorted(named - registered)}"


def test_every_rule_states_its_identity():
    for r in all_rules():
        assert "=" in r.identity, f"{r.name}: the docstring should state the identity"


def test_term_order_does_not_read_the_text_renderer(monkeypatch):
    """A change of spelling in the text renderer must not reorder results."""
    from mcalc.render import text
    from mcalc import simplify as S
    expr, where = "x^T A x + b^T x + sum(exp(B x))", "x: R^n; A: R^(n×n); B: R^(n×n); b: R^n"
    before = api.diff(expr, "x", where=where).text
    monkeypatch.setattr(text.TextRenderer, "_render_Sym", lambda self, n: n.name[::-1] + "zz")
    monkeypatch.setattr(text.TextRenderer, "_render_Transpose", lambda self, n: "T(" + self.render(n.arg) + ")")
    S.key.memo.clear()
    tree = api.diff(expr, "x", where=where)
    monkeypatch.undo()
    assert text.render_result_text(tree.node) == before


def test_recording_nests_and_names_rules():
    t = api.typed("sinh(x) ./ cosh(x) + 0", "x: R^n")
    with recording() as outer:
        with recording() as inner:
            simplify(t.body)
    assert inner and [f[0] for f in inner] == [f[0] for f in outer]


def test_timing_counts_each_rule_and_changes_nothing():
    """rewrite.timing (for bench/throughput.py) sees the rules recording() sees, counts their
    calls and firings, and leaves the results and the rule tables as they were."""
    formula = "sum(sinh(x) ./ cosh(x)) + ||A x - b||^2 + 0"
    before = api.diff(formula, "x").text
    tables = {p: {c: list(rules) for c, rules in t.items()} for p, t in rewrite.RULES.items()}
    rewrite._MEMO["simplify"].clear()
    with recording() as fired, rewrite.timing() as times:
        during = api.diff(formula, "x").text
    assert during == before == api.diff(formula, "x").text
    assert {name for name, _, _ in fired} <= {k for k, v in times.items() if v[1]}
    assert all(calls >= firings >= 0 and not_fired >= 0 and t_fired >= 0
               for calls, firings, not_fired, t_fired in times.values())
    assert sum(v[1] for v in times.values()) >= len(fired) > 0
    assert any(v[0] > v[1] for v in times.values())       # rules that looked and did not fire
    assert {p: {c: list(rules) for c, rules in t.items()} for p, t in rewrite.RULES.items()} == tables


def test_tidys_expanded_try_stops_when_it_outgrows_the_form():
    """tidy tries small results fully expanded and keeps the shorter; the try is given up once
    a part of it is EXPAND_GROWTH times the form's size. A product of sums of Hadamard factors
    grows exponentially when expanded; a difference that cancels still expands and wins."""
    from mcalc import simplify as S
    t = api.typed("(a1 + b1) .* (a2 + b2) .* (a3 + b3) .* (a4 + b4) .* (a5 + b5)")
    a = factor(simplify(t.body))
    with pytest.raises(S.ExpansionTooLarge):
        S.expand(a, limit=S.EXPAND_GROWTH * S.size(a))
    assert S.size(S.expand(a)) > 10 * S.size(a)             # unbounded: 32 products of 5
    assert S.tidy(t.body) == present(a)
    # where the expansion cancels it stays within the limit and wins: σ∘(1-y) - y∘(1-σ) = σ - y
    t = api.typed("sigmoid(z) .* (ones - y) - y .* (ones - sigmoid(z))")
    a = factor(simplify(t.body))
    assert S.size(S.expand(a, limit=S.EXPAND_GROWTH * S.size(a))) < S.size(a)
    assert render_result_text(S.tidy(t.body)) == "sigmoid(z) - y"


def test_sinh_over_cosh_derivative_is_tanh():
    assert api.diff("sum(sinh(x) ./ cosh(x))", "x").text == "ones - tanh(x).^2"
