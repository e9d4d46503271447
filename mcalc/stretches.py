"""Repeated stretches of integer sequences, ranked without enumerating them.

`bindings.repeated_chains` numbers the factors of every product in a result (equal factors,
equal numbers) and asks which stretches of these sequences repeat, a stretch's factor-wise
transpose counting as a use. Enumerating every stretch of every sequence costs Θ(n²) per
sequence of n factors, Θ(k³) for the k terms of 2k-1 factors of d tr(A1 X … Ak X)/dX, once
per name added. Here the sequences and their flipped copies (each factor replaced by its
transpose's number, the order reversed) are laid end to end, and a suffix array with its
LCP intervals gives every repeated stretch's count at once: all stretches of one interval
occur at the same places, so its lengths are handed out longest first, from a heap, only as
far as the ranking needs: a few sorts of the N factors in all, one per doubling of the
longest repeated stretch.
"""
from __future__ import annotations

import heapq

NOWHERE = 1 << 62          # the first-appearance key of a position in a flipped copy


def ranked_stretches(coded: list[tuple[int, ...]], flipped: list[tuple[int, ...]],
                     limit: int) -> list[tuple[int, int, int]]:
    """The `limit` most promising stretches of length ≥ 2 of the sequences `coded`, as
    (sequence, start, length) of the stretch's first appearance; flipped[j] is coded[j]
    flipped (the guess at its transpose, so flipped[j][n-i-k:n-i] guesses coded[j][i:i+k]).

    A stretch's bound is how often it occurs (overlaps included) plus how often its guess
    occurs, unless the two are the same; stretches of bound ≥ 2 rank by (bound - 1) × length,
    largest first, ties by first appearance (sequence, then length, then start). This is the
    order of enumerating every stretch of every sequence (tests/test_bindings.py holds that
    enumeration and compares), given that the guess of a guess is the stretch itself (a
    factor transposed twice is the factor); the count of a guess is read as the count of the
    stretch in the flipped copies."""
    text: list[int] = []
    first: list[int] = []          # per position: sequence × 2^31 + start, or NOWHERE
    for j, (cc, fc) in enumerate(zip(coded, flipped)):
        text.extend(cc)
        first.extend(j << 31 | i for i in range(len(cc)))
        text.append(-2 * j - 1)    # separators: unique, so no common prefix runs across one
        text.extend(fc)
        text.append(-2 * j - 2)
        first.extend([NOWHERE] * (len(fc) + 2))
    n = len(text)
    if n < 4:
        return []
    sa = suffix_array(text)
    lcp = lcp_array(text, sa)
    first_sa = [first[p] for p in sa]

    # LCP intervals, bottom-up: [lb, rb] of suffixes sharing a prefix of length h (and no
    # longer one shared by all); its stretches are the lengths (parent's h, h], each occurring
    # rb - lb + 1 times
    heap: list = []
    stack = [(0, 0)]
    for r in range(1, n + 1):
        h = lcp[r] if r < n else 0
        lb = r - 1
        while h < stack[-1][0]:
            top_h, lb = stack.pop()
            parent = max(h, stack[-1][0])
            count = r - lb
            at = min(first_sa[lb:r])
            if at != NOWHERE and count >= 2 and top_h >= 2:
                j, i = at >> 31, at & ((1 << 31) - 1)
                heap.append((-(count - 1) * top_h, j, top_h, i, max(parent, 1), count, False))
        if h > stack[-1][0]:
            stack.append((h, lb))
    heapq.heapify(heap)

    out: list[tuple[int, int, int]] = []
    while heap and len(out) < limit:
        key, j, k, i, floor, count, checked = heapq.heappop(heap)
        if not checked:
            if k - 1 > floor:          # the interval's next length, no better than this one
                heapq.heappush(heap, (-(count - 1) * (k - 1), j, k - 1, i, floor, count, False))
            m = len(coded[j])
            own_guess = coded[j][i:i + k] == flipped[j][m - i - k:m - i]
            bound = count // 2 if own_guess else count   # its own guess: counted twice above
            if bound < 2:
                continue
            if own_guess:
                heapq.heappush(heap, (-(bound - 1) * k, j, k, i, floor, count, True))
                continue
        out.append((j, i, k))
    return out


def suffix_array(text: list[int]) -> list[int]:
    """The start positions of text's suffixes in sorted order, by prefix doubling (the ranks of
    the first 2h elements from those of the first h), on integer keys."""
    n = len(text)
    values = sorted(set(text))
    index = {v: r for r, v in enumerate(values)}
    rank = [index[v] for v in text]
    sa = sorted(range(n), key=rank.__getitem__)
    h = 1
    while True:
        width = n + 1
        key = [rank[p] * width + (rank[p + h] + 1 if p + h < n else 0) for p in range(n)]
        sa.sort(key=key.__getitem__)
        new = [0] * n
        r = 0
        prev = key[sa[0]]
        for p in sa:
            kp = key[p]
            if kp != prev:
                r += 1
                prev = kp
            new[p] = r
        rank = new
        if r == n - 1:
            return sa
        h *= 2


def lcp_array(text: list[int], sa: list[int]) -> list[int]:
    """lcp[r]: the length of the common prefix of the suffixes sa[r - 1] and sa[r] (Kasai et
    al.: the next suffix's common prefix is at most one shorter, so Θ(n) in all)."""
    n = len(text)
    rank = [0] * n
    for r, p in enumerate(sa):
        rank[p] = r
    lcp = [0] * n
    h = 0
    for p in range(n):
        r = rank[p]
        if r == 0:
            h = 0
            continue
        q = sa[r - 1]
        while p + h < n and q + h < n and text[p + h] == text[q + h]:
            h += 1
        lcp[r] = h
        if h:
            h -= 1
    return lcp
