"""`dajiuzhu care …`: the intake, the checks, replays, devices, the export, load simulation.

    dajiuzhu care intake [--url mqtt://host:port] [--client-id ID]
    dajiuzhu care check --at 2024-03-02T10:00:00+08:00
    dajiuzhu care replay day.jsonl --check-every 60 --until 2024-03-02T23:59:59+08:00
    dajiuzhu care devices import devices.csv
    dajiuzhu care devices token DEVICE_ID
    dajiuzhu care alarms export --out alarms.csv
    dajiuzhu care broker [--port 18830]
    dajiuzhu care press DEVICE_ID [--type button]
    dajiuzhu care simulate --devices 50 --rate 20 --duration 60

``DAJIUZHU_MQTT_URL`` names the broker (default: the demo's embedded broker,
mqtt://127.0.0.1:18830). Errors exit 2 with a clear message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from datetime import datetime


def _url(args) -> str:
    from dajiuzhu.care.mqtt import DEFAULT_URL

    return args.url or os.environ.get("DAJIUZHU_MQTT_URL") or DEFAULT_URL


def _time(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"the time needs an offset (e.g. +08:00): {value!r}")
    return at


def register(sub, command) -> None:
    p = sub.add_parser("care", help="the 24-hour care centre: devices, intake, alarm rules")
    actions = p.add_subparsers(dest="action", required=True)

    a = actions.add_parser("intake", help="consume device messages from the MQTT broker")
    a.add_argument("--url", help="mqtt://host:port (default DAJIUZHU_MQTT_URL)")
    a.add_argument("--client-id", default=None)

    a = actions.add_parser("check", help="evaluate the time-based alarm rules at a time")
    a.add_argument("--at", type=_time, default=None, help="ISO 8601 with offset (default now)")

    a = actions.add_parser("replay", help="take a file of messages through the intake")
    a.add_argument("file")
    a.add_argument("--check-every", type=int, default=60, metavar="SECONDS")
    a.add_argument("--until", type=_time, required=True)

    a = actions.add_parser("devices", help="the device registry")
    dev = a.add_subparsers(dest="devices_action", required=True)
    i = dev.add_parser("import", help="load devices from CSV (per-row errors)")
    i.add_argument("file")
    t = dev.add_parser("token", help="issue an HTTPS token for a device (shown once)")
    t.add_argument("device_id")

    a = actions.add_parser("alarms", help="alarms")
    al = a.add_subparsers(dest="alarms_action", required=True)
    e = al.add_parser("export", help="write every alarm as CSV (administrators; audited)")
    e.add_argument("--out", required=True)

    a = actions.add_parser("broker", help="run the demo's embedded MQTT broker (amqtt)")
    a.add_argument("--port", type=int, default=None, help="default DAJIUZHU_MQTT_PORT or 18830")

    a = actions.add_parser("press", help="publish one event of a device now (demo)")
    a.add_argument("device_id")
    a.add_argument("--type", default="button")
    a.add_argument("--url")

    a = actions.add_parser("simulate", help="publish a realistic device load to the broker")
    a.add_argument("--devices", type=int, default=50)
    a.add_argument("--rate", type=float, default=20, help="messages per second")
    a.add_argument("--duration", type=float, default=60, help="seconds")
    a.add_argument("--url")
    a.add_argument("--seed", type=int, default=1)
    command("care")(cmd_care)


def cmd_care(args: argparse.Namespace) -> int:
    from dajiuzhu.bootstrap import setup as setup_django

    setup_django()
    from dajiuzhu.core.services import ServiceError

    handler = {
        "intake": _intake,
        "check": _check,
        "replay": _replay,
        "devices": _devices,
        "alarms": _alarms,
        "press": _press,
        "broker": _broker,
        "simulate": _simulate,
    }[args.action]
    try:
        return handler(args)
    except ServiceError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        return 2


def _intake(args) -> int:
    from dajiuzhu.care.mqtt import DEFAULT_CLIENT_ID, Intake

    client_id = args.client_id or os.environ.get("DAJIUZHU_MQTT_CLIENT_ID") or DEFAULT_CLIENT_ID
    intake = Intake(_url(args), client_id=client_id)
    print(f"care intake: {intake.broker.host}:{intake.broker.port} as {client_id}", flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: intake.request_stop())  # after the message in hand
    intake.run()
    return 0


def _check(args) -> int:
    from django.utils import timezone

    from dajiuzhu.care.rules import care_check

    report = care_check(at=args.at or timezone.now())
    print(json.dumps({"at": report.at.isoformat(), "raised": report.raised}), flush=True)
    return 0


def _replay(args) -> int:
    from dajiuzhu.care.replay import replay

    with open(args.file, encoding="utf-8") as fh:
        report = replay(fh, check_every=args.check_every, until=args.until)
    for error in report.errors:
        print(f"line {error['line']}: {error['message']}", file=sys.stderr)
    print(json.dumps(report.summary(), ensure_ascii=False), flush=True)
    return 0


def _devices(args) -> int:
    from dajiuzhu.care import services

    if args.devices_action == "token":
        print(services.device_token_issue(actor=None, device_id=args.device_id))
        return 0
    with open(args.file, encoding="utf-8-sig", newline="") as fh:
        text = fh.read()
    report = services.devices_import(actor=None, text=text)
    for error in report.errors:
        print(f"line {error['line']}: {error['code']}: {error['message']}", file=sys.stderr)
    print(json.dumps({"loaded": report.loaded, "errors": len(report.errors)}), flush=True)
    return 1 if report.errors else 0


def _alarms(args) -> int:
    from pathlib import Path

    from dajiuzhu.care.services import alarms_export

    rows = alarms_export(actor=None, out=Path(args.out))
    print(json.dumps({"rows": rows, "out": args.out}), flush=True)
    return 0


def _broker(args) -> int:
    from dajiuzhu.care.broker import run_broker

    run_broker(args.port)
    return 0


def _press(args) -> int:
    import uuid

    from django.utils import timezone

    from dajiuzhu.care.intake import topic_for
    from dajiuzhu.care.mqtt import publish
    from dajiuzhu.care.rules import LOCAL

    payload = json.dumps(
        {
            "event_id": uuid.uuid4().hex,
            "type": args.type,
            "at": timezone.now().astimezone(LOCAL).isoformat(timespec="seconds"),
        }
    )
    publish(_url(args), [(topic_for(args.device_id), payload)], client_id=f"press-{os.getpid()}")
    print(json.dumps({"published": args.device_id, "type": args.type}), flush=True)
    return 0


def _simulate(args) -> int:
    from dajiuzhu.care.simulate import simulate

    summary = simulate(
        url=_url(args),
        devices=args.devices,
        rate=args.rate,
        duration=args.duration,
        seed=args.seed,
    )
    print(json.dumps(summary), flush=True)
    return 0
