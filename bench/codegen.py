"""Generated code: mcalc's NumPy `derivative` against hand-written NumPy and jax.grad.

    /work/venv/bin/python bench/codegen.py [--n 1000] [--small 10] [--rounds 31]

Three problems, every dimension n (= 1,000 by default):
  least squares        1/N ||X w - y||^2                                  w.r.t. w   (X: N×D)
  logistic regression  -sum(y .* log(sigmoid(X w)) + (ones - y) .* log(ones - sigmoid(X w)))   w.r.t. w
  2-layer network      h = tanh(W1 x + b1); L = ||W2 h + b2 - y||^2       w.r.t. W1

mcalc's code is `mcalc.api.diff(...).numpy`, exec'd to get `derivative(**symbols)`. The
hand-written NumPy is what a person would type; JAX is `jax.jit(jax.grad(loss))` in float64
(compiled before timing, results blocked on). All three are checked to agree first. Each
round times a batch of calls of every implementation, in shuffled order; the figures are
medians of the per-call time over the rounds, and ratios of those medians.
Goal (issue 8): mcalc within 1.2× of hand-written NumPy at n = 1,000. --small repeats the
table at a small n, where per-call overhead shows (no goal there). BLAS and XLA run on one
thread (set OPENBLAS_NUM_THREADS / XLA_FLAGS to override), which keeps the ratios stable
on a shared machine.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time

# One BLAS/XLA thread unless the caller says otherwise: on a shared 2-core machine a
# multi-threaded gemv waits on busy cores, and the ratios become noise.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402 - after the thread settings

from _common import fmt_ratio, fmt_s, goal_line, median, progress, progress_done, table, write_json

PROBLEMS = {
    "least squares": {"expr": "1/N ||X w - y||^2", "wrt": "w", "where": "X: R^(N×D)"},
    "logistic regression": {"expr": "-sum(y .* log(sigmoid(X w)) + (ones - y) .* log(ones - sigmoid(X w)))",
                            "wrt": "w", "where": None},
    "2-layer network": {"expr": "h = tanh(W1 x + b1); L = ||W2 h + b2 - y||^2", "wrt": "W1", "where": None},
}


# ---- data ---------------------------------------------------------------------------------
def data(problem: str, n: int, rng: np.random.Generator) -> dict:
    s = 1 / np.sqrt(n)
    if problem == "least squares":
        return {"X": rng.standard_normal((n, n)), "w": rng.standard_normal(n) * s, "y": rng.standard_normal(n)}
    if problem == "logistic regression":
        return {"X": rng.standard_normal((n, n)), "w": rng.standard_normal(n) * s,
                "y": (rng.random(n) < 0.5).astype(float)}
    return {"W1": rng.standard_normal((n, n)) * s, "x": rng.standard_normal(n), "b1": rng.standard_normal(n) * 0.1,
            "W2": rng.standard_normal((n, n)) * s, "b2": rng.standard_normal(n) * 0.1, "y": rng.standard_normal(n)}


# ---- hand-written NumPy ---------------------------------------------------------------------
def hand_least_squares(X, w, y):
    return (2.0 / X.shape[0]) * (X.T @ (X @ w - y))


def hand_logistic(X, w, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return X.T @ (p - y)


def hand_network(W1, x, b1, W2, b2, y):
    h = np.tanh(W1 @ x + b1)
    g = (2.0 * (W2.T @ (W2 @ h + b2 - y))) * (1.0 - h * h)
    return np.outer(g, x)


HAND = {"least squares": hand_least_squares, "logistic regression": hand_logistic,
        "2-layer network": hand_network}


# ---- JAX ------------------------------------------------------------------------------------
def jax_grads():
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
    except Exception as e:  # noqa: BLE001 - JAX is a bench-only extra
        print(f"JAX not available ({e}); `pip install jax` to include it", file=sys.stderr)
        return None, None

    def ls(w, X, y):
        r = X @ w - y
        return r @ r / X.shape[0]

    def logistic(w, X, y):
        z = X @ w
        # -sum(y log σ(z) + (1-y) log(1-σ(z))), written stably
        return jnp.sum(jnp.logaddexp(0.0, z) - y * z)

    def net(W1, x, b1, W2, b2, y):
        h = jnp.tanh(W1 @ x + b1)
        r = W2 @ h + b2 - y
        return r @ r

    g = {
        "least squares": (jax.jit(jax.grad(ls)), ("w", "X", "y")),
        "logistic regression": (jax.jit(jax.grad(logistic)), ("w", "X", "y")),
        "2-layer network": (jax.jit(jax.grad(net)), ("W1", "x", "b1", "W2", "b2", "y")),
    }
    return g, jax


# ---- timing -------------------------------------------------------------------------------
def batch_size(f, target=0.02) -> int:
    f()
    t0 = time.perf_counter()
    f()
    one = max(time.perf_counter() - t0, 1e-7)
    return max(1, min(10_000, int(target / one)))


def time_batch(f, reps: int) -> float:
    t0 = time.perf_counter()
    for _ in range(reps):
        f()
    return (time.perf_counter() - t0) / reps


def bench_size(n: int, rounds: int, seed: int) -> dict:
    from mcalc.api import diff
    grads, jax = jax_grads()
    rng = np.random.default_rng(seed)
    order_rng = random.Random(seed)
    out = {}
    for name, spec in PROBLEMS.items():
        r = diff(spec["expr"], spec["wrt"], where=spec["where"])
        ns: dict = {}
        exec(r.numpy, ns)  # noqa: S102 - the benchmark runs mcalc's generated code, as users do
        derivative = ns["derivative"]
        d = data(name, n, rng)
        impls = {
            "mcalc": lambda d=d, f=derivative: f(**d),
            "hand NumPy": lambda d=d, f=HAND[name]: f(**d),
        }
        if grads is not None:
            g, argnames = grads[name]
            jd = {k: jax.numpy.asarray(v) for k, v in d.items()}
            args = tuple(jd[a] for a in argnames)
            impls["jax.grad (jit)"] = lambda g=g, args=args: g(*args).block_until_ready()
        # agree first
        ref = np.asarray(impls["hand NumPy"]()).reshape(-1)
        errs = {}
        for k, f in impls.items():
            v = np.asarray(f()).reshape(-1)
            errs[k] = float(np.max(np.abs(v - ref)) / max(1e-300, float(np.max(np.abs(ref)))))
            if errs[k] > 1e-8:
                raise SystemExit(f"{name}: {k} disagrees with the hand-written gradient (rel. error {errs[k]:.2e})")
        reps = {k: batch_size(f) for k, f in impls.items()}
        times: dict[str, list[float]] = {k: [] for k in impls}
        per_round = []
        for _ in range(rounds):
            keys = list(impls)
            order_rng.shuffle(keys)
            this = {k: time_batch(impls[k], reps[k]) for k in keys}
            for k, v in this.items():
                times[k].append(v)
            per_round.append(this)
        med = {k: median(v) for k, v in times.items()}
        paired = {k: median([rd[k] / rd["hand NumPy"] for rd in per_round]) for k in impls}
        out[name] = {"expr": spec["expr"], "wrt": spec["wrt"], "where": spec["where"], "mcalc_text": r.text,
                     "median_s": med, "times_s": times, "batch": reps, "max_rel_error_vs_hand": errs,
                     "ratio_to_hand": {k: med[k] / med["hand NumPy"] for k in impls},
                     "ratio_to_hand_paired": paired}
        progress(f"{name} n={n} done")
    progress_done()
    return out


def print_table(res: dict, n: int, rounds: int) -> None:
    impls = list(next(iter(res.values()))["median_s"])
    headers = ["problem"] + [f"{k}" for k in impls] + [f"{k} ÷ hand" for k in impls if k != "hand NumPy"]
    rows = []
    for name, r in res.items():
        rows.append([name] + [fmt_s(r["median_s"][k]) for k in impls]
                    + [f"{fmt_ratio(r['ratio_to_hand'][k])} (paired {fmt_ratio(r['ratio_to_hand_paired'][k])})"
                       for k in impls if k != "hand NumPy"])
    print(table(headers, rows, title=f"Generated code, n = {n}: median time per gradient call "
                                     f"({rounds} interleaved rounds)"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--small", type=int, default=10, help="also a small n (0: skip)")
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    results = {}
    main_res = bench_size(args.n, args.rounds, args.seed)
    results[str(args.n)] = main_res
    print_table(main_res, args.n, args.rounds)
    print()
    goals = {}
    for name, r in main_res.items():
        ratio = r["ratio_to_hand"]["mcalc"]
        g = ratio <= 1.2
        goals[f"{name}: mcalc ≤ 1.2× hand NumPy at n={args.n}"] = g
        print(goal_line(f"{name} ≤ 1.2× hand-written NumPy", g,
                        f"{fmt_ratio(ratio)} (median of per-round ratios {fmt_ratio(r['ratio_to_hand_paired']['mcalc'])})"))
    if args.small:
        print()
        small = bench_size(args.small, args.rounds, args.seed)
        results[str(args.small)] = small
        print_table(small, args.small, args.rounds)
    path = write_json("codegen", {"threads": {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "XLA_FLAGS")},
                                  "n": args.n, "small_n": args.small, "rounds": args.rounds, "results": results,
                          "goals": goals})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
