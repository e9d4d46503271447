"""The command line's declarations: every command and option, for typer, which reads any command
line with click's rules, writes --help and shell completion, and words usage errors as mcalc
does. The commands themselves run in console.py (console.execute), on plain values; main.py also
reads the plainly well-formed command lines itself, from a table made here (`table`), so that
a one-liner does not import click or typer."""
from __future__ import annotations

import copy
import inspect
import os
import sys
from difflib import get_close_matches
from enum import Enum
from typing import Annotated, Optional

import click
import typer
from typer.core import TyperGroup

from . import __version__, console
from .layout import LAYOUTS

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


def plain(value):
    """A value as console.execute takes it: a choice by its name, a repeated option as a tuple."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return tuple(value)
    return value


def finish(name: str, params: dict) -> None:
    """Run the command on the values typer read (console.execute does the work and the errors)."""
    raise typer.Exit(console.execute(name, {k: plain(v) for k, v in params.items()}))


def command(**settings):
    """A command, its help's example lines kept as written."""
    return app.command(**settings)


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
    finish("diff", locals())


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
    finish("hessian", locals())


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
    finish("shape", locals())


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
    finish("latex", locals())


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
    finish("check", locals())


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
    finish("equal", locals())


@command(short_help="The matrix-calculus cheat sheet, computed by the engine, and its differential rules.")
def rules(layout: LayoutOpt = Layout.mixed, format: Fmt = None, standalone: Standalone = False):
    """The matrix-calculus cheat sheet, computed by the engine, and its differential rules.

    \b
    Examples:
      mcalc rules
      mcalc rules --layout numerator --format latex --standalone
    """
    finish("rules", locals())


@command()
def functions(format: Fmt = None):
    """The functions and operators a formula may use.

    \b
    Examples:
      mcalc functions
      mcalc functions --format json
    """
    finish("functions", locals())


# ---- the slow reader: click's rules, for any command line ------------------------------------
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


def run_app(argv: list[str]) -> int:
    """Run one command line through typer (main.run_argv sends here what it does not read
    itself); its exit code."""
    try:
        app_for(argv)(args=argv, prog_name="mcalc")
    except SystemExit as e:
        if isinstance(e.code, int) or e.code is None:
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    return 0


def table() -> dict:
    """Each command's parameters, for main.read: (name, kind, option strings, negative option
    strings, value type, multiple, required, default), kind "argument", "flag" or "option", the
    value type "str", "int" or the tuple of choices, the default as console.execute takes it (the
    signature's). A command whose parameters are not all of these plain kinds is left out, so
    typer reads every command line that names it."""
    group = typer.main.get_command(app)
    functions = {typer.main.get_command_name(i.callback.__name__): i.callback for i in app.registered_commands}
    out = {}
    for name, cmd in group.commands.items():
        signature = inspect.signature(functions[name]).parameters
        params = [describe(p, signature.get(p.name)) for p in cmd.params]
        if all(p is not None for p in params):
            out[name] = params
    return out


def describe(p: click.Parameter, sig) -> tuple | None:
    """One parameter for the table; None when main.read could not read it as click does."""
    if sig is None or p.nargs != 1 or p.envvar or p.callback is not None or not p.expose_value:
        return None
    default = None if sig.default is sig.empty else plain(sig.default)
    if isinstance(p, click.Argument):
        return (p.name, "argument", (), (), "str", False, True, default) if p.type is click.STRING else None
    if not isinstance(p, click.Option) or p.count or p.prompt or p.is_eager:
        return None
    if p.is_flag:
        # a boolean flag: its options say yes, its --no- options no (a lone flag that defaults
        # to True would be click's "not the default": not read here)
        if not p.is_bool_flag or p.multiple or not (p.secondary_opts or default is False):
            return None
        return (p.name, "flag", tuple(p.opts), tuple(p.secondary_opts), "bool", False, p.required, default)
    if isinstance(p.type, click.Choice):
        if not p.type.case_sensitive:
            return None
        vtype = tuple(str(c.value if isinstance(c, Enum) else c) for c in p.type.choices)
    elif p.type is click.INT:
        vtype = "int"
    elif p.type is click.STRING:
        vtype = "str"
    else:
        return None
    if p.secondary_opts:
        return None
    return (p.name, "option", tuple(p.opts), (), vtype, bool(p.multiple), p.required, default)
