"""scripts/soak.py: the running counts in its progress lines and the refusals tallied by the
operation DiffError names (the note of issue 16 lists refusals by operation)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import strategies

ROOT = Path(__file__).resolve().parent.parent


def soak_module():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "scripts" / "soak.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = mod           # the workers unpickle its task functions by module name
    spec.loader.exec_module(mod)
    return mod


def test_refusals_are_listed_by_operation(monkeypatch, tmp_path, capsys):
    refused = strategies.Formula("B: R^(n×n); x: R^n; ||B||_2 + x^T x", decls=("B: R^(n×n)", "x: R^n"), wrt="B")
    fine = strategies.Formula("x: R^n; x^T x", decls=("x: R^n",), wrt="x")
    monkeypatch.setattr(strategies, "random_formula", lambda rng, **kw: refused if rng.random() < 2 else fine)
    soak = soak_module()
    if not hasattr(soak.os, "fork"):
        pytest.skip("the soak forks its workers")
    code = soak.main(["--formulas", "2", "--fuzz", "0", "--workers", "1", "--failures", str(tmp_path / "f.txt")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "2 formulas, 0 wrong, 2 unsupported" in out
    assert "formulas: 2/2, 0 wrong, 2 unsupported" in err          # the running counts
    assert "refused by operation: spectral norm 2" in err
    report = (tmp_path / "f.txt").read_text()
    assert "refusals by operation" in report and "spectral norm" in report


def test_diff_errors_name_their_operation():
    import mcalc.api as api
    from mcalc.errors import DiffError
    for expr, wrt, where, op in [("||B||_2", "B", "B: R^(n×n)", "spectral norm"),
                                 ("sum(hess_g(x))", "x", "g: R^n -> R^m", "third derivative of g"),
                                 ("A x", "x", "A: R^(n×n)", None)]:
        try:
            api.diff(expr, wrt, where=where, order=2 if op is None else 1)
        except DiffError as e:
            assert e.operation == (op or "Hessian of a non-scalar"), e.operation
        else:
            raise AssertionError(f"{expr} was not refused")
