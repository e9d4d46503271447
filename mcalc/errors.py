"""Every user-facing failure: a message, where it happened, and the exit code."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open character range [start, end) in the source text."""
    start: int
    end: int


class McalcError(Exception):
    exit_code = 2

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None,
                 source: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        self.source = source

    def with_source(self, source: str) -> "McalcError":
        if self.source is None:
            self.source = source
        return self

    def __str__(self) -> str:
        """The message with its source line, caret and hint, as the command line prints it."""
        lines = self.lines()
        return "\n".join([lines[0].removeprefix("mcalc: error: ")] + lines[1:])

    def lines(self) -> list[str]:
        """At most four short lines: message, source line, caret, hint."""
        out = [f"mcalc: error: {self.message}"]
        if self.source is not None and self.span is not None:
            text = self.source
            start = min(max(self.span.start, 0), len(text))
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", start)
            line_end = len(text) if line_end < 0 else line_end
            line = text[line_start:line_end]
            col = start - line_start
            width = max(1, min(self.span.end, line_end) - start)
            if len(line) > 76:  # keep the caret on screen for long inputs
                lo = max(0, col - 30)
                prefix = "…" if lo else ""
                line = prefix + line[lo:lo + 70] + ("…" if lo + 70 < len(line) else "")
                col = col - lo + len(prefix)
                width = min(width, 70 - (col - len(prefix)))
            line = "".join(c if c.isprintable() else "?" for c in line)
            out.append("  " + line)
            out.append("  " + " " * col + "^" * max(1, width))
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return out


class ParseError(McalcError):
    pass


class ShapeError(McalcError):
    pass


class DiffError(McalcError):
    """An operation the engine cannot differentiate; `operation` names it in a word or two
    (the soak's tally of refusals reads it)."""

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None,
                 source: str | None = None, operation: str | None = None):
        super().__init__(message, span, hint, source)
        self.operation = operation or message


class LimitError(McalcError):
    pass


class UsageError(McalcError):
    pass


class InternalError(McalcError):
    """A bug: the engine contradicted itself. Exit 3."""
    exit_code = 3
