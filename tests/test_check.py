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
    assert "6 passed, 2 failed; points 7/9" in res.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 8
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {"quadratic form, forgot the transpose", "log-determinant"}
    assert suite.get("failures") == "2"


def test_homework_json(tmp_path):
    res = runner.invoke(app, ["check", str(EXAMPLE), "--format", "json"])
    obj = json.loads(res.stdout)
    assert obj["passed"] == 6 and obj["failed"] == 2 and (obj["earned"], obj["points"]) == (7, 9)


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


# ---- wrong claims that used to pass (issue 12): domains, tolerance, sizes, undefined draws ----
LOGISTIC = "-sum(y .* log(sigmoid(X w)) + (ones - y) .* log(ones - sigmoid(X w)))"


@pytest.mark.parametrize("expr, wrt, claim, where", [
    ("sum(sqrt(x .^ 2))", "x", "ones", None),                       # x drawn with both signs
    ("sum(log(cosh(x)))", "x", "abs(tanh(x))", None),
    ("sqrt(x^T x)", "x", "abs(x) / sqrt(x^T x)", None),
    (LOGISTIC, "w", "X^T (sigmoid(abs(X w)) - y)", None),
    (LOGISTIC, "w", "abs(X)^T (sigmoid(X w) - y)", None),
    ("sum(log(x .^ 2))", "x", "2 ones ./ abs(x)", None),
    ("1e-7 x^T A x", "x", "0", None),                                # no absolute tolerance floor
    ("1e-7 x^T A x", "x", "1e-7 A x", None),
    ("||X w - y||^2 + 1e-7 ||w||^2", "w", "2 X^T (X w - y)", None),
    ("x^T x", "x", "2 x + (n - 2) (n - 3) (n - 4) (n - 5) x", None),  # sizes beyond 5
    ("tr(inv(X'X) X' Omega X inv(X'X))", "Omega", "X inv(X'X) X'", ["X: R^(N×p)", "Omega: R^(N×N)"]),
    ("sum(log(cosh(x)))", "x", "tanh(x) .* sqrt(x) ./ sqrt(x)", None),  # undefined for x < 0
])
def test_wrong_claims_that_used_to_pass_exit_1(expr, wrt, claim, where):
    args = ["check", "--wrt", wrt, "--claim", claim, "--format", "text"]
    for w in where or []:
        args += ["--where", w]
    res = runner.invoke(app, args + ["--", expr])
    assert res.exit_code == 1, res.stdout + res.stderr


@pytest.mark.parametrize("expr, wrt, claim, where", [
    (LOGISTIC, "w", "X^T (sigmoid(X w) - y)", None),
    ("1e-7 x^T A x", "x", "1e-7 A x + 1e-7 A^T x", None),
    ("||X w - y||^2 + 1e-7 ||w||^2", "w", "2 X^T (X w - y) + 2e-7 w", None),
    ("tr(inv(X'X) X' Omega X inv(X'X))", "Omega", "X inv(X'X) inv(X'X) X'", ["X: R^(N×p)", "Omega: R^(N×N)"]),
    ("sum(log(x))", "x", "ones ./ x", None),
    ("sum(sqrt(x .^ 2))", "x", "x ./ abs(x)", None),
])
def test_right_claims_near_those_pass(expr, wrt, claim, where):
    assert mcalc.check(expr, wrt, claim, where=where).ok


def test_a_numerical_acceptance_says_what_was_sampled():
    r = mcalc.check("sum(log(cosh(x)))", "x", "(exp(2 x) - ones) ./ (exp(2 x) + ones)")
    assert r.ok and not r.exact
    assert "equal on 4 random draws, both signs, sizes up to 9" in r.message
    r = mcalc.check("sum(log(x))", "x", "exp(-log(x))")
    assert r.ok and "x > 0" in r.message


def test_sampling_keeps_both_signs_unless_an_argument_needs_one():
    from mcalc.api import typed
    from mcalc.verify import Sampler
    for formula, positive in [("sum(log(cosh(x)))", set()), ("sum(log(x .^ 2))", set()),
                              ("sqrt(x^T x)", set()), ("sum(log(sigmoid(X w)))", set()),
                              ("sum(log(x)) + a^T y", {"x"}), ("sum(sqrt(x)) + sum(sin(y))", {"x"})]:
        t = typed(formula)
        s = Sampler(t, [((), t.body)])
        draws = [s.draw(k) for k in range(3)]
        assert set(s.restricted) == positive, formula
        for name in t.free_symbols():
            values = [d.env[name] for d in draws]
            if name not in positive:
                assert min(v.min() for v in values) < 0 < max(v.max() for v in values), (formula, name)


def test_sizes_differ_on_the_first_draw_reach_9_and_are_reproducible():
    from mcalc.api import typed
    from mcalc.verify import Sampler
    t = typed("a^T A b + c^T B d", where="A: R^(m×n); B: R^(p×q); c: R^p; a: R^m")
    first = Sampler(t, [((), t.body)], seed=3)
    sizes = [first.draw(k).sizes for k in range(3)]
    assert len(set(sizes[0].values())) == len(sizes[0]) and max(sizes[0].values()) == 9
    again = Sampler(t, [((), t.body)], seed=3)
    assert [again.draw(k).sizes for k in range(3)] == sizes


def test_a_formula_undefined_on_every_draw_is_exit_2_not_3():
    res = runner.invoke(app, ["check", "logdet(x x^T)", "--wrt", "x", "--claim", "x"])
    assert res.exit_code == 2
    assert "no random data" in res.stderr and "x x^T" in res.stderr


def test_verify_draws_sizes_on_which_the_inverse_exists():
    res = runner.invoke(app, ["diff", "tr(inv(X'X) X' Omega X inv(X'X))", "--wrt", "Omega",
                              "--where", "X: R^(N×p)", "--where", "Omega: R^(N×N)", "--verify", "--format", "text"])
    assert res.exit_code == 0 and "verified" in res.stderr and "sizes up to 9" in res.stderr


def test_a_claim_undefined_where_the_formula_is_defined_is_wrong():
    r = mcalc.check("sum(log(cosh(x)))", "x", "tanh(x) + log(x) - log(x)")
    assert r.ok or "not defined" in r.message      # may simplify exactly to tanh(x)
    r = mcalc.check("sum(log(cosh(x)))", "x", "tanh(x) + 0 sqrt(x)")
    assert r.ok or "not defined" in r.message
    r = mcalc.check("sum(log(cosh(x)))", "x", "tanh(x) .* sqrt(x) ./ sqrt(x)")
    assert not r.ok and "not defined everywhere the formula is" in r.message


def test_symmetric_variable_wrong_claims_name_the_unconstrained_and_cookbook_forms():
    r = mcalc.check("X: R^(n×n) symmetric; tr(A X)", "X", "A^T")
    assert not r.ok and any("such a G" in n for n in r.notes)
    r = mcalc.check("X: R^(n×n) symmetric; tr(A X)", "X", "A + A^T - A .* I")
    assert not r.ok and any("Cookbook" in n for n in r.notes)


# ---- mcalc equal ------------------------------------------------------------------------------
@pytest.mark.parametrize("lhs, rhs, where, code", [
    ("tr(A B)", "tr(B A)", None, 0),
    ("(A B)^T", "B^T A^T", None, 0),
    ("(A B)^T", "A^T B^T", None, 1),                            # different shapes
    ("(A B)^T", "A^T B^T", "A: R^(n×n); B: R^(n×n)", 1),        # square: different values
    ("x^T x", "||x||^2", None, 0),
    ("sum(log(x .^ 2))", "2 sum(log(abs(x)))", None, 0),
    ("sum(log(x .^ 2))", "2 sum(log(x))", None, 1),             # the right side needs x > 0
    ("1e-7 x^T A x", "0", None, 1),
    ("x^T A x", "x^T A^T x", None, 0),
    ("x", "x +", None, 2),
    ("x", "A", "x: R^n; A: R^(n×n)", 1),
])
def test_equal_exit_codes(lhs, rhs, where, code):
    args = ["equal", lhs, rhs, "--format", "text"] + (["--where", where] if where else [])
    res = runner.invoke(app, args)
    assert res.exit_code == code, res.stdout + res.stderr


def test_equal_shows_the_difference_and_what_was_sampled():
    r = mcalc.equal("(A B)^T", "A^T B^T", where="A: R^(n×n); B: R^(n×n)")
    assert not r.ok and r.difference == "A^T B^T - B^T A^T"
    assert "4 random draws, both signs, sizes up to 9" in r.message
    r = mcalc.equal("tr(A B)", "tr(B A)")
    assert r.ok and ("canonical" in r.message or "random draws" in r.message)
    res = runner.invoke(app, ["equal", "x^T x", "2 x^T x", "--format", "json"])
    assert res.exit_code == 1 and json.loads(res.stdout)["difference"] == "x^T x"


# ---- homework files: malformed problems, points, JUnit, literal text -------------------------
HOMEWORK = '''[defaults]
where = ["x: R^n", "A: R^(n×n)"]

[[problem]]
name = "quadratic [x] [/b]"
expr = "x^T A x"
wrt = "x"
claim = "2 A x"
points = 3

[[problem]]
name = "missing claim"
expr = "x^T A x"
wrt = "x"

[[problem]]
name = "parse error"
expr = "x^T A x"
wrt = "x"
claim = "2 A +"

[[problem]]
name = "[s, t]^T right"
expr = "x^T A x"
wrt = "x"
claim = "(A + A^T) x"
points = 2.5

[[problem]]
name = "symmetric, Cookbook form"
expr = "tr(S B)"
wrt = "S"
where = "S: R^(n×n) symmetric"
claim = "B + B^T - B .* I"

[[problem]]
name = "layout"
expr = "tr(B X)"
wrt = "X"
where = "X: R^(n×n)"
claim = "B"
'''


@pytest.fixture
def homework(tmp_path):
    f = tmp_path / "hw.toml"
    f.write_text(HOMEWORK, encoding="utf-8")
    return f


def test_a_malformed_problem_does_not_sink_the_file(homework, tmp_path):
    junit = tmp_path / "report.xml"
    res = runner.invoke(app, ["check", str(homework), "--junit", str(junit), "--format", "text"])
    assert res.exit_code == 2
    assert "✓ [s, t]^T right [2.5/2.5]" in res.stdout
    assert "✗ quadratic [x] [/b] [0/3]" in res.stdout and "claim - derivative: (A - A^T) x" in res.stdout
    assert "missing or empty 'claim'" in res.stderr and "line 11, problem 2" in res.stderr
    assert "1 passed, 3 failed, 2 malformed; points 2.5/9.5" in res.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("errors") == "2" and suite.get("failures") == "3" and float(suite.get("time")) > 0
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == 6
    assert cases["missing claim"].find("error") is not None and cases["parse error"].find("error") is not None
    props = {p.get("name"): p.get("value") for p in cases["quadratic [x] [/b]"].find("properties")}
    assert props == {"points": "3", "earned": "0"}
    assert all(c.get("time") is not None for c in cases.values())
    failure = cases["symmetric, Cookbook form"].find("failure").text
    assert "correct (mixed layout): 1/2 (B + B^T)" in failure and "Cookbook" in failure
    assert "the claim is right in the numerator layout" in cases["layout"].find("failure").text


def test_homework_exit_1_when_only_wrong_and_the_json_report_has_points(tmp_path):
    f = tmp_path / "hw.toml"
    f.write_text('[[problem]]\nexpr = "a^T x"\nwrt = "x"\nclaim = "a"\npoints = 2\n\n'
                 '[[problem]]\nexpr = "x^T x"\nwrt = "x"\nclaim = "x"\n', encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--format", "json"])
    assert res.exit_code == 1
    obj = json.loads(res.stdout)
    assert (obj["points"], obj["earned"], obj["passed"], obj["failed"]) == (3, 2, 1, 1)
    assert [p["earned"] for p in obj["problems"]] == [2, 0]


def test_the_rich_table_prints_user_text_literally(homework):
    import io
    from rich.console import Console
    from mcalc.claims import load_homework, run_homework
    from mcalc.render.rich import homework_renderable
    buf = io.StringIO()
    Console(file=buf, width=200).print(homework_renderable(str(homework), run_homework(load_homework(str(homework)))))
    text = buf.getvalue()
    assert "quadratic [x] [/b]" in text and "[s, t]^T right" in text and "2.5/2.5" in text
    res = runner.invoke(app, ["check", str(homework), "--format", "rich"])
    assert res.exit_code == 2


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary", b"\xff\xfe[[problem]]"])
def test_a_binary_homework_file_exits_2_naming_it_and_junit_is_written(tmp_path, content):
    f = tmp_path / "bad.toml"
    f.write_bytes(content)
    junit = tmp_path / "report.xml"
    res = runner.invoke(app, ["check", str(f), "--junit", str(junit)])
    assert res.exit_code == 2 and "bad.toml" in res.stderr
    assert ET.parse(junit).getroot().find("testsuite").get("errors") == "1"


# ---- derivations, line by line ------------------------------------------------------------------
def derivation_file(tmp_path, steps, expr="x^T A x", wrt="x", where=None):
    f = tmp_path / "d.toml"
    lines = ", ".join(json.dumps(s) for s in steps)
    f.write_text(f'[[problem]]\nname = "derivation"\nexpr = "{expr}"\nwrt = "{wrt}"\nsteps = [{lines}]\n'
                 + (f'where = "{where}"\n' if where else ""), encoding="utf-8")
    return f


@pytest.mark.parametrize("steps", [
    ["dx^T A x + x^T A dx", "x^T (A + A^T) dx", "(A + A^T) x"],
    ["d(x)^T A x + x^T A d(x)", "x^T (A + A^T) d(x)", "(A + A^T) x"],
    ["df = dx^T A x + x^T A dx", "(A + A^T) x"],
])
def test_a_right_derivation_passes(tmp_path, steps):
    res = runner.invoke(app, ["check", str(derivation_file(tmp_path, steps)), "--format", "text"])
    assert res.exit_code == 0, res.stdout + res.stderr


def test_a_derivation_reports_the_first_line_that_breaks(tmp_path):
    f = derivation_file(tmp_path, ["dx^T A x + x^T A dx", "2 x^T A dx", "(A + A^T) x"])
    res = runner.invoke(app, ["check", str(f), "--format", "text"])
    assert res.exit_code == 1
    assert "breaks at line 2" in res.stdout and "line 2 - df: x^T A dx - dx^T A x" in res.stdout


def test_a_derivation_with_rewritings_of_the_function(tmp_path):
    ok = ["(X w - y)^T (X w - y)", "2 (X w - y)^T X dw", "2 X^T (X w - y)"]
    res = runner.invoke(app, ["check", str(derivation_file(tmp_path, ok, "||X w - y||^2", "w")), "--format", "text"])
    assert res.exit_code == 0, res.stdout
    bad = ["(X w - y)^T (X w + y)", "2 (X w - y)^T X dw", "2 X^T (X w - y)"]
    res = runner.invoke(app, ["check", str(derivation_file(tmp_path, bad, "||X w - y||^2", "w")), "--format", "text"])
    assert res.exit_code == 1 and "breaks at line 1" in res.stdout and "line 1 - f:" in res.stdout
    wrong_end = ["(X w - y)^T (X w - y)", "2 X^T (X w + y)"]
    res = runner.invoke(app, ["check", str(derivation_file(tmp_path, wrong_end, "||X w - y||^2", "w",
                                                            "X: R^(N×D)")), "--format", "text"])
    assert res.exit_code == 1, res.stdout


def test_check_derivation_api():
    from mcalc.api import typed
    from mcalc.claims import check_derivation
    lines, r = check_derivation(typed("x^T A x"), "x", ["dx^T A x + x^T A dx", "2 x^T A dx", "(A + A^T) x"])
    assert [l.ok for l in lines] == [True, False, True] and r.ok
    assert [l.role for l in lines] == ["differential", "differential", "derivative"]
