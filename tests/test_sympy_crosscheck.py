"""Cross-check derivatives against sympy, entry by entry, for small integer sizes.

Each symbol becomes an explicit matrix of real scalar symbols (sizes 2 or 3); the input
formula is evaluated to a sympy Matrix by tests/sympy_eval.py and differentiated with
sympy.diff entry by entry; the engine's result tree (r.bindings, r.node) is evaluated by
the same evaluator; both, arranged by SPEC §2's table, must agree at two random rational
points (rational values carried as 40-digit floats; agreement to 1e-20 relative).

Every seed case runs; the other fixtures run too unless the evaluator cannot express them
(order-3/4 results, the spectral norm), which is a skip of this test only.
"""
from __future__ import annotations

import itertools
import zlib
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from derivative_cases import CASES, LAYOUTS, cached_diff
from oracle import (Variable, arrange, domains, draw_value, f_dims, kind, resolve, result_shape,
                    satisfies)
from sympy_eval import evaluate, symbol_matrix

POINTS = 2
SEEDS = [c for c in CASES if c.source.startswith("seed")]
OTHERS = [c for c in CASES if not c.source.startswith("seed")]


def small_sizes(names, assume) -> dict[str, int]:
    """Sizes 2 or 3, alternating so neighbouring names differ, meeting `assume`."""
    names = sorted(names)
    preferred = {n: 2 + i % 2 for i, n in enumerate(names)}
    if satisfies(preferred, assume):
        return preferred
    for combo in itertools.product((2, 3), repeat=len(names)):
        sizes = dict(zip(names, combo))
        if satisfies(sizes, assume):
            return sizes
    raise AssertionError(f"no sizes in 2..3 satisfy {assume}")


def to_number(v) -> sp.Float:
    """A small rational, as a 40-digit sympy Float (exact enough, and fast for exp/tanh)."""
    f = Fraction(float(v)).limit_denominator(16)
    return sp.Float(sp.Rational(f.numerator, f.denominator), 40)


def point(r, sizes, var: Variable, rng) -> dict:
    """Random values (small rationals) for every scalar symbol, in the oracle's domains."""
    dom = domains(r.typed)
    values = {}
    for name, info in r.symbols.items():
        v = np.atleast_1d(np.asarray(draw_value(info, sizes, dom, rng), dtype=float))
        shape = resolve(info.shape, sizes)
        v = v.reshape(shape)
        general = symbol_matrix(name, shape)
        for i in range(shape[0]):
            for j in range(shape[1]):
                values[general[i, j]] = to_number(v[i, j])
                if info.symmetric:
                    sym = symbol_matrix(name, shape, symmetric=True)
                    values[sym[i, j]] = to_number(v[min(i, j), max(i, j)])
        if getattr(info, "probability", False) and shape[1] == 1:   # rounded entries must still sum to 1 exactly
            last = general[shape[0] - 1, 0]
            values[last] = 1 - sum(values[general[i, 0]] for i in range(shape[0] - 1))
        elif getattr(info, "probability", False):                    # a matrix: each row does
            for i in range(shape[0]):
                values[general[i, shape[1] - 1]] = 1 - sum(values[general[i, j]] for j in range(shape[1] - 1))
    return values


def crosscheck(case, layout):
    r = cached_diff(case, layout)
    if isinstance(r, str):
        pytest.fail(f"{case}\n  layout {layout}: {r}", pytrace=False)
    var = Variable.parse(case.wrt)
    symbols = r.symbols
    names = {d for info in symbols.values() for d in info.shape if isinstance(d, str)}
    names |= {p for d in r.shape if isinstance(d, str) for p in d.split("*")} | set(r.typed.dims)
    names = {p for d in names for p in str(d).split("*") if not p.isdigit()}
    sizes = small_sizes(names, case.assume)

    indices = {k: 1 for k in var.index_names}
    try:
        T, fk, xk = reference_tensor(case, r, var, sizes, indices)
    except NotImplementedError as e:
        pytest.skip(str(e))
    fshape = r.typed.body.shape
    fdims = resolve(f_dims(fshape), sizes)
    want_shape = resolve(result_shape(fshape, var, symbols, layout), sizes)

    for k, (values, T_at) in enumerate(reference_points(case, r, var, sizes, T)):
        # the engine's result at the same rational point (symmetric symbols symmetric)
        env = {name: symbol_matrix(name, resolve(info.shape, sizes), info.symmetric).xreplace(values)
               for name, info in symbols.items()}
        try:
            got = evaluate(list(r.bindings), r.node, env, sizes, indices)
        except NotImplementedError as e:
            pytest.skip(str(e))
        A = T_at if var.index_names else arrange(T_at, len(fdims), fk, xk, layout)
        A = A.reshape(want_shape)
        if r.tensor is not None:          # the engine keeps ∂vec F/∂(vec X)ᵀ; lay it out as the tensor
            from mcalc.api import tensor_from_flat
            got = tensor_from_flat(np.asarray(got, dtype=object), tuple(resolve(r.tensor[0], sizes)),
                                   tuple(resolve(r.tensor[1], sizes)), layout)
        assert got.shape == tuple(want_shape), f"{case}\n  layout {layout}: {got.shape} vs {want_shape}"
        bad = []
        for idx in np.ndindex(*A.shape):
            ref, mine = A[idx], got[idx]
            if ref == mine:
                continue
            d = complex(sp.N(mine - ref, 30))
            scale = max(1.0, abs(complex(sp.N(ref, 30))))
            if abs(d) > 1e-20 * scale:
                bad.append(f"{list(idx)} engine {sp.N(mine, 12)} vs sympy {sp.N(ref, 12)}")
        assert not bad, (f"{case}\n  layout {layout}: {r.text}\n  sizes {sizes}, point {k}\n  "
                         + "\n  ".join(bad))


_POINTS: dict = {}


def reference_points(case, r, var, sizes, T):
    """POINTS random rational points (the same for every layout) and the reference
    tensor's value at each; a symmetric variable's reference is taken at X_ji = X_ij."""
    key = (case.input, case.wrt, case.where)
    if key not in _POINTS:
        rng = np.random.default_rng(zlib.crc32(f"{case.id}/sympy".encode()))
        out = []
        for _ in range(POINTS):
            values = point(r, sizes, var, rng)
            T_at = np.empty(T.shape, dtype=object)
            for idx in np.ndindex(T.shape):
                T_at[idx] = sp.sympify(T[idx]).xreplace(values)
            out.append((values, T_at))
        _POINTS[key] = out
    return _POINTS[key]


_REFERENCE: dict = {}


def reference_tensor(case, r, var: Variable, sizes, indices):
    """T[f..., x...] by sympy.diff of the input formula, entry by entry (once per case).

    The formula sees the variable as a general matrix (sym(G) is taken for a symmetric
    one); every other symmetric symbol is a symmetric matrix of symbols."""
    key = (case.input, case.wrt, case.where)
    if key in _REFERENCE:
        return _REFERENCE[key]
    symbols = r.symbols
    env_f = {}
    for name, info in symbols.items():
        is_var = name in var.names and not var.index_names
        env_f[name] = symbol_matrix(name, resolve(info.shape, sizes), info.symmetric and not is_var)
    f = evaluate(r.typed.bindings, r.typed.body, env_f, sizes, indices)
    fshape = r.typed.body.shape
    fk = kind(fshape, True)
    if len(var.names) > 1:
        xs = [env_f[n][0, 0] for n in var.names]
        xshape = (len(xs),)
    elif var.index_names:
        m = env_f[var.names[0]]
        idx = tuple(indices[k] for k in var.index_names)
        xs = [m[idx[0], 0] if m.cols == 1 else m[idx]]
        xshape = ()
    else:
        m = env_f[var.names[0]]
        xk0 = kind(m.shape)
        xshape = () if xk0 == "scalar" else (m.rows,) if xk0 == "vector" else tuple(m.shape)
        xs = [m[i, j] for i in range(m.rows) for j in range(m.cols)]
    xk = "scalar" if not xshape else "vector" if len(xshape) == 1 else "matrix"
    fdims = resolve(f_dims(fshape), sizes)
    entries = [f[i, j] for i in range(f.rows) for j in range(f.cols)]
    T = np.empty((len(entries), len(xs)), dtype=object)
    for a, fe in enumerate(entries):
        for b, x in enumerate(xs):
            T[a, b] = sp.diff(fe, x)
    T = T.reshape(tuple(fdims) + tuple(xshape))
    info = symbols.get(var.names[0])
    if len(var.names) == 1 and not var.index_names and info.symmetric and xk == "matrix":
        T = (T + np.swapaxes(T, -1, -2)) / 2      # along symmetric directions (sym(G) for a gradient)
    _REFERENCE[key] = (T, fk, xk)
    return _REFERENCE[key]


@pytest.mark.parametrize("case,layout", [pytest.param(c, lay, id=f"{c.id}-{lay}")
                                         for c in SEEDS for lay in LAYOUTS])
def test_seed_case_against_sympy(case, layout):
    crosscheck(case, layout)


@pytest.mark.parametrize("case,layout", [pytest.param(c, lay, id=f"{c.id}-{lay}")
                                         for c in OTHERS for lay in LAYOUTS])
def test_fixture_against_sympy(case, layout):
    crosscheck(case, layout)
