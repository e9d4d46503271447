"""Presentation: one `present(value, format)` per result kind.

A command computes a value (derivatives, a shape, a check, a homework run, the rules sheet);
`present` turns it into an `Output`, the lines and Rich renderables to write to standard
output and standard error, in order, and the exit status. Nothing here prints: the CLI
writes the output, the Python API's reprs use the same presenters. Each kind registers one
function per format in `PRESENTERS`; a format a kind lacks is a usage error naming those it
has."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

from . import limits
from .errors import McalcError, UsageError

FORMATS = ("rich", "text", "latex", "json", "numpy")     # the --format values, in --help's order


@dataclass(frozen=True)
class Options:
    """Everything a command line asks for beyond its formula: how to compute, how to show."""
    wrt: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    layout: str = "mixed"
    order: int = 1
    flatten: bool = False
    stack: bool = False
    steps: bool = False
    verify: bool = False
    format: str = "text"
    latex_env: str | None = None
    standalone: bool = False
    latex_style: str = "bold"
    lhs: bool | None = None          # None: on with --standalone

    @property
    def with_lhs(self) -> bool:
        return self.standalone if self.lhs is None else self.lhs


@dataclass
class Output:
    """What to write, in order: ("out" | "err", a string or a Rich renderable); the exit status."""
    items: list[tuple[str, Any]] = field(default_factory=list)
    status: int = 0

    def out(self, item) -> None:
        self.items.append(("out", item))

    def err(self, line: str) -> None:
        self.items.append(("err", line))

    def error(self, e: McalcError, where: str = "") -> None:
        lines = e.lines()
        if where:
            lines[0] = lines[0].replace("mcalc: error: ", f"mcalc: error: {where}: ", 1)
        for line in lines:
            self.err(line)
        self.status = max(self.status, e.exit_code)


# ---- the value kinds that have no class of their own elsewhere --------------------------------
@dataclass
class Derivative:
    """One derivative, or the error of one line of a batch; with its --verify report, its steps."""
    result: Any = None
    verification: Any = None
    steps: list | None = None
    error: McalcError | None = None
    line: int | None = None          # the line of standard input it came from (batch mode)


@dataclass
class Derivatives:
    items: list[Derivative]

    @property
    def many(self) -> bool:
        return len(self.items) > 1


@dataclass
class Formula:
    """`mcalc latex`: the formula itself."""
    input: str
    latex: str


@dataclass
class Homework:
    path: str
    outcomes: list

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.ok)


@dataclass
class Sheet:
    """`mcalc rules`: the identities computed by the engine, and the differential rules."""
    layout: str
    rows: list
    diffs: list


@dataclass
class FunctionList:
    """`mcalc functions`: (name, what it is) per function and per operator."""
    functions: list[tuple[str, str]]
    operators: list[tuple[str, str]]


# ---- the registry -------------------------------------------------------------------------------
# keyed by class name, so that presenting a shape does not import the checker to register it
PRESENTERS: dict[str, dict[str, Callable]] = {}
KIND_WORDS: dict[str, str] = {}


def presents(kind: type | str, fmt: str, word: str | None = None):
    """Register the presenter of one kind (a class or its name) in one format."""
    name = kind if isinstance(kind, str) else kind.__name__

    def register(f):
        PRESENTERS.setdefault(name, {})[fmt] = f
        if word:
            KIND_WORDS[name] = word
        return f
    return register


def presenter(value, fmt: str) -> Callable:
    for cls in type(value).__mro__:
        table = PRESENTERS.get(cls.__name__)
        if table is None:
            continue
        if fmt in table:
            return table[fmt]
        have = [f for f in FORMATS if f in table]
        word = KIND_WORDS.get(cls.__name__, cls.__name__)
        raise UsageError(f"{word} has no {fmt} format; use {', '.join(have[:-1])} or {have[-1]}")
    raise TypeError(f"nothing presents a {type(value).__name__}")


def present(value, fmt: str, opts: Options = Options()) -> Output:
    """The output of value in a format (--format's values, and repr/notebook/html for the API)."""
    out = Output()
    presenter(value, fmt)(value, opts, out)
    return out


def as_text(value, fmt: str, opts: Options = Options()) -> str:
    """A presenter's standard output as one string (for reprs and notebooks)."""
    return "\n".join(str(item) for stream, item in present(value, fmt, opts).items if stream == "out")


class Presented:
    """A value the REPL and a notebook show through its presenters ("repr", "notebook"); the
    result classes (Result, ShapeResult, CheckResult) take these two methods from here."""
    __slots__ = ()

    def __repr__(self) -> str:
        return as_text(self, "repr")

    def _repr_latex_(self) -> str:
        return as_text(self, "notebook")


# ---- derivatives ---------------------------------------------------------------------------------
def latex_env(body: str, env: str | None, standalone: bool) -> str:
    from .render.latex import document, wrap
    if standalone:
        return document(body, env or "equation")
    return wrap(body, env) if env else body


def verification_line(v) -> str:
    if not v.conclusive:
        return f"not verified: {v.reason}"
    word = "verified" if v.ok else "FAILED verification"
    return (f"{word}: max relative error {v.max_rel_error:.1e} against finite differences "
            f"({v.sampled or f'{v.trials} random draws'})")


def each(value: Derivatives, out: Output, show: Callable) -> None:
    """show(derivative) for every result; a bad line of a batch is its error, with its line number."""
    for d in value.items:
        if d.error is not None:
            out.error(d.error, f"line {d.line}" if d.line is not None else "")
            continue
        with limits.budget():
            show(d)
        if d.verification is not None and d.verification.conclusive and not d.verification.ok:
            out.status = max(out.status, 1)


def side_notes(d: Derivative, out: Output) -> None:
    for n in d.result.notes:
        out.err(f"note: {n}")
    if d.verification is not None:
        out.err(verification_line(d.verification))


@presents(Derivatives, "text", "diff")
def diff_text(value: Derivatives, opts: Options, out: Output) -> None:
    def show(d):
        for s in d.steps or ():
            out.out(f"{s.rule}: {s.text}")
            if s.fired:
                out.out(f"    {s.fired_text}")
        out.out(d.result.text)
        side_notes(d, out)
    each(value, out, show)


@presents(Derivatives, "latex")
def diff_latex(value: Derivatives, opts: Options, out: Output) -> None:
    from .render.latex import render_latex_result
    from .steps import steps_latex

    def show(d):
        if d.steps is not None:
            out.out(latex_env(steps_latex(d.steps), opts.latex_env or "align", opts.standalone))
        else:
            body = render_latex_result(d.result, opts.latex_style, lhs=opts.with_lhs)
            out.out(latex_env(body, opts.latex_env, opts.standalone))
        side_notes(d, out)
    each(value, out, show)


@presents(Derivatives, "numpy")
def diff_numpy(value: Derivatives, opts: Options, out: Output) -> None:
    def show(d):
        out.out(d.result.numpy.removesuffix("\n"))
        side_notes(d, out)
    each(value, out, show)


@presents(Derivatives, "json")
def diff_json(value: Derivatives, opts: Options, out: Output) -> None:
    from .render.json import result_json

    def show(d):
        obj = result_json(d.result, d.verification,
                          [s.to_json() for s in d.steps] if d.steps is not None else None)
        out.out(json.dumps(obj, ensure_ascii=False, indent=None if value.many else 2))
    each(value, out, show)


@presents(Derivatives, "rich")
def diff_rich(value: Derivatives, opts: Options, out: Output) -> None:
    from .render.rich import latex_label, result_renderable

    def show(d):
        out.out(result_renderable(d.result, d.verification, d.steps))
        out.out(latex_label())
        out.out(d.result.latex)          # one plain line: copied from the terminal, it is valid LaTeX
    each(value, out, show)


# ---- shapes ----------------------------------------------------------------------------------------
def symbol_line(name, info) -> str:
    from .shapes import fmt_shape
    mark = {"bound": " (bound)", "size": " (dimension)"}.get(info.kind, " (inferred)" if info.inferred else "")
    return f"{name}: {fmt_shape(info.shape)}{mark}{' symmetric' if info.symmetric else ''}"


@presents("ShapeResult", "text")
def shape_text(res, opts: Options, out: Output) -> None:
    out.out(res.text)
    for name, info in res.symbols.items():
        out.out(symbol_line(name, info))
    shape_notes(res, out)


def shape_notes(res, out: Output) -> None:
    for n in getattr(res, "notes", ()):
        out.err(f"note: {n}")


@presents("ShapeResult", "json")
def shape_json(res, opts: Options, out: Output) -> None:
    from .render.json import shape_json as to_json
    out.out(json.dumps(to_json(res), ensure_ascii=False, indent=2))


# ---- the formula itself -----------------------------------------------------------------------------
@presents(Formula, "latex", "latex")
def formula_latex(value: Formula, opts: Options, out: Output) -> None:
    out.out(latex_env(value.latex, opts.latex_env, opts.standalone))


# ---- checks ------------------------------------------------------------------------------------------
@presents("CheckResult", "text")
def check_text(r, opts: Options, out: Output) -> None:
    out.out(f"{r.verdict}: {r.message}")
    out.out(f"derivative ({r.correct.layout} layout): {r.correct.text}")
    if not r.ok and r.difference:
        out.out(f"claim - derivative: {r.difference}")
    check_notes(r, out)


presents("CheckResult", "latex")(check_text)
presents("CheckResult", "numpy")(check_text)


@presents("CheckResult", "json")
def check_json(r, opts: Options, out: Output) -> None:
    out.out(json.dumps(r.to_json(), ensure_ascii=False, indent=2))
    out.status = 0 if r.ok else 1


def check_notes(r, out: Output) -> None:
    for n in r.notes:
        out.err(f"note: {n}")
    out.status = 0 if r.ok else 1


def rich_presenter(kind: str, word: str, renderable: str, notes: Callable) -> Callable:
    """The Rich presenter of a kind: the renderable render/rich.py builds for it (Rich is
    imported only when a terminal asks), then the kind's notes on stderr."""
    def show(value, opts: Options, out: Output) -> None:
        from .render import rich
        out.out(getattr(rich, renderable)(value))
        notes(value, out)
    return presents(kind, "rich", word)(show)


shape_rich = rich_presenter("ShapeResult", "shape", "shape_renderable", shape_notes)
check_rich = rich_presenter("CheckResult", "check", "check_renderable", check_notes)


# ---- mcalc equal -------------------------------------------------------------------------------------
@presents("EqualResult", "text", "equal")
def equal_text(r, opts: Options, out: Output) -> None:
    out.out(f"{r.verdict}: {r.message}")
    if not r.ok and r.difference:
        out.out(f"right - left: {r.difference}")
    for n in r.notes:
        out.err(f"note: {n}")
    out.status = 0 if r.ok else 1


presents("EqualResult", "rich")(equal_text)
presents("EqualResult", "latex")(equal_text)
presents("EqualResult", "numpy")(equal_text)


@presents("EqualResult", "json")
def equal_json(r, opts: Options, out: Output) -> None:
    out.out(json.dumps(r.to_json(), ensure_ascii=False, indent=2))
    out.status = 0 if r.ok else 1


# ---- homework files -----------------------------------------------------------------------------------
def homework_summary(h: Homework) -> str:
    from .report import points_text
    errors = sum(1 for o in h.outcomes if o.error is not None)
    wrong = sum(1 for o in h.outcomes if o.error is None and not o.ok)
    earned = sum(o.earned for o in h.outcomes)
    possible = sum(o.problem.points for o in h.outcomes)
    return (f"{len(h.outcomes) - wrong - errors} passed, {wrong} failed" + (f", {errors} malformed" if errors else "")
            + f"; points {points_text(earned)}/{points_text(possible)}")


def homework_errors(h: Homework, out: Output) -> None:
    from .report import homework_status
    for o in h.outcomes:
        if o.error is not None:
            out.err(f"mcalc: error: {o.problem.where_}: {o.error}")
    out.status = homework_status(h.outcomes)


@presents(Homework, "json", "a homework file")
def homework_json(h: Homework, opts: Options, out: Output) -> None:
    errors = sum(1 for o in h.outcomes if o.error is not None)
    out.out(json.dumps({"file": h.path, "passed": sum(1 for o in h.outcomes if o.ok),
                        "failed": h.failed - errors, "malformed": errors,
                        "points": sum(o.problem.points for o in h.outcomes),
                        "earned": sum(o.earned for o in h.outcomes),
                        "problems": [o.to_json() for o in h.outcomes]},
                       ensure_ascii=False, indent=2))
    homework_errors(h, out)


@presents(Homework, "rich")
def homework_rich(h: Homework, opts: Options, out: Output) -> None:
    from .render.rich import homework_renderable
    out.out(homework_renderable(h.path, h.outcomes, homework_summary(h)))
    homework_errors(h, out)


@presents(Homework, "text")
def homework_text(h: Homework, opts: Options, out: Output) -> None:
    from .report import points_text, wrong_details
    for o in h.outcomes:
        pts = f"[{points_text(o.earned)}/{points_text(o.problem.points)}]"
        if o.ok:
            out.out(f"✓ {o.problem.name} {pts}")
        elif o.error is not None:
            out.out(f"✗ {o.problem.name} {pts}: error: {o.error}")
        else:
            bad = o.broken_line
            head = o.result.message if bad is None or bad.role == "derivative" else \
                f"the derivation breaks at line {bad.number}"
            out.out(f"✗ {o.problem.name} {pts}: {head}")
            for d in wrong_details(o):
                out.out(f"    {d}")
    out.out(homework_summary(h))
    homework_errors(h, out)


presents(Homework, "latex")(homework_text)
presents(Homework, "numpy")(homework_text)


# ---- the rules sheet ------------------------------------------------------------------------------------
@presents(Sheet, "json", "rules")
def sheet_json(s: Sheet, opts: Options, out: Output) -> None:
    out.out(json.dumps({"layout": s.layout,
                        "identities": [{"section": r.section, "name": r.name, "function": r.formula,
                                        "wrt": r.wrt, "derivative": r.result.text,
                                        "shape": [str(d) for d in r.result.shape]} for r in s.rows],
                        "differentials": [{"node": c, "identity": d} for c, d in s.diffs]},
                       ensure_ascii=False, indent=2))


@presents(Sheet, "latex")
def sheet_latex(s: Sheet, opts: Options, out: Output) -> None:
    from .render.latex import latex_text, render_latex_program
    from .steps import identity_latex
    lines = [f"\\text{{{latex_text(r.name)}}} &: \\frac{{\\partial}}{{\\partial {r.wrt}}}"
             f"\\left({render_latex_program(r.result.typed)}\\right) = {r.result.latex}" for r in s.rows]
    lines += [f"& {identity_latex(d)}" for _, d in s.diffs]
    out.out(latex_env(" \\\\\n".join(lines), "align", opts.standalone))


@presents(Sheet, "rich")
def sheet_rich(s: Sheet, opts: Options, out: Output) -> None:
    from .render.rich import rules_renderable
    out.out(rules_renderable(s.rows, s.diffs, s.layout))


@presents(Sheet, "text")
def sheet_text(s: Sheet, opts: Options, out: Output) -> None:
    out.out(f"# {s.layout} layout")
    for r in s.rows:
        out.out(f"{r.section:10s} {r.name:30s} d/d{r.wrt} {r.formula}  =  {r.result.text}   "
                f"[{'×'.join(map(str, r.result.shape))}]")
    out.out("# differential rules")
    for c, d in s.diffs:
        out.out(f"{c:12s} {d}")


presents(Sheet, "numpy")(sheet_text)


# ---- the function list --------------------------------------------------------------------------------------
@presents(FunctionList, "text", "functions")
def functions_text(fl: FunctionList, opts: Options, out: Output) -> None:
    width = max(len(n) for n, _ in fl.functions + fl.operators)
    out.out("functions:")
    for name, what in fl.functions:
        out.out(f"  {name:{width}s}  {what}")
    out.out("operators:")
    for name, what in fl.operators:
        out.out(f"  {name:{width}s}  {what}")


@presents(FunctionList, "json")
def functions_json(fl: FunctionList, opts: Options, out: Output) -> None:
    out.out(json.dumps({"functions": dict(fl.functions), "operators": dict(fl.operators)},
                       ensure_ascii=False, indent=2))


@presents(FunctionList, "rich")
def functions_rich(fl: FunctionList, opts: Options, out: Output) -> None:
    from .render.rich import functions_renderable
    out.out(functions_renderable(fl.functions, fl.operators))


presents(FunctionList, "latex")(functions_text)
presents(FunctionList, "numpy")(functions_text)


# ---- the Python API: short reprs and notebook displays ---------------------------------------------------
def question(r) -> str:
    from .steps import function_name
    f = function_name(r)
    return f"∂²{f}/∂{r.wrt}∂{r.wrt}ᵀ" if r.order == 2 else f"∂{f}/∂{r.wrt}"


def dims(shape) -> str:
    return "×".join(map(str, shape))


@presents("Result", "repr", "a derivative")
def result_repr(r, opts: Options, out: Output) -> None:
    steps = "".join(f"\n  {s.rule}: {s.text}" for s in r.steps) if r.show_steps else ""
    out.out(f"<mcalc.diff {question(r)} = {r.text}  ({dims(r.shape)}, {r.layout} layout){steps}>")


@presents("Result", "notebook")
def result_notebook(r, opts: Options, out: Output) -> None:
    from .render.latex import render_latex_result
    from .steps import steps_latex
    if r.show_steps:
        out.out(f"$$\\begin{{aligned}}\n{steps_latex(r.steps)}\n\\end{{aligned}}$$")
    else:
        out.out(f"$${render_latex_result(r, lhs=True)}$$")


@presents("ShapeResult", "repr")
def shape_repr(res, opts: Options, out: Output) -> None:
    from .shapes import fmt_shape
    symbols = ", ".join(f"{name}: {fmt_shape(info.shape)}" for name, info in res.symbols.items())
    out.out(f"<mcalc.shape {fmt_shape(res.shape)} of {res.input.strip()}; {symbols}>")


def symbol_rows(res) -> list[tuple[str, str, str]]:
    from .shapes import fmt_shape
    rows = []
    for name, info in res.symbols.items():
        how = {"bound": "bound", "size": "dimension"}.get(info.kind, "inferred" if info.inferred else "declared")
        rows.append((name, fmt_shape(info.shape), how + (", symmetric" if info.symmetric else "")))
    return rows


@presents("ShapeResult", "notebook")
def shape_notebook(res, opts: Options, out: Output) -> None:
    from .render.latex import latex_text, symbol
    times = lambda text: latex_text(text).replace("×", r" \times ")  # noqa: E731
    rows = [f"{symbol(name, False)} & {times(shape)} & \\text{{{latex_text(how)}}}"
            for name, shape, how in symbol_rows(res)]
    head = f"\\text{{shape of }} {res.latex} & {times(res.text)} & \\\\ \\hline"
    out.out("$$\\begin{array}{lll}\n" + head + "\n" + " \\\\\n".join(rows) + "\n\\end{array}$$")


@presents("ShapeResult", "html")
def shape_html(res, opts: Options, out: Output) -> None:
    from html import escape
    rows = "".join(f"<tr><td><code>{escape(n)}</code></td><td>{escape(s)}</td><td>{escape(h)}</td></tr>"
                   for n, s, h in symbol_rows(res))
    out.out(f"<p>shape <b>{escape(res.text)}</b> of <code>{escape(res.input.strip())}</code></p>"
            f"<table><tr><th>symbol</th><th>shape</th><th></th></tr>{rows}</table>")


@presents("CheckResult", "repr")
def check_repr(r, opts: Options, out: Output) -> None:
    out.out(f"<mcalc.check {r.verdict}: {r.message}; derivative ({r.correct.layout} layout): {r.correct.text}>")


@presents("CheckResult", "notebook")
def check_notebook(r, opts: Options, out: Output) -> None:
    from .render.latex import latex_text, render_latex_result
    verdict = "correct" if r.ok else "wrong"
    lines = [f"&\\text{{{verdict}: {latex_text(r.message)}}}",
             f"&{render_latex_result(r.correct, lhs=True)}"]
    if not r.ok and r.difference:
        lines.append(f"&\\text{{claim $-$ derivative: }} \\texttt{{{latex_text(r.difference)}}}")
    out.out("$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$")
