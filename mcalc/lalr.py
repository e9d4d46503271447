"""The LALR parser for a grammar text, without lark's grammar machinery at start-up. The only
module that imports lark (parse.py reads the parser and lark's types from here).

Lark's standalone generator (`lark.tools.standalone`) writes one Python module holding lark's
LALR runtime and the grammar's tables. mcalc generates that module the first time it meets a
grammar text, into `~/.cache/mcalc/mcalc_lalr_<key>.py`, the key a digest of the text (the
text is made from the ops records by `parse.grammar_text()`, so a new record or a changed
grammar file gets its own module, and two versions of mcalc never overwrite each other's),
compiles it to byte code there, and from then on imports only it: about half of what
`import lark` plus lark's cached tables cost. When the cache cannot be written, lark itself
builds the parser in memory, with the same types and the same errors.
"""
from __future__ import annotations

import io
import os
import sys
from importlib.machinery import SourceFileLoader      # reads the byte code next to it
from types import ModuleType, SimpleNamespace

try:
    from _blake2 import blake2b          # built in: no OpenSSL to load (hashlib's costs ~3 ms)
except ImportError:                      # pragma: no cover - a Python built without it
    from hashlib import blake2b

OPTIONS = dict(parser="lalr", propagate_positions=True, start=["start", "decls"], maybe_placeholders=False)
FORMAT = "2"          # how the module is generated; a change here makes every key new


def key(text: str, keep: tuple[str, ...] = ()) -> str:
    """A digest of what the module is made from: the grammar text, the terminals kept for the
    postlexer, lark's version (a new lark makes a new module) and how it is generated."""
    return blake2b(f"{FORMAT}\0{lark_version()}\0{' '.join(keep)}\0{text}".encode(), digest_size=10).hexdigest()


def lark_version() -> str:
    """The installed lark's version, read from lark/__init__.py where the import system would
    find it on sys.path (importing lark, or importlib.metadata, would cost what the generated
    module saves); "" when it is not a plain file there."""
    for entry in sys.path:
        try:
            with open(os.path.join(entry or ".", "lark", "__init__.py"), encoding="utf-8") as f:
                head = f.read(8192)
        except OSError:
            continue
        for line in head.splitlines():
            if line.startswith("__version__"):
                return line.partition("=")[2].strip().strip("\"'")
        return ""
    return ""


def cache_dir() -> str:
    return os.path.join(os.path.expanduser("~"), ".cache", "mcalc")


def runtime(text: str, always_accept: tuple[str, ...] = ()):
    """The parser runtime for the grammar text: a module (or namespace) with Lark_StandAlone
    (keyword arguments: postlex, transformer) and lark's Token, Tree, Transformer, v_args and
    exception classes. always_accept: the terminals the postlexer reads that no rule uses
    (lark keeps them only when told)."""
    keep = tuple(sorted(always_accept))
    name = f"mcalc_lalr_{key(text, keep)}"
    if name in sys.modules:
        return sys.modules[name]
    path = os.path.join(cache_dir(), name + ".py")
    for _ in range(2):
        if not os.path.exists(path):
            try:
                generate(text, path, keep)
            except OSError:
                return in_memory(text)
        try:
            return load(name, path)
        except (OSError, SyntaxError, ValueError, EOFError, ImportError):
            sys.modules.pop(name, None)      # a damaged file: make it again, once
            try:
                os.remove(path)
            except OSError:
                return in_memory(text)
    return in_memory(text)


def load(name: str, path: str) -> ModuleType:
    pyc = os.path.join(os.path.dirname(path), "__pycache__", f"{name}.{sys.implementation.cache_tag}.pyc")
    if not os.path.exists(pyc):               # removed since: write it again, once
        try:
            import py_compile
            py_compile.compile(path, doraise=True)
        except Exception:  # noqa: BLE001 - the import compiles it in memory all the same
            pass
    loader = SourceFileLoader(name, path)
    module = ModuleType(name)
    module.__file__, module.__loader__ = path, loader
    sys.modules[name] = module               # the module's dataclasses look themselves up here
    loader.exec_module(module)
    if not callable(getattr(module, "Lark_StandAlone", None)):
        raise ImportError(f"{path} is not a generated parser")
    share_scanners(module)
    return module


# ---- the lexers' regular expressions, compiled once per terminal ---------------------------------
UNION_AFTER = 256     # tokens a state's scanner reads one terminal at a time before it compiles lark's union


def share_scanners(module: ModuleType) -> None:
    """Make the module's contextual lexer compile each terminal's regular expression once, for
    every parser state, instead of one union of its terminals per state: compiling those unions
    was most of a one-liner's first parse (about 2 ms a state, a few states a formula).

    The same tokens: lark's scanner matches `(?P<A>a)|(?P<B>b)|…`, the terminals in lark's
    order, and Python's alternation takes the first alternative that matches, each as it would
    alone (nothing follows it); trying the compiled terminals in that order and taking the first
    match is that. A scanner that has read UNION_AFTER tokens (a long batch on standard input)
    builds lark's union after all, which reads faster from then on. Left as lark made it where
    the module's Scanner is not the shape this knows (another lark version)."""
    base = getattr(module, "Scanner", None)
    if base is None or getattr(base, "_build_mres", None) is None or getattr(base, "shared", False):
        return

    compiled: dict[tuple[str, int], object] = {}

    class SharedScanner(base):
        shared = True

        def __init__(self, terminals, g_regex_flags, re_, use_bytes):
            self.terminals = terminals
            self.g_regex_flags = g_regex_flags
            self.re_ = re_
            self.use_bytes = use_bytes
            self.allowed_types = {t.name for t in terminals}
            self._mres = None
            self.reads = 0
            self.order = [(t.name, t.pattern.to_regexp()) for t in terminals]

        def regex(self, pattern: str):
            key = (pattern, self.g_regex_flags)
            rx = compiled.get(key)
            if rx is None:
                rx = compiled[key] = self.re_.compile(pattern.encode("latin-1") if self.use_bytes else pattern,
                                                      self.g_regex_flags)
            return rx

        def match(self, text, pos):
            if self._mres is not None:
                return base.match(self, text, pos)
            self.reads += 1
            if self.reads > UNION_AFTER:
                self._mres = self._build_mres(self.terminals, len(self.terminals))
                return base.match(self, text, pos)
            for name, pattern in self.order:
                m = self.regex(pattern).match(text.text, pos, text.end)
                if m:
                    return m.group(0), name
            return None

        def fullmatch(self, text: str):
            if self._mres is not None:
                return base.fullmatch(self, text)
            for name, pattern in self.order:
                if self.regex(pattern).fullmatch(text):
                    return name
            return None

    module.Scanner = SharedScanner


class Keep:
    """A stand-in postlexer for generating: lark keeps the terminals it always accepts."""

    def __init__(self, always_accept: tuple[str, ...]):
        self.always_accept = always_accept

    def process(self, stream):
        return stream


def generate(text: str, path: str, keep: tuple[str, ...] = ()) -> None:
    """Write the standalone module for text to path (atomically) and its byte code beside it
    (written even when PYTHONDONTWRITEBYTECODE is set: the import would otherwise compile
    200 kB of source on every run)."""
    import py_compile

    from lark import Lark
    from lark.tools.standalone import gen_standalone

    os.makedirs(os.path.dirname(path), exist_ok=True)
    out = io.StringIO()
    inst = Lark(text, postlex=Keep(keep), **OPTIONS)
    inst.options.postlex = None              # given again at load time; not serializable
    gen_standalone(inst, out=out)
    source = quiet_logger(out.getvalue().replace("\nimport pickle, zlib, base64\n", "\n"))   # only used compressed
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(source)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    try:
        py_compile.compile(path, doraise=True)
    except py_compile.PyCompileError as e:
        raise OSError(str(e)) from None


LOGGING = ("\nimport logging\n",
           '\nlogger: logging.Logger = logging.getLogger("lark")\nlogger.addHandler(logging.StreamHandler())\n',
           "\nlogger.setLevel(logging.CRITICAL)\n")
QUIET = """
class _QuietLogger:
    # lark's logger at level CRITICAL, at which lark logs nothing: every call does nothing
    def _nothing(self, *args, **kwargs):
        return None
    debug = info = warning = error = exception = critical = setLevel = _nothing
logger = _QuietLogger()
"""


def quiet_logger(source: str) -> str:
    """The module without `import logging` (about 3 ms a start): lark's logger there is set
    to CRITICAL, which lark never logs at, so a logger that does nothing is the same. Only
    when the source has exactly those lines (another lark version's is left as it is)."""
    imp, make, level = LOGGING
    if source.count(imp) != 1 or source.count(make) != 1 or source.count(level) != 1:
        return source
    out = source.replace(imp, "\n").replace(make, QUIET).replace(level, "\n")
    return source if "logging." in out else out


def in_memory(text: str) -> SimpleNamespace:
    """lark itself, shaped like a generated module (the cache cannot be written)."""
    import lark
    from lark import exceptions

    return SimpleNamespace(
        Lark_StandAlone=lambda **kw: lark.Lark(text, **OPTIONS, **kw),
        Token=lark.Token, Tree=lark.Tree, Transformer=lark.Transformer, v_args=lark.v_args,
        UnexpectedInput=exceptions.UnexpectedInput, UnexpectedToken=exceptions.UnexpectedToken,
        UnexpectedCharacters=exceptions.UnexpectedCharacters, UnexpectedEOF=exceptions.UnexpectedEOF,
        VisitError=exceptions.VisitError)
