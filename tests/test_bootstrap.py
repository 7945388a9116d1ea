"""The commands' shared Django set-up (`dajiuzhu.bootstrap`), in processes of their own on a
fresh home: a one-off command starts without the servers' apps, the worker with them, and the
`dajiuzhu` program exits with its command's code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.factories.processes import run_in_home, run_python

pytestmark = pytest.mark.xdist_group("cli")

PROBE = """
import json, sys
from dajiuzhu import bootstrap
bootstrap.setup(server=sys.argv[1] == "server")
from django.apps import apps
from django.core.management import get_commands
from django.conf import settings
print(json.dumps({
    "installed": [c.name for c in apps.get_app_configs()],
    "ninja_imported": "ninja" in sys.modules,
    "huey_imported": "huey.api" in sys.modules,
    "run_huey": "run_huey" in get_commands(),
    "migrated": __import__("dajiuzhu.core.models", fromlist=["Division"]).Division.objects.exists(),
    "server_only": list(settings.SERVER_ONLY_APPS),
}))
"""

QUEUE = """
from dajiuzhu import bootstrap
bootstrap.setup()
from huey.contrib.djhuey import HUEY
from dajiuzhu.core.tasks import audit_checkpoint_minutely
before = HUEY.pending_count()
audit_checkpoint_minutely()
print(type(HUEY).__name__, HUEY.immediate, HUEY.pending_count() - before)
"""


def _ok(done) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_command_starts_without_the_servers_apps_and_the_worker_with_them(tmp_path):
    home = tmp_path / "home"
    command = json.loads(_ok(run_python(home, PROBE, "command")).splitlines()[-1])
    assert command["server_only"] == ["ninja", "huey.contrib.djhuey"]
    assert "ninja" not in command["installed"]
    assert "huey.contrib.djhuey" not in command["installed"]
    assert "dajiuzhu.warnings" in command["installed"] and "axes" in command["installed"]
    assert command["ninja_imported"] is False and command["huey_imported"] is False
    assert command["run_huey"] is False
    assert command["migrated"] is True  # the fresh home was brought up to date

    server = json.loads(_ok(run_python(home, PROBE, "server")).splitlines()[-1])
    assert {"ninja", "huey.contrib.djhuey"} <= set(server["installed"])
    assert server["run_huey"] is True


def test_a_command_that_queues_work_reaches_huey_without_its_app(tmp_path):
    """djhuey is left out of a command's start-up, not out of reach: a task queued by a
    command lands in the home's queue, for the worker."""
    name, immediate, queued = _ok(run_python(tmp_path / "home", QUEUE)).split()
    assert (name, immediate, queued) == ("SqliteHuey", "False", "1")


def test_the_program_exits_with_its_commands_code(tmp_path):
    program = Path(sys.executable).parent / "dajiuzhu"
    if not program.exists():  # pragma: no cover - make install writes it
        pytest.skip("the dajiuzhu program is not installed beside this Python")
    argv = [str(program), "scan", "--year", "2023", "--rule", "NO_SUCH_RULE"]
    done = run_in_home(tmp_path / "home", argv)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "NO_SUCH_RULE" in done.stderr
