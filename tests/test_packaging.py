"""The installed package carries its grammar, and `python -m mcalc` works, from any directory."""
import json
import subprocess
import sys


def run(code: str, cwd) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=True).stdout


def test_grammar_is_found_by_the_installed_package(tmp_path):
    out = json.loads(run("import json, mcalc, mcalc.parse as p; "
                         "print(json.dumps([mcalc.__file__, str(p.grammar_path())]))", tmp_path))
    package_file, grammar = out
    from pathlib import Path
    package_dir = Path(package_file).parent
    assert Path(grammar).exists()
    if "site-packages" in package_file:              # a real (non-editable) install: the wheel ships it
        assert Path(grammar).is_relative_to(package_dir)


def test_python_dash_m(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mcalc", "diff", "x^T A x", "--wrt", "x", "--format", "text"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "(A + A^T) x\n"
