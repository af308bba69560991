"""The layers hold: import-linter's contracts in pyproject.toml (ttm never imports the view or a GL
library, viz never imports torch or the model, studio sits above both, bench above studio), the
two programs are imported by nothing, and the voxel engine's window really loads no torch."""
import ast
import os
import subprocess
import sys
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ttm", "viz", "studio", "bench")


def test_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(ROOT)  # lint-imports reads ./pyproject.toml
    assert lint_imports(no_cache=True, no_logo=True) == 0, "lint-imports: a contract is broken"


def test_no_package_imports_the_programs():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                else:
                    continue
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names
                              if n.split(".")[0] in ("app", "demo")]
    assert not offenders, offenders


def test_the_window_module_loads_no_torch():
    # A fresh interpreter: this test process has torch loaded already.
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    code = "import sys, viz.window; assert 'torch' not in sys.modules, 'viz.window loaded torch'"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
