"""mcalc check: claims in any equivalent form, wrong claims caught, layouts named,
homework files graded, and a wrong rule in the engine caught by --verify and check."""
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app
from mcalc.deriv import rules
from mcalc.nodes import Det

runner = CliRunner()
EXAMPLE = Path(__file__).parent.parent / "examples" / "homework.toml"


@pytest.mark.parametrize("expr, wrt, claim, where", [
    ("x^T A x", "x", "A x + A^T x", None),
    ("x^T A x", "x", "(A + A^T) x", None),
    ("x^T A x", "x", "(A^T + A) x", None),
    ("x^T x", "x", "x + x", None),
    ("x^T x", "x", "2 x", None),
    ("det(X)", "X", "det(X) inv(X)^T", None),
    ("det(X)", "X", "det(X) X^-T", None),
    ("det(X)", "X", "det(X) inv(X^T)", None),
    ("1/N ||X w - y||^2", "w", "2/N X^T X w - 2/N X^T y", "X: R^(N×D)"),
    ("tr(A X B)", "X", "A^T B^T", None),
    ("tr(A X B)", "X", "(B A)^T", None),
    ("y = X w; L = ||y - t||^2", "w", "2 X^T (y - t)", None),
    ("logdet(X)", "X", "inv(X)^T", None),
])
def test_equal_claims_in_other_forms_are_accepted(expr, wrt, claim, where):
    r = mcalc.check(expr, wrt, claim, where=where)
    assert r.ok, r.message


@pytest.mark.parametrize("expr, wrt, claim, where", [
    ("x^T A x", "x", "2 A x", None),                    # forgot Aᵀ
    ("tr(A X B)", "X", "A B", "A: R^(3×3); X: R^(3×3); B: R^(3×3)"),
    ("tr(A X B)", "X", "B^T A^T", "A: R^(2×3); X: R^(3×3); B: R^(3×2)"),   # square, but transposed
    ("a^T X b", "X", "b a^T", "a: R^4; b: R^4; X: R^(4×4)"),                # transposition on square data
    ("det(X)", "X", "det(X) X^-1", None),
    ("x^T x", "x", "x", None),
    ("sum(exp(A x))", "x", "A exp(A x)", "A: R^(3×3)"),
])
def test_wrong_claims_are_rejected(expr, wrt, claim, where):
    r = mcalc.check(expr, wrt, claim, where=where)
    assert not r.ok


def test_transposition_error_on_non_square_data_names_the_shapes():
    r = mcalc.check("a^T X b", "X", "b a^T")
    assert not r.ok
    assert "shape" in r.message and "numerator-layout" in r.message


@pytest.mark.parametrize("expr, wrt, claim, layout, other", [
    ("tr(A X)", "X", "A", "mixed", "numerator"),
    ("A x", "x", "A^T", "mixed", "denominator"),
    ("x^T A x", "x", "x^T (A + A^T)", "mixed", "numerator"),
    ("tr(A X)", "X", "A^T", "numerator", "mixed"),
])
def test_claim_right_in_another_layout_is_named(expr, wrt, claim, layout, other):
    r = mcalc.check(expr, wrt, claim, layout=layout)
    assert not r.ok
    assert r.other_layout in (other, "denominator" if other == "mixed" else other)
    assert "-layout derivative" in r.message


def test_cli_exit_codes():
    assert runner.invoke(app, ["check", "x^T A x", "--wrt", "x", "--claim", "(A + A^T) x"]).exit_code == 0
    res = runner.invoke(app, ["check", "x^T A x", "--wrt", "x", "--claim", "2 A x"])
    assert res.exit_code == 1
    assert "(A + A^T) x" in res.stdout and "(A - A^T) x" in res.stdout
    assert runner.invoke(app, ["check", "x^T A x", "--wrt", "x", "--claim", "2 A +"]).exit_code == 2
    assert runner.invoke(app, ["check", "x^T A x", "--wrt", "x", "--claim", "x + A"]).exit_code == 2
    wrong_shape = runner.invoke(app, ["check", "x^T A x", "--wrt", "x", "--claim", "A"])
    assert wrong_shape.exit_code == 1 and "n×n" in wrong_shape.stdout and "n×1" in wrong_shape.stdout


def test_check_json():
    res = runner.invoke(app, ["check", "tr(A X)", "--wrt", "X", "--claim", "A", "--format", "json"])
    assert res.exit_code == 1
    obj = json.loads(res.stdout)
    assert obj["ok"] is False and obj["other_layout"] == "numerator" and obj["correct"] == "A^T"


def test_homework_file_table_exit_code_and_junit(tmp_path):
    junit = tmp_path / "report.xml"
    res = runner.invoke(app, ["check", str(EXAMPLE), "--junit", str(junit), "--format", "text"])
    assert res.exit_code == 1
    assert "5 passed, 2 failed" in res.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 7
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {"quadratic form, forgot the transpose", "log-determinant"}
    assert suite.get("failures") == "2"


def test_homework_json(tmp_path):
    res = runner.invoke(app, ["check", str(EXAMPLE), "--format", "json"])
    obj = json.loads(res.stdout)
    assert obj["passed"] == 5 and obj["failed"] == 2


def test_homework_all_right_exits_0(tmp_path):
    f = tmp_path / "ok.toml"
    f.write_text('[[problem]]\nname = "a"\nexpr = "a^T x"\nwrt = "x"\nclaim = "a"\n')
    assert runner.invoke(app, ["check", str(f)]).exit_code == 0


@pytest.mark.parametrize("content, needle", [
    ('[[problem]]\nname = "a"\nexpr = "a^T x"\nwrt = "x"\n', "missing or empty 'claim'"),
    ('[[problem]\nname = "a"\n', "not valid TOML"),
    ('[defaults]\nlayout = "mixed"\n', "no [[problem]]"),
    ('[[problem]]\nname = "a"\nexpr = "a^T x"\nwrt = "x"\nclaim = "a"\nlayout = "sideways"\n', "unknown layout"),
    ('[[problem]]\nexpr = "a^T x"\nwrt = "x"\nclaim = "a"\n\n[[problem]]\nname = "b"\nexpr = "x"\nclaim = "I"\n',
     "line 6, problem 2 ('b')"),
])
def test_broken_homework_file_exits_2_naming_file_line_problem(tmp_path, content, needle):
    f = tmp_path / "hw.toml"
    f.write_text(content)
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2
    assert needle in res.stderr and "hw.toml" in res.stderr


def test_missing_homework_file_exits_2(tmp_path):
    res = runner.invoke(app, ["check", str(tmp_path / "nope.toml")])
    assert res.exit_code == 2


@pytest.fixture
def wrong_det_rule(monkeypatch):
    """d det(X) = det(X) tr(X dX): a wrong rule injected into the table."""
    from mcalc.simplify import det, mul, trace
    monkeypatch.setitem(rules.DIFF_RULES, Det, lambda node, d: mul(det(node.arg), trace(mul(node.arg, d(node.arg)))))


def test_verify_catches_a_wrong_rule(wrong_det_rule):
    res = runner.invoke(app, ["diff", "det(X)", "--wrt", "X", "--verify", "--format", "text"])
    assert res.exit_code == 1
    assert "FAILED" in res.stderr


def test_check_catches_a_wrong_rule(wrong_det_rule):
    res = runner.invoke(app, ["check", "det(X)", "--wrt", "X", "--claim", "det(X) X^-T"])
    assert res.exit_code == 3
    assert "failed verification" in res.stderr


def test_verify_passes_with_the_right_rule():
    res = runner.invoke(app, ["diff", "det(X)", "--wrt", "X", "--verify", "--format", "text"])
    assert res.exit_code == 0 and "verified" in res.stderr
