#!/usr/bin/env python3
"""Soak test: the checks of tests/test_random_formulas.py and tests/test_fuzz.py at scale.

    python scripts/soak.py --formulas 50000 --fuzz 100000       # the defaults

Formulas come from the generator of tests/strategies.py (random_formula, a plain function
of a random.Random seeded with "formula-<seed>-<i>"), so input i is the same on every run
and machine; fuzz inputs likewise (random_fuzz, "fuzz-<seed>-<i>"). The work is spread over
--workers processes (default: every core). At the end it prints exactly

    N formulas, K wrong, U unsupported
    F fuzz inputs, T tracebacks

(the progress lines on stderr carry the running counts). K counts formulas failing any check
(a wrong derivative — one that disagrees with finite differences at every step tried, see
strategies.step_sensitive —, an error other than DiffError, a result that does not parse back,
an input that does not round-trip, a hang); U counts formulas where some layout raised
DiffError, tallied by the error's `operation` at the end (stderr and --failures); T counts fuzz
inputs that ended with exit 3, an exception, a traceback or no answer in time. The first
failing inputs, with details, and a tally of distinct failure signatures go to --failures
(soak-failures.txt).
Exit status: 0 when K and T are 0, else 1.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import strategies  # noqa: E402  (tests/strategies.py)

_RUNNER = None


def formula_task(job):
    seed, i, max_depth, seconds = job
    fm = f"formula #{i}"
    try:
        fm = strategies.random_formula(random.Random(f"formula-{seed}-{i}"), max_depth=max_depth)
        out = strategies.check_formula(fm, seconds=seconds)
    except BaseException as e:  # noqa: BLE001 - the checker itself must not stop the soak
        return i, str(fm), (), 0, [("checker", "-", f"{type(e).__name__}: {e}")]
    return i, str(fm), tuple(op for _, _, op in out.unsupported), len(out.noisy), out.problems


def fuzz_task(job):
    global _RUNNER
    seed, i, seconds = job
    if _RUNNER is None:
        _RUNNER = strategies.cli_runner()
    args = [f"fuzz #{i}"]
    try:
        args = strategies.random_fuzz(random.Random(f"fuzz-{seed}-{i}"))
        problem = strategies.check_cli(args, _RUNNER, seconds=seconds)
    except BaseException as e:  # noqa: BLE001
        problem = f"checker: {type(e).__name__}: {e}"
    return i, args, problem


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--formulas", type=int, default=50_000, help="random formulas to check (each in 3 layouts)")
    ap.add_argument("--fuzz", type=int, default=100_000, help="fuzz inputs to run through the CLI")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--seed", default="0", help="seed of the run (inputs are seed-i)")
    ap.add_argument("--max-depth", type=int, default=4, help="nesting budget of generated formulas")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per formula or fuzz input before it counts as a hang")
    ap.add_argument("--failures", default="soak-failures.txt", help="where the first failing inputs go")
    ap.add_argument("--keep", type=int, default=40, help="how many failing formulas and fuzz inputs to keep in full")
    ap.add_argument("--per-signature", type=int, default=5, help="inputs kept for each distinct failure signature")
    args = ap.parse_args(argv)
    # each failing input is also appended here the moment it is found, so a long run can be
    # looked into (and its failures fixed) before it ends
    live = open(args.failures + ".live", "w", encoding="utf-8", errors="backslashreplace")

    import mcalc.api  # noqa: F401  (load the engine before forking the workers)

    start = time.monotonic()
    kept_formulas, kept_fuzz = [], []
    sigs: Counter = Counter()
    examples: dict[str, list] = {}     # signature → its first few inputs
    wrong = unsupported = tracebacks = fd_noise = 0
    by_category: Counter = Counter()
    refused_by_op: Counter = Counter()     # operation → formulas refused for it (DiffError.operation)
    refused_example: dict[str, str] = {}

    def progress(done, total, what, counts):
        if done % max(1, total // 20) == 0 or done == total:
            print(f"  {what}: {done}/{total}, {counts()}  ({time.monotonic() - start:.0f} s)",
                  file=sys.stderr, flush=True)

    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    with ctx.Pool(args.workers, maxtasksperchild=2000) as pool:
        jobs = ((args.seed, i, args.max_depth, args.timeout) for i in range(args.formulas))
        for done, (i, text, uns, noisy, problems) in enumerate(pool.imap_unordered(formula_task, jobs, chunksize=8), 1):
            unsupported += bool(uns)
            for op in set(uns):
                refused_by_op[op] += 1
                refused_example.setdefault(op, text)
            fd_noise += noisy
            if problems:
                wrong += 1
                cats = sorted({c for c, _, _ in problems})
                by_category.update(cats)
                for c, layout, msg in problems:
                    s = strategies.signature(c, msg)
                    ex = examples.setdefault(s, [])
                    if len(ex) < args.per_signature and not any(e.startswith(text + "\n") for e in ex):
                        ex.append(f"{text}\n    layout {layout}: {msg[:1500]}")
                    sigs[s] += 1
                live.write(f"formula #{i}: {text}\n" + "".join(f"  [{c}] layout {l}: {m[:3000]}\n" for c, l, m in problems))
                live.flush()
                if len(kept_formulas) < args.keep:
                    kept_formulas.append(f"formula #{i} (seed {args.seed!r}): {text}\n" +
                                         "\n".join(f"  [{c}] layout {l}: {m[:3000]}" for c, l, m in problems))
            progress(done, args.formulas, "formulas", lambda: f"{wrong} wrong, {unsupported} unsupported")
        jobs = ((args.seed, i, args.timeout) for i in range(args.fuzz))
        for done, (i, cli_args, problem) in enumerate(pool.imap_unordered(fuzz_task, jobs, chunksize=64), 1):
            if problem:
                tracebacks += 1
                s = strategies.signature("fuzz", problem)
                if len(examples.setdefault(s, [])) < args.per_signature:
                    examples[s].append(f"mcalc {' '.join(repr(a[:300]) for a in cli_args)}\n    {problem[:1500]}")
                sigs[s] += 1
                live.write(f"fuzz #{i}: {cli_args!r}\n  {problem}\n")
                live.flush()
                if len(kept_fuzz) < args.keep:
                    kept_fuzz.append(f"fuzz #{i} (seed {args.seed!r}): {cli_args!r}\n  {problem}")
            progress(done, args.fuzz, "fuzz inputs", lambda: f"{tracebacks} tracebacks")

    elapsed = time.monotonic() - start
    with open(args.failures, "w", encoding="utf-8", errors="backslashreplace") as fh:
        fh.write(f"# scripts/soak.py --formulas {args.formulas} --fuzz {args.fuzz} --seed {args.seed} "
                 f"({elapsed:.0f} s, {args.workers} workers)\n")
        fh.write(f"# {args.formulas} formulas, {wrong} wrong, {unsupported} unsupported; "
                 f"{args.fuzz} fuzz inputs, {tracebacks} tracebacks\n\n")
        fh.write("## distinct failure signatures (count, then the first inputs)\n\n")
        for s, n in sigs.most_common():
            fh.write(f"{n:6d}  {s}\n" + "".join(f"        {e}\n" for e in examples[s]) + "\n")
        fh.write("## refusals by operation (formulas refused, then the first one)\n\n")
        for op, n in refused_by_op.most_common():
            fh.write(f"{n:6d}  {op}\n        {refused_example[op]}\n")
        fh.write("\n## first failing formulas\n\n" + "\n\n".join(kept_formulas) + "\n\n")
        fh.write("## first failing fuzz inputs\n\n" + "\n\n".join(kept_fuzz) + "\n")
    if fd_noise:
        print(f"{fd_noise} derivatives disagreed with finite differences at the default step only "
              "(agree at another step: not counted as wrong)", file=sys.stderr)
    if by_category:
        print("failing checks: " + ", ".join(f"{c} {n}" for c, n in by_category.most_common()), file=sys.stderr)
    if refused_by_op:
        print("refused by operation: " + ", ".join(f"{op} {n}" for op, n in refused_by_op.most_common()),
              file=sys.stderr)
    print(f"({elapsed:.0f} s; details in {args.failures})", file=sys.stderr)
    print(f"{args.formulas} formulas, {wrong} wrong, {unsupported} unsupported")
    print(f"{args.fuzz} fuzz inputs, {tracebacks} tracebacks")
    return 0 if wrong == 0 and tracebacks == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
