"""The `dajiuzhu` command. Every subcommand honours $DAJIUZHU_HOME (default ./var) and
initialises a fresh home (keys, database, queue storage, lake) on first use."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
# Domain packages add their subcommands: each module has register(subparsers, command).
PLUGINS = [
    "dajiuzhu.exchange.commands",
    "dajiuzhu.synth.commands",
    "dajiuzhu.policy.commands",
    "dajiuzhu.verification.commands",
    "dajiuzhu.warnings.commands",
]


def command(name: str):
    def register(fn):
        COMMANDS[name] = fn
        return fn

    return register


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dajiuzhu.settings")
    import django

    django.setup()
    ensure_database()


def ensure_database() -> None:
    """Apply pending migrations (a no-op check when the database is current)."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
        from dajiuzhu.core.reference import reference_data_load

        reference_data_load()


def port() -> int:
    return int(os.environ.get("DAJIUZHU_PORT", "8000"))


@command("init")
def cmd_init(args: argparse.Namespace) -> int:
    setup_django()
    from dajiuzhu.core.reference import reference_data_load

    print(json.dumps(reference_data_load()))
    return 0


@command("serve")
def cmd_serve(args: argparse.Namespace) -> int:
    setup_django()
    bind = f"127.0.0.1:{args.port or port()}"
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "dajiuzhu.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(args.workers),
        "--threads",
        "4",
        "--timeout",
        "120",
        "--access-logfile",
        "-",
        "--access-logformat",
        '%(h)s "%(m)s %(U)s" %(s)s %(M)sms',
    ]
    os.execvp(cmd[0], cmd)  # noqa: S606 (fixed argv, no shell)
    return 0  # pragma: no cover


@command("worker")
def cmd_worker(args: argparse.Namespace) -> int:
    setup_django()
    from django.core.management import call_command

    call_command("run_huey", workers=args.workers, periodic=True)
    return 0


def _print_banner(accounts: list[dict[str, str]]) -> None:
    url = f"http://127.0.0.1:{port()}/"
    print("\n常州市智慧大救助管理服务平台 — demo", flush=True)
    print(f"  URL:        {url}")
    print(f"  Workbench:  {url}work/   Resident portal: {url}portal/   API docs: {url}api/v1/docs")
    print("  Demo accounts (password for all staff: see below):")
    for a in accounts:
        print(f"    {a['username']:<18} {a['role']:<14} {a['scope']}")
    from dajiuzhu.synth.demo import DEMO_PASSWORD, DEMO_RESIDENT_PHONE

    print(f"  Staff password: {DEMO_PASSWORD}")
    print(f"  Resident log-in: phone {DEMO_RESIDENT_PHONE}; the one-time code is printed here.")
    print("  Ctrl-C stops everything.\n", flush=True)


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    os.environ["DAJIUZHU_INSECURE_HTTP"] = "1"  # plain HTTP on loopback only
    setup_django()
    from dajiuzhu.synth.demo import demo_prepare

    accounts = demo_prepare(persons=args.persons, seed=args.seed)
    _print_banner(accounts)
    if args.no_serve:
        return 0
    env = dict(os.environ)
    procs = [
        subprocess.Popen([sys.executable, "-m", "dajiuzhu.cli", "serve"], env=env),
        subprocess.Popen([sys.executable, "-m", "dajiuzhu.cli", "worker"], env=env),
    ]
    return _supervise(procs)


def _supervise(procs: list[subprocess.Popen]) -> int:
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    code = 0
    while not stopping:
        for p in procs:
            if p.poll() is not None:
                print(f"process {p.args[-1]} exited with {p.returncode}; stopping", flush=True)
                code = p.returncode or 1
                stopping = True
        time.sleep(0.5)
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    deadline = time.time() + 10
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
    return code


@command("createuser")
def cmd_createuser(args: argparse.Namespace) -> int:
    setup_django()
    import getpass

    from dajiuzhu.core.services import ServiceError, user_create

    password = args.password or os.environ.get("DAJIUZHU_PASSWORD") or getpass.getpass("密码: ")
    try:
        user = user_create(
            actor=None,
            username=args.username,
            password=password,
            role=args.role,
            scope_code=args.scope,
            department_code=args.department,
            display_name=args.name or "",
        )
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps({"username": user.username, "role": user.role, "scope": user.scope_id}))
    return 0


@command("token")
def cmd_token(args: argparse.Namespace) -> int:
    setup_django()
    from dajiuzhu.core.services import ServiceError, api_token_create

    try:
        token, clear = api_token_create(actor=None, department_code=args.department, name=args.name)
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    print(json.dumps({"department": token.department_id, "prefix": token.prefix, "token": clear}))
    return 0


@command("audit")
def cmd_audit(args: argparse.Namespace) -> int:
    setup_django()
    from dajiuzhu.core.audit import audit_verify

    report = audit_verify()
    print(
        json.dumps(
            {
                "ok": report.ok,
                "checked": report.checked,
                "first_broken_event": report.first_broken_id,
                "reason": report.reason,
            }
        )
    )
    if not report.ok:
        where = f"event {report.first_broken_id}" if report.first_broken_id else "the chain's end"
        print(f"audit chain broken at {where}: {report.reason}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dajiuzhu", description="常州市智慧大救助管理服务平台")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="initialise the home and database, load reference data")

    p = sub.add_parser("demo", help="prepare a demo city and serve it (web + worker)")
    p.add_argument("--persons", type=int, default=20000)
    p.add_argument("--seed", type=int, default=2023)
    p.add_argument("--no-serve", action="store_true", help="prepare only")

    p = sub.add_parser("serve", help="serve the web application (gunicorn)")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=2)

    p = sub.add_parser("worker", help="run the Huey worker (with periodic tasks)")
    p.add_argument("--workers", type=int, default=2)

    p = sub.add_parser("createuser", help="create a staff user")
    p.add_argument("username")
    p.add_argument("--role", required=True)
    p.add_argument("--scope", help="division code of the user's jurisdiction")
    p.add_argument("--department")
    p.add_argument("--name")
    p.add_argument("--password", help="or set DAJIUZHU_PASSWORD; prompted otherwise")

    p = sub.add_parser("token", help="create a department API token")
    p.add_argument("--department", required=True)
    p.add_argument("--name", default="部门系统对接")

    p = sub.add_parser("audit", help="audit log tools")
    p.add_argument("action", choices=["verify"])

    for name in PLUGINS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that domain has no commands (yet)
            raise
        module.register(sub, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
