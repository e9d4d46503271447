"""stretches.ranked_stretches against the enumeration it replaces, and the names it leads to."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from mcalc import api
from mcalc.stretches import lcp_array, ranked_stretches, suffix_array


def enumerated(coded, flipped, limit):
    """Every stretch of every sequence, ranked: the definition ranked_stretches must agree with
    (this was bindings.repeated_chains' own loop, Θ(n²) stretches per sequence)."""
    present = Counter(cc[i:i + k] for cc in coded for k in range(2, len(cc) + 1) for i in range(len(cc) - k + 1))
    seen, candidates = set(), []
    for j, (cc, fc) in enumerate(zip(coded, flipped)):
        n = len(cc)
        for k in range(2, n + 1):
            for i in range(n - k + 1):
                code = cc[i:i + k]
                if code in seen:
                    continue
                seen.add(code)
                guess = fc[n - i - k:n - i]
                bound = present[code] + (present[guess] if guess != code else 0)
                if bound >= 2:
                    candidates.append((-(bound - 1) * k, len(candidates), (j, i, k)))
    candidates.sort()
    return [c for _, _, c in candidates[:limit]]


def random_case(rng):
    """Sequences over a small alphabet with a transpose that is an involution: some factors
    their own transpose (symmetric), some in pairs, some whose transpose does not occur."""
    letters = rng.randint(1, 7)
    flip = {}
    fresh = 100
    for v in range(letters):
        if v in flip:
            continue
        kind = rng.random()
        partner = rng.randrange(letters)
        if kind < 0.3 or partner in flip:
            flip[v] = v if kind < 0.6 else fresh
            fresh += 1
        else:
            flip[v], flip[partner] = partner, v
    coded = []
    for _ in range(rng.randint(1, 6)):
        n = rng.randint(0, 14)
        if rng.random() < 0.3 and coded:      # a rotation or a copy of an earlier one, as in traces
            base = rng.choice(coded)
            s = rng.randrange(len(base) + 1)
            coded.append(base[s:] + base[:s])
        else:
            coded.append(tuple(rng.randrange(letters) for _ in range(n)))
    flipped = [tuple(flip[v] for v in reversed(cc)) for cc in coded]
    return coded, flipped


@pytest.mark.parametrize("seed", range(40))
def test_ranking_is_the_enumerations(seed):
    rng = random.Random(seed)
    for _ in range(50):
        coded, flipped = random_case(rng)
        limit = rng.choice([1, 3, 16, 1000])
        assert ranked_stretches(coded, flipped, limit) == enumerated(coded, flipped, limit), (coded, flipped, limit)


def test_suffix_array_and_lcp():
    rng = random.Random(1)
    for _ in range(200):
        text = [rng.randrange(3) for _ in range(rng.randint(1, 30))] + [-1]
        sa = suffix_array(text)
        assert sa == sorted(range(len(text)), key=lambda p: text[p:])
        lcp = lcp_array(text, sa)
        for r in range(1, len(sa)):
            a, b = text[sa[r - 1]:], text[sa[r]:]
            h = next((t for t, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            assert lcp[r] == h


def test_long_trace_names_its_repeats():
    """tr(A1 X … A40 X): 40 terms of 79 factors, whose stretches the enumeration counted one by
    one (about 125,000 per pass); the result still names the repeated runs."""
    f = "tr(" + " ".join(f"A{i} X" for i in range(1, 41)) + ")"
    r = api.diff(f, wrt="X")
    lets = r.text.split("; ")[:-1]
    assert len(lets) >= 4 and len(r.text) < 3000
