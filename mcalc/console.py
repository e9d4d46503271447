"""Running a command on plain values (strings, numbers, booleans, tuples, None), whichever
reader read its command line (main.read or typer, see main.py): the Options object made from
the values, the command called, what `present` returns written, every failure a message and
an exit status. No mathematics and no formatting here."""
from __future__ import annotations

import os
import sys

from .errors import McalcError, UsageError
from .present import Options, present


def options(wrt=(), where=(), layout="mixed", format=None, latex_env=None, latex_style="bold", **rest):
    return Options(wrt=tuple(wrt or ()), where=tuple(where or ()), layout=layout, format=pick_format(format),
                   latex_env=latex_env, latex_style=latex_style, **rest)


def pick_format(fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    return "rich" if sys.stdout.isatty() else "text"


def read_expr(expr: str) -> str:
    if expr == "-":
        return sys.stdin.read()
    return expr


def diff(expr, wrt, where, layout, order, flatten, stack, steps, verify, format, latex_env, standalone,
         latex_style, lhs):
    from . import commands
    opts = options(wrt, where, layout, format, latex_env, latex_style, order=order, flatten=flatten, stack=stack,
                   steps=steps, verify=verify, standalone=standalone, lhs=lhs)
    return commands.diff(read_expr(expr), opts, batch=expr == "-"), opts


def hessian(expr, wrt, where, layout, flatten, steps, verify, format, latex_env, standalone, latex_style, lhs):
    from . import commands
    opts = options(wrt, where, layout, format, latex_env, latex_style, order=2, flatten=flatten, steps=steps,
                   verify=verify, standalone=standalone, lhs=lhs)
    return commands.diff(read_expr(expr), opts, batch=expr == "-"), opts


def shape(expr, where, format):
    from . import commands
    opts = options(where=where, format=format)
    return commands.shape(read_expr(expr), opts), opts


def latex(expr, where, latex_env, standalone):
    from . import commands
    opts = options(where=where, format="latex", latex_env=latex_env, standalone=standalone)
    return commands.latex(read_expr(expr), opts), opts


def check(expr, wrt, claim, where, layout, order, flatten, junit, format):
    from . import commands
    opts = options(wrt, where, layout, format, order=order, flatten=flatten)
    if expr.endswith(".toml") and claim is None:
        return commands.homework(expr, junit), opts
    if claim is None or not wrt:
        raise UsageError("check needs --wrt and --claim (or a homework FILE.toml)")
    return commands.check(read_expr(expr), claim, opts), opts


def equal(lhs, rhs, where, format):
    from . import commands
    opts = options(where=where, format=format)
    return commands.equal(read_expr(lhs), rhs, opts), opts


def rules(layout, format, standalone):
    from . import commands
    opts = options(layout=layout, format=format, standalone=standalone)
    return commands.rules(opts), opts


def functions(format):
    from . import commands
    opts = options(format=format)
    return commands.functions(), opts


COMMANDS = {f.__name__: f for f in (diff, hessian, shape, latex, check, equal, rules, functions)}


def execute(name: str, params: dict) -> int:
    """Run the command `name` on plain parameter values (strings, numbers, booleans, tuples,
    None), write its output; the exit status. Every failure becomes a message and a status:
    an McalcError its own, anything unforeseen 3 (MCALC_DEBUG=1 shows the traceback)."""
    try:
        value, opts = COMMANDS[name](**params)
        return write(present(value, opts.format, opts))
    except McalcError as e:
        return fail(e)
    except RecursionError:
        return fail(McalcError("the formula is too deeply nested"))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:          # `mcalc ... | head -1`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())     # so that the flush at exit cannot fail again
        return 0
    except Exception as e:  # noqa: BLE001 - the one place that turns bugs into exit 3
        if os.environ.get("MCALC_DEBUG") == "1":
            import traceback
            traceback.print_exc()
        else:
            echo(f"mcalc: internal error ({type(e).__name__}: {str(e)[:120]}); please report it "
                 "(MCALC_DEBUG=1 shows the traceback)", err=True)
        return 3


def echo(line: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(line + "\n")
    stream.flush()


def write(output) -> int:
    """Write an Output: strings as they are (no markup, so LaTeX brackets survive), Rich
    renderables through a Console (which honours NO_COLOR). Returns the exit status."""
    con = None
    for stream, item in output.items:
        if isinstance(item, str):
            echo(item, err=stream == "err")
        else:
            if con is None:
                from .render.rich import console
                con = console()
            con.print(item)
    return output.status


def fail(e) -> int:
    if e.exit_code == 3:
        echo(f"mcalc: internal error: {e.message}", err=True)
        return 3
    for line in e.lines():
        echo(line, err=True)
    return e.exit_code
