"""Bindings (y = ...; f(y)): inline them before differentiating, and name the input's bound
subexpressions again where they occur in the result."""
from __future__ import annotations

from collections import Counter

from .nodes import Node, Sym, children, map_children, walk
from .shapes import Typed
from .simplify import size


def inline(t: Typed, keep: frozenset = frozenset()) -> tuple[Node, dict[str, Node]]:
    """The body with every bound name replaced by its formula (except names in keep)."""
    return inline_bindings(t.bindings, t.body, keep)


def inline_bindings(bindings, body: Node, keep: frozenset = frozenset()) -> tuple[Node, dict[str, Node]]:
    values: dict[str, Node] = {}
    memo: dict[Node, Node] = {}

    def sub(n: Node) -> Node:
        hit = memo.get(n)
        if hit is not None:
            return hit
        if isinstance(n, Sym) and n.name in values and n.name not in keep:
            out = values[n.name]
        else:
            out = map_children(n, sub)
        memo[n] = out
        return out

    for name, value in bindings:
        values[name] = sub(value)
    return sub(body), values


def refold(result: Node, values: dict[str, Node], canon) -> tuple[Node, list[tuple[str, Node]]]:
    """Name the input's bound subexpressions where they occur in the result."""
    table: dict[Node, str] = {}
    folded: dict[str, Node] = {}
    order = list(values)

    memo: dict[int, tuple[Node, Node]] = {}

    def fold(n: Node) -> Node:
        name = table.get(n)            # first: a binding's own value may have been folded before it was named
        if name is not None:
            return Sym(name, shape=n.shape)
        hit = memo.get(id(n))
        if hit is not None and hit[0] is n:
            return hit[1]
        m = map_children(n, fold)
        name = table.get(m)
        out = Sym(name, shape=m.shape) if name is not None else m
        memo[id(n)] = (n, out)
        return out

    for name in order:
        c = canon(values[name])
        if not list(children(c)):
            continue
        f = fold(c)
        folded[name] = f
        table[c] = name
        table[f] = name
    out = fold(result)
    # a small binding used once reads better inlined: 2 aᵀ (t a + b)
    inside = {name: Counter(m for m in walk_syms(v) if m in folded) for name, v in folded.items()}
    at_top = Counter(m for m in walk_syms(out) if m in folded)

    def reachable() -> set[str]:
        seen, todo = set(), [m for m, c in at_top.items() if c]
        while todo:
            m = todo.pop()
            if m not in seen and m in folded:
                seen.add(m)
                todo.extend(inside[m])
        return seen

    for name in reversed(order):
        if name not in folded:
            continue
        live = reachable()
        uses = at_top[name] + sum(inside[k][name] for k in live if k != name)
        if uses == 1 and at_top[name] == 1 and size_of(folded[name]) < 8:
            out = unfold(out, name, folded[name])
            at_top.update(inside[name])
            at_top[name] = 0
            del folded[name]
    used: list[str] = []

    def need(n: Node):
        for m in walk_syms(n):
            if m in folded and m not in used:
                need(folded[m])
                used.append(m)

    need(out)
    return out, [(name, folded[name]) for name in order if name in used]


def size_of(n: Node) -> int:
    return size(n)


def unfold(n: Node, name: str, value: Node) -> Node:
    if isinstance(n, Sym) and n.name == name:
        return value
    return map_children(n, lambda c: unfold(c, name, value))


def walk_syms(n: Node):
    return [m.name for m in walk(n) if isinstance(m, Sym)]
