"""The derivative suite: every case of tests/fixtures/derivatives.txt in the three layouts.

For each case × layout: the exact text where the fixture gives one, the shape of SPEC
§2's table, the text parses back (with the result's symbols declared) to a formula of
that shape, and two random size assignments checked against finite differences (the
generated NumPy `derivative`, and the result's text evaluated by the test-side
evaluator in tests/oracle.py).
"""
from __future__ import annotations

import zlib

import numpy as np
import pytest

import mcalc.api as api
from mcalc.errors import McalcError

from derivative_cases import CASES, LAYOUTS, cached_diff
from oracle import Variable, check, result_shape

DRAWS = 2

_TEXTS: dict = {}


def diff(case, layout):
    r = cached_diff(case, layout)
    if isinstance(r, str):
        pytest.fail(f"{case}\n  layout {layout}: {r}", pytrace=False)
    return r


def declarations(r) -> list[str]:
    """Declarations of every symbol of a result, so its text parses with the same shapes."""
    out = []
    for name, info in r.symbols.items():
        shape = tuple(info.shape)
        if any("*" in str(d) for d in shape):
            continue        # a product size (m*n) cannot be declared: inference finds it
        decl = f"{name}: R" if shape == (1, 1) else f"{name}: R^({shape[0]}×{shape[1]})"
        out.append(decl + (" symmetric" if info.symmetric else ""))
    return out


def reparsed(r):
    key = (r.text, tuple(declarations(r)))
    if key not in _TEXTS:
        try:
            _TEXTS[key] = api.typed(r.text, where=declarations(r))
        except McalcError as e:
            _TEXTS[key] = f"{type(e).__name__}: {e}"
    return _TEXTS[key]


def norm_dim(d):
    return d if isinstance(d, int) else "*".join(sorted(str(d).split("*")))


def norm_shape(shape) -> tuple:
    return tuple(norm_dim(d) for d in shape)


def params(with_text: bool = False):
    out = []
    for c in CASES:
        for layout in LAYOUTS:
            if with_text and layout not in c.expected:
                continue
            out.append(pytest.param(c, layout, id=f"{c.id}-{layout}"))
    return out


def test_fixtures_load():
    assert len(CASES) >= 150
    assert sum(1 for c in CASES if c.source.startswith("ml")) >= 20


@pytest.mark.parametrize("case,layout", params(with_text=True))
def test_text(case, layout):
    r = diff(case, layout)
    assert r.text == case.expected[layout], f"{case}\n  layout {layout}"


@pytest.mark.parametrize("case,layout", params())
def test_shape(case, layout):
    r = diff(case, layout)
    var = Variable.parse(case.wrt)
    want = result_shape(r.typed.body.shape, var, r.symbols, layout)
    assert norm_shape(r.shape) == norm_shape(want), (
        f"{case}\n  layout {layout}: shape {r.shape}, SPEC §2 wants {want}")


def free_dims(r, t) -> dict | None:
    """Match the re-parsed text's shape with the result's: dimensions the text leaves
    open (a bare `I` or `ones` takes a fresh size) map to the result's; None on mismatch."""
    known = {d for info in r.symbols.values() for d in info.shape}
    mapping = {}
    for got, want in zip(norm_shape(t.body.shape), norm_shape(r.shape), strict=True):
        if got == want:
            continue
        if got in known or isinstance(got, int) or mapping.get(got, want) != want:
            return None
        mapping[got] = want
    return mapping


@pytest.mark.parametrize("case,layout", params())
def test_text_parses_back(case, layout):
    r = diff(case, layout)
    assert r.text.strip()
    if len(r.shape) > 2:
        return      # order-3 and order-4 results are shown in index notation (SPEC §2)
    t = reparsed(r)
    assert not isinstance(t, str), f"{case}\n  layout {layout}: {r.text!r} does not parse back: {t}"
    assert len(t.body.shape) == 2 and free_dims(r, t) is not None, (
        f"{case}\n  layout {layout}: {r.text!r} has shape {t.body.shape}, the result says {r.shape}")


@pytest.mark.parametrize("case,layout", params())
def test_numeric(case, layout):
    r = diff(case, layout)
    t = reparsed(r)
    text_program = None
    if len(r.shape) == 2 and not isinstance(t, str) and free_dims(r, t) is not None:
        text_program = (t, free_dims(r, t))
    problems = []
    for k in range(DRAWS):
        rng = np.random.default_rng(zlib.crc32(f"{case.id}/{layout}/{k}".encode()))
        problems += check(r, case.wrt, layout, rng, case.assume, text_program)
    assert not problems, f"{case}\n  layout {layout}: {r.text}\n" + "\n".join(problems)
