"""The node machinery (nodes.py's base): immutable, equal and hashed by fields and shape but
never by span, rebuilt by replace, picklable, matched by position and keyword."""
from __future__ import annotations

import pickle

import pytest

from mcalc.errors import Span
from mcalc.nodes import (NODE_CLASSES, Add, Mul, Neg, Node, Norm, Num, Sym, Transpose, children, map_children,
                         node, replace, walk)

x = Sym("x", shape=("n", 1))
A = Sym("A", shape=("n", "n"))


def test_fields_then_keyword_shape_and_span():
    s = Sym("x", True, shape=(3, 3), span=Span(0, 1))
    assert (s.name, s.symmetric, s.shape, s.span) == ("x", True, (3, 3), Span(0, 1))
    assert Sym("x").symmetric is False and Sym("x").shape is None
    with pytest.raises(TypeError):
        Norm(x, None, (3, 3))                     # shape is keyword-only


def test_immutable():
    with pytest.raises(AttributeError):
        x.name = "y"
    with pytest.raises(AttributeError):
        del x.shape
    with pytest.raises(AttributeError):
        x.extra = 1                               # slots: no instance dict


def test_equality_and_hash_ignore_span_but_not_shape_or_fields():
    a, b = Sym("x", shape=(2, 1), span=Span(0, 1)), Sym("x", shape=(2, 1), span=Span(5, 6))
    assert a == b and hash(a) == hash(b)
    assert a != Sym("x", shape=(3, 1)) and a != Sym("y", shape=(2, 1)) and a != Sym("x", True, shape=(2, 1))
    assert Neg(x) != Transpose(x)                 # same fields, different class
    assert Mul((A, x)) == Mul((A, x)) and Mul((A, x)) != Mul((x, A))
    assert len({Mul((A, x)), Mul((A, x)), Mul((x, A))}) == 2


def nested(depth: int) -> list[Node]:
    """x, -x, (-x)^T, -((-x)^T), …: every level of a deep tree, built afresh."""
    levels = [Sym("x", shape=("n", 1))]
    for i in range(depth):
        levels.append(Neg(levels[-1]) if i % 2 == 0 else Transpose(levels[-1]))
    return levels


def test_equal_trees_are_compared_once(monkeypatch):
    """Comparing two separately built equal trees walks them once; after it, each level of
    one is found equal to the same level of the other without a second walk (the simplifier's
    memo asks this about a rebuilt deep tree at every level: tanh(W64 tanh(W63 …)) cost a
    walk per level, quadratic in all)."""
    import mcalc.nodes as nodes
    a, b = nested(300), nested(300)
    looks = 0
    real = nodes.same

    def counted(n):
        nonlocal looks
        looks += 1
        return real(n)
    monkeypatch.setattr(nodes, "same", counted)
    for u, v in zip(reversed(a), reversed(b)):       # the whole trees first
        assert u == v
    assert looks <= 4 * len(a)                        # a walk per level would be 300²/2 pairs
    assert all(nodes.same(u) is nodes.same(v) for u, v in zip(a, b))


def test_nodes_found_unequal_are_not_linked():
    import mcalc.nodes as nodes
    a, b = nested(40), nested(40)
    c = nested(40)[:-1] + [Transpose(nested(40)[-2], shape=("1", "n"))]   # the top differs in shape
    assert a[-1] == b[-1] and a[-1] != c[-1] and b[-1] != c[-1]
    assert nodes.same(a[-1]) is nodes.same(b[-1]) is not nodes.same(c[-1])
    assert a[-2] == c[-2]                             # below the top they are equal, and now linked
    d = nested(40)
    d[1] = Neg(Sym("y", shape=("n", 1)))
    assert Neg(d[1]) != Neg(a[1]) and Neg(a[1]) == Neg(b[1])


def test_replace_keeps_what_is_not_changed():
    m = Mul((A, x), shape=("n", 1), span=Span(0, 3))
    r = replace(m, args=(x,))
    assert r.args == (x,) and r.shape == ("n", 1) and r.span == Span(0, 3)
    assert replace(x, shape=(4, 1)) == Sym("x", shape=(4, 1))
    with pytest.raises(TypeError):
        replace(x, colour="red")


def test_traversals_read_the_child_fields():
    e = Add((Mul((A, x)), Neg(x)))
    assert children(e) == (Mul((A, x)), Neg(x))
    assert children(Norm(x, "1")) == (x,) and children(x) == () and children(Num(2)) == ()
    assert [type(n).__name__ for n in walk(e)] == ["Add", "Mul", "Sym", "Sym", "Neg", "Sym"]
    same = map_children(e, lambda c: c)
    assert same is e                              # nothing changed: the node itself
    swapped = map_children(e, lambda c: Neg(x) if isinstance(c, Mul) else c)
    assert swapped == Add((Neg(x), Neg(x)))


def test_pattern_matching_by_position_and_keyword():
    match Norm(x, "2"):
        case Norm(arg, kind):
            assert (arg, kind) == (x, "2")
    match Mul((A, x)):
        case Mul(args=(a, b)):
            assert (a, b) == (A, x)


def test_pickle_round_trip():
    e = Add((Mul((A, x), shape=("n", 1)), Neg(x, shape=("n", 1))), shape=("n", 1))
    assert pickle.loads(pickle.dumps(e)) == e


def test_every_node_class_is_made_by_the_decorator():
    for cls in NODE_CLASSES:
        assert cls.__slots__ is not None and "__dict__" not in cls.__dict__
        assert cls.__match_args__ == cls._fields


def test_a_subclass_inherits_fields_and_adds_its_own():
    @node
    class Scaled(Node):
        arg: Node
        by: int = 2

    @node
    class Shifted(Scaled):
        to: int = 0

    s = Shifted(x, 3, 4, shape=("n", 1))
    assert s._fields == ("arg", "by", "to") and children(s) == (x,)
    assert (s.arg, s.by, s.to) == (x, 3, 4) and Shifted(x) == Shifted(x, 2, 0)
    assert Shifted(x) != Scaled(x)


def test_arguments_bind_as_in_a_function_with_these_parameters():
    """The made __init__ (closures, no generated source) takes fields by position or name,
    fills defaults, and refuses what a def with the same parameters would refuse."""
    assert Sym(name="x", probability=True) == Sym("x", False, True)
    assert Norm(x, kind="F").kind == "F" and Norm(x).kind is None
    for bad in (lambda: Sym(), lambda: Sym("x", nam="y"), lambda: Sym("x", name="y"),
                lambda: Sym("x", False, False, True), lambda: Neg()):
        with pytest.raises(TypeError):
            bad()
    assert children(Norm(x, "F")) == (x,) and children(Mul((A, x))) == (A, x) and children(x) == ()
