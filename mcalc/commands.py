"""What each command computes: the API called with an Options object, the value handed to
`present`. No printing, no terminal: cli.py reads the arguments and writes the output."""
from __future__ import annotations

import os

from .errors import McalcError, UsageError
from .present import Derivative, Derivatives, Formula, FunctionList, Homework, Options, Sheet


def batch_lines(text: str) -> list[tuple[int, str]]:
    """Standard input with several lines: one formula per line (numbered from 1), blank lines
    and # comments skipped."""
    return [(i + 1, ln) for i, ln in enumerate(text.splitlines())
            if ln.strip() and not ln.strip().startswith("#")]


def diff(text: str, opts: Options, batch: bool = False) -> Derivatives:
    """The derivative(s) of text; in a batch (several lines of standard input) one per line,
    a bad line kept as its error so that the others still print."""
    from . import api
    lines = batch_lines(text) if batch and "\n" in text.strip() else [(None, text)]
    items: list[Derivative] = []
    for number, line in lines:
        try:
            results = api.diff(line, list(opts.wrt), where=list(opts.where), layout=opts.layout,
                               order=opts.order, flatten=opts.flatten, stack=opts.stack)
        except McalcError as e:
            if number is None:
                raise
            items.append(Derivative(error=e, line=number))
            continue
        for r in results if isinstance(results, list) else [results]:
            items.append(Derivative(r, verification(r) if opts.verify else None,
                                    r.steps if opts.steps else None, line=number))
    return Derivatives(items)


def verification(result):
    from .verify import verify
    return verify(result)


def shape(text: str, opts: Options):
    from . import api
    return api.shape(text, list(opts.where))


def latex(text: str, opts: Options) -> Formula:
    from . import api
    return Formula(text, api.latex(text, list(opts.where)))


def check(text: str, claim: str, opts: Options):
    from .claims import check as check_claim
    if len(opts.wrt) != 1:
        raise UsageError("check takes one --wrt variable")
    return check_claim(text, opts.wrt[0], claim, where=list(opts.where), layout=opts.layout,
                       order=opts.order, flatten=opts.flatten)


def equal(lhs: str, rhs: str, opts: Options):
    from .claims import equal as equal_exprs
    return equal_exprs(lhs, rhs, where=list(opts.where))


def homework(path: str, junit: str | None) -> Homework:
    """Grade a homework file; --junit FILE is written whatever the outcome (a file that cannot
    be read at all is one <error> there, and exit 2)."""

    from .claims import HomeworkError, junit_xml, load_homework, run_homework
    try:
        outcomes, file_error = run_homework(load_homework(path)), None
    except HomeworkError as e:
        outcomes, file_error = [], e
    if junit:
        try:
            with open(junit, "w", encoding="utf-8") as fh:
                fh.write(junit_xml(outcomes, os.path.basename(path), file_error.message if file_error else None))
        except OSError as e:
            raise UsageError(f"cannot write {junit}: {e.strerror}") from None
    if file_error is not None:
        raise file_error
    return Homework(path, outcomes)


def rules(opts: Options) -> Sheet:
    from .rules_sheet import differential_rules, sheet
    return Sheet(opts.layout, sheet(opts.layout), differential_rules())


def functions() -> FunctionList:
    from .catalog import function_list
    return function_list()
