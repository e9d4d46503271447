"""Rich output for the terminal: the question, the result, its shape and layout, the
symbols, notes and LaTeX. Returns renderables; print_* write them to a Console."""
from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..layout import DESCRIPTIONS as LAYOUT_WORDS
from ..shapes import fmt_shape
from ..steps import function_name, identity_unicode
from .unicode import greek, render_unicode



def symbols_table(symbols) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("symbol")
    table.add_column("shape")
    table.add_column("")
    for name, info in symbols.items():
        how = {"bound": "bound", "size": "dimension"}.get(info.kind, "inferred" if info.inferred else "declared")
        extra = ", symmetric" if info.symmetric else ""
        table.add_row(Text(greek(name)), Text(fmt_shape(info.shape)), Text(how + extra))
    return table


def question(r) -> str:
    f = greek(function_name(r))
    x = greek(r.wrt)
    if r.order == 2:
        return f"∂²{f}/∂{x}∂{x}ᵀ"
    return f"∂{f}/∂{x}"


def result_renderable(r, v=None, steps=None):
    parts = []
    head = Text()
    head.append(question(r), style="bold cyan")
    head.append(f"   of   {render_unicode(r.typed.body) if not r.typed.bindings else r.input.strip()}")
    parts.append(head)
    parts.append(Text(""))
    if steps:
        for s in steps:
            line = Text()
            line.append(f"{s.rule}: ", style="dim")
            line.append(s.unicode)
            parts.append(line)
            if s.fired:
                parts.append(Text(f"    {s.fired_text}", style="dim"))
        parts.append(Text(""))
    body = Text()
    if r.tensor is not None and r.index is not None:
        body.append(r.index[1] + "\n", style="bold green")
        body.append("flattened ∂vec F/∂(vec X)ᵀ = ", style="dim")
    for name, value in r.bindings:
        body.append(f"{greek(name)} = {render_unicode(value)}\n")
    body.append(render_unicode(r.node), style="bold green" if r.index is None else "")
    parts.append(body)
    parts.append(Text(""))
    meta = Text()
    meta.append("shape  ", style="dim")
    meta.append(" × ".join(str(d) for d in r.shape))
    meta.append("\nlayout ", style="dim")
    meta.append(LAYOUT_WORDS[r.layout] + (", flattened (∂vec F/∂(vec X)ᵀ)" if r.flatten else ""))
    parts.append(meta)
    if v is not None and not v.conclusive:
        parts.append(Text(f"not verified: {v.reason}", style="yellow"))
    elif v is not None:
        parts.append(Text(("✓ verified" if v.ok else "✗ FAILED") +
                          f" against finite differences: max relative error {v.max_rel_error:.1e}",
                          style="green" if v.ok else "bold red"))
    for n in r.notes:
        parts.append(Text(f"note: {n}", style="yellow"))
    parts.append(Text(""))
    parts.append(symbols_table(r.symbols))
    # the LaTeX is written below the panel by the caller, as one plain line: inside the
    # border it would wrap, and a copied line would not be valid LaTeX
    return Panel(Group(*parts), title="mcalc", title_align="left", expand=False)


def latex_label() -> Text:
    return Text("LaTeX", style="dim")


def shape_renderable(res):
    t = res.typed
    parts = [Text.assemble(("shape ", "dim"), (fmt_shape(res.shape), "bold green"),
                           "   of   ", render_unicode(t.body)), Text(""), symbols_table(t.symbols)]
    return Panel(Group(*parts), title="mcalc shape", title_align="left", expand=False)


def console() -> Console:
    return Console(highlight=False)


def print_result(r, v=None, steps=None, out: Console | None = None):
    (out or console()).print(result_renderable(r, v, steps))


def print_shape(res, out: Console | None = None):
    (out or console()).print(shape_renderable(res))


def check_renderable(r):
    ok = r.ok
    parts = [Text(("✓ correct" if ok else "✗ wrong"), style="bold green" if ok else "bold red"),
             Text(r.message)]
    parts.append(Text.assemble(("claim       ", "dim"), render_claim(r)))
    parts.append(Text.assemble(("derivative  ", "dim"), (render_unicode(r.correct.node), "bold"),
                               f"   ({r.correct.layout} layout, {fmt_shape(r.correct.shape)})"))
    if not ok and r.difference:
        parts.append(Text.assemble(("difference  ", "dim"), r.difference))
    return Panel(Group(*parts), title="mcalc check", title_align="left", expand=False)


def render_claim(r) -> str:
    return r.claim


def homework_renderable(path, outcomes, summary: str | None = None):
    """The homework table. Every piece of user text is a Text, never markup: `[x]` and `[/b]`
    print as written."""
    from ..report import points_text, wrong_details
    table = Table(title=Text(f"mcalc check {path}"), title_justify="left")
    table.add_column("problem")
    table.add_column("points")
    table.add_column("verdict")
    table.add_column("where the claim is wrong: the correct answer, claim − derivative, the layout")
    for o in outcomes:
        pts = Text(f"{points_text(o.earned)}/{points_text(o.problem.points)}")
        if o.ok:
            table.add_row(Text(o.problem.name), pts, Text("✓", style="green"), "")
        elif o.error is not None:
            table.add_row(Text(o.problem.name), pts, Text("error", style="bold red"), Text(o.error))
        else:
            table.add_row(Text(o.problem.name), pts, Text("✗", style="bold red"), Text("\n".join(wrong_details(o))))
    failed = sum(1 for o in outcomes if not o.ok)
    summary = summary or f"{len(outcomes) - failed} passed, {failed} failed"
    return Group(table, Text(summary, style="bold red" if failed else "bold green"))


def print_check(r, out: Console | None = None):
    (out or console()).print(check_renderable(r))


def print_homework(path, outcomes, out: Console | None = None):
    (out or console()).print(homework_renderable(path, outcomes))


def print_rules(rows, diffs, layout, out: Console | None = None):
    (out or console()).print(rules_renderable(rows, diffs, layout))


def functions_renderable(functions, operators):
    tables = []
    for title, rows in (("functions", functions), ("operators", operators)):
        table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column()
        for name, what in rows:
            table.add_row(Text(name), Text(what))
        tables.append(table)
    return Group(tables[0], Text(""), tables[1])


def rules_renderable(rows, diffs, layout):
    table = Table(title=f"matrix calculus cheat sheet ({layout} layout), computed by the engine", title_justify="left")
    for col in ("", "identity", "function", "∂/∂", "derivative", "shape"):
        table.add_column(col)
    for r in rows:
        table.add_row(Text(r.section), Text(r.name), Text(r.formula), Text(r.wrt),
                      Text(render_unicode(r.result.node), style="green"), Text(" × ".join(map(str, r.result.shape))))
    rules = Table(title="differential rules", title_justify="left", show_header=False)
    rules.add_column()
    rules.add_column()
    for c, d in diffs:
        rules.add_row(Text(c), Text(identity_unicode(d)))
    return Group(table, rules)
