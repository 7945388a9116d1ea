"""Running the platform as a separate process in a fresh home of its own, as a user would:
never the test database, a shared Redis or the test suite's settings module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def home_env(home: Path) -> dict[str, str]:
    """This process's environment for a child working in ``home`` (its own SQLite database,
    Huey queue, keys and lake)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env["DAJIUZHU_HOME"] = str(home)
    return env


def run_in_home(
    home: Path, argv: list[str], *, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``argv`` in ``home`` to its end; the caller checks the return code."""
    return subprocess.run(
        argv, env=home_env(home), capture_output=True, text=True, timeout=timeout, check=False
    )


def run_python(home: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    """``python -c code args…`` with this test run's interpreter, in ``home``."""
    return run_in_home(home, [sys.executable, "-c", code, *args])
