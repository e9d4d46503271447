"""What a homework report says about an outcome: points, the exit status, a wrong answer's
details. A leaf module (no mcalc imports), shared by the checker, the presenters and the
Rich table."""
from __future__ import annotations


def homework_status(outcomes: list) -> int:
    """2 if any problem is malformed, else 1 if any claim is wrong, else 0."""
    if any(o.error is not None for o in outcomes):
        return 2
    return 0 if all(o.ok for o in outcomes) else 1


def wrong_details(o) -> list[str]:
    """What a wrong answer's row says: the correct derivative, claim − derivative, the layout in
    which the claim is right, the notes (a symmetric variable's sym(G)), a derivation's first
    broken line."""
    r = o.result
    if r is None or o.ok:
        return []
    out = []
    bad = o.broken_line
    if bad is not None and bad.role != "derivative":
        out.append(bad.message)
        if bad.difference:
            out.append(f"line {bad.number} - {'df' if bad.role == 'differential' else 'f'}: {bad.difference}")
    if not r.ok:
        out.append(f"correct ({r.correct.layout} layout): {r.correct.text}")
        if r.difference:
            out.append(f"claim - derivative: {r.difference}")
        if r.other_layout:
            out.append(f"the claim is right in the {r.other_layout} layout")
        elif "transpose" in r.message:
            out.append("the claim is the transpose of the derivative")
        elif not r.difference:
            out.append(r.message)
        out.extend(n for n in r.notes if "symmetric" in n)
    return out


def points_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
