"""The import contracts of `make lint` (pyproject.toml, [tool.importlinter]) hold for the tree,
and a deliberate violation of each breaks them — so the check cannot pass by accident."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"]


def run(pythonpath: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LINT, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env={"PYTHONPATH": str(pythonpath), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
def test_the_tree_keeps_its_import_contracts():
    done = run(ROOT / "src")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("registry/models.py", "import dajiuzhu.warnings.models", "Lower layers"),
        ("warnings/services.py", "import dajiuzhu.warnings.views", "Domain code never"),
        ("synth/codes.py", "import django.conf", "The synthetic-city generator"),
    ],
)
def test_a_deliberate_violation_breaks_its_contract(tmp_path, module, line, broken):
    shutil.copytree(ROOT / "src" / "dajiuzhu", tmp_path / "dajiuzhu")
    target = tmp_path / "dajiuzhu" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", "utf-8")
    done = run(tmp_path)
    assert done.returncode == 1, done.stdout[-3000:]
    verdicts = [v for v in done.stdout.splitlines() if v.endswith(("KEPT", "BROKEN"))]
    assert [v for v in verdicts if v.endswith("BROKEN")] == [
        v for v in verdicts if v.startswith(broken)
    ], done.stdout[-3000:]
