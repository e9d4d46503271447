"""The console script: a command line in, an exit status out. Reads the arguments into an
Options object, calls the command, writes what `present` returns. No mathematics and no
formatting here, and no click or typer on the common path.

Two readers of a command line, one set of declarations. cli.py declares every command and
option for typer, which reads any command line with click's rules, writes --help and shell
completion, and says what is wrong with a bad one in mcalc's words. Importing click and typer
is about a third of a one-liner's time, so a command line that is plainly well formed is read
here instead, against a table of each command's parameters made from cli.py's app:

- it names a command and then gives only that command's own options, each once (repeatable
  ones as often as wanted), spelled as --help shows them (`--wrt x`, `--wrt=x`, `-w x`), with
  a value where one is needed, a listed choice or a whole number where one is asked for, and
  exactly the command's positional arguments;
- anything else (--help, --version, no command, a misspelling, a bundle of short options, a
  missing or bad value, a repeated option, shell completion) goes to typer, unread here.

The table is made from the typer app, the first time a command line needs it, and kept in
the cache under a key of cli.py's text, the installed typer and click, and how the table is
made, so an edited cli.py or a new typer is never read with an old table; where the cache cannot be written, every command line goes
to typer. The two readers agree on every command line this one accepts (tests/test_cli_fast.py
reads thousands both ways), and both hand the same plain values to console.execute.
"""
from __future__ import annotations

import gc
import io
import marshal
import os
import sys

from .console import execute

try:
    from _blake2 import blake2b          # built in: no OpenSSL to load (hashlib's costs ~3 ms)
except ImportError:                      # pragma: no cover - a Python built without it
    from hashlib import blake2b

TABLE_FORMAT = "1"       # how the table is made and read; a change here makes every key new


# ---- reading a command line ----------------------------------------------------------------------
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


def read(table: dict, argv: list[str]) -> tuple[str, dict] | None:
    """(command, plain parameter values) for a command line in the plain form the module's
    docstring describes; None for anything else (typer reads it). table: command → list of
    (name, kind, option strings, negative option strings, value type, multiple, required, default),
    kind "argument", "flag" or "option", value type "str", "int" or a tuple of the choices."""
    if not argv or argv[0] not in table:
        return None
    params = table[argv[0]]
    by_option = {}
    for p in params:
        for o in p[2]:
            by_option[o] = (p, True)
        for o in p[3]:
            by_option[o] = (p, False)
    values: dict = {}
    positional: list[str] = []
    rest = argv[1:]
    i, options_end = 0, False
    while i < len(rest):
        a = rest[i]
        i += 1
        if options_end or a == "-" or not a.startswith("-"):
            positional.append(a)
            continue
        if a == "--":
            options_end = True
            continue
        name, eq, value = a.partition("=") if a.startswith("--") else (a, "", "")
        hit = by_option.get(name)
        if hit is None:
            return None
        p, on = hit
        pname, kind, _, _, vtype, multiple, _, _ = p
        if kind == "flag":
            if eq or pname in values:
                return None
            values[pname] = on
            continue
        if not eq:
            if i >= len(rest):
                return None
            value = rest[i]
            i += 1
        if vtype == "int":
            if not (value.isascii() and value.isdigit()):
                return None
            value = int(value)
        elif isinstance(vtype, tuple) and value not in vtype:
            return None
        if multiple:
            values.setdefault(pname, []).append(value)
        elif pname in values:
            return None
        else:
            values[pname] = value
    arguments = [p for p in params if p[1] == "argument"]
    if len(positional) != len(arguments):
        return None
    for p, value in zip(arguments, positional):
        values[p[0]] = value
    out = {}
    for pname, kind, _, _, _, multiple, required, default in params:
        if pname in values:
            out[pname] = tuple(values[pname]) if multiple else values[pname]
        elif required:
            return None
        else:
            out[pname] = default
    return argv[0], out


# ---- the table, kept in the cache ------------------------------------------------------------------
def cache_dir() -> str:
    return os.path.join(os.path.expanduser("~"), ".cache", "mcalc")


def table_path() -> str | None:
    """Where the table for this cli.py is kept; None when cli.py cannot be read."""
    try:
        with open(os.path.join(os.path.dirname(__file__), "cli.py"), "rb") as f:
            source = f.read()
    except OSError:
        return None
    stamp = f"{TABLE_FORMAT}\0{sys.version}\0{installed('typer')}\0{installed('click')}\0".encode()
    digest = blake2b(stamp + source, digest_size=10)
    return os.path.join(cache_dir(), f"cli_{digest.hexdigest()}.marshal")


def installed(package: str) -> str:
    """The size and time of the installed package's __init__.py, where the import system would
    find it on sys.path: a new typer or click (which could read cli.py's declarations otherwise)
    makes a new table, without importing either to ask its version."""
    for entry in sys.path:
        try:
            st = os.stat(os.path.join(entry or ".", package, "__init__.py"))
        except OSError:
            continue
        return f"{st.st_size}:{st.st_mtime_ns}"
    return ""


def load_table(path: str | None) -> dict | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            table = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return table if isinstance(table, dict) else None


def save_table(path: str, table: dict) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(marshal.dumps(table))
        os.replace(tmp, path)
    except OSError:
        pass
    finally:
        if os.path.exists(tmp):
            try:
                os.remove(tmp)
            except OSError:
                pass


def run_argv(argv: list[str]) -> int:
    """Run one command line; its exit code."""
    argv = formula_args(argv)
    path = table_path() if "_MCALC_COMPLETE" not in os.environ else None
    table = load_table(path)
    plain = read(table, argv) if table is not None else None
    if plain is not None:
        return execute(*plain)
    from . import cli
    code = cli.run_app(argv)
    if table is None and path is not None:
        save_table(path, cli.table())
    return code


# ---- the console script --------------------------------------------------------------------------
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
