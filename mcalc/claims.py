"""Is a claimed derivative right? Exactly where canonical forms agree, otherwise on random
data of random sizes (non-square, non-symmetric wherever the shapes allow, so that a
transposition mistake shows)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from . import limits
from .api import LAYOUTS, Result, diff, inline
from .errors import InternalError, LimitError, McalcError, ShapeError, Span, UsageError
from .dims import dim_names
from .nodes import Node, Sym
from .nodes import replace as replace_node
from .parse import Binding, Decl, Program, parse_program
from .shapes import fmt_shape, infer


@dataclass
class CheckResult:
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

    @property
    def verdict(self) -> str:
        return "✓ correct" if self.ok else "✗ wrong"

    def __repr__(self) -> str:
        from .present import as_text
        return as_text(self, "repr")

    def _repr_latex_(self) -> str:
        from .present import as_text
        return as_text(self, "notebook")

    def to_json(self) -> dict:
        from .render.json import shape_list
        return {"ok": self.ok, "claim": self.claim, "claim_shape": shape_list(self.claim_shape),
                "correct": self.correct.text, "shape": shape_list(self.correct.shape),
                "layout": self.correct.layout, "difference": self.difference,
                "other_layout": self.other_layout, "message": self.message,
                "exact": self.exact, "max_rel_error": self.max_rel_error, "notes": self.notes}


def typed_claim(claim: str, result: Result):
    """Type the claim in the formula's context: its symbols with their shapes, its bindings."""
    t = result.typed
    try:
        own = parse_program(claim, known=t.program.functions)
    except McalcError as e:
        raise e.with_source(claim)
    decls = [Decl(name, info.shape, info.symmetric, Span(0, 0))
             for name, info in t.symbols.items() if info.kind == "symbol"]
    decls += [Decl(name, shape, False, Span(0, 0)) for name, shape in unit_names(result).items()]
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
    expected = Program(tuple(decls) + (Decl("_claim", result.shape, False, Span(0, 0)),),
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
               if info.kind == "symbol" and n not in t.symbols and n not in unit_names(result)]
    if unknown:
        raise ShapeError(f"the claim uses {', '.join(unknown)}, which the formula does not", None).with_source(claim)
    return tc


def rename(node: Node, names: dict[str, str]) -> Node:
    from .nodes import map_children
    if not names:
        return node

    def sub(n):
        return replace_node(n, name=names[n.name]) if isinstance(n, Sym) and n.name in names else map_children(n, sub)
    return sub(node)


def local_bindings(own: Program, taken: set[str]) -> tuple[tuple, dict[str, str]]:
    """The claim's bindings are its own: one that reuses a name of the formula (mcalc's own text
    `h = tanh(W x); …` for a formula that binds h) is renamed h′ in the claim. Returns the
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
    from .nodes import Unit, map_children
    names = unit_names(result)
    if not names:
        return node

    def sub(n):
        if isinstance(n, Sym) and n.name in names:
            return Unit(n.name[2:], shape=names[n.name], span=n.span)
        return map_children(n, sub)
    return sub(node)


def numeric_equal(a_nodes, b_nodes, typed_prog, trials=3, seed=7, tol=1e-6, indices=()):
    """Evaluate two results (bindings, node) on the same random data; the largest relative gap.
    `indices` are (name, dimension) of free entry indices (--wrt X[i,j]): each draw picks them."""
    import numpy as np
    from .evaluate import evaluate
    from .verify import dim_value, pick_sizes, sample, too_large
    from .nodes import Size, walk
    rng = np.random.default_rng(seed)
    worst = 0.0
    # sizes the claim leaves open (a bare I inside sum(...)) are drawn like any other
    dims = set(typed_prog.dims)
    for _, node in (a_nodes, b_nodes):
        for n in walk(node):
            dims.update(d for d in (n.shape or ()) + ((n.name,) if isinstance(n, Size) else ()) if isinstance(d, str))
    for _ in range(trials):
        sizes = pick_sizes(sorted(dims), rng)
        too_big = too_large(typed_prog, None, sizes)
        if too_big:
            raise LimitError(f"cannot compare the claim on random data: {too_big}")
        for attempt in range(20):
            env = sample(typed_prog, rng, sizes, [typed_prog.body] + [v for _, v in typed_prog.bindings])
            try:
                with np.errstate(all="raise"):
                    # a derivative w.r.t. a bound name may mention it: give it its bound value
                    for name, value in typed_prog.bindings:
                        env[name] = evaluate(value, env, sizes)
                    for name, d in indices:
                        env["_index_" + name] = int(rng.integers(dim_value(d, sizes)))
                    va = value_of(a_nodes, env, sizes, evaluate)
                    vb = value_of(b_nodes, env, sizes, evaluate)
                break
            except (FloatingPointError, np.linalg.LinAlgError, ZeroDivisionError):
                continue
        else:
            return float("inf")
        if va.size != vb.size:
            return float("inf")
        va = va.reshape(vb.shape)
        scale = max(1.0, float(np.max(np.abs(vb))) if vb.size else 1.0)
        worst = max(worst, float(np.max(np.abs(va - vb))) / scale if vb.size else 0.0)
    return worst


def value_of(pair, env, sizes, evaluate):
    bindings, node = pair
    env = dict(env)
    for name, value in bindings:
        env[name] = evaluate(value, env, sizes)
    return evaluate(node, env, sizes)


@limits.budgeted
def check(expr: str, wrt: str, claim: str, where=None, layout: str = "mixed", order: int = 1,
          flatten: bool = False) -> CheckResult:
    """Decide whether `claim` is the derivative of `expr` with respect to `wrt`."""
    from .render.text import render_text
    from .simplify import add, expand, neg, simplify, tidy, transpose
    correct = diff(expr, wrt, where=where, layout=layout, order=order, flatten=flatten)
    if isinstance(correct, list):
        raise UsageError("check takes one variable")
    notes = []
    if correct.tensor is not None and not flatten:       # the language has no 3- or 4-index arrays
        flatten, indices = True, len(correct.tensor[0]) + len(correct.tensor[1])
        correct = diff(expr, wrt, where=where, layout=layout, order=order, flatten=True)
        notes.append(f"a {indices}-index derivative is checked in its flattened form, the matrix --flatten "
                     f"prints: {correct.text}")
    from .verify import verify
    v = verify(correct, trials=2)
    if v.conclusive and not v.ok:
        raise InternalError(f"the engine's own derivative {correct.text} failed verification against finite "
                            f"differences (relative error {v.max_rel_error:.1e}); this is a bug, please report it")
    tc = typed_claim(claim, correct)
    claim_node, _ = inline(tc)
    claim_node = simplify(with_units(claim_node, correct))
    want_node, _ = inline_result(correct)
    shape_ok = squeeze(tc.body.shape) == squeeze(correct.shape)
    base_prog = correct.typed
    indices = tuple(zip(correct.entry, correct.var_shape)) if correct.entry and not correct.stack else ()
    if shape_ok:
        exact = tidy(claim_node) == tidy(want_node)
        err = 0.0 if exact else numeric_equal(([], claim_node), ([], want_node), base_prog, indices=indices)
        if exact or err < 1e-6:
            return CheckResult(True, claim, tc.body.shape, correct, exact=exact, max_rel_error=err, notes=notes,
                               message="the claim is the derivative" + (" (same canonical form)" if exact else
                                                                         " (equal on random data)"))
        difference = render_text(tidy(expand(add(claim_node, neg(want_node)))))
    else:
        difference = None
    other = None
    for lay in LAYOUTS:
        if lay == layout:
            continue
        alt = diff(expr, wrt, where=where, layout=lay, order=order, flatten=flatten)
        if squeeze(alt.shape) != squeeze(tc.body.shape):
            continue
        alt_node, _ = inline_result(alt)
        if numeric_equal(([], claim_node), ([], alt_node), base_prog, indices=indices) < 1e-6:
            other = lay
            break
    transposed = False
    if other is None and not shape_ok and len(correct.shape) == 2 and \
            squeeze(tc.body.shape) == squeeze(tuple(reversed(correct.shape))):
        transposed = numeric_equal(([], claim_node), ([], transpose(want_node)), base_prog, indices=indices) < 1e-6
    if not shape_ok:
        msg = (f"the claim has shape {fmt_shape(tc.body.shape)} but the {layout}-layout derivative has shape "
               f"{fmt_shape(correct.shape)}")
    else:
        msg = "the claim differs from the derivative on random data"
    if other:
        msg += f"; this is the {other}-layout derivative"
    elif transposed:
        msg += "; it is the transpose of the derivative"
    return CheckResult(False, claim, tc.body.shape, correct, difference, other, msg, notes=notes)


def inline_result(r: Result):
    from .api import inline_bindings
    from .simplify import simplify
    node, values = inline_bindings(r.bindings, r.node)
    return simplify(node), values


def squeeze(shape) -> tuple:
    return tuple(shape)


# ---- homework files --------------------------------------------------------------------------
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


@dataclass
class Outcome:
    problem: Problem
    result: CheckResult | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok


class HomeworkError(McalcError):
    exit_code = 2


def load_homework(path: str) -> list[Problem]:
    """A TOML file: [defaults] (layout, where, order) and [[problem]] tables with name, expr,
    wrt, claim and optionally layout, order, where, flatten."""
    import tomllib
    try:
        text = open(path, encoding="utf-8").read()
    except OSError as e:
        raise HomeworkError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise HomeworkError(f"{path}: not a text file (its bytes are not UTF-8)",
                            hint="a homework file is TOML text: [[problem]] tables with name, expr, wrt and claim") from None
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
    out = []
    for i, p in enumerate(problems):
        line = lines[i] if i < len(lines) else 0
        where_ = f"{path}, line {line}, problem {i + 1}" + (f" ({p.get('name')!r})" if isinstance(p, dict) and p.get("name") else "")
        if not isinstance(p, dict):
            raise HomeworkError(f"{where_}: a problem must be a table")
        for key in ("expr", "wrt", "claim"):
            if not isinstance(p.get(key), str) or not p.get(key).strip():
                raise HomeworkError(f"{where_}: missing or empty '{key}'")
        unknown = set(p) - {"name", "expr", "wrt", "claim", "layout", "order", "where", "flatten"}
        if unknown:
            raise HomeworkError(f"{where_}: unknown key(s) {', '.join(sorted(unknown))}")
        layout = p.get("layout", defaults.get("layout", "mixed"))
        if layout not in LAYOUTS:
            raise HomeworkError(f"{where_}: unknown layout {layout!r}")
        order = p.get("order", defaults.get("order", 1))
        if type(order) is not int or order not in (1, 2):          # not true, not 2.0
            raise HomeworkError(f"{where_}: order must be 1 or 2")
        flatten = p.get("flatten", defaults.get("flatten", False))
        if not isinstance(flatten, bool):
            raise HomeworkError(f"{where_}: flatten must be true or false")
        lists = []
        for w in (defaults.get("where", []), p.get("where", [])):
            if isinstance(w, str):
                w = [w]
            if not (isinstance(w, list) and all(isinstance(x, str) for x in w)):
                raise HomeworkError(f"{where_}: 'where' must be a string or a list of strings")
            lists.append([part for x in w for part in re.split(r"[;\n]", x) if part.strip()])
        own = {part.split(":")[0].strip() for part in lists[1]}
        # a problem's own declaration of a name replaces the default one
        where = [part for part in lists[0] if part.split(":")[0].strip() not in own] + lists[1]
        out.append(Problem(str(p.get("name", f"problem {i + 1}")), p["expr"], p["wrt"], p["claim"], layout,
                           order, where, flatten, line))
    return out


def run_homework(problems: list[Problem]) -> list[Outcome]:
    outcomes = []
    for p in problems:
        try:
            r = check(p.expr, p.wrt, p.claim, where=p.where, layout=p.layout, order=p.order, flatten=p.flatten)
            outcomes.append(Outcome(p, r))
        except McalcError as e:
            outcomes.append(Outcome(p, None, " ".join(e.lines()[:1]).replace("mcalc: error: ", "")))
    return outcomes


def junit_xml(outcomes: list[Outcome], suite: str) -> str:
    from xml.sax.saxutils import escape, quoteattr
    failures = sum(1 for o in outcomes if o.result is not None and not o.ok)
    errors = sum(1 for o in outcomes if o.result is None)
    rows = ['<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuites><testsuite name={quoteattr(suite)} tests="{len(outcomes)}" failures="{failures}" '
            f'errors="{errors}">']
    for o in outcomes:
        p = o.problem
        rows.append(f'  <testcase classname={quoteattr(suite)} name={quoteattr(p.name)}>')
        if o.result is None:
            rows.append(f'    <error message={quoteattr(o.error or "")}/>')
        elif not o.ok:
            body = (f"claim: {p.claim}\ncorrect ({p.layout} layout): {o.result.correct.text}\n"
                    f"{o.result.message}")
            rows.append(f'    <failure message={quoteattr(o.result.message)}>{escape(body)}</failure>')
        rows.append('  </testcase>')
    rows.append('</testsuite></testsuites>')
    return "\n".join(rows) + "\n"
