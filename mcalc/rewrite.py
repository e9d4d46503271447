"""Named rewrite rules, the machinery. An identity is a small function `Node -> Node | None`
whose docstring is the identity; `@rule(Cls)` registers it, in order, for a node class and
a pass. `normalize(n)` is SymPy's `exhaust(typed(do_one(*rules)))`: the first rule of n's
class that fires replaces n, and the rules of the new node's class start again, until none
fires. `recording()` collects the rules that fired, in order (for `--steps` and the tests).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from . import limits
from .nodes import Node

MAX_FIRINGS = 10_000     # rules on one node that keep firing are a bug, not a long result
MEMO_LIMIT = 200_000     # entries kept per pass before the memo starts again (bounded memory)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    cls: type
    apply: Callable[[Node], Node | None]
    identity: str
    pass_: str


RULES: dict[str, dict[type, list[Rule]]] = {"simplify": {}, "factor": {}, "present": {}}
_TRACE: list | None = None
_TIMES: dict | None = None         # while timing(): each rule's calls, firings and own time
_NESTED: list[float] = [0.0]       # the time of the rules running inside the current one
# Each pass's results so far, keyed by the node (nodes are immutable and compare by
# structure; a rule reads nothing but its node, so equal nodes normalize alike). A node
# that no rule changes maps to None, and the node itself is returned (its spans kept).
_MEMO: dict[str, dict[Node, Node | None]] = {p: {} for p in RULES}


def rule(*classes: type, pass_: str = "simplify"):
    """Register the decorated identity for each node class, after those already there."""
    def register(fn):
        identity = " ".join((fn.__doc__ or "").split())
        if not identity:
            raise ValueError(f"rewrite rule {fn.__name__} has no identity in its docstring")
        for cls in classes:
            RULES[pass_].setdefault(cls, []).append(Rule(fn.__name__, cls, fn, identity, pass_))
        return fn
    return register


def all_rules() -> list[Rule]:
    return [r for table in RULES.values() for rules in table.values() for r in rules]


def normalize(n: Node, pass_: str = "simplify") -> Node:
    """Apply the pass's rules for n's class to a fixpoint. Rules are pure functions of
    the node, so a node normalized before is answered from the pass's memo; while
    `recording()` collects firings every rule runs again, so that each firing is seen."""
    memo = _MEMO[pass_]
    if _TRACE is None:
        try:
            hit = memo[n]
        except KeyError:
            pass
        else:
            return n if hit is None else hit
    out = _fixpoint(n, RULES[pass_])
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[n] = None if out is n else out
    if out is not n and out not in memo:
        memo[out] = None               # a fixpoint is normal: asking again costs one look-up
    return out


def _fixpoint(n: Node, table: dict[type, list[Rule]]) -> Node:
    for _ in range(MAX_FIRINGS):
        for r in table.get(type(n), ()):
            out = r.apply(n)
            if out is not None and out is not n:
                if _TRACE is not None:
                    _TRACE.append((r.name, n, out))
                n = out
                limits.tick()
                break
        else:
            return n
    raise RuntimeError(f"rewrite rules did not settle on a {type(n).__name__}")


def _timed(r: Rule) -> Rule:
    """r, timing its own work into _TIMES (its time less that of the rules run inside it)."""
    clock, apply = time.perf_counter, r.apply

    def timed_apply(n: Node) -> Node | None:
        _NESTED.append(0.0)
        start = clock()
        try:
            out = apply(n)
        finally:
            spent = clock() - start
            own = spent - _NESTED.pop()
            _NESTED[-1] += spent
        entry = _TIMES.setdefault(r.name, [0, 0, 0.0, 0.0])
        fired = out is not None and out is not n
        entry[0] += 1
        entry[1] += fired
        entry[3 if fired else 2] += own
        return out
    return Rule(r.name, r.cls, timed_apply, r.identity, r.pass_)


@contextmanager
def timing():
    """with timing() as times: ... — times maps each rule's name to [calls, firings, seconds
    spent when it did not fire, seconds spent when it fired], each rule's own time (the
    rules it calls are counted as theirs), for the benchmarks. The memo answers as usual, so
    the figures are of the work a derivative really does; results are the same."""
    global _TIMES
    saved = {p: {c: list(rules) for c, rules in table.items()} for p, table in RULES.items()}
    outer, _TIMES = _TIMES, {}
    _NESTED[:] = [0.0]
    for table in RULES.values():
        for rules in table.values():
            rules[:] = [_timed(r) for r in rules]
    try:
        yield _TIMES
    finally:
        _TIMES = outer
        for p, table in RULES.items():
            for c, rules in table.items():
                rules[:] = saved[p][c]


@contextmanager
def recording():
    """with recording() as fired: ... — fired lists (rule name, before, after) in order."""
    global _TRACE
    outer, _TRACE = _TRACE, []
    try:
        yield _TRACE
    finally:
        inner = _TRACE
        _TRACE = outer
        if outer is not None:
            outer.extend(inner)
