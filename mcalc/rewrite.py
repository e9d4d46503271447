"""Named rewrite rules, the machinery. An identity is a small function `Node -> Node | None`
whose docstring is the identity; `@rule(Cls)` registers it, in order, for a node class and
a pass. `normalize(n)` is SymPy's `exhaust(typed(do_one(*rules)))`: the first rule of n's
class that fires replaces n, and the rules of the new node's class start again, until none
fires. `recording()` collects the rules that fired, in order (for `--steps` and the tests).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from . import limits
from .nodes import Node

MAX_FIRINGS = 10_000     # rules on one node that keep firing are a bug, not a long result


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    cls: type
    apply: Callable[[Node], Node | None]
    identity: str
    pass_: str


RULES: dict[str, dict[type, list[Rule]]] = {"simplify": {}, "factor": {}, "present": {}}
_TRACE: list | None = None


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
    """Apply the pass's rules for n's class to a fixpoint."""
    table = RULES[pass_]
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
