"""Is a claimed derivative right? Exactly where canonical forms agree, otherwise on random
data of random sizes (non-square, non-symmetric wherever the shapes allow, so that a
transposition mistake shows)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

from . import limits
from .api import LAYOUTS, Result, as_where, diff, inline, inline_bindings, latex, split_wrt, typed
from .deriv.derive import derive, substitute_delta
from .deriv.engine import differential
from .dims import dim_names
from .errors import InternalError, LimitError, McalcError, ShapeError, Span, UsageError
from .nodes import Identity, Node, Size, Sym, Unit, map_children, walk
from .nodes import replace as replace_node
from .parse import Binding, Decl, Program, parse_program
from .present import Presented
from .render.text import render_text
from .report import homework_status, points_text, wrong_details  # noqa: F401
from .shapes import fmt_shape, infer
from .simplify import add, expand, hadamard, mul, neg, num, simplify, tidy, transpose
from .verify import Sampler, Undefined, evaluate_checked, value_checked, verify


@dataclass(repr=False)
class CheckResult(Presented):
    ok: bool
    claim: str
    claim_shape: tuple
    correct: Result
    difference: str | None = None
    other_layout: str | None = None
    message: str = ""
    max_rel_error: float | None = None
    exact: bool = False
    notes: list[str] = field(default_factory=list)
    sampled: str = ""          # what a numerical verdict was decided on

    @property
    def verdict(self) -> str:
        return "✓ correct" if self.ok else "✗ wrong"

    def to_json(self) -> dict:
        from .render.json import shape_list
        return {"ok": self.ok, "claim": self.claim, "claim_shape": shape_list(self.claim_shape),
                "correct": self.correct.text, "shape": shape_list(self.correct.shape),
                "layout": self.correct.layout, "difference": self.difference,
                "other_layout": self.other_layout, "message": self.message,
                "exact": self.exact, "max_rel_error": self.max_rel_error, "sampled": self.sampled,
                "notes": self.notes}


def typed_claim(claim: str, result: Result, shape=None, extra: dict | None = None):
    """Type the claim in the formula's context: its symbols with their shapes, its bindings.
    `shape` is the shape to try first (the derivative's); `extra` declares more symbols
    (name → (shape, symmetric)), such as a derivation's differential dX."""
    t = result.typed
    extra = dict(extra or {})
    try:
        own = parse_program(claim, known=t.program.functions)
    except McalcError as e:
        raise e.with_source(claim)
    decls = [Decl(name, info.shape, info.symmetric, Span(0, 0))
             for name, info in t.symbols.items() if info.kind == "symbol"]
    decls += [Decl(name, shape, False, Span(0, 0)) for name, shape in unit_names(result).items()]
    decls += [Decl(name, sh, sym, Span(0, 0)) for name, (sh, sym) in extra.items()]
    for d in own.decls:
        info = t.symbols.get(d.name)
        if info is not None and info.kind == "symbol" and d.symmetric != info.symmetric:
            said, other = ("symmetric", "not symmetric") if d.symmetric else ("not symmetric", "symmetric")
            raise ShapeError(f"the claim declares {d.name} {said}, the formula {other}",
                             d.span, "declare it the same way in the formula (or --where)").with_source(claim)
        decls.append(d)
    try:
        own_bindings, renamed = local_bindings(own, set(t.symbols))
    except McalcError as e:
        raise e.with_source(claim)
    bindings = t.program.bindings + own_bindings
    own = replace(own, body=rename(own.body, renamed))
    # First as the derivative's shape, so that sizes the claim leaves open (a bare I, ones
    # or 0) take the derivative's; a claim of another shape is typed on its own.
    # every size of the formula is a size in the claim too, also one no symbol carries (p in
    # `tr(I_p ⊗ B)` or in `t ones^T ones`): `p I` is a number times I
    dims = tuple(sorted({p for d in t.dims for p in dim_names(d)}))
    expected = Program(tuple(decls) + (Decl("_claim", shape or result.shape, False, Span(0, 0)),),
                       bindings + (Binding("_claim", own.body, Span(0, len(claim))),),
                       Sym("_claim", span=Span(0, len(claim))), claim, dims, functions=t.program.functions)
    try:
        tc = infer(expected)
    except McalcError:
        try:
            tc = infer(Program(tuple(decls), bindings, own.body, claim, dims, functions=t.program.functions))
        except McalcError as e:
            raise e.with_source(claim)
    unknown = [n for n, info in tc.symbols.items()
               if info.kind == "symbol" and n not in t.symbols and n not in unit_names(result) and n not in extra]
    if unknown:
        raise ShapeError(f"the claim uses {', '.join(unknown)}, which the formula does not", None).with_source(claim)
    return tc


def rename(node: Node, names: dict[str, str]) -> Node:
    if not names:
        return node

    def sub(n):
        return replace_node(n, name=names[n.name]) if isinstance(n, Sym) and n.name in names else map_children(n, sub)
    return sub(node)


def local_bindings(own: Program, taken: set[str]) -> tuple[tuple, dict[str, str]]:
    """The claim's bindings are its own: one that reuses a name of the formula (mcalc's own text
    `h = f(W x); …` for a formula that binds h) is renamed h′ in the claim. Returns the
    bindings and the renaming."""
    names: dict[str, str] = {}
    out = []
    seen: set[str] = set()
    for b in own.bindings:
        if b.name in seen:
            raise ShapeError(f"{b.name} is bound twice", b.span)
        seen.add(b.name)
        value = rename(b.value, dict(names))
        if b.name in taken:
            names[b.name] = b.name + "′"
        out.append(Binding(names.get(b.name, b.name), value, b.span))
    return tuple(out), names


def unit_names(result: Result) -> dict[str, tuple]:
    """An entry derivative (--wrt X[i,j]) is written with unit vectors e_i, e_j: the claim may use them."""
    if not result.entry or result.stack:
        return {}
    return {f"e_{i}": (d, 1) for i, d in zip(result.entry, result.var_shape)}


def with_units(node: Node, result: Result) -> Node:
    names = unit_names(result)
    if not names:
        return node

    def sub(n):
        if isinstance(n, Sym) and n.name in names:
            return Unit(n.name[2:], shape=names[n.name], span=n.span)
        return map_children(n, sub)
    return sub(node)


TOL = 1e-9      # both sides are exact closed forms: a relative gap above rounding is a real one
NUDGE = 1e-13   # the relative nudge of the inputs that measures how far rounding can move a value


@dataclass
class Comparison:
    """Two values compared on random data: the largest relative gap, what was sampled, and,
    where the first side is not defined at a point where the reference side is, why.
    drowned: every gap above TOL was no larger than what nudging the inputs by a relative
    NUDGE (some 450 units in the last place) does to either side at that point, so rounding
    alone could have made it (an ill-conditioned function: a cosine of a huge argument, a sum that
    cancels). Reported, never taken for equality."""
    rel_error: float
    sampled: str = ""
    undefined: str | None = None
    drowned: bool = False

    @property
    def equal(self) -> bool:
        return self.undefined is None and self.rel_error <= TOL


def rel_gap(va, vb) -> float:
    """max |a - b| relative to the size of both sides (no absolute floor: 1e-7 A x is not 0)."""
    if va.size != vb.size:
        return float("inf")
    va = va.reshape(vb.shape)
    if not vb.size:
        return 0.0
    scale = max(float(np.max(np.abs(va))), float(np.max(np.abs(vb))))
    return 0.0 if scale == 0.0 else float(np.max(np.abs(va - vb))) / scale


def compare_numerically(a_pair, b_pair, typed_prog, reference=(), trials=4, seed=7, indices=()) -> Comparison:
    """Evaluate a (bindings, node) against b on the same random data. The data is drawn where b
    and every `reference` pair (the formula) are defined; a that is not defined there is not b.
    `indices` are (name, dimension) of free entry indices (--wrt X[i,j]): each draw picks them."""
    # sizes the claim leaves open (a bare I inside sum(...)) are drawn like any other
    dims = set(typed_prog.dims)
    for _, node in (a_pair, b_pair):
        for n in walk(node):
            dims.update(d for d in (n.shape or ()) + ((n.name,) if isinstance(n, Size) else ()) if isinstance(d, str))
    sampler = Sampler(typed_prog, list(reference) + [b_pair], seed=seed, dims=tuple(sorted(dims)), indices=indices)
    worst, drowned = 0.0, True
    for trial in range(trials):
        draw = sampler.draw(trial)
        points = [(draw.env, draw.values[-1])]
        mirrored = mirror(draw, sampler, list(reference) + [b_pair])
        if mirrored is not None:
            points.append(mirrored)
        for env, vb in points:
            try:
                va = value_checked(a_pair, env, draw.sizes)
            except Undefined as u:
                return Comparison(float("inf"), sampler.describe(trial + 1), u.why)
            gap = rel_gap(va, vb)
            if gap > TOL and drowned:
                drowned = gap <= rounding_noise((a_pair, va), (b_pair, vb), env, draw, sampler)
            worst = max(worst, gap)
    return Comparison(worst, sampler.describe(trials), drowned=worst > TOL and drowned)


def rounding_noise(a, b, env, draw, sampler) -> float:
    """How far the inputs nudged by a relative NUDGE move either side's value ((pair, value)
    each), relative to it: an upper bound on what rounding can do there (0 where it cannot be
    measured: then nothing is put down to rounding)."""
    rng = np.random.default_rng(len(sampler.used))
    env = dict(env)
    for name in sampler.typed.free_symbols():
        v = env[name]
        if isinstance(v, (np.ndarray, float, int)):
            env[name] = v * (1 + NUDGE * rng.uniform(-1.0, 1.0, np.shape(v)))
    try:
        for name, value in sampler.typed.bindings:
            env[name] = evaluate_checked(value, env, draw.sizes)
        return max(rel_gap(value_checked(pair, env, draw.sizes), v) for pair, v in (a, b))
    except (Undefined, ArithmeticError, ValueError):
        return 0.0


def mirror(draw, sampler, programs):
    """The draw with every unrestricted symbol negated (where the programs are defined there):
    a claim right only for one sign of the data (|x| for x) fails at one of the two points."""
    env = dict(draw.env)
    free = [n for n in sampler.typed.free_symbols() if n not in sampler.restricted]
    if not free:
        return None
    for n in free:
        env[n] = -env[n]
    try:
        for name, value in sampler.typed.bindings:
            env[name] = evaluate_checked(value, env, draw.sizes)
        values = [value_checked(p, env, draw.sizes) for p in programs]
    except Undefined:
        return None
    return env, values[-1]


def numeric_equal(a_pair, b_pair, typed_prog, trials=3, seed=7, indices=()) -> float:
    """The largest relative gap of a against b on random data (inf where a is undefined)."""
    c = compare_numerically(a_pair, b_pair, typed_prog, (), trials, seed, indices)
    return c.rel_error if c.undefined is None else float("inf")


def derive_typed(t, wrt: str, layout: str, order: int, flatten: bool) -> Result:
    """The derivative from an already typed formula (no second parse)."""
    try:
        return derive(t, wrt, layout, order, flatten, False)
    except McalcError as e:
        raise e.with_source(t.source)


def formula_pair(correct: Result):
    return ((), correct.function)


@limits.budgeted
def check(expr: str, wrt: str, claim: str, where=None, layout: str = "mixed", order: int = 1,
          flatten: bool = False) -> CheckResult:
    """Decide whether `claim` is the derivative of `expr` with respect to `wrt`: exactly where
    canonical forms agree, otherwise on random data (see mcalc.verify.Sampler)."""
    if layout not in LAYOUTS:
        raise UsageError(f"unknown layout {layout!r}; choose mixed, numerator or denominator")
    if order not in (1, 2):
        raise UsageError(f"--order must be 1 or 2, not {order}")
    if len(split_wrt(wrt)) != 1:
        raise UsageError("check takes one variable")
    return check_typed(typed(expr, where), wrt, claim, layout, order, flatten)


def check_typed(t, wrt: str, claim: str, layout: str, order: int, flatten: bool) -> CheckResult:
    correct = derive_typed(t, wrt, layout, order, flatten)
    notes = []
    if correct.tensor is not None and not flatten:       # the language has no 3- or 4-index arrays
        flatten, indices = True, len(correct.tensor[0]) + len(correct.tensor[1])
        correct = derive_typed(t, wrt, layout, order, True)
        notes.append(f"a {indices}-index derivative is checked in its flattened form, the matrix --flatten "
                     f"prints: {correct.text}")
    self_check(correct)
    tc = typed_claim(claim, correct)
    written, _ = inline(tc)
    written = with_units(written, correct)
    return decide(t, correct, claim, tc.body.shape, simplify_(written), layout, order, flatten, notes, written)


def self_check(correct: Result) -> None:
    """The engine's own derivative against finite differences: a failure is a bug (exit 3)."""
    v = verify(correct, trials=2)
    if v.conclusive and not v.ok:
        raise InternalError(f"the engine's own derivative {correct.text} failed verification against finite "
                            f"differences (relative error {v.max_rel_error:.1e}); this is a bug, please report it")


def simplify_(node):
    return simplify(node)


def difference_text(a, b) -> str:
    """a - b in its shortest form."""
    plain = tidy(add(a, neg(b)))
    expanded = tidy(expand(plain))
    return min((render_text(plain), render_text(expanded)), key=len)


def decide(t, correct: Result, claim: str, claim_shape, claim_node, layout, order, flatten, notes,
           written=None) -> CheckResult:
    """`claim_node` is the simplified claim, `written` the claim as written (bindings inlined):
    the numbers are taken from what was written, so that a simplification (x.^(1/2) ./ x.^(1/2)
    to ones) cannot hide where the claim is undefined."""
    want_node, _ = inline_result(correct)
    shape_ok = squeeze(claim_shape) == squeeze(correct.shape)
    base_prog = correct.typed
    indices = tuple(zip(correct.entry, correct.var_shape)) if correct.entry and not correct.stack else ()
    ref = [formula_pair(correct)]

    def compare(a, b) -> Comparison:
        return compare_numerically(([], a), ([], b), base_prog, ref, indices=indices)

    written = claim_node if written is None else written

    def same(node) -> Comparison:
        return compare(written, node)

    difference = None
    if shape_ok:
        exact = tidy(claim_node) == tidy(want_node)
        if exact:
            try:                       # the same canonical form; still, is it defined where f is?
                cmp = same(want_node)
                cmp = cmp if cmp.undefined else Comparison(0.0, cmp.sampled)
            except LimitError:         # sizes too large to draw: the canonical form decides
                cmp = Comparison(0.0)
        else:
            cmp = same(want_node)
        if cmp.equal:
            how = "same canonical form" if exact else f"equal on {cmp.sampled}"
            return CheckResult(True, claim, claim_shape, correct, exact=exact, max_rel_error=cmp.rel_error,
                               notes=notes, message=f"the claim is the derivative ({how})", sampled=cmp.sampled)
        difference = difference_text(claim_node, want_node)
        if cmp.undefined:
            msg = f"the claim is not defined everywhere the formula is: {cmp.undefined}"
        else:
            msg = f"the claim differs from the derivative on random data ({cmp.sampled})"
        rel = cmp.rel_error
    else:
        msg = (f"the claim has shape {fmt_shape(claim_shape)} but the {layout}-layout derivative has shape "
               f"{fmt_shape(correct.shape)}")
        rel = None
    other = None
    for lay in LAYOUTS:
        if lay == layout:
            continue
        alt = derive_typed(t, correct.wrt, lay, order, flatten) if not correct.entry else None
        if alt is None or squeeze(alt.shape) != squeeze(claim_shape):
            continue
        alt_node, _ = inline_result(alt)
        if same(alt_node).equal:
            other = lay
            break
    transposed = False
    if other is None and not shape_ok and len(correct.shape) == 2 and \
            squeeze(claim_shape) == squeeze(tuple(reversed(correct.shape))):
        transposed = same(transpose(want_node)).equal
    if other:
        msg += f"; this is the {other}-layout derivative"
    elif transposed:
        msg += "; it is the transpose of the derivative"
    if shape_ok:
        notes = notes + symmetric_notes(correct, claim_node, want_node, compare)
    return CheckResult(False, claim, claim_shape, correct, difference, other, msg, notes=notes,
                       max_rel_error=rel)


def symmetric_notes(correct: Result, claim_node, want_node, compare) -> list[str]:
    """For a symmetric variable: name the unconstrained and the Cookbook forms of a wrong claim."""
    info = correct.typed.symbols.get(correct.wrt)
    if info is None or not info.symmetric or correct.function.shape != (1, 1) or correct.order != 1:
        return []
    X = correct.wrt
    why = (f"{X} is symmetric, so the gradient is taken on symmetric matrices: sym(G) = (G + Gᵀ)/2 of an "
           f"unconstrained gradient G")
    sym_claim = mul(num(Fraction(1, 2)), add(claim_node, transpose(claim_node)))
    if compare(sym_claim, want_node).equal:
        return [why + "; the claim is such a G (right for an unconstrained X, which has other directions)"]
    n = correct.var_shape[0]
    cookbook = add(mul(num(2), want_node), neg(hadamard(want_node, Identity(shape=(n, n)))))
    if compare(claim_node, cookbook).equal:
        return [why + "; the claim is the Cookbook's G + Gᵀ − G∘I, which is not a gradient: its inner product "
                      "with a symmetric direction counts each off-diagonal entry twice (Srinivasan & Panda, "
                      "arXiv:1911.06491)"]
    return [why]


# ---- mcalc equal: two expressions as functions of their symbols ------------------------------
@dataclass
class EqualResult:
    ok: bool
    lhs: str
    rhs: str
    lhs_shape: tuple
    rhs_shape: tuple
    message: str
    difference: str | None = None          # rhs - lhs in its shortest form
    exact: bool = False
    max_rel_error: float | None = None
    sampled: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "✓ equal" if self.ok else "✗ not equal"

    def __repr__(self) -> str:
        return f"<mcalc equal {self.verdict}: {self.lhs} vs {self.rhs}>"

    def _repr_latex_(self) -> str:
        """The notebook form: the two sides with = or ≠, and what the verdict rests on."""
        relation = "=" if self.ok else r"\neq"
        how = "same canonical form" if self.exact else self.sampled
        return (f"$${latex(self.lhs)} {relation} {latex(self.rhs)}"
                + (rf"\quad \text{{({how})}}" if how else "") + "$$")

    def to_json(self) -> dict:
        from .render.json import shape_list
        return {"ok": self.ok, "lhs": self.lhs, "rhs": self.rhs, "lhs_shape": shape_list(self.lhs_shape),
                "rhs_shape": shape_list(self.rhs_shape), "message": self.message,
                "difference": self.difference, "exact": self.exact, "max_rel_error": self.max_rel_error,
                "sampled": self.sampled, "notes": self.notes}


def typed_pair(lhs: str, rhs: str, where=None):
    """Both sides typed together (one set of symbols, dimensions unified across both), or a
    ShapeError when they cannot share their symbols' shapes. Each side is first typed alone,
    so that bad input on either side is reported against its own text."""
    tl = typed(lhs, where)
    tr = typed(rhs, where)
    a, b = tl.program, tr.program
    b_bindings, renamed = local_bindings(b, {n for n, i in tl.symbols.items() if i.kind == "bound"})
    whole = Span(0, 0)
    decls = a.decls + tuple(d for d in b.decls if d not in a.decls)
    bindings = a.bindings + b_bindings + (Binding("_lhs", a.body, whole), Binding("_rhs", rename(b.body, renamed), whole))
    # first with the left side's shapes, so that what the right side leaves open (a bare 0 or
    # I) takes them; then with every dimension free, unified across both sides
    anchored = tuple(Decl(name, info.shape, info.symmetric, whole) for name, info in tl.symbols.items()
                     if info.kind == "symbol") + (Decl("_rhs", tl.body.shape, False, whole),)
    try:
        return tl, tr, infer(Program(decls + anchored, bindings, Sym("_lhs", span=whole), lhs, tuple(tl.dims)))
    except McalcError:
        return tl, tr, infer(Program(decls, bindings, Sym("_lhs", span=whole), lhs, tuple(tl.dims) + tuple(tr.dims)))


@limits.budgeted
def equal(lhs: str, rhs: str, where=None) -> EqualResult:
    """Are lhs and rhs equal as functions of their symbols (same shape, same value wherever
    either is defined)? Exactly where canonical forms agree, otherwise on random data."""
    try:
        tl, tr, t = typed_pair(lhs, rhs, where)
    except McalcError as e:
        if e.exit_code != 2 or not isinstance(e, ShapeError):
            raise
        return EqualResult(False, lhs, rhs, (), (), f"the two sides cannot have the same symbols: {e.message}")
    _, values = inline(t)
    t = replace(t, bindings=())             # both sides are inlined: no binding is drawn on its own
    left, right = simplify_(values["_lhs"]), simplify_(values["_rhs"])
    if squeeze(left.shape) != squeeze(right.shape):
        return EqualResult(False, lhs, rhs, left.shape, right.shape,
                           f"the two sides have different shapes: {fmt_shape(left.shape)} and {fmt_shape(right.shape)} "
                           f"(with " + ", ".join(f"{n}: {fmt_shape(i.shape)}" for n, i in t.free_symbols().items()) + ")")
    if tidy(left) == tidy(right):
        return EqualResult(True, lhs, rhs, left.shape, right.shape, "the two sides are equal (same canonical form)",
                           exact=True, max_rel_error=0.0)
    forward = compare_numerically(([], right), ([], left), t)
    backward = compare_numerically(([], left), ([], right), t) if forward.equal else forward
    difference = difference_text(right, left)
    if forward.equal and backward.equal:
        return EqualResult(True, lhs, rhs, left.shape, right.shape,
                           f"the two sides are equal (equal on {forward.sampled})",
                           max_rel_error=max(forward.rel_error, backward.rel_error), sampled=forward.sampled)
    if forward.undefined or backward.undefined:
        side, why = ("the right side", forward.undefined) if forward.undefined else ("the left side", backward.undefined)
        msg = f"{side} is not defined everywhere the other is: {why}"
    else:
        msg = f"the two sides differ on random data ({forward.sampled})"
    return EqualResult(False, lhs, rhs, left.shape, right.shape, msg, difference,
                       max_rel_error=forward.rel_error, sampled=forward.sampled)


# ---- derivations, line by line --------------------------------------------------------------
@dataclass
class LineCheck:
    """One line of a derivation: what it must equal (the function f, its differential df, or
    the derivative), and whether it does."""
    number: int
    text: str
    role: str                         # "function" | "differential" | "derivative"
    ok: bool
    message: str
    difference: str | None = None

    def to_json(self) -> dict:
        return {"line": self.number, "text": self.text, "role": self.role, "ok": self.ok,
                "message": self.message, "difference": self.difference}


def differential_name(var: str) -> str:
    return "d" + var


def spell_differential(line: str, var: str) -> str:
    """`d(X)` is the differential dX: rewritten to the symbol dX, padded to the same length so
    that a caret still points at the line as written."""
    def same_length(m):
        word = differential_name(var)
        return (" " + word).ljust(len(m.group(0)))
    return re.sub(rf"(?<![A-Za-z0-9_]){re.escape('d')}\(\s*{re.escape(var)}\s*\)", same_length, line)


def check_derivation(t, wrt: str, lines: list[str], layout: str = "mixed", order: int = 1,
                     flatten: bool = False) -> tuple[list[LineCheck], CheckResult]:
    """Each line but the last rewrites f (it must equal f) or, where it contains dX, is the
    differential (it must equal the engine's df, dX a symbol of X's shape); the last line is
    the claim, decided as `check` decides it."""
    if not lines:
        raise UsageError("a derivation needs at least one line (the claim)")
    result = check_typed(t, wrt, spell_differential(lines[-1], wrt), layout, order, flatten)
    correct = result.correct
    f = correct.function
    var = correct.wrt
    info = correct.typed.symbols[var]
    dname = differential_name(var)
    dsym = Sym(dname, shape=info.shape)
    df = None
    out = []
    for k, raw in enumerate(lines[:-1], start=1):
        text = spell_differential(raw, var)
        tl = typed_claim(text, correct, shape=f.shape, extra={dname: (info.shape, info.symmetric)})
        written, _ = inline(tl)
        node = simplify_(written)
        if any(isinstance(m, Sym) and m.name == dname for m in walk_nodes(written)):
            if df is None:
                df = simplify_(substitute_delta(differential(f, var, info.shape), dsym))
            want, role, what = df, "differential", f"the differential df = {render(df)}"
        else:
            want, role, what = f, "function", f"the function f = {render(f)}"
        if squeeze(node.shape) != squeeze(want.shape):
            out.append(LineCheck(k, raw, role, False, f"line {k} has shape {fmt_shape(node.shape)}, "
                                                   f"{what} has shape {fmt_shape(want.shape)}"))
            continue
        if tidy(node) == tidy(want):
            out.append(LineCheck(k, raw, role, True, f"line {k} is {what.split(' = ')[0]} (same canonical form)"))
            continue
        cmp = compare_numerically(([], node), ([], want), replace(tl, bindings=()), [((), f)])
        if cmp.equal:
            out.append(LineCheck(k, raw, role, True, f"line {k} is {what.split(' = ')[0]} (equal on {cmp.sampled})"))
        else:
            why = f"not defined everywhere f is: {cmp.undefined}" if cmp.undefined else \
                f"it differs on random data ({cmp.sampled})"
            out.append(LineCheck(k, raw, role, False, f"line {k} is not {what}: {why}",
                                 difference_text(node, want)))
    n = len(lines)
    out.append(LineCheck(n, lines[-1], "derivative", result.ok, f"line {n} (the claim): {result.message}",
                         result.difference))
    return out, result


def walk_nodes(node):
    return walk(node)


def render(node) -> str:
    return render_text(node)


def inline_result(r: Result):
    node, values = inline_bindings(r.bindings, r.node)
    return simplify(node), values


def squeeze(shape) -> tuple:
    return tuple(shape)


# ---- homework files --------------------------------------------------------------------------
PROBLEM_KEYS = {"name", "expr", "wrt", "claim", "steps", "layout", "order", "where", "flatten", "points"}


@dataclass
class Problem:
    name: str
    expr: str
    wrt: str
    claim: str
    layout: str
    order: int
    where: list[str]
    flatten: bool
    line: int
    points: float = 1
    steps: list[str] = field(default_factory=list)
    error: str | None = None           # malformed: why (the problem is an error row, not graded)
    where_: str = ""                   # "FILE, line N, problem K ('name')"


@dataclass
class Outcome:
    problem: Problem
    result: CheckResult | None
    error: str | None = None
    lines: list[LineCheck] = field(default_factory=list)     # a derivation's lines (steps = [...])
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.result is not None and self.result.ok and all(l.ok for l in self.lines)

    @property
    def earned(self) -> float:
        return self.problem.points if self.ok else 0

    @property
    def broken_line(self) -> LineCheck | None:
        """The first line of a derivation that breaks."""
        return next((l for l in self.lines if not l.ok), None)

    def to_json(self) -> dict:
        out = {"name": self.problem.name, "ok": self.ok, "error": self.error, "points": self.problem.points,
               "earned": self.earned, "seconds": round(self.seconds, 4)}
        if self.result is not None:
            out.update(self.result.to_json())
        if self.lines:
            out["steps"] = [l.to_json() for l in self.lines]
        return out


class HomeworkError(McalcError):
    exit_code = 2


def read_homework(path: str) -> str:
    try:
        raw = open(path, "rb").read()
    except OSError as e:
        raise HomeworkError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise HomeworkError(f"{path}: not a text file (its bytes are not UTF-8)",
                            hint="a homework file is TOML text: [[problem]] tables with name, expr, wrt and claim") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HomeworkError(f"{path}: not a text file (not UTF-8 at byte {e.start})",
                            hint="a homework file is TOML: [[problem]] tables with expr, wrt and claim") from None
    if "\x00" in text:
        raise HomeworkError(f"{path}: not a text file (it contains NUL bytes)",
                            hint="a homework file is TOML: [[problem]] tables with expr, wrt and claim")
    return text


def load_homework(path: str) -> list[Problem]:
    """A TOML file: [defaults] (layout, where, order, flatten) and [[problem]] tables with name,
    expr, wrt, claim (or steps, whose last line is the claim) and optionally layout, order,
    where, flatten, points. A malformed problem is kept, with its error, so that every other
    one is still graded; a file that cannot be read as TOML at all is a HomeworkError."""
    import tomllib
    text = read_homework(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise HomeworkError(f"{path}: not valid TOML: {e}") from None
    lines = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip().startswith("[[problem")]
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise HomeworkError(f"{path}: [defaults] must be a table")
    problems = data.get("problem", data.get("problems"))
    if not isinstance(problems, list) or not problems:
        raise HomeworkError(f"{path}: no [[problem]] tables found",
                            hint="each problem is a [[problem]] table with name, expr, wrt and claim")
    return [load_problem(p, i, lines[i] if i < len(lines) else 0, path, defaults) for i, p in enumerate(problems)]


def load_problem(p, i: int, line: int, path: str, defaults: dict) -> Problem:
    name = str(p.get("name", f"problem {i + 1}")) if isinstance(p, dict) else f"problem {i + 1}"
    where_ = f"{path}, line {line}, problem {i + 1}" + (f" ({p.get('name')!r})" if isinstance(p, dict) and p.get("name") else "")
    blank = Problem(name, "", "", "", "mixed", 1, [], False, line, where_=where_)
    try:
        return replace(parse_problem(p, defaults), name=name, line=line, where_=where_)
    except HomeworkError as e:
        return replace(blank, error=e.message)


def parse_problem(p, defaults: dict) -> Problem:
    if not isinstance(p, dict):
        raise HomeworkError("a problem must be a table")
    steps = p.get("steps", [])
    if not (isinstance(steps, list) and all(isinstance(s, str) and s.strip() for s in steps)):
        raise HomeworkError("'steps' must be a list of non-empty strings")
    for key in ("expr", "wrt") + (() if steps else ("claim",)):
        if not isinstance(p.get(key), str) or not p.get(key).strip():
            raise HomeworkError(f"missing or empty '{key}'")
    if "claim" in p and (not isinstance(p["claim"], str) or not p["claim"].strip()):
        raise HomeworkError("missing or empty 'claim'")
    unknown = set(p) - PROBLEM_KEYS
    if unknown:
        raise HomeworkError(f"unknown key(s) {', '.join(sorted(unknown))}")
    layout = p.get("layout", defaults.get("layout", "mixed"))
    if layout not in LAYOUTS:
        raise HomeworkError(f"unknown layout {layout!r}")
    order = p.get("order", defaults.get("order", 1))
    if type(order) is not int or order not in (1, 2):          # not true, not 2.0
        raise HomeworkError("order must be 1 or 2")
    flatten = p.get("flatten", defaults.get("flatten", False))
    if not isinstance(flatten, bool):
        raise HomeworkError("flatten must be true or false")
    points = p.get("points", defaults.get("points", 1))
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0 or points != points:
        raise HomeworkError("points must be a number ≥ 0")
    lists = []
    for w in (defaults.get("where", []), p.get("where", [])):
        if isinstance(w, str):
            w = [w]
        if not (isinstance(w, list) and all(isinstance(x, str) for x in w)):
            raise HomeworkError("'where' must be a string or a list of strings")
        lists.append([part for x in w for part in re.split(r"[;\n]", x) if part.strip()])
    own = {part.split(":")[0].strip() for part in lists[1]}
    # a problem's own declaration of a name replaces the default one
    where = [part for part in lists[0] if part.split(":")[0].strip() not in own] + lists[1]
    claim = p.get("claim", "")
    if steps and claim and claim.strip() != steps[-1].strip():
        steps = steps + [claim]            # the claim is the derivation's last line
    return Problem("", p["expr"], p["wrt"], claim or steps[-1], layout, order, where, flatten, 0, points, list(steps))


def grade(p: Problem) -> Outcome:
    """One problem: its claim, and its derivation line by line where it has one."""
    start = time.perf_counter()
    if p.error is not None:
        return Outcome(p, None, p.error)
    try:
        if p.steps:
            lines, r = check_derivation(typed(p.expr, p.where), p.wrt, p.steps, p.layout, p.order, p.flatten)
        else:
            lines, r = [], check(p.expr, p.wrt, p.claim, where=p.where, layout=p.layout, order=p.order,
                                 flatten=p.flatten)
        return Outcome(p, r, lines=lines, seconds=time.perf_counter() - start)
    except McalcError as e:
        message = " ".join(e.lines()[:1]).replace("mcalc: error: ", "")
        if e.exit_code == 3:
            message = "internal error: " + message
        return Outcome(p, None, message, seconds=time.perf_counter() - start)


def run_homework(problems: list[Problem]) -> list[Outcome]:
    return [grade(p) for p in problems]








def junit_xml(outcomes: list[Outcome], suite: str, file_error: str | None = None) -> str:
    from xml.sax.saxutils import escape, quoteattr
    failures = sum(1 for o in outcomes if o.error is None and not o.ok)
    errors = sum(1 for o in outcomes if o.error is not None) + (1 if file_error else 0)
    total = sum(o.seconds for o in outcomes)
    possible = sum(o.problem.points for o in outcomes)
    earned = sum(o.earned for o in outcomes)
    rows = ['<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuites><testsuite name={quoteattr(suite)} tests="{len(outcomes) + (1 if file_error else 0)}" '
            f'failures="{failures}" errors="{errors}" time="{total:.3f}">',
            '  <properties>',
            f'    <property name="points" value="{points_text(possible)}"/>',
            f'    <property name="earned" value="{points_text(earned)}"/>',
            '  </properties>']
    if file_error:
        rows.append(f'  <testcase classname={quoteattr(suite)} name={quoteattr(suite)} time="0.000">')
        rows.append(f'    <error message={quoteattr(file_error)}/>')
        rows.append('  </testcase>')
    for o in outcomes:
        p = o.problem
        rows.append(f'  <testcase classname={quoteattr(suite)} name={quoteattr(p.name)} time="{o.seconds:.3f}">')
        rows.append('    <properties>')
        rows.append(f'      <property name="points" value="{points_text(p.points)}"/>')
        rows.append(f'      <property name="earned" value="{points_text(o.earned)}"/>')
        rows.append('    </properties>')
        if o.error is not None:
            rows.append(f'    <error message={quoteattr(o.error)}>{escape(p.where_ + ": " + o.error)}</error>')
        elif not o.ok:
            message = o.broken_line.message if o.broken_line is not None else o.result.message
            body = "\n".join([f"claim: {p.claim}"] + wrong_details(o) + [o.result.message])
            rows.append(f'    <failure message={quoteattr(message)}>{escape(body)}</failure>')
        rows.append('  </testcase>')
    rows.append('</testsuite></testsuites>')
    return "\n".join(rows) + "\n"
