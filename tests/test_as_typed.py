"""Issue 14's "as people type them" set (tests/fixtures/as_typed.txt): every formula is
accepted and its derivative agrees with finite differences in the three layouts, through
the generated NumPy (the machinery of tests/test_derivatives.py: oracle.check)."""
from __future__ import annotations

import zlib

import numpy as np
import pytest

from derivative_cases import LAYOUTS, cached_diff, load_cases
from oracle import check

CASES = load_cases("as_typed.txt")


def test_at_least_sixty_formulas_from_the_sources():
    assert len(CASES) >= 60
    sources = {c.title.split(":")[0] for c in CASES}
    assert {"cookbook", "bishop", "murphy", "rw", "cs229", "dl", "boyd", "mc.org", "latex"} <= sources
    assert sum("\\" in c.input for c in CASES) >= 15


@pytest.mark.parametrize("case,layout", [pytest.param(c, lay, id=f"{c.id}-{lay}") for c in CASES for lay in LAYOUTS])
def test_as_typed_is_accepted_and_numerically_right(case, layout):
    r = cached_diff(case, layout)
    assert not isinstance(r, str), f"{case}\n  layout {layout}: {r}"
    problems = []
    for k in range(2):
        rng = np.random.default_rng(zlib.crc32(f"{case.id}/{layout}/{k}".encode()))
        problems += check(r, case.wrt, layout, rng, case.assume)
    assert not problems, f"{case}\n  layout {layout}: {r.text}\n" + "\n".join(problems)
