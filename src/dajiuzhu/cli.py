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

from dajiuzhu import bootstrap

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
# Domain packages add their subcommands: each module has register(subparsers, command).
PLUGINS = [
    "dajiuzhu.core.commands",
    "dajiuzhu.exchange.commands",
    "dajiuzhu.synth.commands",
    "dajiuzhu.policy.commands",
    "dajiuzhu.verification.commands",
    "dajiuzhu.warnings.commands",
    "dajiuzhu.cases.commands",
    "dajiuzhu.supervision.commands",
    "dajiuzhu.care.commands",
    "dajiuzhu.payments.commands",
    "dajiuzhu.reviews.commands",
]


def command(name: str):
    def register(fn):
        COMMANDS[name] = fn
        return fn

    return register


# The shared set-up lives in dajiuzhu.bootstrap; these names stay for scripts that use them.
setup_django = bootstrap.setup
ensure_database = bootstrap.ensure_database


def port() -> int:
    return int(os.environ.get("DAJIUZHU_PORT", "8000"))


@command("init")
def cmd_init(args: argparse.Namespace) -> int:
    setup_django()
    from dajiuzhu.core.reference import reference_data_load

    print(json.dumps(reference_data_load()))
    return 0


def _home_path(name: str):
    from django.conf import settings

    return settings.HOME / name


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
        # idle keep-alive connections live longer than a client's pause between two requests
        # (gunicorn's 2 s default races clients that reuse a connection after ~2 s)
        "--keep-alive",
        "15",
        "--access-logfile",
        "-",
        "--access-logformat",
        '%(h)s "%(m)s %(U)s" %(s)s %(M)sms',
        # gunicorn's control socket in this home, not in a shared path of the user's home
        "--control-socket",
        str(_home_path("gunicorn.ctl")),
    ]
    os.execvp(cmd[0], cmd)  # noqa: S606 (fixed argv, no shell)
    return 0  # pragma: no cover


@command("worker")
def cmd_worker(args: argparse.Namespace) -> int:
    setup_django(server=True)  # run_huey is djhuey's command
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
    from dajiuzhu.demo.accounts import DEMO_PASSWORD, DEMO_RESIDENT_PHONE

    print(f"  Staff password: {DEMO_PASSWORD}")
    print(f"  Resident log-in: phone {DEMO_RESIDENT_PHONE}; the one-time code is printed here.")
    print(f"  Care console: {url}work/care/ (city_call); a button: dajiuzhu care press DEMO-0001-P")
    print("  Ctrl-C stops everything.\n", flush=True)


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    os.environ["DAJIUZHU_INSECURE_HTTP"] = "1"  # plain HTTP on loopback only
    setup_django()
    from dajiuzhu.demo.prepare import demo_prepare

    accounts = demo_prepare(persons=args.persons, seed=args.seed)
    _print_banner(accounts)
    if args.no_serve:
        return 0
    env = dict(os.environ)
    procs = [
        subprocess.Popen([sys.executable, "-m", "dajiuzhu.cli", "serve"], env=env),
        subprocess.Popen([sys.executable, "-m", "dajiuzhu.cli", "worker"], env=env),
    ]
    procs += _care_demo_processes(env)
    return _supervise(procs)


def _care_demo_processes(env: dict) -> list[subprocess.Popen]:
    """The care centre's demo: the embedded MQTT broker, the intake, a simulated population."""
    care = [sys.executable, "-m", "dajiuzhu.cli", "care"]
    load = ["simulate", "--devices", "200", "--rate", "1", "--duration", "31536000"]
    return [
        subprocess.Popen([*care, "broker"], env=env),
        subprocess.Popen([*care, "intake"], env=env),
        subprocess.Popen([*care, *load], env=env),
    ]


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
                name = p.args[-1] if isinstance(p.args, list) else p.args
                print(f"process {name!s} exited with {p.returncode}; stopping", flush=True)
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
    from dajiuzhu.core.audit import audit_checkpoint, audit_verify

    if args.action == "checkpoint":
        line = audit_checkpoint(by="cli")
        print(json.dumps({"written": line is not None, "count": line["count"] if line else None}))
        return 0
    report = audit_verify()
    for problem in report.problems:
        where = [
            f"{name} {value}"
            for name, value in (
                ("event", problem.event_id),
                ("position", problem.position),
                ("checkpoint line", problem.line),
            )
            if value is not None
        ]
        print(f"audit: {problem.kind} ({', '.join(where)}): {problem.message}", file=sys.stderr)
    for note in report.notes:
        print(f"audit: note: {note}", file=sys.stderr)
    print(
        json.dumps(
            {
                "ok": report.ok,
                "checked": report.checked,
                "first_broken_event": report.first_broken_id,
                "reason": report.reason,
                "problems": [p.as_dict() for p in report.problems],
                "checkpoints": report.checkpoints,
                "checkpoint_file": report.checkpoint_file,
                "notes": report.notes,
            },
            ensure_ascii=False,
        )
    )
    return 0 if report.ok else 1


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
    p.add_argument(
        "action",
        choices=["verify", "checkpoint"],
        help="verify: check the chain, its head and the checkpoints; "
        "checkpoint: write the current head to the checkpoint file now",
    )

    for name in PLUGINS:
        importlib.import_module(name).register(sub, command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command](args)


def run() -> None:
    """The `dajiuzhu` program: the command, then the interpreter's exit.

    Before the exit the live objects are frozen (``gc.freeze``): the interpreter then ends
    without running the cyclic collector over everything a command loaded (Django, Ibis,
    pydantic: about a quarter of a second of a small `dajiuzhu scan`). atexit handlers still
    run and objects are still freed by reference counting; only objects caught in reference
    cycles are left to the operating system. Commands close their own files and connections
    (``with`` blocks), so none of them waits on the collector to be flushed."""
    import gc

    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
