"""The command line: read the arguments into an Options object, call the command, write what
`present` returns. No mathematics and no formatting here."""
from __future__ import annotations

import copy
import functools
import gc
import io
import os
import sys
import traceback
from difflib import get_close_matches
from enum import Enum
from typing import Annotated, Optional

import click
import typer
from typer.core import TyperGroup

from . import __version__
from .errors import McalcError, UsageError
from .layout import LAYOUTS
from .present import Options, Output, present


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


# ---- usage errors in mcalc's own words ------------------------------------------------------------
NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())   # `mcalc` alone: the help, as it is


class BadUsage(click.UsageError):
    """A usage error written like every other mcalc error: one line, a hint, exit 2."""

    def __init__(self, message: str, hint: str | None):
        super().__init__(message)
        self.hint = hint

    def show(self, file=None) -> None:
        click.echo(f"mcalc: error: {self.message}", err=True)
        if self.hint:
            click.echo(f"  hint: {self.hint}", err=True)


def plain_message(e: click.UsageError) -> click.UsageError:
    """Click's message, reworded: `no such option --formt; did you mean --format?`."""
    if isinstance(e, (BadUsage, NO_ARGS_IS_HELP)):
        return e
    where = e.ctx.command_path if e.ctx is not None else "mcalc"
    hint = f"see `{where} --help`"
    if isinstance(e, click.NoSuchOption):
        message = f"no such option {e.option_name}"
        if e.possibilities:
            message += f"; did you mean {e.possibilities[0]}?"
        return BadUsage(message, hint)
    text = e.format_message().split(". Did you mean")[0].rstrip(".")
    return BadUsage(text[:1].lower() + text[1:], hint)


class McalcGroup(TyperGroup):
    """Usage errors in mcalc's words, the command's did-you-mean said once."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as e:
            raise plain_message(e) from None

    def resolve_command(self, ctx, args):
        name = args[0] if args else ""
        if args and click.Group.get_command(self, ctx, name) is None and not name.startswith("-"):
            matches = get_close_matches(name, self.list_commands(ctx))
            raise BadUsage(f"no such command {name!r}" + (f"; did you mean {matches[0]!r}?" if matches else ""),
                           "see `mcalc --help` for the commands")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.UsageError as e:
            raise plain_message(e) from None


app = typer.Typer(cls=McalcGroup, pretty_exceptions_enable=False, no_args_is_help=True,
                  suggest_commands=False, rich_markup_mode=None,
                  help="mcalc: matrix calculus on the command line.\n\n"
                       "Examples:\n\n"
                       "  mcalc diff \"x^T A x\" --wrt x\n\n"
                       "  mcalc diff \"1/N ||X w - y||^2\" --wrt w --where \"X: R^(N×D)\" --format latex\n\n"
                       "  mcalc shape \"x: R^n; A x + b\"\n\n"
                       "`mcalc functions` lists the functions and operators; `mcalc COMMAND --help` "
                       "shows a command's options and examples.")


def version_callback(value: bool):
    if value:
        typer.echo(f"mcalc {__version__}")
        raise typer.Exit()


@app.callback()
def callback(version: Annotated[Optional[bool], typer.Option("--version", callback=version_callback,
                                                         is_eager=True, help="Show the version.")] = None):
    """mcalc: matrix calculus on the command line."""


Expr = Annotated[str, typer.Argument(help="The formula, or - for standard input (one formula per line).")]
Where = Annotated[Optional[list[str]], typer.Option("--where", "-w", help="Declarations, e.g. 'x: R^n; A: R^(n×n)'. Repeatable.")]
Wrt = Annotated[list[str], typer.Option("--wrt", help="Variable(s): x, 'x,y', 'x[i]', '(t,s)'. Repeatable.")]
Fmt = Annotated[Optional[Format], typer.Option("--format", "-f", help="rich (terminal default), text (piped default), latex, json, numpy.")]
LayoutOpt = Annotated[Layout, typer.Option("--layout", "-l", help="mixed (default), numerator or denominator.")]
EnvOpt = Annotated[Optional[Env], typer.Option("--latex-env", help="Wrap LaTeX in $…$, equation* or align*.")]
Standalone = Annotated[bool, typer.Option("--standalone", help="A complete LaTeX document.")]
StyleOpt = Annotated[Style, typer.Option("--latex-style", help="Vectors bold (default) or plain.")]
Lhs = Annotated[Optional[bool], typer.Option("--lhs/--no-lhs", help="Start the LaTeX with ∂L/∂W = (default with --standalone).", show_default=False)]
Steps = Annotated[bool, typer.Option("--steps", help="Show the derivation step by step.")]
Verify = Annotated[bool, typer.Option("--verify", help="Check against finite differences.")]


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def pick_format(fmt: Optional[Format]) -> str:
    if fmt is not None:
        return fmt.value
    return "rich" if stdout_is_terminal() else "text"


def read_expr(expr: str) -> str:
    if expr == "-":
        return sys.stdin.read()
    return expr


def options(wrt=(), where=None, layout: Layout = Layout.mixed, format: Optional[Format] = None,
            latex_env: Optional[Env] = None, latex_style: Style = Style.bold, **rest) -> Options:
    return Options(wrt=tuple(wrt or ()), where=tuple(where or ()), layout=layout.value, format=pick_format(format),
                   latex_env=latex_env.value if latex_env else None, latex_style=latex_style.value, **rest)


def write(output: Output) -> int:
    """Write an Output: strings with echo (no markup, so LaTeX brackets survive), Rich
    renderables through a Console (which honours NO_COLOR). Returns the exit status."""
    con = None
    for stream, item in output.items:
        if isinstance(item, str):
            typer.echo(item, err=stream == "err")
        else:
            if con is None:
                from .render.rich import console
                con = console()
            con.print(item)
    return output.status


def show(value, opts: Options) -> None:
    raise typer.Exit(write(present(value, opts.format, opts)))


def fail(e: McalcError) -> None:
    if e.exit_code == 3:
        typer.echo(f"mcalc: internal error: {e.message}", err=True)
        raise typer.Exit(3)
    for line in e.lines():
        typer.echo(line, err=True)
    raise typer.Exit(e.exit_code)


def internal(e: BaseException) -> None:
    if os.environ.get("MCALC_DEBUG") == "1":
        traceback.print_exc()
    else:
        typer.echo(f"mcalc: internal error ({type(e).__name__}: {str(e)[:120]}); please report it "
                   "(MCALC_DEBUG=1 shows the traceback)", err=True)
    raise typer.Exit(3)


def guarded(f):
    """Run a command body: McalcError → its message and exit code; anything else → exit 3."""

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


def command(**settings):
    """A command whose body runs guarded, with its help's example lines kept as written."""
    def register(f):
        return app.command(**settings)(guarded(f))
    return register


# ---- the commands ----------------------------------------------------------------------------------
@command()
def diff(expr: Expr,
         wrt: Wrt,
         where: Where = None,
         layout: LayoutOpt = Layout.mixed,
         order: Annotated[int, typer.Option("--order", help="1, or 2 for second derivatives.")] = 1,
         flatten: Annotated[bool, typer.Option("--flatten", help="A 3- or 4-index derivative as the matrix ∂vec F/∂(vec X)ᵀ.")] = False,
         stack: Annotated[bool, typer.Option("--stack", help="A 3- or 4-index derivative as the stacked partials ∂F/∂x_k.")] = False,
         steps: Steps = False,
         verify: Verify = False,
         format: Fmt = None,
         latex_env: EnvOpt = None,
         standalone: Standalone = False,
         latex_style: StyleOpt = Style.bold,
         lhs: Lhs = None):
    """The derivative of EXPR with respect to --wrt.

    \b
    Examples:
      mcalc diff "x^T A x" --wrt x
      mcalc diff "1/N ||X w - y||^2" --wrt w --where "X: R^(N×D)" --steps
      mcalc diff "A X B" --wrt X --layout numerator --format latex
    """
    from . import commands
    opts = options(wrt, where, layout, format, latex_env, latex_style, order=order, flatten=flatten, stack=stack,
                   steps=steps, verify=verify, standalone=standalone, lhs=lhs)
    show(commands.diff(read_expr(expr), opts, batch=expr == "-"), opts)


@command()
def hessian(expr: Expr,
            wrt: Wrt,
            where: Where = None,
            layout: LayoutOpt = Layout.mixed,
            flatten: Annotated[bool, typer.Option("--flatten", help="A matrix variable's Hessian as pq×pq.")] = False,
            steps: Steps = False,
            verify: Verify = False,
            format: Fmt = None,
            latex_env: EnvOpt = None,
            standalone: Standalone = False,
            latex_style: StyleOpt = Style.bold,
            lhs: Lhs = None):
    """Second derivatives: diff --order 2.

    \b
    Examples:
      mcalc hessian "x^T A x" --wrt x
      mcalc hessian "logsumexp(X w) - y^T X w" --wrt w --format latex
    """
    from . import commands
    opts = options(wrt, where, layout, format, latex_env, latex_style, order=2, flatten=flatten, steps=steps,
                   verify=verify, standalone=standalone, lhs=lhs)
    show(commands.diff(read_expr(expr), opts, batch=expr == "-"), opts)


@command()
def shape(expr: Expr,
          where: Where = None,
          format: Fmt = None):
    """The shape of EXPR and of every symbol (inferred ones marked).

    \b
    Examples:
      mcalc shape "x: R^n; A x + b"
      mcalc shape "1/N ||X w - y||^2" --where "X: R^(N×D)" --format json
    """
    from . import commands
    opts = options(where=where, format=format)
    show(commands.shape(read_expr(expr), opts), opts)


@command()
def latex(expr: Expr,
          where: Where = None,
          latex_env: EnvOpt = None,
          standalone: Standalone = False):
    """EXPR itself as LaTeX.

    \b
    Examples:
      mcalc latex "1/N ||X w - y||^2"
      mcalc latex "h = softmax(W1 x + b1); L = ||W2 h + b2 - y||^2" --standalone
    """
    from . import commands
    opts = options(where=where, format=Format.latex, latex_env=latex_env, standalone=standalone)
    show(commands.latex(read_expr(expr), opts), opts)


@command(short_help="Is --claim the derivative? (exit 0 yes, 1 no); grade a homework FILE.toml.")
def check(expr: Annotated[str, typer.Argument(help="The formula (or - for standard input), or a homework FILE.toml.")],
          wrt: Annotated[Optional[list[str]], typer.Option("--wrt", help="The variable.")] = None,
          claim: Annotated[Optional[str], typer.Option("--claim", "-c", help="The claimed derivative.")] = None,
          where: Where = None,
          layout: LayoutOpt = Layout.mixed,
          order: Annotated[int, typer.Option("--order", help="1, or 2 for second derivatives.")] = 1,
          flatten: Annotated[bool, typer.Option("--flatten", help="A 3- or 4-index derivative as ∂vec F/∂(vec X)ᵀ.")] = False,
          junit: Annotated[Optional[str], typer.Option("--junit", help="Write JUnit XML here (homework files).")] = None,
          format: Fmt = None):
    """Is --claim the derivative? Exit 0 yes, 1 no; a FILE.toml grades a homework file.

    \b
    Examples:
      mcalc check "x^T A x" --wrt x --claim "2 A x"
      mcalc check "tr(A X)" --wrt X --claim "A" --layout numerator
      mcalc check homework.toml --junit report.xml
    """
    from . import commands
    opts = options(wrt, where, layout, format, order=order, flatten=flatten)
    if expr.endswith(".toml") and claim is None:
        show(commands.homework(expr, junit), opts)
    if claim is None or not wrt:
        raise UsageError("check needs --wrt and --claim (or a homework FILE.toml)")
    show(commands.check(read_expr(expr), claim, opts), opts)


@command(short_help="Are two expressions equal as functions of their symbols? (exit 0 yes, 1 no)")
def equal(lhs: Annotated[str, typer.Argument(help="The left side (or - for standard input).")],
          rhs: Annotated[str, typer.Argument(help="The right side.")],
          where: Where = None,
          format: Fmt = None):
    """Are LHS and RHS equal as functions of their symbols? Exit 0 yes, 1 no (with the difference).

    \b
    Examples:
      mcalc equal "tr(A B)" "tr(B A)"
      mcalc equal "(A B)^T" "A^T B^T" --where "A: R^(n×n); B: R^(n×n)"
    """
    from . import commands
    opts = options(where=where, format=format)
    show(commands.equal(read_expr(lhs), rhs, opts), opts)


@command(short_help="The matrix-calculus cheat sheet, computed by the engine, and its differential rules.")
def rules(layout: LayoutOpt = Layout.mixed, format: Fmt = None, standalone: Standalone = False):
    """The matrix-calculus cheat sheet, computed by the engine, and its differential rules.

    \b
    Examples:
      mcalc rules
      mcalc rules --layout numerator --format latex --standalone
    """
    from . import commands
    opts = options(layout=layout, format=format, standalone=standalone)
    show(commands.rules(opts), opts)


@command()
def functions(format: Fmt = None):
    """The functions and operators a formula may use.

    \b
    Examples:
      mcalc functions
      mcalc functions --format json
    """
    from . import commands
    opts = options(format=format)
    show(commands.functions(), opts)


# ---- the console script -------------------------------------------------------------------------------
SHORT_OPTIONS = {"-w", "-f", "-l", "-c", "-h"}
FLAGS = {"--flatten", "--stack", "--steps", "--verify", "--standalone", "--lhs", "--no-lhs", "--version", "--help",
         "--install-completion", "--show-completion"}      # the options that take no value


def formula_args(argv: list[str]) -> list[str]:
    """A formula that starts with '-' ("-sum(y .* log_softmax(z))") is the argument, not a bundle of
    short options: move it behind '--'."""
    if "--" in argv:
        return argv
    out, formulas = [], []
    for i, a in enumerate(argv):
        prev = argv[i - 1] if i else ""
        takes_value = prev.startswith("-") and prev not in FLAGS
        if a.startswith("-") and not a.startswith("--") and a not in SHORT_OPTIONS and len(a) > 1 \
                and not takes_value and not a[1:].replace(".", "").isdigit():
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


def app_for(argv: list[str]) -> typer.Typer:
    """The app with only the command that argv names: typer turns every registered command's
    signature into click options at each start (about 1 ms a command), and a command line runs
    one. The whole app for anything else: no command, an option first (--help, --version), a
    misspelt command (its did-you-mean lists them all), shell completion."""
    name = argv[0] if argv else ""
    if "_MCALC_COMPLETE" in os.environ:
        return app
    infos = [i for i in app.registered_commands
             if (i.name or typer.main.get_command_name(i.callback.__name__)) == name]
    if len(infos) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands = infos
    return one


def run_argv(argv: list[str]) -> int:
    """Run one command line; its exit code."""
    try:
        app_for(argv)(args=formula_args(argv), prog_name="mcalc")
    except SystemExit as e:
        if isinstance(e.code, int) or e.code is None:
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    return 0


def run() -> None:
    """The console script."""
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


