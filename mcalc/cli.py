"""The command line: read options, call the API, pick a renderer, write. No mathematics here."""
from __future__ import annotations

import io
import json
import os
import sys
from enum import Enum
from typing import Annotated, Optional

import typer

from . import __version__, limits
from .errors import McalcError, UsageError
from .layout import LAYOUTS

app = typer.Typer(pretty_exceptions_enable=False, no_args_is_help=True, add_completion=False,
                  rich_markup_mode=None,
                  help="mcalc: matrix calculus on the command line.\n\n"
                       "Examples:\n\n"
                       "  mcalc diff \"x^T A x\" --wrt x\n\n"
                       "  mcalc diff \"1/N ||X w - y||^2\" --wrt w --where \"X: R^(N×D)\" --format latex\n\n"
                       "  mcalc shape \"x: R^n; A x + b\"")


# a formula may start with '-' ("-sum(...)"): take it as the argument, not as an option
FORMULA_ARGS = {"ignore_unknown_options": True}


class Format(str, Enum):
    rich = "rich"
    text = "text"
    latex = "latex"
    json = "json"
    numpy = "numpy"


Layout = Enum("Layout", {name: name for name in LAYOUTS}, type=str)     # mixed, numerator, denominator


class Env(str, Enum):
    inline = "inline"
    equation = "equation"
    align = "align"


class Style(str, Enum):
    bold = "bold"
    plain = "plain"


def version_callback(value: bool):
    if value:
        typer.echo(f"mcalc {__version__}")
        raise typer.Exit()


@app.callback()
def callback(version: Annotated[Optional[bool], typer.Option("--version", callback=version_callback,
                                                         is_eager=True, help="Show the version.")] = None):
    """mcalc: matrix calculus on the command line."""


Where = Annotated[Optional[list[str]], typer.Option("--where", "-w", help="Declarations, e.g. 'x: R^n; A: R^(n×n)'. Repeatable.")]
Wrt = Annotated[list[str], typer.Option("--wrt", help="Variable(s): x, 'x,y', 'x[i]', '(t,s)'. Repeatable.")]
Fmt = Annotated[Optional[Format], typer.Option("--format", "-f", help="rich (terminal default), text (piped default), latex, json, numpy.")]
LayoutOpt = Annotated[Layout, typer.Option("--layout", "-l", help="mixed (default), numerator or denominator.")]
EnvOpt = Annotated[Optional[Env], typer.Option("--latex-env", help="Wrap LaTeX in $…$, equation* or align*.")]
Standalone = Annotated[bool, typer.Option("--standalone", help="A complete LaTeX document.")]
StyleOpt = Annotated[Style, typer.Option("--latex-style", help="Vectors bold (default) or plain.")]


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def pick_format(fmt: Optional[Format]) -> Format:
    if fmt is not None:
        return fmt
    return Format.rich if stdout_is_terminal() else Format.text


def read_expr(expr: str) -> str:
    if expr == "-":
        return sys.stdin.read()
    return expr


def fail(e: McalcError) -> None:
    if e.exit_code == 3:
        typer.echo(f"mcalc: internal error: {e.message}", err=True)
        raise typer.Exit(3)
    for line in e.lines():
        typer.echo(line, err=True)
    raise typer.Exit(e.exit_code)


def internal(e: BaseException) -> None:
    if os.environ.get("MCALC_DEBUG") == "1":
        import traceback
        traceback.print_exc()
    else:
        typer.echo(f"mcalc: internal error ({type(e).__name__}: {str(e)[:120]}); please report it "
                   "(MCALC_DEBUG=1 shows the traceback)", err=True)
    raise typer.Exit(3)


def guarded(f):
    """Run a command body: McalcError → its message and exit code; anything else → exit 3."""
    import functools

    @functools.wraps(f)
    def run(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except McalcError as e:
            fail(e)
        except RecursionError:
            fail(McalcError("the formula is too deeply nested"))
        except KeyboardInterrupt:
            raise typer.Exit(130)
        except BrokenPipeError:          # `mcalc ... | head -1`: the reader has what it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())     # so that the flush at exit cannot fail again
            raise typer.Exit(0)
        except Exception as e:  # noqa: BLE001 - the one place that turns bugs into exit 3
            internal(e)
    return run


def wrap_latex(body: str, env: Optional[Env], standalone: bool) -> str:
    from .render.latex import document, wrap
    if standalone:
        return document(body, (env or Env.equation).value)
    return wrap(body, env.value) if env else body


def emit_notes(notes, fmt: Format) -> None:
    for n in notes:
        typer.echo(f"note: {n}", err=True)


def run_diff(expr: str, wrt: list[str], where, layout: Layout, order: int, flatten: bool, stack: bool,
             steps: bool, verify: bool, fmt: Optional[Format], env, standalone, style) -> int:
    from . import api
    text = read_expr(expr)
    fmt = pick_format(fmt)
    lines = [text]
    if expr == "-" and "\n" in text.strip():
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    status = 0
    outputs = []
    for line in lines:
        results = api.diff(line, wrt, where=where, layout=layout.value, order=order, flatten=flatten, stack=stack)
        results = results if isinstance(results, list) else [results]
        for r in results:
            v = None
            if verify:
                from .verify import verify as check_numerically
                v = check_numerically(r)
                if v.conclusive and not v.ok:
                    status = 1
            outputs.append((r, v))
    for r, v in outputs:
        write_result(r, v, fmt, steps, env, standalone, style, many=len(outputs) > 1)
    return status


@limits.budgeted
def write_result(r, v, fmt: Format, steps: bool, env, standalone: bool, style: Style, many: bool) -> None:
    step_list = None
    if steps:
        from .steps import derivation
        step_list = derivation(r)
    if fmt is Format.json:
        from .render.json import result_json
        obj = result_json(r, v, [s.to_json() for s in step_list] if step_list is not None else None)
        typer.echo(json.dumps(obj, ensure_ascii=False, indent=None if many else 2))
        return
    if fmt is Format.rich:
        from .render.rich import print_result
        print_result(r, v, step_list)
        return
    if fmt is Format.text:
        if step_list is not None:
            for s in step_list:
                typer.echo(f"{s.rule}: {s.text}")
        typer.echo(r.text)
    elif fmt is Format.latex:
        from .render.latex import render_latex_result
        if step_list is not None:
            from .steps import steps_latex
            typer.echo(wrap_latex(steps_latex(step_list), env or Env.align, standalone))
        else:
            typer.echo(wrap_latex(render_latex_result(r, style.value), env, standalone))
    elif fmt is Format.numpy:
        typer.echo(r.numpy, nl=False)
    emit_notes(r.notes, fmt)
    if v is not None and not v.conclusive:
        typer.echo(f"not verified: {v.reason}", err=True)
    elif v is not None:
        word = "verified" if v.ok else "FAILED verification"
        typer.echo(f"{word}: max relative error {v.max_rel_error:.1e} against finite differences "
                   f"({v.trials} random draws)", err=True)


@app.command(context_settings=FORMULA_ARGS)
@guarded
def diff(expr: Annotated[str, typer.Argument(help="The formula, or - for standard input.")],
         wrt: Wrt,
         where: Where = None,
         layout: LayoutOpt = Layout.mixed,
         order: Annotated[int, typer.Option("--order", help="1, or 2 for second derivatives.")] = 1,
         flatten: Annotated[bool, typer.Option("--flatten", help="Tensors as the matrix ∂vec F/∂(vec X)ᵀ.")] = False,
         stack: Annotated[bool, typer.Option("--stack", help="Tensors as seed 004's stacked partials.")] = False,
         steps: Annotated[bool, typer.Option("--steps", help="Show the derivation step by step.")] = False,
         verify: Annotated[bool, typer.Option("--verify", help="Check against finite differences.")] = False,
         format: Fmt = None,
         latex_env: EnvOpt = None,
         standalone: Standalone = False,
         latex_style: StyleOpt = Style.bold):
    """The derivative of EXPR with respect to --wrt."""
    status = run_diff(expr, wrt, where, layout, order, flatten, stack, steps, verify, format, latex_env,
                      standalone, latex_style)
    raise typer.Exit(status)


@app.command(context_settings=FORMULA_ARGS)
@guarded
def hessian(expr: Annotated[str, typer.Argument(help="The formula, or - for standard input.")],
            wrt: Wrt,
            where: Where = None,
            layout: LayoutOpt = Layout.mixed,
            flatten: Annotated[bool, typer.Option("--flatten", help="A matrix variable's Hessian as pq×pq.")] = False,
            steps: Annotated[bool, typer.Option("--steps")] = False,
            verify: Annotated[bool, typer.Option("--verify")] = False,
            format: Fmt = None,
            latex_env: EnvOpt = None,
            standalone: Standalone = False,
            latex_style: StyleOpt = Style.bold):
    """Second derivatives: diff --order 2."""
    status = run_diff(expr, wrt, where, layout, 2, flatten, False, steps, verify, format, latex_env,
                      standalone, latex_style)
    raise typer.Exit(status)


@app.command(context_settings=FORMULA_ARGS)
@guarded
def shape(expr: Annotated[str, typer.Argument(help="The formula, or - for standard input.")],
          where: Where = None,
          format: Fmt = None):
    """The shape of EXPR and of every symbol (inferred ones marked)."""
    from . import api
    res = api.shape(read_expr(expr), where)
    fmt = pick_format(format)
    if fmt is Format.json:
        from .render.json import shape_json
        typer.echo(json.dumps(shape_json(res), ensure_ascii=False, indent=2))
    elif fmt is Format.rich:
        from .render.rich import print_shape
        print_shape(res)
    elif fmt is Format.text:
        typer.echo(res.text)
        for name, info in res.symbols.items():
            from .shapes import fmt_shape
            mark = {"bound": " (bound)", "size": " (dimension)"}.get(info.kind, " (inferred)" if info.inferred else "")
            typer.echo(f"{name}: {fmt_shape(info.shape)}{mark}{' symmetric' if info.symmetric else ''}")
    else:
        raise UsageError(f"shape has no {fmt.value} format; use rich, text or json")
    if fmt is not Format.json:
        emit_notes(res.notes, fmt)


@app.command(context_settings=FORMULA_ARGS)
@guarded
def latex(expr: Annotated[str, typer.Argument(help="The formula, or - for standard input.")],
          where: Where = None,
          latex_env: EnvOpt = None,
          standalone: Standalone = False):
    """EXPR itself as LaTeX."""
    from . import api
    typer.echo(wrap_latex(api.latex(read_expr(expr), where), latex_env, standalone))


SHORT_OPTIONS = {"-w", "-f", "-l", "-c", "-h"}


def formula_args(argv: list[str]) -> list[str]:
    """A formula that starts with '-' ("-sum(y .* log(p))") is the argument, not a bundle of
    short options: move it behind '--'."""
    if "--" in argv:
        return argv
    out, formulas = [], []
    for i, a in enumerate(argv):
        prev = argv[i - 1] if i else ""
        takes_value = prev.startswith("-") and prev not in ("--flatten", "--stack", "--steps", "--verify",
                                                               "--standalone", "--version", "--help")
        if a.startswith("-") and not a.startswith("--") and a not in SHORT_OPTIONS and len(a) > 1 \
                and not (takes_value and not a[1:2].isalpha()) and not a[1:].replace(".", "").isdigit():
            formulas.append(a)
        else:
            out.append(a)
    return out + (["--"] + formulas if formulas else [])


class PipeSafe(io.RawIOBase):
    """A file descriptor whose writes cannot fail on a closed pipe: `mcalc check … | head -1`
    still finishes its work and exits 0, 1 or 2 as it would have, the rest of the output dropped."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd
        self.closed_pipe = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    def write(self, b) -> int:
        if not self.closed_pipe:
            try:
                return os.write(self.fd, b)
            except BrokenPipeError:
                self.closed_pipe = True
        return len(b)


def pipe_safe(stream):
    """stream, rewritten over a PipeSafe descriptor with the same encoding and buffering."""
    return io.TextIOWrapper(io.BufferedWriter(PipeSafe(stream.fileno())), encoding=stream.encoding,
                            errors=stream.errors, line_buffering=stream.line_buffering)


def run_argv(argv: list[str]) -> int:
    """Run one command line; its exit code."""
    try:
        app(args=formula_args(argv), prog_name="mcalc")
    except SystemExit as e:
        if isinstance(e.code, int) or e.code is None:
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    return 0


def run() -> None:
    """The console script."""
    import gc
    gc.set_threshold(100_000, 50, 100)    # a short-lived process: collect cycles rarely
    try:
        sys.stdout, sys.stderr = pipe_safe(sys.stdout), pipe_safe(sys.stderr)
    except (AttributeError, OSError, ValueError):     # not a real file (embedded, captured): leave it
        pass
    try:
        code = run_argv(sys.argv[1:])
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass
    # Everything is written: skip the interpreter's teardown (freeing every module and
    # object costs a one-liner about 20 ms; there is nothing left to clean up).
    os._exit(code)


@app.command(context_settings=FORMULA_ARGS)
@guarded
def check(expr: Annotated[str, typer.Argument(help="The formula (or - for standard input), or a homework FILE.toml.")],
          wrt: Annotated[Optional[list[str]], typer.Option("--wrt", help="The variable.")] = None,
          claim: Annotated[Optional[str], typer.Option("--claim", "-c", help="The claimed derivative.")] = None,
          where: Where = None,
          layout: LayoutOpt = Layout.mixed,
          order: Annotated[int, typer.Option("--order", help="1, or 2 for second derivatives.")] = 1,
          flatten: Annotated[bool, typer.Option("--flatten", help="Tensors as ∂vec F/∂(vec X)ᵀ.")] = False,
          junit: Annotated[Optional[str], typer.Option("--junit", help="Write JUnit XML here (homework files).")] = None,
          format: Fmt = None):
    """Is --claim the derivative? Exit 0 yes, 1 no. With a FILE.toml, grade a whole homework file."""
    fmt = pick_format(format)
    if expr.endswith(".toml") and claim is None:
        raise typer.Exit(check_file(expr, junit, fmt))
    if claim is None or not wrt:
        raise UsageError("check needs --wrt and --claim (or a homework FILE.toml)")
    from .claims import check as check_claim
    if len(wrt) != 1:
        raise UsageError("check takes one --wrt variable")
    r = check_claim(read_expr(expr), wrt[0], claim, where=where, layout=layout.value, order=order, flatten=flatten)
    if fmt is Format.json:
        typer.echo(json.dumps(r.to_json(), ensure_ascii=False, indent=2))
    elif fmt is Format.rich:
        from .render.rich import print_check
        print_check(r)
    else:
        typer.echo(f"{r.verdict}: {r.message}")
        typer.echo(f"derivative ({r.correct.layout} layout): {r.correct.text}")
        if not r.ok and r.difference:
            typer.echo(f"claim - derivative: {r.difference}")
    if fmt is not Format.json:
        emit_notes(r.notes, fmt)
    raise typer.Exit(0 if r.ok else 1)


def check_file(path: str, junit: Optional[str], fmt: Format) -> int:
    from .claims import junit_xml, load_homework, run_homework
    outcomes = run_homework(load_homework(path))
    if junit:
        try:
            with open(junit, "w", encoding="utf-8") as fh:
                fh.write(junit_xml(outcomes, os.path.basename(path)))
        except OSError as e:
            raise UsageError(f"cannot write {junit}: {e.strerror}") from None
    failed = sum(1 for o in outcomes if not o.ok)
    if fmt is Format.json:
        typer.echo(json.dumps({"file": path, "passed": len(outcomes) - failed, "failed": failed,
                               "problems": [{"name": o.problem.name, "ok": o.ok, "error": o.error,
                                             **(o.result.to_json() if o.result else {})} for o in outcomes]},
                              ensure_ascii=False, indent=2))
    elif fmt is Format.rich:
        from .render.rich import print_homework
        print_homework(path, outcomes)
    else:
        for o in outcomes:
            if o.ok:
                typer.echo(f"✓ {o.problem.name}")
            elif o.result is None:
                typer.echo(f"✗ {o.problem.name}: error: {o.error}")
            else:
                typer.echo(f"✗ {o.problem.name}: {o.result.message}; derivative: {o.result.correct.text}")
        typer.echo(f"{len(outcomes) - failed} passed, {failed} failed")
    return 0 if failed == 0 else 1


@app.command()
@guarded
def rules(layout: LayoutOpt = Layout.mixed, format: Fmt = None, standalone: Standalone = False):
    """The cheat sheet of seed 000, computed by the engine in a layout, and its differential rules."""
    from .rules_sheet import differential_rules, sheet
    fmt = pick_format(format)
    rows = sheet(layout.value)
    diffs = differential_rules()
    if fmt is Format.json:
        typer.echo(json.dumps({"layout": layout.value,
                               "identities": [{"section": r.section, "name": r.name, "function": r.formula,
                                               "wrt": r.wrt, "derivative": r.result.text,
                                               "shape": [str(d) for d in r.result.shape]} for r in rows],
                               "differentials": [{"node": c, "identity": d} for c, d in diffs]},
                              ensure_ascii=False, indent=2))
    elif fmt is Format.latex:
        from .steps import identity_latex
        lines = [f"\\text{{{r.name}}} &: \\frac{{\\partial}}{{\\partial {r.wrt}}}\\left({latex_of(r.formula)}\\right) = {r.result.latex}"
                 for r in rows]
        lines += [f"& {identity_latex(d)}" for _, d in diffs]
        typer.echo(wrap_latex(" \\\\\n".join(lines), Env.align, standalone))
    elif fmt is Format.rich:
        from .render.rich import print_rules
        print_rules(rows, diffs, layout.value)
    else:
        typer.echo(f"# {layout.value} layout")
        for r in rows:
            typer.echo(f"{r.section:10s} {r.name:30s} d/d{r.wrt} {r.formula}  =  {r.result.text}   [{'×'.join(map(str, r.result.shape))}]")
        typer.echo("# differential rules")
        for c, d in diffs:
            typer.echo(f"{c:12s} {d}")


def latex_of(formula: str) -> str:
    from . import api
    return api.latex(formula)
