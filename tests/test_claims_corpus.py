"""The claim corpus (tests/fixtures/claims.toml): right claims in several spellings and wrong
near-misses (missing transpose, A for A + Aᵀ, factor 2 or 1/N, sign, wrong layout, X⁻¹ for
X⁻ᵀ, symmetric-only, n = 1-only, 2×2-only, positive-only, tiny factors, a few entries off).
`mcalc check` must accept every right claim and reject every wrong one: no false accepts, no
false rejects, the same verdict on every run (the random data is seeded)."""
import tomllib
from pathlib import Path

import pytest

import mcalc

CASES = tomllib.loads((Path(__file__).parent / "fixtures" / "claims.toml").read_text(encoding="utf-8"))["case"]


def verdict(c) -> bool:
    return mcalc.check(c["expr"], c["wrt"], c["claim"], where=c.get("where"), layout=c.get("layout", "mixed"),
                       order=c.get("order", 1), flatten=c.get("flatten", False)).ok


def test_the_corpus_is_large_and_covers_the_near_misses():
    assert len(CASES) >= 100
    kinds = {c["kind"] for c in CASES if not c["right"]}
    for kind in ["missing transpose", "A for A + A^T", "factor 2", "factor 1/N", "sign", "wrong layout",
                 "X^-1 for X^-T", "symmetric-only", "n = 1-only", "2×2-only", "positive-only", "tiny factors",
                 "a few entries off"]:
        assert kind in kinds, kind
    assert sum(c["right"] for c in CASES) >= 40 and sum(not c["right"] for c in CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kind']}: {c['expr']} | {c['claim']}"[:90] for c in CASES])
def test_claim(case):
    assert verdict(case) is case["right"], ("a false reject" if case["right"] else "a false accept")


def test_verdicts_are_deterministic():
    sample = CASES[::10]
    assert [verdict(c) for c in sample] == [verdict(c) for c in sample]
