"""Fixtures of the care tests: people of 天宁区 and 武进区 with devices, and a writer of
replay files (JSON lines of MQTT messages, as `dajiuzhu care replay` reads them)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dajiuzhu.care import services
from dajiuzhu.care.intake import topic_for
from dajiuzhu.cli import main
from tests.factories.registry import make_household

SH = ZoneInfo("Asia/Shanghai")
INSTALLED = date(2024, 3, 1)


def t(text: str) -> datetime:
    """A local time of the test days: ``t("03-01 08:15")`` is 2024-03-01 08:15 +08:00."""
    return datetime.fromisoformat(f"2024-{text}:00").replace(tzinfo=SH)


def message(device_id: str, event_id: str, type_: str, at: datetime, **extra) -> dict:
    payload = {"event_id": event_id, "type": type_, "at": at.isoformat(), **extra}
    return {"topic": topic_for(device_id), "payload": json.dumps(payload)}


class Person:
    def __init__(self, person, id_number: str) -> None:
        self.person = person
        self.id_number = id_number
        self.pk = person.pk

    def device(self, device_id: str, kind: str, installed: date = INSTALLED) -> str:
        services.device_register(
            actor=None,
            device_id=device_id,
            kind=kind,
            id_number=self.id_number,
            installed_at=installed,
        )
        return device_id


def _person(town: str) -> Person:
    from dajiuzhu.core import crypto

    _household, people = make_household(town, members=1)
    p = people[0]
    return Person(p, crypto.decrypt(p.id_number_enc, field="person.id_number"))


@pytest.fixture
def tn_person(db):
    return _person("320402001")


@pytest.fixture
def wj_person(db):
    return _person("320412001")


class Replay:
    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "messages.jsonl"
        self.lines: list[str] = []

    def add(self, *messages: dict) -> Replay:
        self.lines += [json.dumps(m, ensure_ascii=False) for m in messages]
        return self

    def raw(self, topic: str, payload: str) -> Replay:
        self.lines.append(json.dumps({"topic": topic, "payload": payload}, ensure_ascii=False))
        return self

    def run(self, until: datetime, check_every: int = 300, capsys=None) -> dict:
        self.path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        code = main(
            [
                "care",
                "replay",
                str(self.path),
                "--check-every",
                str(check_every),
                "--until",
                until.isoformat(),
            ]
        )
        assert code == 0
        if capsys is not None:
            out = capsys.readouterr().out.strip().splitlines()[-1]
            return json.loads(out)
        return {}


@pytest.fixture
def replay(tmp_path):
    return Replay(tmp_path)


def heartbeats(device_id: str, start: datetime, end: datetime, every_minutes: int = 5):
    """A device's heartbeats every few minutes from ``start`` to ``end`` (inclusive)."""
    from datetime import timedelta

    out, at, n = [], start, 0
    while at <= end:
        out.append(message(device_id, f"{device_id}-hb-{n}", "heartbeat", at, battery=90))
        at += timedelta(minutes=every_minutes)
        n += 1
    return out


def in_order(messages: list[dict]) -> list[dict]:
    """Messages in time order (as a replay file must be)."""
    return sorted(messages, key=lambda m: datetime.fromisoformat(json.loads(m["payload"])["at"]))
