"""The MQTT path against the machine's Mosquitto (127.0.0.1:1883): QoS 1, a persistent
session, and acknowledgement only after commit — a message whose commit fails comes again.

Each test uses its own client id and device ids; the broker is skipped with a visible reason
when it is down (failed instead when DAJIUZHU_REQUIRE_ALL=1)."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest
from django.db import OperationalError

from dajiuzhu.care import mqtt
from dajiuzhu.care.intake import topic_for
from dajiuzhu.care.models import Alarm, DeviceEvent
from tests.care.conftest import t
from tests.conftest import require

URL = "mqtt://127.0.0.1:1883"


def _broker_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def broker():
    require(_broker_up(), "Mosquitto is not running on 127.0.0.1:1883")
    return URL


@pytest.fixture
def client_id():
    """A fresh persistent-session id; the session is cleared on the broker afterwards."""
    cid = f"test-care-{uuid.uuid4().hex[:12]}"
    yield cid
    cleaner = mqtt.make_client(cid, clean=True, manual_ack=False)
    cleaner.connect("127.0.0.1", 1883)
    cleaner.loop(timeout=0.5)
    cleaner.disconnect()


def _serve_until(intake: mqtt.Intake, condition, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        intake.loop_for(0.3)


def _ready(intake: mqtt.Intake) -> None:
    _serve_until(intake, lambda: intake.connected)
    assert intake.connected
    intake.loop_for(0.5)  # the subscription's acknowledgement


def _press(device_id: str, event_id: str) -> tuple[str, str]:
    at = t("03-01 08:00").isoformat()
    return topic_for(device_id), json.dumps({"event_id": event_id, "type": "button", "at": at})


def _device(tn_person) -> str:
    return tn_person.device(f"MQ-{uuid.uuid4().hex[:10]}", "button")


def test_a_button_press_over_mqtt_raises_one_alarm(broker, client_id, tn_person):
    device = _device(tn_person)
    intake = mqtt.Intake(broker, client_id=client_id)
    _ready(intake)
    mqtt.publish(broker, [_press(device, "e-1"), _press(device, "e-1")], client_id=f"{client_id}-p")
    _serve_until(intake, lambda: Alarm.objects.filter(device__device_id=device).exists())
    intake.loop_for(0.5)  # the second, duplicate message
    intake.stop()
    assert Alarm.objects.filter(rule="BUTTON", device__device_id=device).count() == 1
    assert DeviceEvent.objects.filter(device__device_id=device).count() == 1


def test_a_message_whose_commit_fails_is_delivered_again(broker, client_id, tn_person, monkeypatch):
    device = _device(tn_person)
    calls = []

    def failing_once(messages, params=None):
        # other tests' messages reach every intake subscribed to the wildcard: fail on ours
        ours = [topic for topic, _, _ in messages if topic == topic_for(device)]
        calls.extend(ours)
        if ours and len(calls) == 1:
            raise OperationalError("database is locked")
        return real(messages, params)

    real = mqtt.ingest_many
    monkeypatch.setattr(mqtt, "ingest_many", failing_once)
    intake = mqtt.Intake(broker, client_id=client_id)
    _ready(intake)
    mqtt.publish(broker, [_press(device, "e-1")], client_id=f"{client_id}-p")
    _serve_until(intake, lambda: Alarm.objects.filter(device__device_id=device).exists())
    intake.stop()
    assert intake.failed == 1
    assert calls == [topic_for(device)] * 2
    assert Alarm.objects.filter(rule="BUTTON", device__device_id=device).count() == 1


def test_messages_published_while_the_intake_is_down_arrive_after_restart(
    broker, client_id, tn_person
):
    device = _device(tn_person)
    first = mqtt.Intake(broker, client_id=client_id)
    _ready(first)  # the broker now holds a persistent session with the subscription
    first.stop()
    first.loop_for(0.3)
    mqtt.publish(broker, [_press(device, "while-down")], client_id=f"{client_id}-p")
    second = mqtt.Intake(broker, client_id=client_id)
    _serve_until(second, lambda: Alarm.objects.filter(device__device_id=device).exists())
    second.stop()
    assert Alarm.objects.get(device__device_id=device).event_ref == "while-down"


def test_simulate_publishes_a_load_the_intake_takes_in(broker, client_id, tn_person, capsys):
    from dajiuzhu.cli import main

    devices = [
        tn_person.device(f"SIM-{uuid.uuid4().hex[:8]}", kind) for kind in ("motion", "pendant")
    ]
    intake = mqtt.Intake(broker, client_id=client_id)
    _ready(intake)
    capsys.readouterr()
    code = main(
        ["care", "simulate", "--devices", "2", "--rate", "40", "--duration", "0.5", "--url", broker]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["published"] > 0
    _serve_until(
        intake,
        lambda: (
            DeviceEvent.objects.filter(device__device_id__in=devices).count()
            >= summary["published"]
        ),
    )
    intake.stop()
    assert DeviceEvent.objects.filter(device__device_id__in=devices).count() == summary["published"]
