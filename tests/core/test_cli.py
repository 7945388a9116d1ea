"""The `dajiuzhu` command, run as a user would in a fresh home."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dajiuzhu.cli import main
from dajiuzhu.core.models import User
from tests.factories.processes import run_in_home

pytestmark = pytest.mark.xdist_group("cli")


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    return run_in_home(home, [sys.executable, "-m", "dajiuzhu.cli", *args])


def test_a_fresh_home_is_initialised_on_first_use(tmp_path):
    home = tmp_path / "home"
    demo = _run(home, "demo", "--no-serve", "--persons", "0")
    assert demo.returncode == 0, demo.stderr
    assert "tn_clerk" in demo.stdout and "wj_caseworker" in demo.stdout
    assert (home / "db.sqlite3").exists()
    for key in ("secret", "data", "index", "audit", "upload"):
        assert (home / "keys" / f"{key}.key").stat().st_mode & 0o777 == 0o600
    again = _run(home, "demo", "--no-serve", "--persons", "0")  # reuses the home
    assert again.returncode == 0, again.stderr
    verify = _run(home, "audit", "verify")
    assert verify.returncode == 0
    assert json.loads(verify.stdout.strip().splitlines()[-1])["ok"] is True


def test_createuser_validates_and_creates(db, capsys):
    code = main(
        [
            "createuser",
            "new_clerk",
            "--role",
            "window_clerk",
            "--scope",
            "320404",
            "--password",
            "A-long-enough-pass-1",
        ]
    )
    assert code == 0
    assert User.objects.get(username="new_clerk").scope_id == "320404"
    assert (
        main(
            [
                "createuser",
                "x",
                "--role",
                "window_clerk",
                "--scope",
                "999999",
                "--password",
                "A-long-enough-pass-1",
            ]
        )
        == 2
    )
    assert "管辖区划" in capsys.readouterr().err
    assert (
        main(
            [
                "createuser",
                "y",
                "--role",
                "data_steward",
                "--scope",
                "320400",
                "--password",
                "A-long-enough-pass-1",
            ]
        )
        == 2
    )
    assert (
        main(
            ["createuser", "z", "--role", "window_clerk", "--scope", "320404", "--password", "123"]
        )
        == 2
    )
