"""The broker settings the deployment ships (deploy/mosquitto.conf), run on the machine's
mosquitto: a backlog past Mosquitto's default queue of 1,000 messages per session is kept, and
the intake takes more than Mosquitto's default 20 unacknowledged messages per transaction.

Skipped with a visible reason when there is no ``mosquitto`` binary (failed instead when
DAJIUZHU_REQUIRE_ALL=1)."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from dajiuzhu.care import mqtt
from dajiuzhu.care.intake import topic_for
from dajiuzhu.care.models import Alarm, DeviceEvent
from tests.care.conftest import t
from tests.conftest import require
from tests.factories.broker import BrokerFailed, free_port, start_mosquitto

BACKLOG = 1500  # past Mosquitto's default max_queued_messages (1000) + max_inflight (20)


@pytest.fixture
def shipped_broker(tmp_path):
    require(shutil.which("mosquitto") is not None, "no mosquitto binary on this machine")
    port = free_port()
    try:
        broker = start_mosquitto(tmp_path, port)
    except BrokerFailed as exc:
        pytest.fail(str(exc))
    yield f"mqtt://127.0.0.1:{port}"
    broker.terminate()
    broker.wait(timeout=10)


def test_a_backlog_past_the_default_queue_is_kept_and_taken_in_large_batches(
    shipped_broker, tn_person, monkeypatch
):
    device = tn_person.device("CONF-1", "motion")
    batches: list[int] = []
    real = mqtt.ingest_many

    def counting(messages, params=None):
        batches.append(len(messages))
        return real(messages, params)

    monkeypatch.setattr(mqtt, "ingest_many", counting)
    first = mqtt.Intake(shipped_broker, client_id="conf-intake")
    deadline = time.monotonic() + 10
    while not first.connected and time.monotonic() < deadline:
        first.loop_for(0.2)
    first.loop_for(0.5)  # the subscription's acknowledgement: the session now holds it
    first.stop()
    at = t("03-01 08:00").isoformat()
    sent = mqtt.publish(
        shipped_broker,
        (
            (topic_for(device), json.dumps({"event_id": f"b-{i}", "type": "heartbeat", "at": at}))
            for i in range(BACKLOG)
        ),
        client_id="conf-publisher",
    )
    assert sent == BACKLOG
    stored = DeviceEvent.objects.filter(device__device_id=device)
    second = mqtt.Intake(shipped_broker, client_id="conf-intake")
    deadline = time.monotonic() + 30
    while stored.count() < BACKLOG and time.monotonic() < deadline:
        second.loop_for(0.3)
    second.stop()
    assert stored.count() == BACKLOG  # Mosquitto's defaults would have dropped 480
    assert max(batches) > 20  # more than the default in flight in one transaction


def test_a_button_behind_a_backlog_is_taken_before_the_heartbeats_ahead_of_it(
    shipped_broker, tn_person, monkeypatch
):
    """With the shipped in-flight limit the intake holds the backlog and takes the press in
    a transaction of its own before the heartbeats published ahead of it."""
    heartbeats = tn_person.device("CONF-H", "motion")
    pendant = tn_person.device("CONF-P", "pendant")
    batches: list[list[str]] = []
    real = mqtt.ingest_many

    def recording(messages, params=None):
        batches.append([json.loads(payload)["type"] for _, payload, _ in messages])
        return real(messages, params)

    monkeypatch.setattr(mqtt, "ingest_many", recording)
    first = mqtt.Intake(shipped_broker, client_id="urgent-intake")
    deadline = time.monotonic() + 10
    while not first.connected and time.monotonic() < deadline:
        first.loop_for(0.2)
    first.loop_for(0.5)
    first.stop()
    at = t("03-01 08:00").isoformat()
    backlog = [
        (topic_for(heartbeats), json.dumps({"event_id": f"h-{i}", "type": "heartbeat", "at": at}))
        for i in range(BACKLOG)
    ]
    press = json.dumps({"event_id": "p-1", "type": "button", "at": at})
    mqtt.publish(shipped_broker, [*backlog, (topic_for(pendant), press)], client_id="urgent-pub")
    stored = DeviceEvent.objects.all()
    second = mqtt.Intake(shipped_broker, client_id="urgent-intake")
    deadline = time.monotonic() + 30
    while stored.count() < BACKLOG + 1 and time.monotonic() < deadline:
        second.loop_for(0.3)
    second.stop()
    assert stored.count() == BACKLOG + 1
    assert Alarm.objects.filter(rule="BUTTON", person_id=tn_person.pk).count() == 1
    press_batch = next(i for i, b in enumerate(batches) if "button" in b)
    assert batches[press_batch] == ["button"]  # alone
    last_heartbeat = max(i for i, b in enumerate(batches) if "heartbeat" in b)
    assert press_batch < last_heartbeat  # before the heartbeats published ahead of it
    # every message acknowledged: a new connection of the session gets nothing again
    batches.clear()
    third = mqtt.Intake(shipped_broker, client_id="urgent-intake")
    third.loop_for(1.5)
    third.stop()
    assert batches == []
