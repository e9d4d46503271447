"""Load tests/fixtures/derivatives.txt: blocks of `key: value` lines, a blank line ends
a block, the first `#` line of a block is its title. See the file's header."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
LAYOUTS = ("mixed", "numerator", "denominator")
KEYS = {"where", "wrt", "input", "assume"} | set(LAYOUTS)


@dataclass(frozen=True)
class Case:
    title: str
    line: int
    input: str
    wrt: str
    where: str | None = None
    assume: tuple[str, ...] = ()
    expected: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.title).strip("-").lower()
        return f"L{self.line}-{slug[:48].strip('-')}"

    @property
    def source(self) -> str:
        return self.title.split(":", 1)[0].strip()

    def __str__(self) -> str:
        where = f" where {self.where}" if self.where else ""
        return f"{self.title} [line {self.line}]: d/d{self.wrt} {self.input}{where}"


def load_cases(name: str = "derivatives.txt") -> list[Case]:
    path = FIXTURES / name
    cases: list[Case] = []
    block: dict[str, str] = {}
    title, start = None, None

    def flush():
        nonlocal block, title, start
        if block:
            for key in ("wrt", "input"):
                if key not in block:
                    raise ValueError(f"{path.name}:{start}: case without {key}:")
            expected = {k: block[k] for k in LAYOUTS if k in block}
            assume = tuple(a.strip() for a in block.get("assume", "").split(",") if a.strip())
            cases.append(Case(title or f"case at line {start}", start, block["input"], block["wrt"],
                              block.get("where"), assume, expected))
        block, title, start = {}, None, None

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            if title is None and not block:
                title, start = line.lstrip("#").strip(), lineno
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in KEYS:
            raise ValueError(f"{path.name}:{lineno}: expected one of {sorted(KEYS)}, got {raw!r}")
        if key in block:
            raise ValueError(f"{path.name}:{lineno}: {key}: given twice in one case")
        if start is None:
            start = lineno
        block[key] = value.strip()
    flush()
    # title lines that are section rules or file comments (no key follows) are dropped by
    # flush; a title is only kept when a case follows it directly.
    ids = [c.id for c in cases]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise ValueError(f"duplicate case ids: {sorted(dup)}")
    return cases


CASES = load_cases()

_RESULTS: dict = {}


def cached_diff(case: Case, layout: str):
    """api.diff for a case, computed once per session: the Result, or a string saying
    why mcalc refused it (McalcError) or failed (anything else)."""
    import mcalc.api as api
    from mcalc.errors import McalcError
    key = (case.input, case.wrt, case.where, layout)
    if key not in _RESULTS:
        # a runaway recursion happens before any layout is applied and takes seconds to
        # hit the limit: met once for a case, it stands for the other layouts too
        slow = [v for (i, w, h, _), v in _RESULTS.items() if (i, w, h) == key[:3]
                and isinstance(v, str) and "RecursionError" in v]
        if slow:
            _RESULTS[key] = slow[0]
            return slow[0]
        try:
            _RESULTS[key] = api.diff(case.input, case.wrt, where=case.where, layout=layout)
        except McalcError as e:
            _RESULTS[key] = f"mcalc refused it: {type(e).__name__}: {e}"
        except Exception as e:  # noqa: BLE001 - an internal error is a failure to report
            _RESULTS[key] = f"internal error: {type(e).__name__}: {e}"
    return _RESULTS[key]
